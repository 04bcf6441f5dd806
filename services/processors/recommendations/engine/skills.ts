/**
 * Skill names, normalised so that a role's `skills_profile`, a credential's `skills` and a
 * rubric's expected skills can be compared (pure).
 *
 * `normaliseSkill` lower-cases, folds British spellings (-isation → -ization, -ise → -ize,
 * "visualisation", "modelling"), `&` → "and", and squeezes punctuation other than the characters
 * that carry meaning in skill names (`/ + # .`). A `SkillVocabulary` then maps synonyms onto the
 * role's own skill names: a few built-in aliases (k8s, iac, excel, …) plus any the caller adds,
 * typically the `synonyms` of the role's profile rubrics (`synonymsFromRubrics`).
 */
import type { ProfileRubric, Rubric } from '../../../../domain/assessment/rubric';
import { skillOf } from '../../../../domain/assessment/rubric';

export function normaliseSkill(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9/+#.\s-]/g, ' ')
    .replace(/-/g, ' ')
    .replace(/\bvisualisation(s?)\b/g, 'visualization$1')
    .replace(/\bmodelling\b/g, 'modeling')
    .replace(/\b(\w+)isation(s?)\b/g, '$1ization$2')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Built-in aliases, alias → canonical skill (both normalised). */
const BUILT_IN_ALIASES: Record<string, string> = {
  k8s: 'kubernetes',
  iac: 'infrastructure as code',
  terraform: 'infrastructure as code',
  excel: 'spreadsheets',
  'google sheets': 'spreadsheets',
  spreadsheet: 'spreadsheets',
  'amazon web services': 'aws',
  'continuous integration': 'ci/cd',
  'continuous delivery': 'ci/cd',
  cicd: 'ci/cd',
  'ci cd': 'ci/cd',
  iam: 'identity and access management',
  'access management': 'identity and access management',
  bi: 'business intelligence',
  'ab testing': 'a/b testing',
  'a b testing': 'a/b testing',
  experimentation: 'a/b testing',
  'shell scripting': 'bash',
  shell: 'bash',
  observability: 'monitoring',
  'unit testing': 'software testing',
  testing: 'software testing',
  dsa: 'data structures and algorithms',
  algorithms: 'data structures and algorithms',
  'rest api': 'api design',
  'rest apis': 'api design',
  appsec: 'application security',
  'ux research': 'user research',
  'data visualization': 'data visualization',
  'data viz': 'data visualization',
  'security operations': 'siem',
};

/** Maps any known spelling of a skill to one canonical (normalised) name. */
export class SkillVocabulary {
  private readonly aliases = new Map<string, string>();

  constructor(extraAliases: Iterable<[alias: string, canonical: string]> = []) {
    for (const [alias, canonical] of Object.entries(BUILT_IN_ALIASES)) this.add(alias, canonical);
    for (const [alias, canonical] of extraAliases) this.add(alias, canonical);
  }

  add(alias: string, canonical: string): void {
    const a = normaliseSkill(alias);
    const c = this.canonical(canonical);
    if (a.length > 0 && a !== c) this.aliases.set(a, c);
  }

  /** The canonical name of a skill (its normalised form when no alias is known). */
  canonical(name: string): string {
    const n = normaliseSkill(name);
    return this.aliases.get(n) ?? n;
  }

  same(a: string, b: string): boolean {
    return this.canonical(a) === this.canonical(b);
  }

  /** Every spelling known for a canonical skill (itself first). */
  spellings(name: string): string[] {
    const c = this.canonical(name);
    return [c, ...[...this.aliases].filter(([, to]) => to === c).map(([alias]) => alias)];
  }
}

/**
 * `[synonym, skill]` pairs from the `skills` rules of profile rubrics (e.g. postgresql → sql,
 * pandas → python), to feed a `SkillVocabulary`. Only synonyms of skills in `roleSkills` are kept,
 * so that a tool named for one skill cannot silently alias another role's skill.
 */
export function synonymsFromRubrics(rubrics: readonly Rubric[], roleSkills: readonly string[]): [string, string][] {
  const wanted = new Set(roleSkills.map(normaliseSkill));
  const pairs: [string, string][] = [];
  for (const rubric of rubrics) {
    if (rubric.scoring !== 'profile') continue;
    for (const rule of (rubric as ProfileRubric).rules) {
      if (rule.type !== 'skills') continue;
      for (const entry of rule.expected) {
        const expected = skillOf(entry);
        if (!wanted.has(normaliseSkill(expected.skill))) continue;
        for (const synonym of expected.synonyms ?? []) pairs.push([synonym, expected.skill]);
      }
    }
  }
  return pairs;
}

/** Jaccard similarity of two skill sets after canonicalisation. */
export function skillJaccard(a: readonly string[], b: readonly string[], vocabulary: SkillVocabulary): number {
  const x = new Set(a.map((s) => vocabulary.canonical(s)));
  const y = new Set(b.map((s) => vocabulary.canonical(s)));
  if (x.size === 0 && y.size === 0) return 0;
  let both = 0;
  for (const s of x) if (y.has(s)) both++;
  return both / (x.size + y.size - both);
}
