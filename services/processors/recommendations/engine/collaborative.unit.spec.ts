import type { StudentProfile } from './profile';
import type { CandidateCredential, FeedbackRecord, PriorStudent } from './rank';
import {
  DEFAULT_ACCEPTANCE,
  collaborativeModel,
  feedbackResiduals,
  fitCollaborative,
  rankCredentials,
  residualSignal,
  skillRelatedness,
} from './rank';
import { composeRationale } from './rationale';
import { SkillVocabulary } from './skills';

const vocabulary = new SkillVocabulary();

/** A role of two skills; the student lacks sql and masters statistics. */
const skill = (name: string, shortfall: number) => ({
  skill: name,
  level: 3,
  weight: 1,
  importance: 1,
  target: 0.75,
  proficiency: 0.75 * (1 - shortfall),
  evidence_weight: 1,
  question_ids: [],
  shortfall,
  gap: shortfall,
  gap_share: 0,
});
function profileOf(sqlShortfall: number, statsShortfall: number): StudentProfile {
  const skills = [skill('sql', sqlShortfall), skill('statistics', statsShortfall)];
  const total = skills.reduce((s, x) => s + x.gap, 0);
  for (const s of skills) s.gap_share = total > 0 ? s.gap / total : 0;
  return { role_id: 'r', skills, vector: skills.map((s) => s.shortfall), total_gap: total, unlinked_questions: [] };
}
const student = profileOf(0.8, 0);

const cred = (credential_id: string, skills: string[]): CandidateCredential => ({
  credential_id,
  title: credential_id,
  skills,
  content_score: 0.5,
});

const prior = (id: string, vector: number[], feedback: FeedbackRecord[]): PriorStudent => ({
  student_id: id,
  role_id: 'r',
  vector,
  feedback,
});
const accepted = (credential_id: string): FeedbackRecord => ({ credential_id, status: 'accepted' });
const rejected = (credential_id: string): FeedbackRecord => ({ credential_id, status: 'rejected' });

