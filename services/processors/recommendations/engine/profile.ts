/**
 * The student profile of one assessment, for one role (pure).
 *
 * **Question → skill links.** The demo catalog's questions carry no skill tags, so the links are
 * derived (`linkQuestionsToSkills`):
 * - profile questions: the `expected` skills of their `skills` rules that are role skills (by
 *   name or synonym) — exact, `via: 'rubric'`;
 * - multiple-choice questions (prompt + choices) and each essay criterion (its description):
 *   when the caller passes embedding vectors (the question/criterion text and the role's skill
 *   names, from the embeddings port), the role skill with the highest cosine, plus any within
 *   `margin` of it (at most `maxSkills`), where a skill name or synonym found verbatim in the
 *   text adds `lexicalBonus` to its cosine — `via: 'embedding'`; without vectors, the skills
 *   whose names or synonyms occur in the text — `via: 'lexical'`. A question linked to nothing
 *   is listed in `unlinked` and does not count.
 *
 * **Proficiency** of skill s, 0..1: a shrunk weighted mean of the evidence linked to s,
 * `(Σ wᵢ·xᵢ + k₀·μ) / (Σ wᵢ + k₀)` with k₀ = 1 (one question-weight unit) and the prior μ
 * (`PROFICIENCY_PRIOR`, options.prior):
 * - a rule-scored multiple-choice question: x = score / max_score, w = question weight × link strength;
 * - an essay criterion: x = band_score / max_band_score, w = question weight × criterion weight
 *   share × link strength;
 * - a profile question's skills rule, with the answer at hand: one observation per expected
 *   role skill, x = 1 when the student listed it (or a synonym), else 0, with
 *   w = question weight × the rule's share of the question's points × the skill's weight
 *   relative to the rule's mean skill weight × `selfReportWeight` (0.6: self-reported). Whether
 *   a student lists a skill says as much about that skill however many others the rule asks
 *   about, so the rule's weight is not divided among its skills (it was, until the bench showed
 *   that a seven-skill list left each of its skills at the prior: 1/7 of the evidence each).
 *   Without the answer, the question's score fraction, linked like any question.
 *
 * **Prior** μ = 0.64 is the evidence-weighted mean of the evidence values (Σ w·x / Σ w over
 * every student and skill) of the bench's calibration population (its own seed; no labels
 * are used): with no evidence, a skill is as proficient as the evidence says skills are on
 * average. It was 0.5, which gave every unassessed skill a third of the largest possible
 * shortfall, so credentials teaching several unassessed skills outranked those teaching a
 * measured gap. A caller that knows its own population's mean passes `options.prior`.
 *
 * **Gap.** The role's level of a skill (1 awareness … 5 expert; default 3) sets its target,
 * τ(level) = level / (level + 1) (`proficiencyTarget`): 0.75 at level 3 (the former single
 * target, `PROFICIENCY_TARGET`), 0.67 at 2, 0.5 at 1, 0.83 at 5 — increasing and below 1, so
 * every target can be met. shortfall(s) = max(0, τ − p) / τ; importance(s) = the role weight
 * (default 1); gap(s) = importance × shortfall; `gap_share` = gap / Σ gap. (The level used to
 * multiply the importance instead, which counted a level-2 skill's gap at 2/3 of a level-3
 * one's even when the student lacked it entirely; the level says how much of a skill the role
 * expects, the weight how much the skill matters.)
 *
 * **Student vector** (the need vector): the shortfalls in the role's skill order. The
 * collaborative signal compares these between students of the same role by cosine, so two
 * students are similar when they lack the same skills; skills both master (shortfall 0) add
 * nothing, unlike raw proficiencies, whose noise on mastered skills would swamp the signal.
 */
import type { SkillRequirement } from '../../../../domain/catalog/role';
import type {
  EssayRubric,
  ProfileRubric,
  QuestionType,
  Rubric,
  SkillsRule,
} from '../../../../domain/assessment/rubric';
import { skillOf } from '../../../../domain/assessment/rubric';
import { fieldValue, skillItems } from '../../../../domain/assessment/answers';
import { firstPhraseIn } from '../../../../domain/assessment/textMatch';
import { cosineOf } from './vectors';
import type { SkillVocabulary } from './skills';

