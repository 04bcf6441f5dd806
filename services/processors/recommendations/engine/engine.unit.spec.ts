import type { AssessedQuestion, QuestionSkillLink, StudentProfile } from './profile';
import { PROFICIENCY_PRIOR, buildStudentProfile, linkQuestionsToSkills } from './profile';
import type { CandidateCredential, PriorStudent } from './rank';
import { calibratedConfidence, rankCredentials } from './rank';
import { composeRationale, composeSummary } from './rationale';
import { SkillVocabulary, normaliseSkill } from './skills';

const role = {
  role_id: 'data-analyst',
  skills_profile: [
    { skill: 'sql', level: 3, weight: 3 },
    { skill: 'data visualization', level: 3, weight: 3 },
    { skill: 'statistics', level: 3, weight: 2 },
    { skill: 'python', level: 2, weight: 1 },
  ],
};

const mc = (id: string, prompt: string): AssessedQuestion => ({
  question_id: id,
  type: 'multiple_choice',
  prompt,
  choices: ['a', 'b'],
  rubric: { scoring: 'choice', select: 'single', correct: ['a'] },
  weight: 2,
});

const questions: AssessedQuestion[] = [
  mc('q-sql', 'Which SQL query returns each customer?'),
  mc('q-viz', 'Which chart type suits data visualization of a trend?'),
  mc('q-stats', 'Which statistics test compares two means?'),
  {
    question_id: 'q-profile',
    type: 'profile',
    prompt: 'Your toolkit',
    choices: null,
    rubric: {
      scoring: 'profile',
      rules: [
        {
          id: 'skills',
          type: 'skills',
          field: 'skills',
          points: 2,
          expected: [{ skill: 'python', synonyms: ['pandas'] }, 'sql'],
        },
      ],
    },
    weight: 2,
  },
];

const vocabulary = new SkillVocabulary([['pandas', 'python']]);
const links: QuestionSkillLink[] = linkQuestionsToSkills(questions, role, vocabulary);

function profileWith(scores: Record<string, number>, listed: string[] = ['pandas', 'sql']): StudentProfile {
  return buildStudentProfile(
    role,
    questions,
    {
      rule_scores: Object.entries(scores).map(([question_id, fraction]) => ({
        question_id,
        score: fraction * 2,
        max_score: 2,
      })),
      profile_answers: [{ question_id: 'q-profile', answer: { skills: listed } }],
    },
    links,
    vocabulary,
  );
}

const cred = (
  credential_id: string,
  skills: string[],
  extra: Partial<CandidateCredential> = {},
): CandidateCredential => ({
  credential_id,
  title: `Course ${credential_id}`,
  skills,
  content_score: 0.5,
  ...extra,
});

describe('skills', () => {
  it('normalises spelling and maps synonyms onto the role skill', () => {
    expect(normaliseSkill('Data Visualisation')).toBe('data visualization');
    expect(normaliseSkill('Data-Modelling')).toBe('data modeling');
    expect(vocabulary.same('K8s', 'kubernetes')).toBe(true);
    expect(vocabulary.same('pandas', 'Python')).toBe(true);
    expect(vocabulary.same('java', 'javascript')).toBe(false);
  });
});

