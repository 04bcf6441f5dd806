/**
 * bench/recommendations — the recommendation ranking engine
 * (services/processors/recommendations/engine) against two baselines on a simulated population.
 *
 *   CACHE_DIR=/var/cache/microcred npm run bench:recommendations
 *   BENCH_STUDENTS=1000 BENCH_SEED=7 npm run bench:recommendations
 *
 * Needs no stack. Embeddings: all-MiniLM-L6-v2 through createEmbeddings (model from
 * miniLmModelDir(): MINILM_MODEL_DIR or $CACHE_DIR/models/all-minilm-l6-v2); when the model
 * cannot be loaded the chain falls back to the lexical embedding and the header says so.
 *
 * Settings: BENCH_STUDENTS (600), BENCH_SEED (42), BENCH_HISTORY (300), BENCH_CALIBRATION (300),
 * BENCH_ROUNDS (5), BENCH_ROUND (100), BENCH_ROUND_EVAL (250). Diagnostics and variants:
 * - BENCH_DIAG=1: ablations (coverage only, content only, without diversity, the true gaps'
 *   upper bound), each role's question→skill links, and the profile's quality per role skill
 *   (mean evidence weight, mean shortfall of the students truly weak / not weak in it);
 * - BENCH_GAP_GROUPS=g: a variant population whose gaps are correlated (each role's skills are
 *   split at random into g groups; a student draws each weak skill from one group with
 *   probability 0.85, else from the whole profile), the kind of structure a collaborative
 *   signal exists for; 0 (default) is the population below, with independent gaps;
 * - BENCH_TRUTH_LABELS=names: the generator labels each question with the skill whose bare
 *   name embedding is the closest, instead of the name + synonyms text the engine's linker also
 *   embeds; a check of how much the engine gains from sharing the generator's labelling.
 *
 * ## The relevance rule (stated before anything is ranked; the engine never sees it)
 *
 * Every simulated student has a known set W of weak skills, drawn from their role's
 * skills_profile. A credential c is relevant to the student in proportion to how much of that
 * gap it covers:
 *
 *     rel(c) = Σ_{s ∈ W ∩ skills(c)} weight(s) / Σ_{s ∈ W} weight(s)      (0..1, graded)
 *
 * with weight(s) the role's weight of s and skills(c) the catalog's skill strings (exact match;
 * the demo catalog spells skills consistently). nDCG@5 uses rel as the gain and the ideal order
 * of the role's candidate pool; coverage is the share of the catalog's credentials that appear
 * in at least one student's top 5.
 *
 * ## The population (deterministic, BENCH_SEED)
 *
 * - role: uniform over the demo roles; W: 2–4 skills of the role profile, uniformly;
 * - true proficiency: U(0.05, 0.40) for a weak skill, U(0.60, 1.00) otherwise;
 * - answers, scored by the real rubric rules (domain/assessment/ruleScoring.ts):
 *   each multiple-choice question tests one skill, the role skill whose embedding (its name and
 *   up to 4 rubric synonyms; the name alone with BENCH_TRUTH_LABELS=names) is the closest to
 *   the question text (the generator's own labelling, top-1 cosine); a single-select
 *   question is answered right with probability p, a multiple-select one picks each correct
 *   option with probability p and each wrong one with probability (1 − p)/2;
 *   profile questions list each expected skill of their skills rules with probability 0.85 when
 *   it is not weak, 0.2 when weak (by name or one of the rubric's synonyms);
 *   each essay criterion gets band round(p · max + N(0, 0.8)) of its closest skill;
 * - a short self-description: "I am preparing for the <role> role. I am comfortable with <1–2
 *   strong skills>. I want to get better at <weak-skill phrases>", each weak skill mentioned
 *   with probability 0.75, as its name or a rubric synonym.
 *
 * ## The systems, all over the same candidate pool per role (the credentials naming at least
 * one of the role's skills; none is retired in the demo catalog)
 *
 * - ours: rankCredentials with the profile built from the scored answers, content = cosine of
 *   the self-description and the credential (as a hybrid retrieval would give), and the
 *   collaborative signal over the simulated history;
 * - popularity: accepted counts per role in the simulated history;
 * - kNN text: cosine of the self-description's MiniLM vector and the credential vectors.
 *
 * The simulated history: BENCH_HISTORY students, each shown 6 random candidates of their role,
 * accepting those with rel ≥ 0.25 and rejecting the others, each decision flipped with
 * probability 0.15. Feedback rounds: a history that starts empty; each round BENCH_ROUND
 * students get OUR top 5 and give feedback by the same rule (10% of items left pending), then
 * nDCG@5 is measured on a fixed set of new students, next to the same students ranked without
 * any history (so the Δ column is the collaborative signal's effect alone).
 *
 * Fitted on the calibration population (its own seed, BENCH_SEED + 3) and printed next to the
 * engine's defaults: the proficiency prior (the evidence-weighted mean evidence value; no
 * labels), the confidence calibration (logistic fit of the graded relevance on the score) and
 * the acceptance model (logistic fit of decisions on 6 random candidates each, by the history's
 * rule, on the deciding student's own gap coverage).
 */
