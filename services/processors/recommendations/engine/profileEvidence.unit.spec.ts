import type { AssessedQuestion, RoleForProfile } from './profile';
import { PROFICIENCY_PRIOR, buildStudentProfile, linkQuestionsToSkills, proficiencyTarget } from './profile';
import { SkillVocabulary } from './skills';

const vocabulary = new SkillVocabulary();

const profileQuestion = (id: string, expected: string[], weight = 2): AssessedQuestion => ({
  question_id: id,
  type: 'profile',
  prompt: 'Your toolkit',
  choices: null,
  rubric: {
    scoring: 'profile',
    rules: [{ id: 'skills', type: 'skills', field: 'skills', points: 2, expected }],
  },
  weight,
});

const role = (skills: { skill: string; level?: number; weight?: number }[]): RoleForProfile => ({
  role_id: 'r',
  skills_profile: skills,
});

function profileOf(r: RoleForProfile, questions: AssessedQuestion[], listed: Record<string, string[]>) {
  return buildStudentProfile(
    r,
    questions,
    {
      rule_scores: questions.map((q) => ({ question_id: q.question_id, score: 1, max_score: 2 })),
      profile_answers: questions.map((q) => ({
        question_id: q.question_id,
        answer: { skills: listed[q.question_id] },
      })),
    },
    linkQuestionsToSkills(questions, r, vocabulary),
    vocabulary,
  );
}

describe('self-reported skills', () => {
  it('given a skill listed in a one-skill rule and in a four-skill rule, then both count as the same evidence of it', () => {
    const r = role([{ skill: 'sql' }, { skill: 'python' }, { skill: 'statistics' }, { skill: 'spreadsheets' }]);
    const alone = profileOf(r, [profileQuestion('q', ['sql'])], { q: ['sql'] });
    const among = profileOf(r, [profileQuestion('q', ['sql', 'python', 'statistics', 'spreadsheets'])], {
      q: ['sql'],
    });
    const sqlAlone = alone.skills.find((s) => s.skill === 'sql')!;
    const sqlAmong = among.skills.find((s) => s.skill === 'sql')!;
    // question weight 2 × the rule's share of the points (1) × 0.6 (self-reported)
    expect(sqlAlone.evidence_weight).toBeCloseTo(1.2, 6);
    expect(sqlAmong.evidence_weight).toBeCloseTo(sqlAlone.evidence_weight, 6);
    expect(sqlAmong.proficiency).toBeCloseTo(sqlAlone.proficiency, 6);
    // and each skill the student left out is its own observation against it
    const python = among.skills.find((s) => s.skill === 'python')!;
    expect(python.evidence_weight).toBeCloseTo(1.2, 6);
    expect(python.proficiency).toBeCloseTo(PROFICIENCY_PRIOR / 2.2, 6);
  });

  it('given expected skills of unequal weight, then each weighs relative to the mean skill weight', () => {
    const r = role([{ skill: 'sql' }, { skill: 'python' }]);
    const q: AssessedQuestion = {
      ...profileQuestion('q', []),
      rubric: {
        scoring: 'profile',
        rules: [
          {
            id: 'skills',
            type: 'skills',
            field: 'skills',
            points: 2,
            expected: [
              { skill: 'sql', weight: 3 },
              { skill: 'python', weight: 1 },
            ],
          },
        ],
      },
    };
    const p = profileOf(r, [q], { q: ['sql'] });
    expect(p.skills.find((s) => s.skill === 'sql')!.evidence_weight).toBeCloseTo(2 * (3 / 2) * 0.6, 6);
    expect(p.skills.find((s) => s.skill === 'python')!.evidence_weight).toBeCloseTo(2 * (1 / 2) * 0.6, 6);
  });

  it('given options.selfReportWeight, then self-reported evidence weighs that much', () => {
    const r = role([{ skill: 'sql' }]);
    const q = [profileQuestion('q', ['sql'])];
    const p = buildStudentProfile(
      r,
      q,
      {
        rule_scores: [{ question_id: 'q', score: 2, max_score: 2 }],
        profile_answers: [{ question_id: 'q', answer: { skills: ['sql'] } }],
      },
      linkQuestionsToSkills(q, r, vocabulary),
      vocabulary,
      { selfReportWeight: 1 },
    );
    expect(p.skills[0]!.evidence_weight).toBeCloseTo(2, 6);
  });
});

describe('prior and target', () => {
  it('given no evidence on a skill, then its proficiency is the prior, or options.prior', () => {
    const r = role([{ skill: 'sql' }, { skill: 'r' }]);
    const q = [profileQuestion('q', ['sql'])];
    const links = linkQuestionsToSkills(q, r, vocabulary);
    const evidence = { rule_scores: [{ question_id: 'q', score: 2, max_score: 2 }] };
    const byDefault = buildStudentProfile(r, q, evidence, links, vocabulary);
    const given = buildStudentProfile(r, q, evidence, links, vocabulary, { prior: 0.3 });
    expect(byDefault.skills[1]!.evidence_weight).toBe(0);
    expect(byDefault.skills[1]!.proficiency).toBeCloseTo(PROFICIENCY_PRIOR, 6);
    expect(given.skills[1]!.proficiency).toBeCloseTo(0.3, 6);
    expect(given.skills[1]!.shortfall).toBeCloseTo((0.75 - 0.3) / 0.75, 6);
  });

  it('given the role levels, then the target is level / (level + 1): increasing, 0.75 at level 3, below 1', () => {
    expect(proficiencyTarget(3)).toBeCloseTo(0.75, 6);
    expect(proficiencyTarget(2)).toBeCloseTo(2 / 3, 6);
    expect(proficiencyTarget(1)).toBeCloseTo(0.5, 6);
    for (let level = 1; level < 5; level++) {
      expect(proficiencyTarget(level + 1)).toBeGreaterThan(proficiencyTarget(level));
      expect(proficiencyTarget(level + 1)).toBeLessThan(1);
    }
    expect(proficiencyTarget(Number.NaN)).toBeCloseTo(0.75, 6);
  });

  it('given two equally lacked skills of one weight at levels 2 and 3, then the level lowers the target, not the importance', () => {
    const r = role([
      { skill: 'sql', level: 3, weight: 2 },
      { skill: 'python', level: 2, weight: 2 },
    ]);
    const q = [profileQuestion('q', ['sql', 'python'])];
    const p = profileOf(r, q, { q: [] });
    const [sql, python] = p.skills;
    expect(sql!.importance).toBe(2);
    expect(python!.importance).toBe(2);
    expect(python!.proficiency).toBeCloseTo(sql!.proficiency, 6);
    // same proficiency: the lower level asks a little less of it (it used to count 2/3 as much)
    expect(python!.target).toBeLessThan(sql!.target);
    expect(python!.gap).toBeLessThan(sql!.gap);
    expect(python!.gap).toBeGreaterThan(0.85 * sql!.gap);
  });
});