describe('student profile', () => {
  it('links questions lexically without vectors and through the rubric for profile questions', () => {
    const of = (id: string): string[] => links.filter((l) => l.question_id === id).map((l) => l.skill);
    expect(of('q-sql')).toEqual(['sql']);
    expect(of('q-viz')).toEqual(['data visualization']);
    expect(of('q-profile').sort()).toEqual(['python', 'sql']);
    expect(links.find((l) => l.question_id === 'q-profile')?.via).toBe('rubric');
  });

  it('links by embedding similarity when vectors are given', () => {
    const v = (x: number, y: number): number[] => [x, y];
    const embedded = linkQuestionsToSkills([mc('q1', 'Which join keeps unmatched rows?')], role, vocabulary, {
      texts: { q1: v(1, 0.1) },
      skills: { sql: v(1, 0), 'data visualization': v(0, 1), statistics: v(0.3, 1), python: v(-1, 0) },
    });
    expect(embedded).toEqual([{ question_id: 'q1', skill: 'sql', strength: 1, via: 'embedding' }]);
  });

  it('computes proficiency from rule scores and the gap as an importance-weighted shortfall', () => {
    const p = profileWith({ 'q-sql': 0, 'q-viz': 1, 'q-stats': 1, 'q-profile': 1 });
    const sql = p.skills.find((s) => s.skill === 'sql')!;
    const viz = p.skills.find((s) => s.skill === 'data visualization')!;
    const python = p.skills.find((s) => s.skill === 'python')!;
    const prior = PROFICIENCY_PRIOR;
    // sql: MC 0 (w 2) and listed in the profile (w 2 × 1 (the rule's share of the points) × 0.6 =
    // 1.2: one observation of sql, not shared with python), prior (w 1).
    expect(sql.proficiency).toBeCloseTo((0 * 2 + 1 * 1.2 + prior) / 4.2, 6);
    expect(viz.proficiency).toBeCloseTo((2 + prior) / 3, 6);
    expect(viz.gap).toBe(0);
    expect(sql.importance).toBe(3);
    expect(sql.gap).toBeCloseTo(3 * ((0.75 - sql.proficiency) / 0.75), 6);
    // python: level 2 sets its target (2/3); its importance is its role weight.
    expect(python.importance).toBe(1);
    expect(python.target).toBeCloseTo(2 / 3, 6);
    expect(p.skills.reduce((s, x) => s + x.gap_share, 0)).toBeCloseTo(1, 6);
    expect(p.vector).toEqual(p.skills.map((s) => s.shortfall));
  });
});

describe('ranking', () => {
  const weakInSql = profileWith({ 'q-sql': 0, 'q-viz': 1, 'q-stats': 0.5 }, []);

  it('prefers the credential covering the biggest gap', () => {
    const ranked = rankCredentials(
      weakInSql,
      [cred('viz', ['data visualization']), cred('stats', ['statistics']), cred('sql', ['SQL'])],
      [],
      vocabulary,
    );
    expect(ranked.map((r) => r.credential_id)).toEqual(['sql', 'stats', 'viz']);
    expect(ranked[0]!.covers[0]!.skill).toBe('sql');
  });

  it('ranks active credentials only', () => {
    const ranked = rankCredentials(
      weakInSql,
      [cred('sql', ['sql'], { status: 'retired' }), cred('stats', ['statistics'])],
      [],
      vocabulary,
    );
    expect(ranked.map((r) => r.credential_id)).toEqual(['stats']);
  });

  it('keeps near-duplicates out of the top 5', () => {
    const candidates = [
      cred('sql-a', ['sql', 'statistics']),
      cred('sql-b', ['sql', 'statistics'], { content_score: 0.49 }),
      cred('stats', ['statistics']),
      cred('py', ['python']),
      cred('viz', ['data visualization']),
      cred('other', ['excel']),
    ];
    const ranked = rankCredentials(weakInSql, candidates, [], vocabulary);
    const top5 = ranked.slice(0, 5).map((r) => r.credential_id);
    expect(top5).toContain('sql-a');
    expect(top5).not.toContain('sql-b');
    expect(ranked.map((r) => r.credential_id)).toContain('sql-b');
    const vectors = rankCredentials(
      weakInSql,
      [cred('x', ['sql'], { vector: [1, 0] }), cred('y', ['statistics'], { vector: [0.999, 0.01] })],
      [],
      vocabulary,
      { diversity: { top: 2 } },
    );
    expect(vectors.map((r) => r.credential_id)).toEqual(['x', 'y']);
    expect(vectors[1]!.rank).toBe(2);
  });

  describe('collaborative signal', () => {
    const candidates = [cred('a', ['statistics']), cred('b', ['statistics'], { title: 'Other stats' })];
    const similar = (id: string, status: 'accepted' | 'rejected' | 'pending', on: string): PriorStudent => ({
      student_id: id,
      role_id: 'data-analyst',
      vector: weakInSql.vector,
      feedback: [{ credential_id: on, status }],
    });
    const unlike = (id: string, status: 'accepted' | 'rejected', on: string): PriorStudent => ({
      student_id: id,
      role_id: 'data-analyst',
      vector: weakInSql.vector.map((x) => (x > 0 ? 0 : 1)),
      feedback: [{ credential_id: on, status }],
    });
    const order = (history: PriorStudent[]): string[] =>
      rankCredentials(weakInSql, candidates, history, vocabulary, { diversity: { maxSkillJaccard: 2 } }).map(
        (r) => r.credential_id,
      );

    it('is neutral without feedback: ties break by id', () => {
      expect(order([])).toEqual(['a', 'b']);
    });

    it('moves a credential up with accepted feedback from similar students', () => {
      const history = [similar('s1', 'accepted', 'b'), similar('s2', 'accepted', 'b'), unlike('u1', 'rejected', 'b')];
      expect(order(history)).toEqual(['b', 'a']);
      const b = rankCredentials(weakInSql, candidates, history, vocabulary).find((r) => r.credential_id === 'b')!;
      expect(b.components.collaborative).toBeGreaterThan(0);
      expect(b.neighbours_with_feedback).toBe(2);
    });

    it('moves a credential down with rejections from similar students', () => {
      const history = [similar('s1', 'rejected', 'a'), similar('s2', 'rejected', 'a'), unlike('u1', 'accepted', 'a')];
      expect(order(history)).toEqual(['b', 'a']);
    });

    it('ignores pending feedback and other roles', () => {
      const other: PriorStudent = { ...similar('o', 'accepted', 'b'), role_id: 'ux-designer' };
      expect(order([similar('s1', 'pending', 'b'), other])).toEqual(['a', 'b']);
    });
  });

  it('calibrates confidence monotonically into [0, 1]', () => {
    let previous = -Infinity;
    for (let score = -2; score <= 3; score += 0.01) {
      const c = calibratedConfidence(score);
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThanOrEqual(1);
      expect(c).toBeGreaterThanOrEqual(previous);
      previous = c;
    }
    expect(calibratedConfidence(1e9)).toBeLessThanOrEqual(1);
    expect(calibratedConfidence(-1e9)).toBeGreaterThanOrEqual(0);
    const ranked = rankCredentials(
      weakInSql,
      [cred('sql', ['sql']), cred('viz', ['data visualization'])],
      [],
      vocabulary,
    );
    expect(ranked[0]!.confidence).toBeGreaterThan(ranked[1]!.confidence);
  });
});

