import type { PoolClient } from 'pg';
import type {
  AssessmentEvent,
  EssayScored,
  EssayScoreOverridden,
  EssayScoringFailed,
} from '../../domain/assessment/assessment';
import type { CatalogEvent } from '../../domain/catalog';
import type { ScoredExamplesImported } from '../../domain/catalog/question';
import { idFromKey } from '../../domain/shared/ids';
import type { StoredOf } from '../../services/messaging/envelopes';
import { snapshotIdOf } from '../assessments/projection';
import type { Projection } from '../runtime/projection';

/**
 * Essay scoring's read models, from assessment (and catalog) events:
 *
 * - `essay_scores`: one row per scored (or failed, or overridden) essay, with the scorer's
 *   per-criterion evidence in `response_payload`. Each row remembers the assessment version it
 *   last applied (`version`), so a replayed event changes nothing.
 * - `embedding_artifacts`: the essay's vector from each EssayScored, with provider and model.
 * - `essay_examples`: the human-scored examples the offline scorer calibrates from (admins'
 *   imports and advisors' overrides).
 */
export const ESSAY_SCORES_PROJECTION = 'essay_scores';
export const EMBEDDING_ARTIFACTS_PROJECTION = 'embedding_artifacts';
export const ESSAY_EXAMPLES_PROJECTION = 'essay_examples';

type Stored<E extends AssessmentEvent | CatalogEvent> = StoredOf<E>;

/** The essay answer as an entity: what its embedding artifact is of. */
export const essayResponseIdOf = (assessmentId: string, questionId: string): string =>
  idFromKey('essay-response', `${assessmentId}/${questionId}`);

const essayScoreIdOf = (assessmentId: string, questionId: string): string =>
  idFromKey('essay-score', `${assessmentId}/${questionId}`);

export const essayScoresProjection: Projection = {
  name: ESSAY_SCORES_PROJECTION,
  topics: (topics) => [topics.assessment.events],
  tables: ['essay_scores'],
  async apply(client, record) {
    const event = record as Stored<AssessmentEvent>;
    switch (event.type) {
      case 'EssayScored':
        return scored(client, event);
      case 'EssayScoringFailed':
        return scoringFailed(client, event);
      case 'EssayScoreOverridden':
        return overridden(client, event);
      default:
        return;
    }
  },
};

/** Who scored the essay, and at what cost. */
interface ScorerColumns {
  model: string | null;
  prompt_version: string | null;
  provider: string | null;
  degraded: boolean;
  latency_ms: number | null;
  cost_cents: number | null;
  tokens_in: number | null;
  tokens_out: number | null;
}

const noScorer = (degraded: boolean): ScorerColumns => ({
  model: null,
  prompt_version: null,
  provider: null,
  degraded,
  latency_ms: null,
  cost_cents: null,
  tokens_in: null,
  tokens_out: null,
});

/**
 * Writes the essay's row. `scorer: 'keep'` leaves the scorer's columns as they are (an override
 * changes the score, not who scored it or what that cost).
 */
async function upsert(
  client: PoolClient,
  event: Stored<AssessmentEvent>,
  row: {
    question_id: string;
    status: 'scored' | 'failed' | 'overridden';
    revision: number;
    score: number | null;
    max_score: number | null;
    needs_review: boolean;
    payload: unknown;
  },
  scorer: ScorerColumns | 'keep',
): Promise<void> {
  const scorerColumns =
    scorer === 'keep'
      ? ''
      : `, model = EXCLUDED.model, prompt_version = EXCLUDED.prompt_version, provider = EXCLUDED.provider,
       degraded = EXCLUDED.degraded, latency_ms = EXCLUDED.latency_ms, cost_cents = EXCLUDED.cost_cents,
       tokens_in = EXCLUDED.tokens_in, tokens_out = EXCLUDED.tokens_out`;
  const s = scorer === 'keep' ? noScorer(false) : scorer;
  const assessmentId = event.aggregate_id;
  await client.query(
    `INSERT INTO essay_scores (id, assessment_id, question_snapshot_id, question_id, status, revision, score, max_score,
       model, prompt_version, provider, degraded, needs_review, latency_ms, cost_cents, tokens_in, tokens_out,
       response_payload, version, created_at, updated_at)
     VALUES ($1, $20, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
     ON CONFLICT (assessment_id, question_snapshot_id) DO UPDATE SET
       status = EXCLUDED.status, revision = EXCLUDED.revision, score = EXCLUDED.score, max_score = EXCLUDED.max_score,
       needs_review = EXCLUDED.needs_review,
       response_payload = essay_scores.response_payload || EXCLUDED.response_payload,
       version = EXCLUDED.version, updated_at = EXCLUDED.updated_at${scorerColumns}
     WHERE essay_scores.version < EXCLUDED.version`,
    [
      essayScoreIdOf(assessmentId, row.question_id),
      snapshotIdOf(assessmentId, row.question_id),
      row.question_id,
      row.status,
      row.revision,
      row.score,
      row.max_score,
      s.model,
      s.prompt_version,
      s.provider,
      s.degraded,
      row.needs_review,
      s.latency_ms,
      s.cost_cents,
      s.tokens_in,
      s.tokens_out,
      JSON.stringify(row.payload),
      event.version,
      event.occurred_at,
      assessmentId,
    ],
  );
}

