/**
 * Rationales and the assessment summary composed from the evidence, for when no LLM is
 * available (pure). A rationale cites only trace ids it was given: those whose `source_id` is
 * the credential, then those whose `source_id` is a question that counted for a skill the
 * credential covers (at most `maxCitations`, default 2).
 */
import type { StudentProfile } from './profile';
import type { RankedCredential } from './rank';

export interface EvidenceTrace {
  trace_id: string;
  snippet: string;
  /** What the trace is about: a credential id or a question id. */
  source_id: string;
}

export interface ComposedRationale {
  credential_id: string;
  text: string;
  cited_trace_ids: string[];
}

export interface AssessmentSummary {
  strengths: string[];
  gaps: string[];
  next_steps: string[];
  text: string;
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

function joinWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export function composeRationale(
  item: RankedCredential,
  profile: StudentProfile,
  traces: readonly EvidenceTrace[],
  maxCitations = 2,
): ComposedRationale {
  const covered = item.covers.slice(0, 3);
  const questionIds = new Set(
    covered.flatMap((c) => profile.skills.find((s) => s.skill === c.skill)?.question_ids ?? []),
  );
  const cited = [
    ...traces.filter((t) => t.source_id === item.credential_id),
    ...traces.filter((t) => t.source_id !== item.credential_id && questionIds.has(t.source_id)),
  ]
    .map((t) => t.trace_id)
    .filter((id, i, all) => all.indexOf(id) === i)
    .slice(0, maxCitations);
  const citation = cited.length > 0 ? ` [${cited.join(', ')}]` : '';

  let first: string;
  if (covered.length > 0) {
    const parts = covered.map((c) => `${c.skill} (${pct(c.proficiency)})`);
    first = `${item.title} teaches ${joinWords(parts)}, ${covered.length > 1 ? 'among' : 'one of'} the skills where your assessment showed the largest gaps${citation}.`;
  } else {
    first = `${item.title} matches what you are looking for, though it does not target the gaps your assessment found${citation}.`;
  }
  let second = '';
  // The collaborative component is what similar students said beyond what their gaps predicted,
  // about this credential or others teaching the same skills (rank.ts).
  if (item.components.collaborative > 0.05 && item.neighbours_with_feedback > 0) {
    second = ' Students with a similar profile found it, or courses on the same skills, more useful than expected.';
  } else if (item.components.collaborative < -0.05 && item.neighbours_with_feedback > 0) {
    second =
      ' Some students with a similar profile found it, or courses on the same skills, less useful than expected.';
  }
  return { credential_id: item.credential_id, text: first + second, cited_trace_ids: cited };
}

export function composeSummary(
  profile: StudentProfile,
  ranked: readonly RankedCredential[],
  options: { roleName?: string; strengthThreshold?: number } = {},
): AssessmentSummary {
  const threshold = options.strengthThreshold ?? 0.75;
  const strengths = profile.skills
    .filter((s) => s.evidence_weight > 0 && s.proficiency >= threshold)
    .sort((a, b) => b.proficiency - a.proficiency)
    .slice(0, 3)
    .map((s) => s.skill);
  const gapSkills = profile.skills
    .filter((s) => s.gap > 0)
    .sort((a, b) => b.gap - a.gap)
    .slice(0, 3);
  const gaps = gapSkills.map((s) => s.skill);
  const next_steps = ranked
    .slice(0, 3)
    .map((r) =>
      r.covers.length > 0
        ? `Take ${r.title} to work on ${joinWords(r.covers.slice(0, 2).map((c) => c.skill))}.`
        : `Consider ${r.title}.`,
    );
  const role = options.roleName !== undefined ? ` for the ${options.roleName} role` : '';
  const sentences = [
    strengths.length > 0
      ? `Your assessment${role} shows strengths in ${joinWords(strengths)}.`
      : `Your assessment${role} shows no clear strengths yet.`,
    gaps.length > 0
      ? `The largest gaps are in ${joinWords(gapSkills.map((s) => `${s.skill} (${pct(s.proficiency)})`))}.`
      : 'No significant gaps were found.',
    ...(next_steps.length > 0 ? [`Next: ${next_steps[0]}`] : []),
  ];
  return { strengths, gaps, next_steps, text: sentences.join(' ') };
}