describe('rationale and summary', () => {
  const profile = profileWith({ 'q-sql': 0, 'q-viz': 1, 'q-stats': 0.5 }, []);
  const ranked = rankCredentials(profile, [cred('sql', ['sql']), cred('viz', ['data visualization'])], [], vocabulary);
  const traces = [
    { trace_id: 't-cred', snippet: 'Covers joins', source_id: 'sql' },
    { trace_id: 't-q', snippet: 'Answered the join question wrongly', source_id: 'q-sql' },
    { trace_id: 't-other', snippet: 'unrelated', source_id: 'somewhere' },
  ];

  it('cites only trace ids it was given, and only relevant ones', () => {
    for (const item of ranked) {
      const r = composeRationale(item, profile, traces);
      for (const id of r.cited_trace_ids) expect(traces.map((t) => t.trace_id)).toContain(id);
      const inText = [...r.text.matchAll(/\[([^\]]+)\]/g)].flatMap((m) => m[1]!.split(', '));
      expect(inText).toEqual(r.cited_trace_ids);
      expect(r.cited_trace_ids).not.toContain('t-other');
    }
    const first = composeRationale(ranked[0]!, profile, traces);
    expect(first.cited_trace_ids).toEqual(['t-cred', 't-q']);
    expect(first.text).toMatch(/teaches sql/);
    expect(composeRationale(ranked[0]!, profile, []).cited_trace_ids).toEqual([]);
  });

  it('summarises strengths, gaps and next steps', () => {
    const summary = composeSummary(profile, ranked, { roleName: 'Data Analyst' });
    expect(summary.strengths).toContain('data visualization');
    expect(summary.gaps[0]).toBe('sql');
    expect(summary.next_steps[0]).toMatch(/Course sql/);
    expect(summary.text).toMatch(/Data Analyst/);
  });
});