export interface RoleForProfile {
  role_id: string;
  skills_profile: SkillRequirement[];
}

export interface AssessedQuestion {
  question_id: string;
  type: QuestionType;
  prompt: string;
  choices: string[] | null;
  rubric: Rubric;
  weight: number;
}

export interface RuleScoreInput {
  question_id: string;
  score: number;
  max_score: number;
}

export interface EssayScoreInput {
  question_id: string;
  criteria: { criterion_id: string; band_score: number; max_band_score: number }[];
}

export interface ProfileAnswerInput {
  question_id: string;
  answer: unknown;
}

export interface AssessmentEvidence {
  rule_scores: RuleScoreInput[];
  essay_scores?: EssayScoreInput[];
  profile_answers?: ProfileAnswerInput[];
}

export interface QuestionSkillLink {
  question_id: string;
  /** Set for an essay criterion's link. */
  criterion_id?: string;
  /** The role's skill name, as in its skills_profile. */
  skill: string;
  /** 0..1; the strengths of one question's (or criterion's) links sum to 1. */
  strength: number;
  via: 'rubric' | 'embedding' | 'lexical';
}

/** Vectors keyed by `question_id` (multiple choice) or `question_id#criterion_id` (essay), and by skill name. */
export interface LinkVectors {
  texts: Record<string, ArrayLike<number>>;
  skills: Record<string, ArrayLike<number>>;
}

export interface LinkOptions {
  margin?: number;
  maxSkills?: number;
  lexicalBonus?: number;
}

export interface SkillProficiency {
  skill: string;
  level: number;
  weight: number;
  /** The role weight (the level sets the target instead). */
  importance: number;
  /** The proficiency the level asks for (`proficiencyTarget`). */
  target: number;
  /** 0..1. */
  proficiency: number;
  /** Σ evidence weight; 0 means the skill was not assessed (proficiency is the prior). */
  evidence_weight: number;
  /** Question ids whose evidence counted for this skill. */
  question_ids: string[];
  shortfall: number;
  gap: number;
  gap_share: number;
}

export interface StudentProfile {
  role_id: string;
  /** In the role's skills_profile order. */
  skills: SkillProficiency[];
  /** Shortfalls in the same order (the need vector), for the collaborative signal. */
  vector: number[];
  total_gap: number;
  unlinked_questions: string[];
}

export const PROFICIENCY_PRIOR = 0.64;
export const PRIOR_WEIGHT = 1;
/** The target at the working level 3 (see `proficiencyTarget`). */
export const PROFICIENCY_TARGET = 0.75;
export const SELF_REPORT_WEIGHT = 0.6;

export interface ProfileOptions {
  /** The proficiency assumed before any evidence, 0..1 (default `PROFICIENCY_PRIOR`). */
  prior?: number;
  /** The prior's weight in question-weight units (default `PRIOR_WEIGHT`). */
  priorWeight?: number;
  /** Weight of self-reported evidence relative to scored evidence (default `SELF_REPORT_WEIGHT`). */
  selfReportWeight?: number;
}

/** The proficiency a role's level asks for: level / (level + 1), so 0.75 at level 3. */
export function proficiencyTarget(level: number): number {
  const l = Number.isFinite(level) && level > 0 ? level : 3;
  return l / (l + 1);
}

/** The text a multiple-choice question is linked by: its prompt and its choices. */
export function questionLinkText(question: Pick<AssessedQuestion, 'prompt' | 'choices'>): string {
  return [question.prompt, ...(question.choices ?? [])].join('\n');
}

/** The key and text of each essay criterion to link (`question_id#criterion_id`). */
export function criterionLinkTexts(question: AssessedQuestion): { key: string; criterion_id: string; text: string }[] {
  if (question.rubric.scoring !== 'essay') return [];
  return (question.rubric as EssayRubric).criteria.map((c) => ({
    key: `${question.question_id}#${c.id}`,
    criterion_id: c.id,
    text: c.description,
  }));
}

