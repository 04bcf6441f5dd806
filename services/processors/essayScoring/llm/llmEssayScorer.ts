import { performance } from 'node:perf_hooks';
import type OpenAI from 'openai';
import { createOpenAiClient, type OpenAiCallOptions } from '../../openai/client';
import type { EssayRubric } from '../../../../domain/assessment/rubric';
import type { EssayScoreResult, EssayToScore } from '../essayScore';
import { costCents, defaultPrices, parsePriceTable, type PriceTable } from './pricing';
import { buildMessages, PROMPT_VERSION } from './prompt';
import { interpretReply, REPLY_SCHEMA_NAME, replySchema, type InterpretedReply } from './replySchema';
import {
  ConsecutiveFailureBreaker,
  ProviderAttemptError,
  retryPolicy,
  sumUsage,
  withRetries,
  type BreakerState,
  type RetryPolicy,
  type TokenUsage,
} from '../../openai/resilience';

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

interface AttemptResult {
  reply: InterpretedReply;
  model: string;
  usage: TokenUsage;
  latencyMs: number;
}

export class LlmEssayScorer {
  readonly provider = LLM_PROVIDER;
  readonly model: string;
  private readonly timeoutMs: number;
  private readonly client: OpenAI;
  private readonly policy: RetryPolicy;
  private readonly breaker: ConsecutiveFailureBreaker;
  private readonly prices: PriceTable;
  private readonly maxOutputTokens: number;
  private readonly unpricedModelsWarned = new Set<string>();

  constructor(private readonly options: LlmEssayScorerOptions) {
    if (!options.apiKey) throw new RangeError('LlmEssayScorer needs an API key');
    this.model = options.model ?? DEFAULT_LLM_MODEL;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.client = createOpenAiClient({ apiKey: options.apiKey, baseURL: options.baseURL, timeoutMs: this.timeoutMs });
    this.policy = retryPolicy({
      maxAttempts: options.maxAttempts,
      baseDelayMs: options.retryBaseMs,
      maxDelayMs: options.retryMaxWaitMs,
    });
    this.prices =
      options.prices === undefined
        ? defaultPrices
        : typeof options.prices === 'string'
          ? parsePriceTable(options.prices)
          : options.prices;
    this.maxOutputTokens = options.maxOutputTokens ?? 2000;
    this.breaker = new ConsecutiveFailureBreaker(
      `${LLM_PROVIDER}-chat`,
      { failureThreshold: options.breakerFailures, resetTimeoutMs: options.breakerResetMs },
      {
        onStateChange: (state) =>
          options.logger?.warn({ breaker: `${LLM_PROVIDER}-chat`, state }, 'llm circuit breaker'),
      },
    );
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
    const started = performance.now();
    const { signal } = options;
    const body = this.requestBody(essay, rubric);
    const { value, attempts, failures } = await this.breaker.fire(() =>
      withRetries(() => this.attempt(body, rubric, essay.text, signal), {
        provider: LLM_PROVIDER,
        policy: this.policy,
        signal,
        timeoutMs: this.timeoutMs,
        ...(this.options.random ? { random: this.options.random } : {}),
        onRetry: ({ attempt, failure, waitMs }) =>
          this.options.logger?.warn(
            {
              question_id: essay.question_id,
              attempt,
              kind: failure.kind,
              status: failure.status,
              wait_ms: waitMs,
            },
            'llm essay scoring attempt failed; retrying',
          ),
      }),
    );
    const failedUsage = sumUsage(failures);
    const usage = {
      tokens_in: value.usage.tokens_in + failedUsage.tokens_in,
      tokens_out: value.usage.tokens_out + failedUsage.tokens_out,
    };
    const cost = costCents(this.prices, [value.model, this.model], usage);
    if (!cost.known && !this.unpricedModelsWarned.has(value.model)) {
      this.unpricedModelsWarned.add(value.model);
      this.options.logger?.warn({ model: value.model }, 'no price for this model in LLM_PRICES; cost recorded as 0');
    }
    const result: EssayScoreResult = {
      score: weightedScore(rubric, value.reply, essay.max_score),
      max_score: essay.max_score,
      criteria: value.reply.criteria,
      rationale: value.reply.rationale,
      provider: LLM_PROVIDER,
      model: value.model,
      prompt_version: PROMPT_VERSION,
      degraded: false,
      flags: [],
      needs_review: false,
      tokens_in: usage.tokens_in,
      tokens_out: usage.tokens_out,
      cost_cents: cost.cents,
      latency_ms: Math.round(performance.now() - started),
    };
    return {
      result,
      attempts,
      failed_attempts: failures.map((f) => f.kind),
      cost_known: cost.known,
      attempt_latency_ms: Math.round(value.latencyMs),
    };
  }

  /** For health checks and metrics. */
  breakerState(): BreakerState {
    return this.breaker.state();
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
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

  private async attempt(
    body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
    rubric: EssayRubric,
    essayText: string,
    signal: AbortSignal | undefined,
  ): Promise<AttemptResult> {
    const started = performance.now();
    const completion = await this.client.chat.completions.create(body, signal ? { signal } : {});
    const latencyMs = performance.now() - started;
    const usage: TokenUsage = {
      tokens_in: completion.usage?.prompt_tokens ?? 0,
      tokens_out: completion.usage?.completion_tokens ?? 0,
    };
    const choice = completion.choices?.[0];
    if (!choice) throw new ProviderAttemptError('malformed_reply', 'reply has no choices', true, { usage });
    if (choice.message.refusal) {
      throw new ProviderAttemptError('refusal', 'the model refused to score the essay', false, { usage });
    }
    if (choice.finish_reason === 'content_filter') {
      throw new ProviderAttemptError('refusal', 'the reply was stopped by a content filter', false, { usage });
    }
    if (choice.finish_reason === 'length') {
      throw new ProviderAttemptError('truncated', 'the reply was cut off at the token limit', true, { usage });
    }
    const reply = interpretReply(choice.message.content, rubric, essayText, usage);
    return { reply, model: completion.model || body.model, usage, latencyMs };
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