import { readFileSync } from 'node:fs';
import { miniLmModelDir, repoPath } from '../../services/platform/paths';
import { createEmbeddings } from '../../services/processors/embeddings/fallbackEmbeddings';
import type { Embeddings } from '../../services/processors/embeddings/embeddings';
import { scoreAnswer } from '../../domain/assessment/ruleScoring';
import type { ChoiceRubric, EssayRubric, ProfileRubric, Rubric } from '../../domain/assessment/rubric';
import { skillOf, termOf } from '../../domain/assessment/rubric';
import type { QuestionSnapshot } from '../../domain/assessment/assessment';
import type { SkillRequirement } from '../../domain/catalog/role';
import {
  SkillVocabulary,
  DEFAULT_ACCEPTANCE,
  PRIOR_WEIGHT,
  PROFICIENCY_PRIOR,
  buildStudentProfile,
  calibratedConfidence,
  collaborativeModel,
  cosineOf,
  criterionLinkTexts,
  linkQuestionsToSkills,
  questionLinkText,
  rankCredentials,
  synonymsFromRubrics,
  type AssessedQuestion,
  type CandidateCredential,
  type Calibration,
  type EssayScoreInput,
  type PriorStudent,
  type ProfileAnswerInput,
  type QuestionSkillLink,
  type RankingOptions,
  type RuleScoreInput,
  type StudentProfile,
} from '../../services/processors/recommendations/engine';
import { seededRandom as rng } from '../../test/support/seededRandom';

