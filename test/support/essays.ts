import type { RoleFixture } from './catalogFixture';
import { startAssessment } from './catalogFixture';
import { eventually } from './platform';
import type { TestSystem } from './system';

/** Starts an assessment of the fixture role, answers every required question and submits it. */
export async function submitWithEssay(sys: TestSystem, role: RoleFixture, token: string, essay: string) {
  const id = await startAssessment(sys, token, role.roleId);
  const res = await sys.request('POST', `/api/v1/assessments/${id}/responses`, {
    token,
    body: {
      completed: true,
      responses: [
        { question_id: role.mcSingle, answer: 'kubernetes' },
        { question_id: role.mcMultiple, answer: { selected: ['kubernetes', 'docker'] } },
        { question_id: role.profile, answer: { skills: ['K8s'], years_experience: 3, summary: 'SRE' } },
        { question_id: role.essay, answer: essay },
      ],
    },
  });
  if (res.status !== 202) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  return id;
}

export interface EssayScoreRow {
  /** The assessment version (event) that last wrote the row. */
  version: number;
  status: 'scored' | 'failed' | 'overridden';
  score: number | null;
  max_score: number | null;
  provider: string | null;
  model: string | null;
  prompt_version: string | null;
  degraded: boolean;
  needs_review: boolean;
  tokens_in: number | null;
  tokens_out: number | null;
  cost_cents: number | null;
  latency_ms: number | null;
  response_payload: {
    criteria: { criterion_id: string; band_score: number; evidence: string; rationale: string }[];
    rationale: string;
    flags: string[];
    job_key: string;
  };
}

/** Waits for the essay's row in the essay_scores read model (scored or failed). */
export function essayScoreOf(sys: TestSystem, assessmentId: string, timeoutMs = 60_000): Promise<EssayScoreRow> {
  return eventually(
    async () => {
      const { rows } = await sys.running.platform.pool.query<EssayScoreRow & { score: string | null }>(
        `SELECT version, status, score, max_score, provider, model, prompt_version, degraded, needs_review, tokens_in,
                tokens_out, cost_cents, latency_ms, response_payload
         FROM essay_scores WHERE assessment_id = $1`,
        [assessmentId],
      );
      const row = rows[0];
      if (!row) return undefined;
      const num = (v: unknown) => (v === null ? null : Number(v));
      return {
        ...row,
        version: Number(row.version),
        score: num(row.score),
        max_score: num(row.max_score),
        cost_cents: num(row.cost_cents),
      } as EssayScoreRow;
    },
    timeoutMs,
    `the essay of assessment ${assessmentId} to be scored`,
  );
}

/**
 * How many events of `type` the assessment's log holds, from the audit read model (one row per
 * event). With `through`, first waits until the audit has applied the assessment's events up to
 * that version (e.g. an essay score row's), since the audit is a projection of its own.
 */
export async function eventCount(
  sys: TestSystem,
  assessmentId: string,
  type: string,
  through?: number,
): Promise<number> {
  const { pool } = sys.running.platform;
  if (through !== undefined) {
    await eventually(
      async () => {
        const { rows } = await pool.query<{ v: string | null }>(
          'SELECT max(version) AS v FROM audit_logs WHERE resource_id = $1',
          [assessmentId],
        );
        return Number(rows[0]?.v ?? 0) >= through ? true : undefined;
      },
      30_000,
      `the audit of ${assessmentId} to reach version ${through}`,
    );
  }
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM audit_logs WHERE resource_id = $1 AND action = $2',
    [assessmentId, type],
  );
  return Number(rows[0]!.n);
}

/** The essay-scoring job of an assessment, as the processor runtime records it. */
export async function essayJobOf(sys: TestSystem, assessmentId: string) {
  const { rows } = await sys.running.platform.pool.query<{
    status: string;
    attempts: number;
    error_payload: { name: string; message: string } | null;
    result: { outcome: string } | null;
  }>(
    `SELECT status, attempts, error_payload, result FROM async_jobs WHERE assessment_id = $1 AND job_type = 'essay_scoring'`,
    [assessmentId],
  );
  return rows[0];
}
