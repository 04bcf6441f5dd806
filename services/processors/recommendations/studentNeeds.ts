import { createHash } from 'node:crypto';
import type { StudentSkillProfile } from '../../../domain/assessment/assessment';
import { fieldValue, skillItems } from '../../../domain/assessment/answers';
import type { SkillRequirement } from '../../../domain/catalog/role';
import type { EmbeddingBatch, Embeddings } from '../embeddings/embeddings';
import {
  SkillVocabulary,
  buildStudentProfile,
  criterionLinkTexts,
  linkQuestionsToSkills,
  questionLinkText,
  synonymsFromRubrics,
  weakestSkills,
  type AssessedQuestion,
  type QuestionSkillLink,
  type StudentProfile,
} from './engine';
import type { AssessmentFacts } from './assessmentFacts';

/**
 * The student's needs as the recommendation stages see them: the skill profile built from the
 * assessment's rule and essay scores (engine/profile.ts), and the text that stands for them in
 * retrieval: the role, the weakest skills, what the student said of themselves in profile
 * answers, and the opening of their essays.
 *
 * Linking questions to skills embeds each question (and essay criterion) and each role skill;
 * those vectors depend only on the role and its questions, so they are kept per role model
 * (LRU), not computed per assessment.
 */
export interface RoleModel {
  vocabulary: SkillVocabulary;
  links: QuestionSkillLink[];
  embedding: Pick<EmbeddingBatch, 'provider' | 'model' | 'degraded'>;
}

export interface StudentNeeds {
  profile: StudentProfile;
  vocabulary: SkillVocabulary;
  /** Weakest skills first (those with a gap), at most 5. */
  weakest: { skill: string; proficiency: number; gap_share: number }[];
  /** For hybrid retrieval (BM25 and the query vector). */
  queryText: string;
  /** In words, for the audit and the advisor. */
  querySummary: string;
}

const MAX_ESSAY_CHARS = 1200;
const MAX_PROFILE_CHARS = 600;

export class StudentNeedsBuilder {
  private readonly roleModels = new Map<string, Promise<RoleModel>>();
  /** Query vectors by text: the ranking stage embeds the query the evidence stage just did. */
  private readonly queryVectors = new Map<string, { vector: Float32Array; batch: Omit<EmbeddingBatch, 'vectors'> }>();

  constructor(
    private readonly embeddings: Embeddings,
    private readonly maxRoleModels = 64,
    private readonly maxQueryVectors = 256,
  ) {}

  /** Embeds retrieval queries, the same texts once (all from one model: a partial hit of another model re-embeds all). */
  async embedQueries(texts: string[], signal?: AbortSignal): Promise<EmbeddingBatch> {
    const hits = texts.map((t) => this.queryVectors.get(t));
    const first = hits[0]?.batch;
    if (first && hits.every((h) => h !== undefined && h.batch.model === first.model)) {
      return { ...first, vectors: hits.map((h) => h!.vector) };
    }
    const batch = await this.embeddings.embed(texts, signal ? { signal } : {});
    const { vectors, ...made } = batch;
    texts.forEach((t, i) => {
      this.queryVectors.delete(t);
      this.queryVectors.set(t, { vector: vectors[i]!, batch: made });
    });
    while (this.queryVectors.size > this.maxQueryVectors) {
      this.queryVectors.delete(this.queryVectors.keys().next().value!);
    }
    return batch;
  }

  async needsOf(
    facts: AssessmentFacts,
    skillsProfile: readonly SkillRequirement[],
    signal?: AbortSignal,
  ): Promise<StudentNeeds> {
    const role = { role_id: facts.role_id, skills_profile: [...skillsProfile] };
    const questions = facts.questions as AssessedQuestion[];
    const model = await this.roleModel(role, questions, signal);
    const profile = buildStudentProfile(
      role,
      questions,
      {
        rule_scores: Object.entries(facts.rule_scores).map(([question_id, s]) => ({ question_id, ...s })),
        essay_scores: Object.entries(facts.essay_scores).map(([question_id, s]) => ({
          question_id,
          criteria: s.criteria,
        })),
        profile_answers: questions
          .filter((q) => q.type === 'profile' && facts.answers[q.question_id] !== undefined)
          .map((q) => ({ question_id: q.question_id, answer: facts.answers[q.question_id]!.answer })),
      },
      model.links,
      model.vocabulary,
    );
    const weakest = weakestSkills(profile, 5)
      .filter((s) => s.gap > 0)
      .map((s) => ({ skill: s.skill, proficiency: s.proficiency, gap_share: s.gap_share }));
    const selfReport = profileText(facts, questions).slice(0, MAX_PROFILE_CHARS);
    const essays = questions
      .filter((q) => q.type === 'essay' && typeof facts.answers[q.question_id]?.answer === 'string')
      .map((q) => (facts.answers[q.question_id]!.answer as string).slice(0, MAX_ESSAY_CHARS / 2))
      .join('\n')
      .slice(0, MAX_ESSAY_CHARS);
    const gapWords = weakest.map((s) => s.skill).join(', ');
    const queryText = [
      `Preparing for the ${facts.role_name} role.`,
      gapWords
        ? `Needs to improve: ${gapWords}.`
        : `Skills of the role: ${skillsProfile.map((s) => s.skill).join(', ')}.`,
      selfReport,
      essays,
    ]
      .filter((part) => part.trim().length > 0)
      .join('\n');
    const pct = (x: number) => `${Math.round(x * 100)}%`;
    const querySummary = [
      `Role: ${facts.role_name}.`,
      weakest.length > 0
        ? `Largest gaps: ${weakest.map((s) => `${s.skill} (${pct(s.proficiency)})`).join(', ')}.`
        : 'No skill gaps found.',
      selfReport ? 'Profile answers and essay text included.' : essays ? 'Essay text included.' : '',
    ]
      .filter(Boolean)
      .join(' ');
    return { profile, vocabulary: model.vocabulary, weakest, queryText, querySummary };
  }

