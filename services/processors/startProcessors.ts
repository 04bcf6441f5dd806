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
import { AsyncDeadline } from './recommendations/asyncDeadline';
import { CandidateSource } from './recommendations/candidates';
import { EvidenceRetriever } from './recommendations/evidenceRetriever';
import { storedVectorsFrom } from './recommendations/storedVectors';
import { RationaleWriter } from './recommendations/llm/rationaleWriter';
import { recommendationProcessor } from './recommendations/recommendationProcessor';
import { Recommender } from './recommendations/recommender';
import { StudentNeedsBuilder } from './recommendations/studentNeeds';
import { ProcessorRuntime, type ProcessorOptions } from './runtime/processor';
import { createRetrieval } from '../../projections/search/retrieval';
import { searchAliases } from '../../projections/search/indexes';

export interface RunningProcessors {
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
 * The embeddings of this process: MiniLM, or OpenAI when configured, with the lexical fallback
 * last. Shared by the processors and the search projection (one model in memory).
 */
export async function createProcessEmbeddings(platform: Platform): Promise<Embeddings> {
  const { config, logger } = platform;
  return createEmbeddings({
    modelDir: config.MINILM_MODEL_DIR ?? miniLmModelDir(process.env),
    intraOpThreads: config.EMBEDDING_THREADS,
    ...(config.OPENAI_API_KEY !== undefined && config.EMBEDDINGS_PROVIDER === 'openai'
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
}

/**
 * The processors of this process: essay scoring (the LLM scorer when an API key is set, and the
 * offline scorer) and recommendations (evidence from the search indexes, the ranking, and
 * rationales by the LLM when there is one), plus the async deadline. Reports go through a
 * command client of their own.
 */
export async function startProcessors(
  platform: Platform,
  codec: MessageCodec,
  embeddings: Embeddings,
): Promise<RunningProcessors> {
  const { config, logger } = platform;
  const openAi = config.OPENAI_API_KEY !== undefined;
  const llm = openAi
    ? new LlmEssayScorer({ ...openAiSettings(config), model: config.LLM_MODEL, prices: config.LLM_PRICES, logger })
    : null;
  if (!llm) {
    logger.warn(
      'OPENAI_API_KEY is not set: essays are scored by the offline scorer and rationales composed (degraded)',
    );
  }
  const offline = new OfflineEssayScorer(embeddings, {
    calibration: { minExamples: config.ESSAY_CALIBRATION_MIN_EXAMPLES },
  });
  const calibration = new CalibrationCache(
    platform.pool,
    (q, examples, previous) => offline.calibrate(q, examples, previous),
    logger,
  );
  const scorer = new EssayScorer({ llm, offline, calibration, embeddings, logger });

  const writer = openAi
    ? new RationaleWriter({ ...openAiSettings(config), model: config.LLM_MODEL, prices: config.LLM_PRICES, logger })
    : null;
  const needs = new StudentNeedsBuilder(embeddings);
  const indexes = searchAliases(config.KAFKA_TOPIC_PREFIX);
  const retrieval = createRetrieval(platform.elasticsearch, indexes);
  const stored = storedVectorsFrom(platform.elasticsearch, indexes);
  const candidates = new CandidateSource({ pool: platform.pool, embeddings, stored });
  const retriever = new EvidenceRetriever(
    { retrieval, embeddings, needs, candidates, stored },
    { maxTraces: config.EVIDENCE_TRACES_PER_RESULT },
  );
  const recommender = new Recommender(
    { needs, candidates, writer, logger },
    { perResult: config.RECOMMENDATIONS_PER_RESULT },
  );

  const client = await createCommandClient(platform, codec, 'processors');
  const deps = { platform, codec, bus: client.bus, options: processorOptions(config) };
  const runtimes = [
    new ProcessorRuntime(essayScoringProcessor(scorer), deps),
    new ProcessorRuntime(recommendationProcessor({ pool: platform.pool, retriever, recommender }), deps),
  ];
  await Promise.all(runtimes.map((r) => r.start()));
  const deadline = new AsyncDeadline(
    { pool: platform.pool, bus: client.bus, logger, scope: config.KAFKA_TOPIC_PREFIX },
    { deadlineMs: config.ASYNC_DEADLINE_MS, checkEveryMs: config.ASYNC_DEADLINE_CHECK_MS },
  );
  deadline.start();
  return {
    llm,
    stop: async () => {
      await deadline.stop();
      await Promise.allSettled(runtimes.map((r) => r.stop()));
      await client.stop();
      writer?.close();
      await llm?.close();
    },
  };
}
