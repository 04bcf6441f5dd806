import type { EssayRubric } from '../../../domain/assessment/rubric';

/** What an essay scorer (the LLM or the offline scorer) is asked to score. */
export interface EssayToScore {
  question_id: string;
  prompt: string;
  /** The question's rubric; null for item banks with scored examples only. */
  rubric: EssayRubric | null;
  /** The essay's score is on [0, max_score] (the question's weight). */
  max_score: number;
  text: string;
}

/** One rubric criterion's result. `evidence` is quoted verbatim from the essay ('' when none). */
export interface CriterionScore {
  criterion_id: string;
  band_score: number;
  max_band_score: number;
  evidence: string;
  rationale: string;
}

/** Why an answer was not rewarded, or needs a human look. */
export type EssayFlag = 'empty' | 'too_short' | 'gibberish' | 'off_topic' | 'copied_prompt' | 'keyword_stuffing';

export interface EssayScoreResult {
  /** On [0, max_score], rounded to 2 decimals. */
  score: number;
  max_score: number;
  criteria: CriterionScore[];
  /** Overall rationale, one or two sentences. */
  rationale: string;
  provider: 'openai' | 'offline';
  /** The LLM's model name, or the offline model (e.g. `offline-rubric-v1`, `offline-calibrated-v1:<n> examples`). */
  model: string;
  prompt_version: string;
  degraded: boolean;
  flags: EssayFlag[];
  /** True when a person should look at it (a flag was raised, or the scorer was unsure). */
  needs_review: boolean;
  tokens_in: number;
  tokens_out: number;
  cost_cents: number;
  latency_ms: number;
}