async function scored(client: PoolClient, event: Stored<EssayScored>): Promise<void> {
  const d = event.data;
  await upsert(
    client,
    event,
    {
      question_id: d.question_id,
      status: 'scored',
      revision: d.revision,
      score: d.score,
      max_score: d.max_score,
      needs_review: d.needs_review,
      payload: { criteria: d.criteria, rationale: d.explanation, flags: d.flags ?? [], job_key: d.job_key },
    },
    {
      model: d.model,
      prompt_version: d.prompt_version,
      provider: d.provider,
      degraded: d.degraded,
      latency_ms: d.latency_ms,
      cost_cents: d.cost_cents,
      tokens_in: d.tokens_in,
      tokens_out: d.tokens_out,
    },
  );
}

async function scoringFailed(client: PoolClient, event: Stored<EssayScoringFailed>): Promise<void> {
  const d = event.data;
  await upsert(
    client,
    event,
    {
      question_id: d.question_id,
      status: 'failed',
      revision: d.revision,
      score: null,
      max_score: null,
      needs_review: true,
      payload: { failure: { reason: d.reason, attempts: d.attempts }, job_key: d.job_key },
    },
    noScorer(true),
  );
}

async function overridden(client: PoolClient, event: Stored<EssayScoreOverridden>): Promise<void> {
  const d = event.data;
  const override = { previous_score: d.previous_score, reason: d.reason, by: event.actor, at: d.overridden_at };
  await upsert(
    client,
    event,
    {
      question_id: d.question_id,
      status: 'overridden',
      revision: d.revision,
      score: d.score,
      max_score: d.max_score,
      needs_review: false,
      payload: { override },
    },
    'keep',
  );
}

export const embeddingArtifactsProjection: Projection = {
  name: EMBEDDING_ARTIFACTS_PROJECTION,
  topics: (topics) => [topics.assessment.events],
  tables: ['embedding_artifacts'],
  async apply(client, record) {
    const event = record as Stored<AssessmentEvent>;
    if (event.type !== 'EssayScored' || !event.data.embedding) return;
    const { provider, model, vector } = event.data.embedding;
    const entityId = essayResponseIdOf(event.aggregate_id, event.data.question_id);
    await client.query(
      `INSERT INTO embedding_artifacts (id, entity_type, entity_id, provider, model, dimensions, raw_embedding, created_at)
       VALUES ($1, 'essay_response', $2, $3, $4, $5, $6, $7)
       ON CONFLICT (entity_type, entity_id, provider) DO NOTHING`,
      [
        idFromKey('embedding-artifact', `essay_response/${entityId}/${provider}`),
        entityId,
        provider,
        model,
        vector.length,
        float32Bytes(vector),
        event.occurred_at,
      ],
    );
  },
};

/** Little-endian float32: the `raw_embedding` format. */
export function float32Bytes(vector: readonly number[]): Buffer {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes;
}

export const essayExamplesProjection: Projection = {
  name: ESSAY_EXAMPLES_PROJECTION,
  topics: (topics) => [topics.catalog.events, topics.assessment.events],
  tables: ['essay_examples'],
  async apply(client, record) {
    const event = record as Stored<AssessmentEvent | CatalogEvent>;
    if (event.type === 'EssayScoreOverridden') {
      const d = event.data;
      // One example per overridden essay: a later override replaces the earlier human score.
      await client.query(
        `INSERT INTO essay_examples (id, question_id, text, score, source, source_id, created_at)
         VALUES ($1, $2, $3, $4, 'override', $5, $6)
         ON CONFLICT (id) DO UPDATE SET score = EXCLUDED.score, created_at = EXCLUDED.created_at`,
        [
          idFromKey('essay-example', `override/${event.aggregate_id}/${d.question_id}`),
          d.question_id,
          d.answer_text,
          d.score,
          event.aggregate_id,
          d.overridden_at,
        ],
      );
    } else if (event.type === 'ScoredExamplesImported') {
      await imported(client, event);
    }
  },
};

async function imported(client: PoolClient, event: Stored<ScoredExamplesImported>): Promise<void> {
  const d = event.data;
  await client.query(
    `INSERT INTO essay_examples (id, question_id, text, score, source, source_id, created_at)
     SELECT e.id, $1, e.text, e.score, 'import', $2, $3
     FROM jsonb_to_recordset($4::jsonb) AS e(id UUID, text TEXT, score NUMERIC)
     ON CONFLICT (id) DO NOTHING`,
    [
      d.question_id,
      d.import_id,
      d.imported_at,
      JSON.stringify(
        d.examples.map((e, i) => ({
          id: idFromKey('essay-example', `import/${d.import_id}/${i}`),
          text: e.text,
          score: e.score,
        })),
      ),
    ],
  );
}