const STUDENTS = Number(process.env.BENCH_STUDENTS ?? 600);
const HISTORY = Number(process.env.BENCH_HISTORY ?? 300);
const CALIBRATION = Number(process.env.BENCH_CALIBRATION ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND = Number(process.env.BENCH_ROUND ?? 100);
const ROUND_EVAL = Number(process.env.BENCH_ROUND_EVAL ?? 250);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const TOP = 5;
const GAP_GROUPS = Number(process.env.BENCH_GAP_GROUPS ?? 0);
const GROUP_SHARE = 0.85;
const TRUTH_LABELS = process.env.BENCH_TRUTH_LABELS ?? 'synonyms';
const DIAG = process.env.BENCH_DIAG === '1';
const ACCEPT_AT = 0.25;
const FLIP = 0.15;

// --------------------------------------------------------------------------------------------
// the demo catalog

interface DemoQuestion {
  slug: string;
  question_type: 'multiple_choice' | 'profile' | 'essay';
  prompt: string;
  choices: string[] | null;
  rubric: Rubric;
  weight: number;
  required: boolean;
}
interface DemoRole {
  slug: string;
  name: string;
  description: string;
  skills_profile: SkillRequirement[];
  questions: DemoQuestion[];
}
interface DemoCredential {
  slug: string;
  title: string;
  description: string;
  skills: string[];
  provider: string | null;
}

interface Role {
  id: string;
  name: string;
  skills: SkillRequirement[];
  questions: AssessedQuestion[];
  snapshots: Map<string, QuestionSnapshot>;
  vocabulary: SkillVocabulary;
  links: QuestionSkillLink[];
  /** Generator's own labelling: the closest skill of each question / criterion key. */
  truthSkill: Map<string, string>;
  pool: CandidateCredential[];
  synonyms: Map<string, string[]>;
}

// --------------------------------------------------------------------------------------------
// deterministic randomness

const pick = <T>(r: () => number, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
function sample<T>(r: () => number, items: readonly T[], n: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}
function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

// --------------------------------------------------------------------------------------------
// students

interface Student {
  id: string;
  role: Role;
  weak: Set<string>;
  truth: Map<string, number>;
  text: string;
  textVector?: Float32Array;
  rule_scores: RuleScoreInput[];
  essay_scores: EssayScoreInput[];
  profile_answers: ProfileAnswerInput[];
  profile?: StudentProfile;
}

function relevance(student: Student, credentialSkills: readonly string[]): number {
  const weights = new Map(student.role.skills.map((s) => [s.skill, s.weight ?? 1]));
  const total = [...student.weak].reduce((sum, s) => sum + (weights.get(s) ?? 1), 0);
  const covered = credentialSkills
    .filter((s) => student.weak.has(s))
    .reduce((sum, s) => sum + (weights.get(s) ?? 1), 0);
  return total > 0 ? covered / total : 0;
}

function answerChoice(r: () => number, q: QuestionSnapshot, p: number): unknown {
  const rubric = q.rubric as ChoiceRubric;
  const choices = q.choices ?? [];
  const correct = new Set(rubric.correct);
  if (rubric.select === 'single') {
    const wrong = choices.filter((c) => !correct.has(c));
    return r() < p || wrong.length === 0 ? pick(r, rubric.correct) : pick(r, wrong);
  }
  const selected = choices.filter((c) => (correct.has(c) ? r() < p : r() < (1 - p) / 2));
  return { selected: selected.length > 0 ? selected : [pick(r, choices)] };
}

function answerProfile(r: () => number, q: QuestionSnapshot, role: Role, weak: Set<string>): Record<string, unknown> {
  const rubric = q.rubric as ProfileRubric;
  const answer: Record<string, unknown> = {};
  const roleSkill = (name: string): string | undefined =>
    role.skills.find((s) => role.vocabulary.same(s.skill, name))?.skill;
  for (const rule of rubric.rules) {
    if (rule.type === 'skills') {
      const listed: string[] = [];
      for (const entry of rule.expected.map(skillOf)) {
        const rs = roleSkill(entry.skill);
        const prob = rs === undefined ? 0.5 : weak.has(rs) ? 0.2 : 0.85;
        if (r() < prob) listed.push(r() < 0.5 || !entry.synonyms?.length ? entry.skill : pick(r, entry.synonyms));
      }
      answer[rule.field] = listed.length > 0 ? listed : ['none yet'];
    } else if (rule.type === 'range') {
      answer[rule.field] = Math.round(r() * 60) / 10;
    } else if (rule.type === 'keywords') {
      const terms = rule.terms
        .map(termOf)
        .filter(() => r() < 0.5)
        .map((t) => t.term);
      answer[rule.field] =
        `I worked on a project${terms.length > 0 ? ` involving ${terms.join(', ')}` : ''} for my course.`;
    }
  }
  for (const rule of rubric.rules) {
    if (rule.type !== 'required') continue;
    for (const f of rule.fields) if (answer[f] === undefined) answer[f] = 'see above';
  }
  return answer;
}

function makeStudent(r: () => number, id: string, role: Role): Student {
  const nWeak = 2 + Math.floor(r() * 3);
  let weak: Set<string>;
  if (GAP_GROUPS > 0) {
    const groups = gapGroups(role);
    const group = pick(r, groups);
    weak = new Set<string>();
    while (weak.size < nWeak) {
      const fromGroup = group.filter((s) => !weak.has(s));
      weak.add(fromGroup.length > 0 && r() < GROUP_SHARE ? pick(r, fromGroup) : pick(r, role.skills).skill);
    }
  } else {
    weak = new Set(sample(r, role.skills, nWeak).map((s) => s.skill));
  }
  const truth = new Map(role.skills.map((s) => [s.skill, weak.has(s.skill) ? 0.05 + 0.35 * r() : 0.6 + 0.4 * r()]));
  const truthOf = (s: string): number => truth.get(s) ?? 0.5;
  const rule_scores: RuleScoreInput[] = [];
  const essay_scores: EssayScoreInput[] = [];
  const profile_answers: ProfileAnswerInput[] = [];
  for (const q of role.snapshots.values()) {
    if (q.type === 'multiple_choice') {
      const answer = answerChoice(r, q, truthOf(role.truthSkill.get(q.question_id) ?? ''));
      const s = scoreAnswer(q, answer)!;
      rule_scores.push({ question_id: q.question_id, score: s.score, max_score: s.max_score });
    } else if (q.type === 'profile') {
      const answer = answerProfile(r, q, role, weak);
      const s = scoreAnswer(q, answer)!;
      rule_scores.push({ question_id: q.question_id, score: s.score, max_score: s.max_score });
      profile_answers.push({ question_id: q.question_id, answer });
    } else {
      const rubric = q.rubric as EssayRubric;
      essay_scores.push({
        question_id: q.question_id,
        criteria: rubric.criteria.map((c) => {
          const max = Math.max(...c.bands.map((b) => b.score));
          const p = truthOf(role.truthSkill.get(`${q.question_id}#${c.id}`) ?? '');
          const band = Math.min(max, Math.max(0, Math.round(p * max + 0.8 * gaussian(r))));
          return { criterion_id: c.id, band_score: band, max_band_score: max };
        }),
      });
    }
  }
  const strong = role.skills.filter((s) => !weak.has(s.skill));
  const comfy = sample(r, strong, 1 + Math.floor(r() * 2)).map((s) => s.skill);
  let mentioned = [...weak].filter(() => r() < 0.75);
  if (mentioned.length === 0) mentioned = [pick(r, [...weak])];
  const phrases = mentioned.map((s) => {
    const syn = role.synonyms.get(s) ?? [];
    return syn.length > 0 && r() < 0.4 ? pick(r, syn) : s;
  });
  const text = `I am preparing for the ${role.name} role. I am comfortable with ${comfy.join(' and ')}. I want to get better at ${phrases.join(', ')}.`;
  return { id, role, weak, truth, text, rule_scores, essay_scores, profile_answers };
}

const groupsOf = new Map<string, string[][]>();
function gapGroups(role: Role): string[][] {
  let groups = groupsOf.get(role.id);
  if (groups === undefined) {
    const r = rng(SEED * 31 + [...role.id].reduce((h, ch) => (h * 33 + ch.charCodeAt(0)) >>> 0, 5381));
    const shuffled = sample(
      r,
      role.skills.map((s) => s.skill),
      role.skills.length,
    );
    groups = Array.from({ length: GAP_GROUPS }, (_, g) => shuffled.filter((_, i) => i % GAP_GROUPS === g));
    groupsOf.set(role.id, groups);
  }
  return groups;
}

function population(seed: number, n: number, roles: readonly Role[], prefix: string): Student[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => makeStudent(r, `${prefix}-${i}`, roles[i % roles.length]!));
}

// --------------------------------------------------------------------------------------------
// metrics

function ndcgAt(student: Student, ranking: readonly string[], skillsOf: Map<string, string[]>, k = TOP): number {
  const gains = ranking.slice(0, k).map((id) => relevance(student, skillsOf.get(id) ?? []));
  const ideal = student.role.pool
    .map((c) => relevance(student, c.skills))
    .sort((a, b) => b - a)
    .slice(0, k);
  const dcg = (g: number[]): number => g.reduce((s, x, i) => s + x / Math.log2(i + 2), 0);
  const idcg = dcg(ideal);
  return idcg > 0 ? dcg(gains) / idcg : 0;
}

interface SystemResult {
  name: string;
  ndcg: number;
  coverage: number;
  p5: number;
  perRole: Map<string, number>;
}

// --------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const catalog = JSON.parse(readFileSync(repoPath('services/cli/demo/catalog.json'), 'utf8')) as {
    roles: DemoRole[];
    credentials: DemoCredential[];
  };
  const quiet = {
    warn: () => {},
    info: () => {},
    error: (o: unknown, m?: string) => console.error(`embeddings: ${m ?? ''}`),
  };
  const embeddings: Embeddings = await createEmbeddings({ modelDir: miniLmModelDir(), logger: quiet });
  let provider = '';
  const embed = async (texts: string[]): Promise<Float32Array[]> => {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += 64) {
      const batch = await embeddings.embed(texts.slice(i, i + 64));
      provider = `${batch.provider}/${batch.model}${batch.degraded ? ' (DEGRADED: lexical fallback, MiniLM unavailable)' : ''}`;
      out.push(...batch.vectors);
    }
    return out;
  };

  const credVectors = await embed(
    catalog.credentials.map((c) => `${c.title}. ${c.description} Skills: ${c.skills.join(', ')}.`),
  );
  const credentials: CandidateCredential[] = catalog.credentials.map((c, i) => ({
    credential_id: c.slug,
    title: c.title,
    description: c.description,
    skills: c.skills,
    provider: c.provider,
    status: 'active',
    vector: credVectors[i]!,
  }));
  const skillsOf = new Map(credentials.map((c) => [c.credential_id, c.skills]));

  const roles: Role[] = [];
  for (const dr of catalog.roles) {
    const questions: AssessedQuestion[] = dr.questions.map((q) => ({
      question_id: q.slug,
      type: q.question_type,
      prompt: q.prompt,
      choices: q.choices,
      rubric: q.rubric,
      weight: q.weight,
    }));
    const snapshots = new Map<string, QuestionSnapshot>(
      dr.questions.map((q) => [
        q.slug,
        {
          question_id: q.slug,
          version: '1',
          type: q.question_type,
          prompt: q.prompt,
          choices: q.choices,
          rubric: q.rubric,
          weight: q.weight,
          required: q.required,
        },
      ]),
    );
    const roleSkills = dr.skills_profile.map((s) => s.skill);
    const rubricSynonyms = synonymsFromRubrics(
      questions.map((q) => q.rubric),
      roleSkills,
    );
    const vocabulary = new SkillVocabulary(rubricSynonyms);
    const synonyms = new Map<string, string[]>();
    for (const [syn, skill] of rubricSynonyms) synonyms.set(skill, [...(synonyms.get(skill) ?? []), syn]);
    const skillVecs = await embed(roleSkills.map((s) => [s, ...(synonyms.get(s) ?? []).slice(0, 4)].join(', ')));
    const keyed: { key: string; text: string }[] = [];
    for (const q of questions) {
      if (q.type === 'multiple_choice') keyed.push({ key: q.question_id, text: questionLinkText(q) });
      for (const c of criterionLinkTexts(q)) keyed.push({ key: c.key, text: c.text });
    }
    const textVecs = await embed(keyed.map((k) => k.text));
    const vectors = {
      texts: Object.fromEntries(keyed.map((k, i) => [k.key, textVecs[i]!])),
      skills: Object.fromEntries(roleSkills.map((s, i) => [s, skillVecs[i]!])),
    };
    const truthSkill = new Map<string, string>();
    const truthVecs = TRUTH_LABELS === 'names' ? await embed(roleSkills) : skillVecs;
    keyed.forEach((k, i) => {
      const best = roleSkills
        .map((s, j) => ({ s, c: cosineOf(textVecs[i]!, truthVecs[j]!) }))
        .sort((a, b) => b.c - a.c)[0]!;
      truthSkill.set(k.key, best.s);
    });
    const links = linkQuestionsToSkills(
      questions,
      { role_id: dr.slug, skills_profile: dr.skills_profile },
      vocabulary,
      vectors,
    );
    const pool = credentials.filter((c) => c.skills.some((s) => roleSkills.some((rs) => vocabulary.same(rs, s))));
    roles.push({
      id: dr.slug,
      name: dr.name,
      skills: dr.skills_profile,
      questions,
      snapshots,
      vocabulary,
      links,
      truthSkill,
      pool,
      synonyms,
    });
  }

  const prepare = async (students: Student[]): Promise<void> => {
    const vecs = await embed(students.map((s) => s.text));
    students.forEach((s, i) => {
      s.textVector = vecs[i]!;
      s.profile = buildStudentProfile(
        { role_id: s.role.id, skills_profile: s.role.skills },
        s.role.questions,
        s,
        s.role.links,
        s.role.vocabulary,
      );
    });
  };
  const candidatesFor = (s: Student): CandidateCredential[] =>
    s.role.pool.map((c) => ({ ...c, content_score: Math.max(0, cosineOf(s.textVector!, c.vector!)) }));
  const ranked = (s: Student, history: readonly PriorStudent[], options: RankingOptions = {}): string[] =>
    rankCredentials(s.profile!, candidatesFor(s), history, s.role.vocabulary, options).map((x) => x.credential_id);
  const withoutCollaborative: RankingOptions = { weights: { collaborative: 0 } };
  const knnRanking = (s: Student): string[] =>
    [...s.role.pool]
      .sort((a, b) => cosineOf(s.textVector!, b.vector!) - cosineOf(s.textVector!, a.vector!))
      .map((c) => c.credential_id);

  const feedbackFor = (r: () => number, s: Student, shown: readonly string[], pendingShare: number): PriorStudent => ({
    student_id: s.id,
    role_id: s.role.id,
    vector: s.profile!.vector,
    feedback: shown.map((id) => {
      if (r() < pendingShare) return { credential_id: id, status: 'pending' as const };
      let accept = relevance(s, skillsOf.get(id) ?? []) >= ACCEPT_AT;
      if (r() < FLIP) accept = !accept;
      return { credential_id: id, status: accept ? ('accepted' as const) : ('rejected' as const) };
    }),
  });

  // The simulated history (legacy exposure: 6 random candidates each).
  const historyStudents = population(SEED + 1, HISTORY, roles, 'h');
  await prepare(historyStudents);
  const hr = rng(SEED + 2);
  const history: PriorStudent[] = historyStudents.map((s) =>
    feedbackFor(
      hr,
      s,
      sample(
        hr,
        s.role.pool.map((c) => c.credential_id),
        6,
      ),
      0,
    ),
  );
  const popularity = new Map<string, number>();
  for (const h of history) {
    for (const f of h.feedback) {
      if (f.status === 'accepted')
        popularity.set(`${h.role_id}|${f.credential_id}`, (popularity.get(`${h.role_id}|${f.credential_id}`) ?? 0) + 1);
    }
  }
  const popularRanking = (s: Student): string[] =>
    [...s.role.pool]
      .sort(
        (a, b) =>
          (popularity.get(`${s.role.id}|${b.credential_id}`) ?? 0) -
            (popularity.get(`${s.role.id}|${a.credential_id}`) ?? 0) || a.credential_id.localeCompare(b.credential_id),
      )
      .map((c) => c.credential_id);

  // Calibration population (its own seed). (1) The proficiency prior: the evidence-weighted
  // mean evidence value, recovered from each profile as Σw·x = p·(Σw + k₀) − k₀·μ; no labels.
  // (2) Confidence = σ(a (score − b)) fitted to the graded relevance.
  const calib = population(SEED + 3, CALIBRATION, roles, 'c');
  await prepare(calib);
  let evidenceSum = 0;
  let evidenceWeight = 0;
  for (const s of calib) {
    for (const k of s.profile!.skills) {
      if (k.evidence_weight <= 0) continue;
      evidenceSum += k.proficiency * (k.evidence_weight + PRIOR_WEIGHT) - PRIOR_WEIGHT * PROFICIENCY_PRIOR;
      evidenceWeight += k.evidence_weight;
    }
  }
  const fittedPrior = evidenceSum / evidenceWeight;
  const pairs: { x: number; y: number }[] = [];
  for (const s of calib) {
    for (const item of rankCredentials(s.profile!, candidatesFor(s), history, s.role.vocabulary)) {
      pairs.push({ x: item.score, y: relevance(s, skillsOf.get(item.credential_id) ?? []) });
    }
  }
  const fitted = fitLogistic(pairs);
  // (3) The default acceptance model: each calibration student decides on 6 random candidates
  // by the history's rule; logistic fit of the decision on their own gap coverage.
  const ar = rng(SEED + 7);
  const decisions: { x: number; y: number }[] = [];
  for (const s of calib) {
    const items = sample(ar, rankCredentials(s.profile!, candidatesFor(s), [], s.role.vocabulary), 6);
    const decided = feedbackFor(
      ar,
      s,
      items.map((i) => i.credential_id),
      0,
    );
    decided.feedback.forEach((f, i) =>
      decisions.push({ x: items[i]!.components.coverage, y: f.status === 'accepted' ? 1 : 0 }),
    );
  }
  const acceptance = fitLogistic(decisions);

  // Main comparison.
  const evalStudents = population(SEED, STUDENTS, roles, 's');
  await prepare(evalStudents);
  const systems: [string, (s: Student) => string[]][] = [
    ['ours (content + gap + collaborative)', (s) => ranked(s, history)],
    ['ours without collaborative', (s) => ranked(s, [], withoutCollaborative)],
    ['popularity (simulated history)', popularRanking],
    [`kNN of student text (${provider.split('/')[0]})`, knnRanking],
  ];
  const ablations: [string, (s: Student) => string[]][] = [
    ['coverage only', (s) => ranked(s, [], { weights: { content: 0, collaborative: 0 } })],
    ['content only (= kNN)', (s) => ranked(s, [], { weights: { coverage: 0, collaborative: 0 } })],
    ['content + coverage, no diversity', (s) => ranked(s, [], { ...withoutCollaborative, diversity: { top: 0 } })],
    ['ours, no diversity', (s) => ranked(s, history, { diversity: { top: 0 } })],
    [
      'coverage of the TRUE gaps (upper bound)',
      (s) =>
        [...s.role.pool]
          .sort(
            (a, b) => relevance(s, b.skills) - relevance(s, a.skills) || a.credential_id.localeCompare(b.credential_id),
          )
          .map((c) => c.credential_id),
    ],
  ];
  const measured = [...systems, ...(DIAG ? ablations : [])];
  const results: SystemResult[] = measured.map(([name, rank]) => {
    let p5 = 0;
    const shown = new Set<string>();
    const perRole = new Map<string, { sum: number; n: number }>();
    for (const s of evalStudents) {
      const ranking = rank(s);
      const acc = perRole.get(s.role.id) ?? { sum: 0, n: 0 };
      acc.sum += ndcgAt(s, ranking, skillsOf);
      acc.n++;
      perRole.set(s.role.id, acc);
      const top = ranking.slice(0, TOP);
      top.forEach((id) => shown.add(id));
      p5 += top.filter((id) => relevance(s, skillsOf.get(id) ?? []) > 0).length / TOP;
    }
    const all = [...perRole.values()].reduce((a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }), { sum: 0, n: 0 });
    return {
      name,
      ndcg: all.sum / all.n,
      coverage: shown.size / credentials.length,
      p5: p5 / evalStudents.length,
      perRole: new Map([...perRole].map(([id, { sum, n }]) => [id, sum / n])),
    };
  });

  // Feedback rounds: the same new students ranked with the grown history and without any.
  const roundEval = population(SEED + 4, ROUND_EVAL, roles, 'e');
  await prepare(roundEval);
  const roundStudents = population(SEED + 5, ROUNDS * ROUND, roles, 'r');
  await prepare(roundStudents);
  const fr = rng(SEED + 6);
  const grown: PriorStudent[] = [];
  const noCollaborative =
    roundEval.reduce((sum, s) => sum + ndcgAt(s, ranked(s, [], withoutCollaborative), skillsOf), 0) / roundEval.length;
  const shrinkages = (h: readonly PriorStudent[]): string =>
    roles
      .map((r) => {
        const s = roundEval.find((x) => x.role === r)!;
        const { shrinkage, related } = collaborativeModel(s.profile!, candidatesFor(s), h, r.vocabulary).settings;
        return Number.isFinite(shrinkage) ? `${shrinkage}/${related}` : 'off';
      })
      .join(' ');
  const rounds: { round: number; history: number; ndcg: number; shrinkage: string }[] = [];
  const measure = (): number =>
    roundEval.reduce((sum, s) => sum + ndcgAt(s, ranked(s, grown), skillsOf), 0) / roundEval.length;
  rounds.push({ round: 0, history: 0, ndcg: measure(), shrinkage: shrinkages(grown) });
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of roundStudents.slice((round - 1) * ROUND, round * ROUND)) {
      grown.push(feedbackFor(fr, s, ranked(s, grown).slice(0, TOP), 0.1));
    }
    rounds.push({ round, history: grown.length, ndcg: measure(), shrinkage: shrinkages(grown) });
  }

  // Reliability of the engine's default calibration on the evaluation population.
  const bins = Array.from({ length: 5 }, () => ({ n: 0, conf: 0, rel: 0 }));
  for (const s of evalStudents.slice(0, 300)) {
    for (const item of rankCredentials(s.profile!, candidatesFor(s), history, s.role.vocabulary)) {
      const b = bins[Math.min(4, Math.floor(item.confidence * 5))]!;
      b.n++;
      b.conf += item.confidence;
      b.rel += relevance(s, skillsOf.get(item.credential_id) ?? []);
    }
  }

  // Report.
  const linkCounts = roles
    .map(
      (r) =>
        `${r.id}: ${r.links.length} links, ${r.questions.length - new Set(r.links.map((l) => l.question_id)).size} unlinked`,
    )
    .join('; ');
  console.log(
    `bench:recommendations  seed=${SEED}  embeddings=${provider}` +
      (GAP_GROUPS > 0 ? `  gap groups=${GAP_GROUPS}` : '') +
      (TRUTH_LABELS !== 'synonyms' ? `  generator labels=${TRUTH_LABELS}` : ''),
  );
  console.log(
    `catalog: ${roles.length} roles, ${credentials.length} credentials; candidate pools ${roles.map((r) => `${r.id}=${r.pool.length}`).join(' ')}`,
  );
  console.log(
    `question→skill links (embedding of question text vs skill names, rubric skills for profile questions): ${linkCounts}`,
  );
  console.log(
    `links that include the generator's skill: ${roles
      .map((r) => {
        const keys = [...r.truthSkill];
        const agree = keys.filter(([key, skill]) => {
          const [qid, cid] = key.split('#');
          return r.links.some((l) => l.question_id === qid && l.criterion_id === cid && l.skill === skill);
        }).length;
        return `${r.id}=${agree}/${keys.length}`;
      })
      .join(' ')}`,
  );
  console.log(
    `population: ${STUDENTS} evaluation students, ${HISTORY} in the simulated history, ${CALIBRATION} for calibration`,
  );
  console.log('');
  const roleHeads = roles.map((r) => r.id.split('-')[0]!.slice(0, 8));
  console.log(
    `${'system'.padEnd(42)} ${'nDCG@5'.padStart(8)} ${'P@5>0'.padStart(8)} ${'coverage'.padStart(9)}  ${roleHeads.map((h) => h.padStart(8)).join(' ')}`,
  );
  results.forEach((r, i) => {
    if (i === systems.length) console.log(`ablations (BENCH_DIAG=1):`);
    console.log(
      `${r.name.padEnd(42)} ${r.ndcg.toFixed(4).padStart(8)} ${r.p5.toFixed(4).padStart(8)} ${(r.coverage * 100).toFixed(1).padStart(8)}%  ${roles.map((role) => (r.perRole.get(role.id) ?? 0).toFixed(4).padStart(8)).join(' ')}`,
    );
  });
  console.log('');
  console.log(
    `feedback rounds (history starts empty; ${ROUND} students per round get our top ${TOP}; nDCG@5 of the same ${ROUND_EVAL} new students; collaborative settings per role as chosen on the history: shrinkage/weight of related credentials, off = signal off):`,
  );
  console.log(
    `${'round'.padEnd(6)} ${'history'.padStart(8)} ${'nDCG@5'.padStart(8)} ${'no collab'.padStart(10)} ${'Δ'.padStart(8)}  settings`,
  );
  for (const r of rounds)
    console.log(
      `${String(r.round).padEnd(6)} ${String(r.history).padStart(8)} ${r.ndcg.toFixed(4).padStart(8)} ${noCollaborative.toFixed(4).padStart(10)} ${(r.ndcg - noCollaborative >= 0 ? '+' : '') + (r.ndcg - noCollaborative).toFixed(4).padStart(7)}  ${r.shrinkage}`,
    );
  console.log('');
  console.log(
    `proficiency prior fit on ${calib.length} calibration students (evidence-weighted mean evidence value): ${fittedPrior.toFixed(3)} (engine default: ${PROFICIENCY_PRIOR})`,
  );
  console.log(
    `acceptance model fit on ${decisions.length} calibration decisions: intercept=${(-acceptance.slope * acceptance.midpoint).toFixed(2)} slope=${acceptance.slope.toFixed(2)} (engine default: ${JSON.stringify(DEFAULT_ACCEPTANCE)})`,
  );
  console.log(
    `calibration fit on ${pairs.length} (score, relevance) pairs: slope=${fitted.slope.toFixed(2)} midpoint=${fitted.midpoint.toFixed(3)} (engine default: ${JSON.stringify(defaultCalibrationInUse())})`,
  );
  console.log('reliability of the default calibration (300 evaluation students, every candidate):');
  console.log(
    `${'confidence bin'.padEnd(15)} ${'items'.padStart(6)} ${'mean conf'.padStart(10)} ${'mean rel'.padStart(9)}`,
  );
  bins.forEach((b, i) => {
    if (b.n > 0)
      console.log(
        `${`[${(i / 5).toFixed(1)}, ${((i + 1) / 5).toFixed(1)})`.padEnd(15)} ${String(b.n).padStart(6)} ${(b.conf / b.n).toFixed(3).padStart(10)} ${(b.rel / b.n).toFixed(3).padStart(9)}`,
      );
  });

  if (DIAG) {
    console.log('');
    console.log('question→skill links per role skill (e = embedding, r = rubric):');
    for (const r of roles) {
      const linked = new Map<string, string[]>();
      for (const l of r.links)
        linked.set(l.skill, [
          ...(linked.get(l.skill) ?? []),
          `${l.question_id.replace(r.id + '-', '')}${l.criterion_id ? '#' + l.criterion_id : ''}(${l.via[0]})`,
        ]);
      console.log(r.id, r.skills.map((s) => `${s.skill}: ${(linked.get(s.skill) ?? ['-']).join(' ')}`).join(' | '));
    }
    console.log('');
    console.log(
      'profile quality per role skill (evaluation students): mean evidence weight, mean shortfall when truly weak / not weak, credentials teaching it:',
    );
    for (const r of roles) {
      const students = evalStudents.filter((s) => s.role === r);
      const cells = r.skills.map((req, i) => {
        let ev = 0;
        const weak = { sum: 0, n: 0 };
        const strong = { sum: 0, n: 0 };
        for (const s of students) {
          const k = s.profile!.skills[i]!;
          ev += k.evidence_weight;
          const acc = s.weak.has(req.skill) ? weak : strong;
          acc.sum += k.shortfall;
          acc.n++;
        }
        const mean = (a: { sum: number; n: number }): string => (a.n > 0 ? (a.sum / a.n).toFixed(2) : '-');
        return `${req.skill} ev=${(ev / students.length).toFixed(1)} ${mean(weak)}/${mean(strong)} ×${r.pool.filter((c) => c.skills.some((x) => r.vocabulary.same(x, req.skill))).length}`;
      });
      console.log(`${r.id}: ${cells.join(' | ')}`);
    }
  }

  const ours = results[0]!.ndcg;
  const best = Math.max(results[2]!.ndcg, results[3]!.ndcg);
  console.log('');
  console.log(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`ndcg5_ours=${ours.toFixed(4)} ndcg5_best_baseline=${best.toFixed(4)} ratio=${(ours / best).toFixed(3)}`);
  await embeddings.close();
}