export function linkQuestionsToSkills(
  questions: readonly AssessedQuestion[],
  role: RoleForProfile,
  vocabulary: SkillVocabulary,
  vectors?: LinkVectors,
  options: LinkOptions = {},
): QuestionSkillLink[] {
  const margin = options.margin ?? 0.03;
  const maxSkills = options.maxSkills ?? 2;
  const lexicalBonus = options.lexicalBonus ?? 0.1;
  const roleSkills = role.skills_profile.map((s) => s.skill);
  const byCanonical = new Map(roleSkills.map((s) => [vocabulary.canonical(s), s]));
  const links: QuestionSkillLink[] = [];

  const lexicalHits = (text: string): Set<string> =>
    new Set(
      roleSkills.filter(
        (skill) =>
          firstPhraseIn(
            text,
            vocabulary.spellings(skill).filter((p) => p.length > 1),
          ) !== undefined,
      ),
    );

  const linkText = (question_id: string, key: string, text: string, criterion_id?: string): void => {
    const hits = lexicalHits(text);
    const textVector = vectors?.texts[key];
    let chosen: { skill: string; score: number }[];
    let via: QuestionSkillLink['via'];
    if (textVector !== undefined && vectors !== undefined) {
      const scored = roleSkills
        .filter((s) => vectors.skills[s] !== undefined)
        .map((skill) => ({
          skill,
          score: cosineOf(textVector, vectors.skills[skill]!) + (hits.has(skill) ? lexicalBonus : 0),
        }))
        .sort((a, b) => b.score - a.score);
      const best = scored[0]?.score ?? 0;
      chosen = scored.filter((s) => s.score >= best - margin).slice(0, maxSkills);
      via = 'embedding';
    } else {
      chosen = [...hits].map((skill) => ({ skill, score: 1 }));
      via = 'lexical';
    }
    for (const c of chosen) {
      links.push({
        question_id,
        ...(criterion_id !== undefined ? { criterion_id } : {}),
        skill: c.skill,
        strength: 1 / chosen.length,
        via,
      });
    }
  };

  for (const question of questions) {
    if (question.type === 'profile' && question.rubric.scoring === 'profile') {
      const skills = new Set<string>();
      for (const rule of (question.rubric as ProfileRubric).rules) {
        if (rule.type !== 'skills') continue;
        for (const entry of rule.expected) {
          const role_skill = byCanonical.get(vocabulary.canonical(skillOf(entry).skill));
          if (role_skill !== undefined) skills.add(role_skill);
        }
      }
      for (const skill of skills) {
        links.push({ question_id: question.question_id, skill, strength: 1 / skills.size, via: 'rubric' });
      }
    } else if (question.type === 'essay') {
      for (const c of criterionLinkTexts(question)) linkText(question.question_id, c.key, c.text, c.criterion_id);
    } else {
      linkText(question.question_id, question.question_id, questionLinkText(question));
    }
  }
  return links;
}

interface Evidence {
  skill: string;
  value: number;
  weight: number;
  question_id: string;
}

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

function profileEvidence(
  question: AssessedQuestion,
  answer: unknown,
  role: RoleForProfile,
  vocabulary: SkillVocabulary,
  selfReportWeight: number,
): Evidence[] {
  const rubric = question.rubric as ProfileRubric;
  const totalPoints = rubric.rules.reduce((sum, r) => sum + r.points, 0);
  if (totalPoints <= 0) return [];
  const byCanonical = new Map(role.skills_profile.map((s) => [vocabulary.canonical(s.skill), s.skill]));
  const out: Evidence[] = [];
  for (const rule of rubric.rules) {
    if (rule.type !== 'skills') continue;
    const skillsRule = rule as SkillsRule;
    const items = skillItems(fieldValue(answer, skillsRule.field)) ?? [];
    const expected = skillsRule.expected.map(skillOf);
    const meanSkillWeight = expected.reduce((sum, e) => sum + (e.weight ?? 1), 0) / Math.max(1, expected.length);
    for (const e of expected) {
      const roleSkill = byCanonical.get(vocabulary.canonical(e.skill));
      if (roleSkill === undefined) continue;
      const phrases = [...new Set([e.skill, ...(e.synonyms ?? []), ...vocabulary.spellings(e.skill)])];
      const listed = items.some((item) => firstPhraseIn(item, phrases) !== undefined);
      out.push({
        skill: roleSkill,
        value: listed ? 1 : 0,
        weight:
          meanSkillWeight > 0
            ? question.weight * (rule.points / totalPoints) * ((e.weight ?? 1) / meanSkillWeight) * selfReportWeight
            : 0,
        question_id: question.question_id,
      });
    }
  }
  return out;
}