describe('collaborative signal from residuals', () => {
  it('given decisions that follow the gaps exactly, then the residuals and the signal are small: coverage is not counted twice', () => {
    // 40 earlier students: those lacking sql accepted the sql course and rejected the stats
    // one; those lacking statistics did the opposite. Their gaps predict every decision.
    const candidates = [cred('sql-course', ['sql']), cred('stats-course', ['statistics'])];
    const history = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? prior(`h${i}`, [0.8, 0], [accepted('sql-course'), rejected('stats-course')])
        : prior(`h${i}`, [0, 0.8], [rejected('sql-course'), accepted('stats-course')]),
    );
    const residuals = feedbackResiduals(student, candidates, history, vocabulary);
    for (const mine of residuals.values()) for (const r of mine.values()) expect(Math.abs(r)).toBeLessThan(0.1);
    const ranked = rankCredentials(student, candidates, history, vocabulary);
    for (const r of ranked) expect(Math.abs(r.components.collaborative)).toBeLessThan(0.1);
    expect(ranked[0]!.credential_id).toBe('sql-course');
  });

  it('given similar students who kept accepting a course their gaps did not predict, then it moves up', () => {
    // Neither course teaches a role skill (coverage 0 for everyone): only the feedback differs.
    const candidates = [cred('a-course', ['cobol']), cred('b-course', ['kotlin'])];
    const history = Array.from({ length: 20 }, (_, i) =>
      prior(`h${i}`, [0.8, 0.1], [accepted('b-course'), rejected('a-course')]),
    );
    const ranked = rankCredentials(student, candidates, history, vocabulary);
    expect(ranked.map((r) => r.credential_id)).toEqual(['b-course', 'a-course']);
    expect(ranked[0]!.components.collaborative).toBeGreaterThan(0.1);
    expect(ranked[1]!.components.collaborative).toBeLessThan(-0.1);
    expect(ranked[0]!.neighbours_with_feedback).toBe(20);
    expect(composeRationale(ranked[0]!, student, []).text).toMatch(/similar profile .* more useful than expected/);
    expect(composeRationale(ranked[1]!, student, []).text).toMatch(/less useful than expected/);
    // without the history they tie, and the id decides
    expect(rankCredentials(student, candidates, [], vocabulary).map((r) => r.credential_id)).toEqual([
      'a-course',
      'b-course',
    ]);
  });

  it('given feedback on courses teaching the same skills, then it reaches a course nobody was shown', () => {
    // Half the earlier students saw x1, the other half x2 (both kotlin), all accepted it and
    // rejected their cobol course; nobody saw x-new or z-new.
    const shown = [cred('x1', ['kotlin']), cred('x2', ['kotlin']), cred('z1', ['cobol']), cred('z2', ['cobol'])];
    const unseen = [cred('z-new', ['cobol']), cred('x-new', ['kotlin'])];
    const history = Array.from({ length: 24 }, (_, i) =>
      i % 2 === 0
        ? prior(`h${i}`, [0.8, 0.1], [accepted('x1'), rejected('z1')])
        : prior(`h${i}`, [0.8, 0.1], [accepted('x2'), rejected('z2')]),
    );
    const model = collaborativeModel(student, [...shown, ...unseen], history, vocabulary);
    expect(model.settings.related).toBeGreaterThan(0);
    const ranked = rankCredentials(student, [...shown, ...unseen], history, vocabulary, {
      diversity: { maxSkillJaccard: 2, maxVectorCosine: 2 },
    });
    const position = (id: string): number => ranked.findIndex((r) => r.credential_id === id);
    expect(position('x-new')).toBeLessThan(position('z-new'));
    expect(ranked.find((r) => r.credential_id === 'x-new')!.components.collaborative).toBeGreaterThan(0);
  });

  it('given students who disagree at random, then the chosen settings leave the signal off', () => {
    // Deterministic "coin flips" that do not depend on the student's neighbours.
    const candidates = [cred('a', ['cobol']), cred('b', ['kotlin'])];
    const flip = (i: number, j: number): boolean => ((i * 7919 + j * 104729) % 13) % 2 === 0;
    const history = Array.from({ length: 60 }, (_, i) =>
      prior(
        `h${i}`,
        [0.5 + (i % 5) / 10, 0.2],
        [flip(i, 1) ? accepted('a') : rejected('a'), flip(i, 2) ? accepted('b') : rejected('b')],
      ),
    );
    const residuals = feedbackResiduals(student, candidates, history, vocabulary);
    const settings = fitCollaborative(student, history, residuals, {
      relatedness: skillRelatedness(candidates, vocabulary),
    });
    const ranked = rankCredentials(student, candidates, history, vocabulary);
    const largest = Math.max(...ranked.map((r) => Math.abs(r.components.collaborative)));
    expect(Number.isFinite(settings.shrinkage) ? largest : 0).toBeLessThan(0.1);
  });

  it('given an explicit shrinkage and no related weight, then residualSignal pools only the credential itself', () => {
    const candidates = [cred('a', ['kotlin']), cred('b', ['kotlin'])];
    const history = [prior('h1', [0.8, 0], [accepted('a')]), prior('h2', [0.8, 0], [accepted('a')])];
    const model = collaborativeModel(student, candidates, history, vocabulary, { shrinkage: 1, relatedFeedback: 0 });
    expect(model.settings).toEqual({ shrinkage: 1, related: 0 });
    const a = residualSignal('a', model.neighbours, model.residuals, 1, model.relatedness, 0);
    const b = residualSignal('b', model.neighbours, model.residuals, 1, model.relatedness, 0);
    const r = model.residuals.get('h1')!.get('a')!;
    expect(a.value).toBeCloseTo((2 * r) / (2 + 1), 6);
    expect(a.count).toBe(2);
    expect(b).toEqual({ value: 0, count: 0 });
    const bRelated = residualSignal('b', model.neighbours, model.residuals, 1, model.relatedness, 1);
    expect(bRelated.value).toBeCloseTo(a.value, 6);
  });

  it('given a few similar students who accepted a course and a few others who rejected it, then it moves up for the first and down for the others', () => {
    // The scenario of recommendations.int.spec.ts: eight skills, group A lacks the first four,
    // group B the last four; x teaches one gap of each, tied with others on coverage. Students
    // without feedback are in the history too, and take no neighbour's place.
    const names = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'];
    const needs = (weak: number[]): StudentProfile => {
      const skills = names.map((n, i) => skill(n, weak.includes(i) ? 0.7 : 0.05));
      const total = skills.reduce((sum, x) => sum + x.gap, 0);
      for (const x of skills) x.gap_share = x.gap / total;
      return { role_id: 'r', skills, vector: skills.map((x) => x.shortfall), total_gap: total, unlinked_questions: [] };
    };
    const a = needs([0, 1, 2, 3]);
    const b = needs([4, 5, 6, 7]);
    const candidates = [
      cred('x', ['s1', 's8']),
      cred('p', ['s2', 's5']),
      cred('q', ['s3', 's4']),
      cred('u', ['s5', 's6']),
      cred('v', ['s7', 's2']),
    ];
    const rated = (status: 'accepted' | 'rejected', relevance: number): FeedbackRecord[] => [
      { credential_id: 'x', status, relevance },
    ];
    const history = [
      prior('a0', a.vector, []),
      prior('b0', b.vector, []),
      prior('a1', a.vector, rated('accepted', 1)),
      prior('a2', a.vector, rated('accepted', 1)),
      prior('b1', b.vector, rated('rejected', 0)),
      prior('b2', b.vector, rated('rejected', 0)),
    ];
    const options = { diversity: { maxSkillJaccard: 2, maxVectorCosine: 2 } };
    const x = (profile: StudentProfile, h: PriorStudent[]) => {
      const ranked = rankCredentials(profile, candidates, h, vocabulary, options);
      const i = ranked.findIndex((r) => r.credential_id === 'x');
      return { position: i, collaborative: ranked[i]!.components.collaborative };
    };
    const beforeA = x(a, []);
    const beforeB = x(b, []);
    const afterA = x(a, history);
    const afterB = x(b, history);
    expect(afterA.collaborative).toBeGreaterThan(0);
    expect(afterB.collaborative).toBeLessThan(0);
    expect(afterA.position).toBeLessThanOrEqual(beforeA.position);
    expect(afterB.position).toBeGreaterThanOrEqual(beforeB.position);
    expect(afterA.position < beforeA.position || afterB.position > beforeB.position).toBe(true);
  });

  it('given rated feedback, then accepted counts (1 + r)/2 and rejected r/2, and pending records are ignored', () => {
    const candidates = [cred('a', ['kotlin'])];
    const history = [
      prior('h1', [0.8, 0], [{ credential_id: 'a', status: 'accepted', relevance: 0.5 }]),
      prior('h2', [0.8, 0], [{ credential_id: 'a', status: 'rejected', relevance: 0.5 }]),
      prior('h3', [0.8, 0], [{ credential_id: 'a', status: 'pending' }]),
    ];
    const residuals = feedbackResiduals(student, candidates, history, vocabulary);
    expect([...residuals.keys()]).toEqual(['h1', 'h2']);
    // same coverage, same prediction: the residuals differ by the decisions, 0.75 − 0.25
    expect(residuals.get('h1')!.get('a')! - residuals.get('h2')!.get('a')!).toBeCloseTo(0.5, 6);
  });

  it('given a few decisions only, then they are compared with the default acceptance model', () => {
    // Three students whose gaps do not reach the course accepted it: the default model says
    // σ(intercept) of them would; their residuals stay positive instead of being fitted away.
    const candidates = [cred('a', ['kotlin'])];
    const history = [1, 2, 3].map((i) => prior(`h${i}`, [0.8, 0], [accepted('a')]));
    const residuals = feedbackResiduals(student, candidates, history, vocabulary);
    const expected = 1 - 1 / (1 + Math.exp(-DEFAULT_ACCEPTANCE.intercept));
    for (const mine of residuals.values()) {
      expect(mine.get('a')!).toBeGreaterThan(0.5 * expected);
      expect(mine.get('a')!).toBeLessThanOrEqual(expected + 1e-9);
    }
  });
});
