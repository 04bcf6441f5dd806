import type { EssayEmbedding } from '../../../domain/assessment/assessment';
import type { Logger } from '../../platform/logger';
import type { Embeddings } from '../embeddings/embeddings';
import { embedPassages } from '../embeddings/passages';
import type { EssayScoreResult, EssayToScore } from './essayScore';
import type { CalibrationCache } from './examples';
import type { LlmEssayScorer } from './llm/llmEssayScorer';
import type { OfflineEssayScorer } from './offline/offlineScorer';

export interface ScoredEssay {
  result: EssayScoreResult;
  embedding: EssayEmbedding | null;
  /** Why the LLM did not score it, when the offline scorer did. */
  fallbackReason: string | null;
}

/**
 * Scores one essay: by the LLM when one is configured and the question has a rubric, else (or
 * when the LLM fails after its retries, or its circuit is open) by the offline scorer, calibrated
 * on the question's human-scored examples when there are enough; the result is then degraded.
 * Also embeds the essay (passage by passage) for its embedding artifact.
 */
export class EssayScorer {
  constructor(
    private readonly deps: {
      llm: LlmEssayScorer | null;
      offline: OfflineEssayScorer;
      calibration: CalibrationCache;
      embeddings: Embeddings;
      logger: Logger;
    },
  ) {}

  async score(essay: EssayToScore, signal: AbortSignal): Promise<ScoredEssay> {
    let fallbackReason: string;
    if (this.deps.llm === null) {
      fallbackReason = 'no LLM is configured';
    } else if (essay.rubric === null) {
      fallbackReason = 'the question has no rubric for the LLM';
    } else {
      try {
        const result = await this.deps.llm.score(essay, { signal });
        return { result, embedding: await this.embed(essay.text, signal), fallbackReason: null };
      } catch (err) {
        if (signal.aborted) throw err;
        fallbackReason = `the LLM failed: ${(err as Error).message}`.slice(0, 300);
        this.deps.logger.warn(
          { err: { name: (err as Error).name, message: (err as Error).message } },
          'LLM scoring failed; scoring offline',
        );
      }
    }
    const model = await this.deps.calibration.modelFor({
      question_id: essay.question_id,
      prompt: essay.prompt,
      rubric: essay.rubric,
    });
    signal.throwIfAborted();
    // The offline scorer embeds the essay's passages anyway: their mean is the essay's vector.
    const { result, embedding } = await this.deps.offline.scoreWithEmbedding(essay, model);
    return {
      result: { ...result, degraded: true },
      embedding: embedding && {
        provider: embedding.provider,
        model: embedding.model,
        vector: Array.from(embedding.vector),
      },
      fallbackReason,
    };
  }

  /** The essay's vector; scoring goes on without one if embedding fails. */
  private async embed(text: string, signal: AbortSignal): Promise<EssayEmbedding | null> {
    if (text.trim().length === 0) return null;
    try {
      const embedded = await embedPassages(this.deps.embeddings, text, { signal });
      return { provider: embedded.provider, model: embedded.model, vector: Array.from(embedded.vector) };
    } catch (err) {
      if (signal.aborted) throw err;
      this.deps.logger.warn({ err: { message: (err as Error).message } }, 'essay not embedded');
      return null;
    }
  }
}