/** The profile of one assessment for one role; see the module comment for every formula. */
export function buildStudentProfile(
  role: RoleForProfile,
  questions: readonly AssessedQuestion[],
  evidence: AssessmentEvidence,
  links: readonly QuestionSkillLink[],
  vocabulary: SkillVocabulary,
  options: ProfileOptions = {},
): StudentProfile {
  const prior = clamp01(options.prior ?? PROFICIENCY_PRIOR);
  const priorWeight = Math.max(0, options.priorWeight ?? PRIOR_WEIGHT);
  const selfReportWeight = Math.max(0, options.selfReportWeight ?? SELF_REPORT_WEIGHT);
  const questionById = new Map(questions.map((q) => [q.question_id, q]));
  const linksOf = (question_id: string, criterion_id?: string): QuestionSkillLink[] =>
    links.filter((l) => l.question_id === question_id && l.criterion_id === criterion_id);
  const items: Evidence[] = [];
  const answers = new Map((evidence.profile_answers ?? []).map((a) => [a.question_id, a.answer]));

  for (const rs of evidence.rule_scores) {
    const question = questionById.get(rs.question_id);
    if (question === undefined || rs.max_score <= 0) continue;
    if (question.type === 'profile' && answers.has(rs.question_id)) {
      items.push(...profileEvidence(question, answers.get(rs.question_id), role, vocabulary, selfReportWeight));
      continue;
    }
    for (const link of linksOf(rs.question_id)) {
      items.push({
        skill: link.skill,
        value: clamp01(rs.score / rs.max_score),
        weight: question.weight * link.strength * (question.type === 'profile' ? selfReportWeight : 1),
        question_id: rs.question_id,
      });
    }
  }
  for (const essay of evidence.essay_scores ?? []) {
    const question = questionById.get(essay.question_id);
    if (question === undefined || question.rubric.scoring !== 'essay') continue;
    const criteria = (question.rubric as EssayRubric).criteria;
    const totalWeight = criteria.reduce((sum, c) => sum + c.weight, 0);
    for (const result of essay.criteria) {
      const criterion = criteria.find((c) => c.id === result.criterion_id);
      if (criterion === undefined || result.max_band_score <= 0 || totalWeight <= 0) continue;
      for (const link of linksOf(essay.question_id, result.criterion_id)) {
        items.push({
          skill: link.skill,
          value: clamp01(result.band_score / result.max_band_score),
          weight: question.weight * (criterion.weight / totalWeight) * link.strength,
          question_id: essay.question_id,
        });
      }
    }
  }

  const skills: SkillProficiency[] = role.skills_profile.map((req) => {
    const mine = items.filter((e) => e.skill === req.skill);
    const w = mine.reduce((sum, e) => sum + e.weight, 0);
    const wx = mine.reduce((sum, e) => sum + e.weight * e.value, 0);
    const proficiency = w + priorWeight > 0 ? (wx + priorWeight * prior) / (w + priorWeight) : prior;
    const level = req.level ?? 3;
    const weight = req.weight ?? 1;
    const importance = weight;
    const target = proficiencyTarget(level);
    const shortfall = Math.max(0, target - proficiency) / target;
    return {
      skill: req.skill,
      level,
      weight,
      importance,
      target,
      proficiency,
      evidence_weight: w,
      question_ids: [...new Set(mine.map((e) => e.question_id))],
      shortfall,
      gap: importance * shortfall,
      gap_share: 0,
    };
  });
  const total_gap = skills.reduce((sum, s) => sum + s.gap, 0);
  for (const s of skills) s.gap_share = total_gap > 0 ? s.gap / total_gap : 0;

  const linked = new Set(links.map((l) => l.question_id));
  return {
    role_id: role.role_id,
    skills,
    vector: skills.map((s) => s.shortfall),
    total_gap,
    unlinked_questions: questions.filter((q) => !linked.has(q.question_id)).map((q) => q.question_id),
  };
}

/** The skills with a gap, largest first. */
export function weakestSkills(profile: StudentProfile, limit = Infinity): SkillProficiency[] {
  return profile.skills
    .filter((s) => s.gap > 0)
    .sort((a, b) => b.gap - a.gap)
    .slice(0, limit);
}