  private roleModel(
    role: { role_id: string; skills_profile: SkillRequirement[] },
    questions: AssessedQuestion[],
    signal?: AbortSignal,
  ): Promise<RoleModel> {
    const key = createHash('sha256')
      .update(JSON.stringify([role, questions.map((q) => [q.question_id, q.prompt, q.choices, q.rubric])]))
      .digest('hex');
    const cached = this.roleModels.get(key);
    if (cached) {
      // Most recently used last.
      this.roleModels.delete(key);
      this.roleModels.set(key, cached);
      return cached;
    }
    const built = this.buildRoleModel(role, questions, signal);
    this.roleModels.set(key, built);
    // A failed build (a provider outage) must not be remembered.
    built.catch(() => this.roleModels.delete(key));
    while (this.roleModels.size > this.maxRoleModels) {
      this.roleModels.delete(this.roleModels.keys().next().value!);
    }
    return built;
  }

  private async buildRoleModel(
    role: { role_id: string; skills_profile: SkillRequirement[] },
    questions: AssessedQuestion[],
    signal?: AbortSignal,
  ): Promise<RoleModel> {
    const roleSkills = role.skills_profile.map((s) => s.skill);
    const synonymPairs = synonymsFromRubrics(
      questions.map((q) => q.rubric),
      roleSkills,
    );
    const vocabulary = new SkillVocabulary(synonymPairs);
    const synonyms = new Map<string, string[]>();
    for (const [synonym, skill] of synonymPairs) synonyms.set(skill, [...(synonyms.get(skill) ?? []), synonym]);
    const keyed: { key: string; text: string }[] = [];
    for (const q of questions) {
      if (q.type === 'multiple_choice') keyed.push({ key: q.question_id, text: questionLinkText(q) });
      for (const c of criterionLinkTexts(q)) keyed.push({ key: c.key, text: c.text });
    }
    const skillTexts = roleSkills.map((s) => [s, ...(synonyms.get(s) ?? []).slice(0, 4)].join(', '));
    if (skillTexts.length === 0) {
      return { vocabulary, links: [], embedding: { provider: 'lexical', model: 'none', degraded: false } };
    }
    const batch = await this.embeddings.embed([...skillTexts, ...keyed.map((k) => k.text)], signal ? { signal } : {});
    const vectors = {
      skills: Object.fromEntries(roleSkills.map((s, i) => [s, batch.vectors[i]!])),
      texts: Object.fromEntries(keyed.map((k, i) => [k.key, batch.vectors[skillTexts.length + i]!])),
    };
    return {
      vocabulary,
      links: linkQuestionsToSkills(questions, role, vocabulary, vectors),
      embedding: { provider: batch.provider, model: batch.model, degraded: batch.degraded },
    };
  }
}

/** What the profile answers say, as text: the skills listed and any free text. */
function profileText(facts: AssessmentFacts, questions: readonly AssessedQuestion[]): string {
  const parts: string[] = [];
  for (const q of questions) {
    if (q.type !== 'profile') continue;
    const answer = facts.answers[q.question_id]?.answer;
    if (answer === undefined || answer === null) continue;
    if (typeof answer === 'string') parts.push(answer);
    else if (typeof answer === 'object' && !Array.isArray(answer)) {
      for (const field of Object.keys(answer)) {
        const value = fieldValue(answer, field);
        const items = skillItems(value);
        if (items) parts.push(items.join(', '));
      }
    }
  }
  return parts.join('. ');
}

/** The profile as RecommendationsGenerated records it. */
export function recordedProfile(profile: StudentProfile): StudentSkillProfile {
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    role_id: profile.role_id,
    skills: profile.skills.map((s) => ({ skill: s.skill, proficiency: round(s.proficiency), gap: round(s.gap) })),
    vector: profile.vector.map(round),
  };
}
