import type { Pool } from 'pg';
import type { Logger } from '../../platform/logger';
import type { CalibratedModel, QuestionToCalibrate, ScoredExample } from './offline/calibration';

/** The human-scored examples of a question, as the `essay_examples` read model holds them. */
export async function examplesOf(
  pool: Pick<Pool, 'query'>,
  questionId: string,
): Promise<{ examples: ScoredExample[]; fingerprint: string }> {
  const { rows } = await pool.query<{ text: string; score: string; fingerprint: string }>(
    `SELECT text, score, count(*) OVER () || '/' || max(created_at) OVER () || '/' || sum(score) OVER () AS fingerprint
     FROM essay_examples WHERE question_id = $1 ORDER BY created_at, id`,
    [questionId],
  );
  return {
    examples: rows.map((r) => ({ text: r.text, score: Number(r.score) })),
    fingerprint: rows[0]?.fingerprint ?? 'none',
  };
}

/**
 * Calibrated offline models per question, fitted when a question's examples change (an import
 * or an override) and kept while they do not. One fit at a time per question.
 */
export class CalibrationCache {
  private readonly models = new Map<string, { fingerprint: string; model: Promise<CalibratedModel | null> }>();

  constructor(
    private readonly pool: Pick<Pool, 'query'>,
    /** Fits the question's model; `previous` is the one fitted before (its examples' vectors can be reused). */
    private readonly fit: (
      question: QuestionToCalibrate,
      examples: ScoredExample[],
      previous: CalibratedModel | null,
    ) => Promise<CalibratedModel | null>,
    private readonly logger: Logger,
    private readonly capacity = 200,
  ) {}

  async modelFor(question: QuestionToCalibrate): Promise<CalibratedModel | null> {
    const { examples, fingerprint } = await examplesOf(this.pool, question.question_id);
    const cached = this.models.get(question.question_id);
    if (cached && cached.fingerprint === fingerprint) return cached.model;
    const previous = cached ? await cached.model.catch(() => null) : null;
    const model = this.fit(question, examples, previous).then(
      (fitted) => {
        this.logger.info(
          { question_id: question.question_id, examples: examples.length, calibrated: fitted !== null },
          'offline scorer calibrated',
        );
        return fitted;
      },
      (err: unknown) => {
        this.models.delete(question.question_id); // try again next time
        throw err;
      },
    );
    this.models.delete(question.question_id);
    this.models.set(question.question_id, { fingerprint, model });
    while (this.models.size > this.capacity) this.models.delete(this.models.keys().next().value!);
    return model;
  }
}
