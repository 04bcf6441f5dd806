import {
  essayJobsOf,
  essayScoresOf,
  type EssayJobView,
  type EssayScoreView,
} from '../../projections/essayScores/queries';
import type { RoleFixture } from './catalogFixture';
import { allRequiredAnswers, startAssessment } from './catalogFixture';
import { eventually } from './platform';
import type { TestSystem } from './system';

/** Starts an assessment of the fixture role, answers every required question and submits it. */
export async function submitWithEssay(sys: TestSystem, role: RoleFixture, token: string, essay: string) {
  const id = await startAssessment(sys, token, role.roleId);
  const res = await sys.request('POST', `/api/v1/assessments/${id}/responses`, {
    token,
    body: {
      completed: true,
      responses: allRequiredAnswers(role, essay),
    },
  });
  if (res.status !== 202) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  return id;
}

/** Waits for the essay's row in the essay_scores read model (scored or failed). */
export function essayScoreOf(sys: TestSystem, assessmentId: string, timeoutMs = 60_000): Promise<EssayScoreView> {
  return eventually(
    async () => (await essayScoresOf(sys.running.platform.pool, assessmentId))[0],
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

/** The essay-scoring job of an assessment's (only) essay, as the processor runtime records it. */
export async function essayJobOf(sys: TestSystem, assessmentId: string): Promise<EssayJobView | undefined> {
  const jobs = await essayJobsOf(sys.running.platform.pool, sys.config.KAFKA_TOPIC_PREFIX, assessmentId);
  return [...jobs.values()][0];
}