function defaultCalibrationInUse(): Calibration {
  // Recover the defaults from the public function: σ(0) at the midpoint, slope from the derivative.
  const lo = calibratedConfidence(0);
  const hi = calibratedConfidence(1);
  const logit = (p: number): number => Math.log(p / (1 - p));
  const slope = logit(hi) - logit(lo);
  return { slope: Number(slope.toFixed(2)), midpoint: Number((-logit(lo) / slope).toFixed(3)) };
}

/** Logistic regression with soft labels (y in 0..1), one feature, by Newton's method. */
function fitLogistic(pairs: readonly { x: number; y: number }[]): Calibration {
  let w0 = 0;
  let w1 = 1;
  for (let iter = 0; iter < 50; iter++) {
    let g0 = 0;
    let g1 = 0;
    let h00 = 0;
    let h01 = 0;
    let h11 = 0;
    for (const { x, y } of pairs) {
      const p = 1 / (1 + Math.exp(-(w0 + w1 * x)));
      const d = p - y;
      const v = p * (1 - p);
      g0 += d;
      g1 += d * x;
      h00 += v;
      h01 += v * x;
      h11 += v * x * x;
    }
    const det = h00 * h11 - h01 * h01;
    if (Math.abs(det) < 1e-12) break;
    w0 -= (h11 * g0 - h01 * g1) / det;
    w1 -= (h00 * g1 - h01 * g0) / det;
  }
  return { slope: w1, midpoint: -w0 / w1 };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
