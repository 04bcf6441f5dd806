import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { EssayRubric } from '../../../../domain/assessment/rubric';
import type { CriterionScore } from '../essayScore';
import { evidenceLocator } from './evidence';
import { ProviderAttemptError, type TokenUsage } from '../../openai/resilience';

/**
 * The reply the model must give, as a JSON schema in OpenAI's strict structured-output subset
 * (every property required, no additional properties), built per rubric: one object per
 * criterion id, whose `band` is an enum of that criterion's band scores. Per criterion the
 * properties come in the order evidence → rationale → band, so the model quotes and reasons
 * before it commits to a band.
 *
 * Strict mode is requested, but the reply is validated here anyway: OpenAI-compatible servers
 * other than OpenAI's may not enforce it. A reply that fails — not JSON, off-schema, a band that
 * is not one of the criterion's, evidence that is not in the essay — is a failed attempt
 * (ProviderAttemptError), never a score.
 */
export const REPLY_SCHEMA_NAME = 'essay_score';

export interface CriterionReply {
  evidence: string;
  rationale: string;
  band: number;
}

export interface EssayReply {
  criteria: Record<string, CriterionReply>;
  overall_rationale: string;
}

export function replySchema(rubric: EssayRubric): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const c of rubric.criteria) {
    const scores = [...c.bands.map((b) => b.score)].sort((a, b) => a - b);
    properties[c.id] = {
      type: 'object',
      properties: {
        evidence: {
          type: 'string',
          description: 'A span copied verbatim from the essay supporting the band; empty only for the lowest band.',
        },
        rationale: { type: 'string', description: 'One sentence: why this band.' },
        band: { type: scores.every(Number.isInteger) ? 'integer' : 'number', enum: scores },
      },
      required: ['evidence', 'rationale', 'band'],
      additionalProperties: false,
    };
  }
  return {
    type: 'object',
    properties: {
      criteria: {
        type: 'object',
        properties,
        required: rubric.criteria.map((c) => c.id),
        additionalProperties: false,
      },
      overall_rationale: { type: 'string', description: 'One or two sentences on the essay as a whole.' },
    },
    required: ['criteria', 'overall_rationale'],
    additionalProperties: false,
  };
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map<string, ValidateFunction>();
const MAX_CACHED_VALIDATORS = 256;

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    if (validators.size >= MAX_CACHED_VALIDATORS) validators.delete(validators.keys().next().value!);
    validators.set(key, validate);
  }
  return validate;
}

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`)
    .join('; ');
}

export interface InterpretedReply {
  criteria: CriterionScore[];
  rationale: string;
}

/**
 * Checks a reply's content against the rubric and the essay and returns the criterion scores,
 * each with evidence that is an exact substring of the essay. Throws ProviderAttemptError
 * (retryable: another sample may be fine) otherwise. Messages never include essay text.
 */
export function interpretReply(
  content: string | null | undefined,
  rubric: EssayRubric,
  essay: string,
  usage: TokenUsage,
): InterpretedReply {
  const fail = (kind: ProviderAttemptError['kind'], message: string): never => {
    throw new ProviderAttemptError(kind, message, true, { usage });
  };
  if (content === null || content === undefined || content.trim() === '') fail('malformed_reply', 'empty reply');
  let parsed: unknown;
  try {
    parsed = JSON.parse(content!);
  } catch {
    return fail('malformed_reply', 'reply is not valid JSON');
  }
  const validate = validatorFor(replySchema(rubric));
  if (!validate(parsed)) {
    const bandError = validate.errors?.some((e) => e.keyword === 'enum' && e.instancePath.endsWith('/band'));
    fail(
      bandError ? 'invalid_band' : 'schema_violation',
      `reply does not match the schema: ${describe(validate.errors)}`,
    );
  }
  const reply = parsed as EssayReply;
  const locator = evidenceLocator(essay);
  const criteria = rubric.criteria.map((c): CriterionScore => {
    const r = reply.criteria[c.id]!;
    const scores = c.bands.map((b) => b.score);
    if (!scores.includes(r.band))
      fail('invalid_band', `criterion "${c.id}": band ${r.band} is not one of ${scores.join(', ')}`);
    const evidence = locator.locate(r.evidence);
    if (evidence === null) fail('invented_quote', `criterion "${c.id}": the quoted evidence is not in the essay`);
    if (evidence === '' && r.band !== Math.min(...scores)) {
      fail('missing_evidence', `criterion "${c.id}": band ${r.band} given without quoting the essay`);
    }
    return {
      criterion_id: c.id,
      band_score: r.band,
      max_band_score: Math.max(...scores),
      evidence: evidence!,
      rationale: r.rationale.trim(),
    };
  });
  return { criteria, rationale: reply.overall_rationale.trim() };
}
