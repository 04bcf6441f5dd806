import { createCommandClient } from '../messaging/commandClient';
import type { MessageCodec } from '../messaging/messageCodec';
import type { Config } from '../platform/config';
import { miniLmModelDir } from '../platform/paths';
import type { Platform } from '../platform/platform';
import type { Embeddings } from './embeddings/embeddings';
import { createEmbeddings } from './embeddings/fallbackEmbeddings';
import { OpenAiEmbeddings } from './embeddings/openAiEmbeddings';
import { EssayScorer } from './essayScoring/essayScorer';
import { essayScoringProcessor } from './essayScoring/essayScoringProcessor';
import { CalibrationCache } from './essayScoring/examples';
import { LlmEssayScorer } from './essayScoring/llm/llmEssayScorer';
import { OfflineEssayScorer } from './essayScoring/offline/offlineScorer';
import { ProcessorRuntime, type ProcessorOptions } from './runtime/processor';

export interface RunningProcessors {
  embeddings: Embeddings;
  llm: LlmEssayScorer | null;
  stop: () => Promise<void>;
}

export function processorOptions(config: Config): ProcessorOptions {
  return {
    concurrency: config.PROCESSOR_CONCURRENCY,
    maxAttempts: config.PROCESSOR_MAX_ATTEMPTS,
    attemptTimeoutMs: config.PROCESSOR_ATTEMPT_TIMEOUT_MS,
    leaseMs: config.PROCESSOR_LEASE_MS,
    retryBaseMs: config.PROCESSOR_RETRY_BASE_MS,
    retryMaxMs: config.PROCESSOR_RETRY_MAX_MS,
    pollMs: config.PROCESSOR_POLL_MS,
  };
}

/** The OpenAI settings every OpenAI adapter shares (retries, breaker, timeout). */
function openAiSettings(config: Config) {
  return {
    apiKey: config.OPENAI_API_KEY!,
    baseURL: config.OPENAI_BASE_URL,
    timeoutMs: config.LLM_TIMEOUT_MS,
    maxAttempts: config.LLM_MAX_ATTEMPTS,
    retryBaseMs: config.LLM_RETRY_BASE_MS,
    retryMaxWaitMs: config.LLM_RETRY_MAX_WAIT_MS,
    breakerFailures: config.LLM_BREAKER_FAILURES,
    breakerResetMs: config.LLM_BREAKER_RESET_MS,
  };
}

/**
 * The processors of this process (essay scoring), with their providers: embeddings (MiniLM,
 * or OpenAI when configured, with the lexical fallback last), the LLM scorer when an API key is
 * set, and the offline scorer. Reports go through a command client of their own.
 */
export async function startProcessors(platform: Platform, codec: MessageCodec): Promise<RunningProcessors> {
  const { config, logger } = platform;
  const openAi = config.OPENAI_API_KEY !== undefined;
  const embeddings = await createEmbeddings({
    modelDir: config.MINILM_MODEL_DIR ?? miniLmModelDir(process.env),
    intraOpThreads: config.EMBEDDING_THREADS,
    ...(openAi && config.EMBEDDINGS_PROVIDER === 'openai'
      ? {
          openai: new OpenAiEmbeddings({
            ...openAiSettings(config),
            model: config.OPENAI_EMBEDDING_MODEL,
            logger,
          }),
        }
      : {}),
    logger,
  });
  const llm = openAi
    ? new LlmEssayScorer({ ...openAiSettings(config), model: config.LLM_MODEL, prices: config.LLM_PRICES, logger })
    : null;
  if (!llm) logger.warn('OPENAI_API_KEY is not set: essays are scored by the offline scorer (degraded)');
  const offline = new OfflineEssayScorer(embeddings, {
    calibration: { minExamples: config.ESSAY_CALIBRATION_MIN_EXAMPLES },
  });
  const calibration = new CalibrationCache(
    platform.pool,
    (q, examples, previous) => offline.calibrate(q, examples, previous),
    logger,
  );
  const scorer = new EssayScorer({ llm, offline, calibration, embeddings, logger });

  const client = await createCommandClient(platform, codec, 'processors');
  const deps = { platform, codec, bus: client.bus, options: processorOptions(config) };
  const runtimes = [new ProcessorRuntime(essayScoringProcessor(scorer), deps)];
  await Promise.all(runtimes.map((r) => r.start()));
  return {
    embeddings,
    llm,
    stop: async () => {
      await Promise.allSettled(runtimes.map((r) => r.stop()));
      await client.stop();
      await Promise.allSettled([embeddings.close(), llm?.close()]);
    },
  };
}
