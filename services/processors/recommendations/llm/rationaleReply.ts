import { ProviderAttemptError, type TokenUsage } from '../../openai/resilience';

/**
 * The rationale reply's strict JSON schema, built per request: one property per credential
 * label (all required, so no credential goes unexplained), and citations restricted to the
 * labels of the passages given. `interpretRationaleReply` checks what a schema cannot: every
 * inline [Tn] cites a known passage, every rationale cites at least one when passages exist,
 * and lengths; a reply failing these is malformed (retryable).
 */
export const RATIONALE_SCHEMA_NAME = 'recommendation_rationales';

export interface RationaleReply {
  summary: { text: string; strengths: string[]; gaps: string[]; next_steps: string[]; citations: string[] };
  items: Record<string, { rationale: string; citations: string[] }>;
}

const MAX_RATIONALE = 1500;
const MAX_SUMMARY = 3000;

export function rationaleSchema(credentialLabels: readonly string[], traceLabels: readonly string[]) {
  const citations =
    traceLabels.length > 0
      ? { type: 'array', items: { type: 'string', enum: [...traceLabels] } }
      : { type: 'array', items: { type: 'string' } };
  const list = { type: 'array', items: { type: 'string' } };
  return {
    type: 'object',
    additionalProperties: false,
    required: ['summary', 'items'],
    properties: {
      summary: {
        type: 'object',
        additionalProperties: false,
        required: ['text', 'strengths', 'gaps', 'next_steps', 'citations'],
        properties: { text: { type: 'string' }, strengths: list, gaps: list, next_steps: list, citations },
      },
      items: {
        type: 'object',
        additionalProperties: false,
        required: [...credentialLabels],
        properties: Object.fromEntries(
          credentialLabels.map((label) => [
            label,
            {
              type: 'object',
              additionalProperties: false,
              required: ['rationale', 'citations'],
              properties: { rationale: { type: 'string' }, citations },
            },
          ]),
        ),
      },
    },
  };
}

function malformed(message: string, usage: TokenUsage): never {
  throw new ProviderAttemptError('malformed_reply', message, true, { usage });
}

const INLINE = /\[(T\d+)\]/g;

function checkCitations(
  where: string,
  text: string,
  listed: unknown,
  known: ReadonlySet<string>,
  usage: TokenUsage,
): string[] {
  if (!Array.isArray(listed) || listed.some((c) => typeof c !== 'string')) {
    malformed(`${where}.citations must be a list of labels`, usage);
  }
  const inline = [...text.matchAll(INLINE)].map((m) => m[1]!);
  const all = [...new Set([...(listed as string[]), ...inline])];
  const unknown = all.filter((c) => !known.has(c));
  if (unknown.length > 0) malformed(`${where} cites unknown passages ${unknown.join(', ')}`, usage);
  return all;
}

function textOf(value: unknown, where: string, max: number, usage: TokenUsage): string {
  if (typeof value !== 'string' || value.trim().length === 0) malformed(`${where} must be a non-empty string`, usage);
  if (value.length > max) malformed(`${where} is longer than ${max} characters`, usage);
  return value.trim();
}

function listOf(value: unknown, where: string, usage: TokenUsage): string[] {
  if (!Array.isArray(value)) malformed(`${where} must be a list`, usage);
  return value
    .filter((v): v is string => typeof v === 'string' && v.trim().length > 0)
    .map((v) => v.trim().slice(0, 300))
    .slice(0, 10);
}

export function interpretRationaleReply(
  content: string | null,
  credentialLabels: readonly string[],
  traceLabels: readonly string[],
  usage: TokenUsage,
): RationaleReply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content ?? '');
  } catch {
    malformed('reply is not JSON', usage);
  }
  const reply = parsed as { summary?: Record<string, unknown>; items?: Record<string, Record<string, unknown>> };
  if (typeof reply !== 'object' || reply === null || !reply.summary || !reply.items) {
    malformed('reply lacks summary or items', usage);
  }
  const known = new Set(traceLabels);
  const summaryText = textOf(reply.summary.text, 'summary.text', MAX_SUMMARY, usage);
  const summary = {
    text: summaryText,
    strengths: listOf(reply.summary.strengths, 'summary.strengths', usage),
    gaps: listOf(reply.summary.gaps, 'summary.gaps', usage),
    next_steps: listOf(reply.summary.next_steps, 'summary.next_steps', usage),
    citations: checkCitations('summary', summaryText, reply.summary.citations, known, usage),
  };
  const items: RationaleReply['items'] = {};
  for (const label of credentialLabels) {
    const item = reply.items[label];
    if (!item) malformed(`no rationale for ${label}`, usage);
    const rationale = textOf(item.rationale, `items.${label}.rationale`, MAX_RATIONALE, usage);
    const citations = checkCitations(`items.${label}`, rationale, item.citations, known, usage);
    if (known.size > 0 && citations.length === 0) malformed(`the rationale for ${label} cites no passage`, usage);
    items[label] = { rationale, citations };
  }
  return { summary, items };
}
