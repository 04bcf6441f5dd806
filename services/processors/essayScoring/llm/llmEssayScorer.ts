import type OpenAI from 'openai';
import type { OpenAiCallOptions } from '../../openai/client';
import type { PriceTable } from '../../openai/pricing';
import type { ProviderAttemptError, BreakerState } from '../../openai/resilience';
import { StructuredChat } from '../../openai/structuredChat';
import type { EssayRubric } from '../../../../domain/assessment/rubric';
import type { EssayScoreResult, EssayToScore } from '../essayScore';
import { buildMessages, PROMPT_VERSION } from './prompt';
import { interpretReply, REPLY_SCHEMA_NAME, replySchema, type InterpretedReply } from './replySchema';

/**
 * Essay scoring by an LLM: OpenAI chat completions (or any OpenAI-compatible server) through the
 * `openai` SDK, temperature 0, strict structured output against a schema built from the rubric.
 *
 * The score is the question's max_score × the weighted mean over criteria of band / max band,
 * rounded to 2 decimals. Each criterion's evidence is an exact substring of the essay. Every
 * result records the model that answered, PROMPT_VERSION, tokens in/out (summed over all
 * attempts, unusable replies included: they are billed too), cost in cents from the price table,
 * and latency (the whole call, retries and waits included).
 *
 * Failures are typed: LlmNotApplicableError (no rubric: use the offline scorer),
 * CircuitOpenError (the breaker is open: nothing was sent), ProviderCallFailedError (retries
 * exhausted or a non-retryable failure; `failures` lists each attempt's), ProviderAbortedError
 * (the caller's signal fired). In every failure case the caller falls back to the offline scorer.
 */

export const LLM_PROVIDER = 'openai';
export const DEFAULT_LLM_MODEL = 'gpt-4o-mini';

export interface LlmEssayScorerOptions extends OpenAiCallOptions {
  /** Default `gpt-4o-mini`. */
  model?: string | undefined;
  /** Cents per million tokens per model: a table or its JSON text (LLM_PRICES). Default `defaultPrices`. */
  prices?: PriceTable | string | undefined;
  /** Default 2000. */
  maxOutputTokens?: number | undefined;
}

/** The question has no rubric: the LLM path does not apply (the offline scorer handles it). */
export class LlmNotApplicableError extends Error {
  readonly code = 'LLM_NOT_APPLICABLE';
  constructor(readonly questionId: string) {
    super(`question ${questionId} has no essay rubric; the LLM scorer does not apply`);
    this.name = 'LlmNotApplicableError';
  }
}

/** A score plus what the call took. */
export interface LlmScoreOutcome {
  result: EssayScoreResult;
  attempts: number;
  /** Kinds of the failed attempts before the one that succeeded, in order. */
  failed_attempts: ProviderAttemptError['kind'][];
  /** False when the model is missing from the price table (cost_cents is then 0). */
  cost_known: boolean;
  /** Latency of the successful attempt alone. */
  attempt_latency_ms: number;
}

export class LlmEssayScorer {
  readonly provider = LLM_PROVIDER;
  readonly model: string;
  private readonly chat: StructuredChat;
  private readonly maxOutputTokens: number;

  constructor(options: LlmEssayScorerOptions) {
    if (!options.apiKey) throw new RangeError('LlmEssayScorer needs an API key');
    this.model = options.model ?? DEFAULT_LLM_MODEL;
    this.chat = new StructuredChat({ ...options, name: `${LLM_PROVIDER}-chat` });
    this.maxOutputTokens = options.maxOutputTokens ?? 2000;
  }

  /** Scores one essay (see the class comment for the failure types). */
  async score(essay: EssayToScore, options: { signal?: AbortSignal } = {}): Promise<EssayScoreResult> {
    return (await this.scoreDetailed(essay, options)).result;
  }

  async scoreDetailed(essay: EssayToScore, options: { signal?: AbortSignal } = {}): Promise<LlmScoreOutcome> {
    const rubric = essay.rubric;
    if (rubric === null) throw new LlmNotApplicableError(essay.question_id);
    if (!(Number.isFinite(essay.max_score) && essay.max_score >= 0)) {
      throw new RangeError(`max_score must be a number >= 0 (got ${essay.max_score})`);
    }
    const outcome = await this.chat.call(
      this.requestBody(essay, rubric),
      (content, usage) => interpretReply(content, rubric, essay.text, usage),
      { signal: options.signal, logFields: { question_id: essay.question_id } },
    );
    const reply = outcome.value;
    const result: EssayScoreResult = {
      score: weightedScore(rubric, reply, essay.max_score),
      max_score: essay.max_score,
      criteria: reply.criteria,
      rationale: reply.rationale,
      provider: LLM_PROVIDER,
      model: outcome.model,
      prompt_version: PROMPT_VERSION,
      degraded: false,
      flags: [],
      needs_review: false,
      tokens_in: outcome.usage.tokens_in,
      tokens_out: outcome.usage.tokens_out,
      cost_cents: outcome.cost_cents,
      latency_ms: outcome.latency_ms,
    };
    return {
      result,
      attempts: outcome.attempts,
      failed_attempts: outcome.failed_attempts,
      cost_known: outcome.cost_known,
      attempt_latency_ms: outcome.attempt_latency_ms,
    };
  }

  /** For health checks and metrics. */
  breakerState(): BreakerState {
    return this.chat.breakerState();
  }

  async close(): Promise<void> {
    this.chat.close();
  }

  private requestBody(essay: EssayToScore, rubric: EssayRubric): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
    return {
      model: this.model,
      temperature: 0,
      n: 1,
      max_completion_tokens: this.maxOutputTokens,
      messages: buildMessages({ prompt: essay.prompt, rubric, text: essay.text }),
      response_format: {
        type: 'json_schema',
        json_schema: { name: REPLY_SCHEMA_NAME, strict: true, schema: replySchema(rubric) },
      },
    };
  }
}

/** max_score × Σ wᵢ·(bandᵢ / max bandᵢ) / Σ wᵢ, rounded to 2 decimals. */
export function weightedScore(
  rubric: EssayRubric,
  reply: Pick<InterpretedReply, 'criteria'>,
  maxScore: number,
): number {
  let weighted = 0;
  let totalWeight = 0;
  for (const c of rubric.criteria) {
    const s = reply.criteria.find((x) => x.criterion_id === c.id);
    if (!s) throw new RangeError(`no score for criterion ${c.id}`);
    weighted += c.weight * (s.max_band_score > 0 ? s.band_score / s.max_band_score : 0);
    totalWeight += c.weight;
  }
  const score = totalWeight > 0 ? (maxScore * weighted) / totalWeight : 0;
  return Math.round((score + Number.EPSILON) * 100) / 100;
}
