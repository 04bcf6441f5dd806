import { DeciderSpecification, stateAfter } from '../shared/deciderSpecification';
import { idFromKey } from '../shared/ids';
import type {
  AssessmentCompleted,
  AssessmentEvent,
  AssessmentFailed,
  AssessmentSubmitted,
  EssayScored,
  ResponseRecorded,
  ResponseRuleScored,
} from './assessment';
import { aggregateIdOf, assessmentDecider } from './decide';
import {
  admin,
  advisor,
  afterExpiry,
  assessmentId,
  background,
  design,
  duringTest,
  essayScoredDefaults,
  expiresAt,
  optionalEssay,
  orchestrator,
  otherStudent,
  questions,
  respond,
  roleId,
  startCommand,
  started,
  startedAt,
  studentId,
  system,
  toolbox,
} from './testing/fixtures';

const given = DeciderSpecification.for(assessmentDecider);

const recorded = (
  question: { question_id: string; version: string },
  answer: ResponseRecorded['data']['answer'],
  revision = 1,
  submittedAt = duringTest,
): ResponseRecorded => ({
  type: 'ResponseRecorded',
  data: {
    assessment_id: assessmentId,
    question_id: question.question_id,
    question_version: question.version,
    answer,
    revision,
    submitted_at: submittedAt,
  },
});

const orchestratorScored = (revision = 1, correct = true): ResponseRuleScored => ({
  type: 'ResponseRuleScored',
  data: {
    assessment_id: assessmentId,
    question_id: orchestrator.question_id,
    question_version: '1',
    revision,
    score: correct ? 2 : 0,
    max_score: 2,
    rules_applied: correct
      ? [{ rule: 'correct_choice', outcome: 'selected "kubernetes"', points: 2 }]
      : [{ rule: 'wrong_choice', outcome: 'selected "docker" (incorrect)', points: 0 }],
    explanation: correct
      ? 'Selected "kubernetes": correct. Score 2 of 2.'
      : 'Selected "docker": incorrect; correct answer: kubernetes. Score 0 of 2.',
  },
});

const toolboxAnswer = { selected: ['kubernetes', 'docker', 'ftp'] };
const toolboxScored: ResponseRuleScored = {
  type: 'ResponseRuleScored',
  data: {
    assessment_id: assessmentId,
    question_id: toolbox.question_id,
    question_version: '3',
    revision: 1,
    score: 1.5,
    max_score: 3,
    rules_applied: [
      { rule: 'correct_choice', outcome: 'selected "kubernetes"', points: 1 },
      { rule: 'correct_choice', outcome: 'selected "docker"', points: 1 },
      { rule: 'wrong_penalty', outcome: 'selected "ftp" (incorrect)', points: -0.5 },
      { rule: 'missed_choice', outcome: 'did not select "helm"', points: 0 },
    ],
    explanation:
      'Selected 2 of 3 correct options (kubernetes, docker); missed helm; 1 wrong pick (ftp) -0.5. Score 1.5 of 3.',
  },
};

const backgroundAnswer = { skills: ['Kubernetes (CKA)', 'AWS'], years_experience: 4 };
const essayAnswer = 'Run several replicas behind a load balancer across zones.';

const submitted = (overrides: Partial<AssessmentSubmitted['data']> = {}): AssessmentSubmitted => ({
  type: 'AssessmentSubmitted',
  data: {
    assessment_id: assessmentId,
    answered: 4,
    total: 4,
    rule_score_total: 6.5,
    rule_score_max: 10,
    pending: ['essay_scoring', 'recommendations'],
    submitted_at: duringTest,
    ...overrides,
  },
});

/** Everything answered but not submitted. */
const allAnswered: AssessmentEvent[] = [
  started,
  recorded(orchestrator, 'kubernetes'),
  orchestratorScored(),
  recorded(toolbox, toolboxAnswer),
  toolboxScored,
  recorded(background, backgroundAnswer),
  {
    type: 'ResponseRuleScored',
    data: {
      assessment_id: assessmentId,
      question_id: background.question_id,
      question_version: '1',
      revision: 1,
      score: 3,
      max_score: 5,
      rules_applied: [],
      explanation: '',
    },
  },
  recorded(design, essayAnswer),
];

const essayScored: EssayScored = {
  type: 'EssayScored',
  data: {
    assessment_id: assessmentId,
    question_id: design.question_id,
    question_version: '2',
    revision: 1,
    score: 3,
    max_score: 4,
    criteria: [{ criterion_id: 'reasoning', score: 3 }],
    explanation: 'Good trade-offs.',
    model: 'offline-rubric',
    prompt_version: 'v1',
    degraded: true,
    latency_ms: 12,
    cost_cents: null,
    ...essayScoredDefaults,
  },
};
const completed: AssessmentCompleted = {
  type: 'AssessmentCompleted',
  data: { assessment_id: assessmentId, completed_at: '2025-03-01T09:40:00.000Z', degraded: false },
};
const failed: AssessmentFailed = {
  type: 'AssessmentFailed',
  data: { assessment_id: assessmentId, failed_at: '2025-03-01T09:40:00.000Z', reason: 'recommendations failed' },
};

describe('Assessment decider', () => {
  test('commands are keyed by assessment id', () => {
    expect(aggregateIdOf(startCommand())).toBe(assessmentId);
    expect(aggregateIdOf(respond([]))).toBe(assessmentId);
  });

  describe('when not started', () => {
    describe('StartAssessment', () => {
      test('the student starts it: the questions are snapshotted with the expiry and metadata', () => {
        given([]).when(startCommand()).then([started]);
      });

      test('prompts and choices are stored trimmed, instants in canonical UTC form', () => {
        const messy = {
          ...orchestrator,
          prompt: '  Which tool?  ',
          choices: [' docker', 'kubernetes ', 'ftp', 'helm'],
        };
        const [event] = given([])
          .when(startCommand({ questions: [messy], expires_at: '2025-03-01T12:00:00+01:00' }))
          .thenEvents();
        expect(event).toMatchObject({
          data: {
            questions: [{ prompt: 'Which tool?', choices: ['docker', 'kubernetes', 'ftp', 'helm'] }],
            expires_at: '2025-03-01T11:00:00.000Z',
          },
        });
      });

      test('metadata is optional', () => {
        given([])
          .when(startCommand({ metadata: undefined }))
          .then([{ ...started, data: { ...started.data, metadata: null } }]);
      });

      test('an admin or the system may start one for a student', () => {
        given([]).when(startCommand({}, admin)).then([started]);
        given([]).when(startCommand({}, system)).then([started]);
      });

      test('another student cannot start one for the student', () => {
        given([]).when(startCommand({}, otherStudent)).thenThrows('NOT_ASSESSMENT_OWNER', { kind: 'forbidden' });
      });

      test('an advisor cannot start one for a student', () => {
        given([]).when(startCommand({}, advisor)).thenThrows('NOT_ASSESSMENT_OWNER', { kind: 'forbidden' });
      });

      test('a role without questions cannot be assessed', () => {
        given([])
          .when(startCommand({ questions: [] }))
          .thenThrows('ASSESSMENT_HAS_NO_QUESTIONS', { kind: 'validation', message: /Cloud engineer/ });
      });

      test('a question with an invalid rubric is refused, naming the problem', () => {
        const broken = { ...orchestrator, rubric: { scoring: 'choice', select: 'single', correct: ['rsync'] } };
        given([])
          .when(startCommand({ questions: [broken] }))
          .thenThrows('INVALID_QUESTION_SNAPSHOT', {
            kind: 'validation',
            message: /"rsync" is not one of the choices/,
          });
      });

      test('a question of an unknown type is refused', () => {
        const odd = { ...design, type: 'oral' as never };
        given([])
          .when(startCommand({ questions: [odd] }))
          .thenThrows('INVALID_QUESTION_SNAPSHOT', { message: /question_type must be one of/ });
      });

      test('a question listed twice is refused', () => {
        given([])
          .when(startCommand({ questions: [orchestrator, orchestrator] }))
          .thenThrows('INVALID_QUESTION_SNAPSHOT', { details: { question_id: orchestrator.question_id } });
      });

      test('a question without a version is refused', () => {
        given([])
          .when(startCommand({ questions: [{ ...orchestrator, version: '' }] }))
          .thenThrows('INVALID_QUESTION_SNAPSHOT', { message: /version/ });
      });

      test('an expiry that is not later than now is refused', () => {
        given([])
          .when(startCommand({ expires_at: startedAt }))
          .thenThrows('INVALID_EXPIRY', { kind: 'validation' });
      });

      test('an expiry that is not an instant is refused', () => {
        given([])
          .when(startCommand({ expires_at: 'tomorrow' }))
          .thenThrows('INVALID_EXPIRY', { message: /ISO-8601/ });
      });

      test('ids must be UUIDs', () => {
        given([])
          .when(startCommand({ role_id: 'cloud' }))
          .thenThrows('INVALID_COMMAND', { details: { field: 'role_id' } });
      });

      test('a command without a valid now is malformed', () => {
        const command = startCommand();
        command.metadata.now = 'now';
        given([])
          .when(command)
          .thenThrows('INVALID_COMMAND', { details: { field: 'metadata.now' } });
      });
    });

    describe('RecordResponses', () => {
      test('is refused: there is no such assessment', () => {
        given([])
          .when(respond([{ question_id: orchestrator.question_id, answer: 'kubernetes' }]))
          .thenThrows('ASSESSMENT_NOT_FOUND', { kind: 'not_found' });
      });
    });
  });

  describe('when in progress', () => {
    describe('StartAssessment', () => {
      test('is refused: it has already started', () => {
        given([started]).when(startCommand()).thenThrows('ASSESSMENT_ALREADY_STARTED', { kind: 'conflict' });
      });
    });

    describe('RecordResponses', () => {
      test('a multiple-choice answer is recorded and rule-scored', () => {
        given([started])
          .when(respond([{ question_id: orchestrator.question_id, answer: 'kubernetes' }]))
          .then([recorded(orchestrator, 'kubernetes'), orchestratorScored()]);
      });

      test('an answer may be the 0-based index of the choice', () => {
        const [, scored] = given([started])
          .when(respond([{ question_id: orchestrator.question_id, answer: 1 }]))
          .thenEvents();
        expect(scored).toMatchObject({ data: { score: 2 } });
      });

      test('a multiple-select answer gets partial credit with a penalty for the wrong pick', () => {
        given([started])
          .when(respond([{ question_id: toolbox.question_id, answer: toolboxAnswer }]))
          .then([recorded(toolbox, toolboxAnswer), toolboxScored]);
      });

      test('a profile answer is rule-scored with the rules applied', () => {
        const [, scored] = given([started])
          .when(respond([{ question_id: background.question_id, answer: backgroundAnswer }]))
          .thenEvents();
        expect(scored).toEqual({
          type: 'ResponseRuleScored',
          data: expect.objectContaining({
            question_id: background.question_id,
            score: 3,
            max_score: 5,
            rules_applied: [
              expect.objectContaining({ rule: 'must-have', points: 0 }),
              expect.objectContaining({ rule: 'core-skills', points: 2 }),
              expect.objectContaining({ rule: 'experience', points: 1 }),
            ],
          }),
        });
      });

      test('an essay is recorded but not rule-scored', () => {
        given([started])
          .when(respond([{ question_id: design.question_id, answer: essayAnswer }]))
          .then([recorded(design, essayAnswer)]);
      });

      test('a batch records each answer in order, with the client submitted_at when given', () => {
        given([started])
          .when(
            respond([
              { question_id: design.question_id, answer: essayAnswer, submitted_at: '2025-03-01T10:29:00+01:00' },
              { question_id: orchestrator.question_id, answer: 'kubernetes' },
            ]),
          )
          .then([
            recorded(design, essayAnswer, 1, '2025-03-01T09:29:00.000Z'),
            recorded(orchestrator, 'kubernetes'),
            orchestratorScored(),
          ]);
      });

      test('revising an answer records revision 2 and re-scores it', () => {
        given([started, recorded(orchestrator, 'docker'), orchestratorScored(1, false)])
          .when(respond([{ question_id: orchestrator.question_id, answer: 'kubernetes' }]))
          .then([recorded(orchestrator, 'kubernetes', 2), orchestratorScored(2)]);
      });

      test('the revision keeps counting', () => {
        given([started, recorded(design, 'one two three'), recorded(design, 'four five six', 2)])
          .when(respond([{ question_id: design.question_id, answer: essayAnswer }]))
          .then([recorded(design, essayAnswer, 3)]);
      });

      test('an admin may answer on the student’s behalf', () => {
        given([started])
          .when(respond([{ question_id: design.question_id, answer: essayAnswer }], { actor: admin }))
          .then([recorded(design, essayAnswer)]);
      });

      test('is accepted up to and including the expiry instant', () => {
        given([started])
          .when(respond([{ question_id: design.question_id, answer: essayAnswer }], { now: expiresAt }))
          .then([recorded(design, essayAnswer, 1, expiresAt)]);
      });

      describe('submitting (complete)', () => {
        test('the last answers and the submission go together; status becomes awaiting_async', () => {
          const events = given(allAnswered.slice(0, 5))
            .when(
              respond(
                [
                  { question_id: background.question_id, answer: backgroundAnswer },
                  { question_id: design.question_id, answer: essayAnswer },
                ],
                { complete: true },
              ),
            )
            .thenEvents();
          expect(events.map((e) => e.type)).toEqual([
            'ResponseRecorded',
            'ResponseRuleScored',
            'ResponseRecorded',
            'AssessmentSubmitted',
          ]);
          expect(events[3]).toEqual(submitted());
          expect(stateAfter(assessmentDecider, [...allAnswered.slice(0, 5), ...events]).status).toBe('awaiting_async');
        });

        test('with everything answered already, an empty batch submits', () => {
          given(allAnswered)
            .when(respond([], { complete: true }))
            .then([submitted()]);
        });

        test('the totals use the latest score of each question', () => {
          const events = given([...allAnswered, recorded(orchestrator, 'docker', 2), orchestratorScored(2, false)])
            .when(respond([], { complete: true }))
            .thenEvents();
          expect(events).toEqual([submitted({ rule_score_total: 4.5 })]);
        });

        test('optional questions may stay unanswered; without an essay only recommendations are pending', () => {
          const onlyRequired = {
            ...started,
            data: { ...started.data, questions: [orchestrator, background, optionalEssay] },
          };
          given([onlyRequired])
            .when(respond([{ question_id: orchestrator.question_id, answer: 'kubernetes' }], { complete: true }))
            .then([
              recorded(orchestrator, 'kubernetes'),
              orchestratorScored(),
              {
                type: 'AssessmentSubmitted',
                data: {
                  assessment_id: assessmentId,
                  answered: 1,
                  total: 3,
                  rule_score_total: 2,
                  rule_score_max: 7,
                  pending: ['recommendations'],
                  submitted_at: duringTest,
                },
              },
            ]);
        });

        test('is refused while required questions are unanswered, listing them; nothing is recorded', () => {
          given([started])
            .when(respond([{ question_id: orchestrator.question_id, answer: 'kubernetes' }], { complete: true }))
            .thenThrows('REQUIRED_QUESTIONS_UNANSWERED', {
              kind: 'validation',
              details: { question_ids: [toolbox.question_id, design.question_id] },
            });
        });
      });

      test('an advisor cannot answer (advisors only read)', () => {
        given([started])
          .when(respond([{ question_id: design.question_id, answer: essayAnswer }], { actor: advisor }))
          .thenThrows('NOT_ASSESSMENT_OWNER', { kind: 'forbidden', message: /Advisors/ });
      });

      test('another student cannot answer', () => {
        given([started])
          .when(respond([{ question_id: design.question_id, answer: essayAnswer }], { actor: otherStudent }))
          .thenThrows('NOT_ASSESSMENT_OWNER', { kind: 'forbidden' });
      });

      test('a question that is not in the assessment is refused', () => {
        const stranger = idFromKey('question', 'stranger');
        given([started])
          .when(respond([{ question_id: stranger, answer: 'x' }]))
          .thenThrows('UNKNOWN_QUESTION', { kind: 'validation', details: { question_id: stranger } });
      });

      test('the same question twice in one batch is refused', () => {
        given([started])
          .when(
            respond([
              { question_id: orchestrator.question_id, answer: 'kubernetes' },
              { question_id: orchestrator.question_id, answer: 'docker' },
            ]),
          )
          .thenThrows('DUPLICATE_RESPONSE', { kind: 'validation', details: { question_id: orchestrator.question_id } });
      });

      test('an empty batch that does not submit is refused', () => {
        given([started]).when(respond([])).thenThrows('EMPTY_RESPONSE_BATCH', { kind: 'validation' });
      });

      test('a malformed batch is refused', () => {
        const malformed = (data: Record<string, unknown>) => ({
          ...respond([]),
          data: { ...respond([]).data, ...data },
        });
        given([started])
          .when(malformed({ responses: 'all of them' }))
          .thenThrows('INVALID_COMMAND', { details: { field: 'responses' } });
        given([started])
          .when(malformed({ responses: ['kubernetes'] }))
          .thenThrows('INVALID_COMMAND', { message: /responses\[0\] must be an object/ });
        given([started])
          .when(malformed({ responses: [{ answer: 'kubernetes' }] }))
          .thenThrows('INVALID_COMMAND', { message: /responses\[0\].question_id/ });
        given([started])
          .when(malformed({ complete: 'yes' }))
          .thenThrows('INVALID_COMMAND', { details: { field: 'complete' } });
      });

      test('a submitted_at that is not an instant is refused', () => {
        given([started])
          .when(respond([{ question_id: design.question_id, answer: essayAnswer, submitted_at: 'yesterday' }]))
          .thenThrows('INVALID_COMMAND', { message: /submitted_at/ });
      });

      describe('answers of the wrong shape are refused, naming the question', () => {
        const cases: [string, string, unknown, RegExp][] = [
          ['single choice given as a list', orchestrator.question_id, { selected: ['kubernetes'] }, /pick one option/],
          ['single choice not among the choices', orchestrator.question_id, 'rsync', /"rsync" is not one of/],
          ['choice index out of range', orchestrator.question_id, 4, /4 is not one of the choices/],
          ['fractional choice index', orchestrator.question_id, 0.5, /0.5 is not one of the choices/],
          ['multiple choice given as a string', toolbox.question_id, 'docker', /\{"selected": \[\.\.\.\]\}/],
          ['multiple choice with nothing selected', toolbox.question_id, { selected: [] }, /at least one/],
          ['multiple choice selecting twice', toolbox.question_id, { selected: [0, 'kubernetes'] }, /more than once/],
          ['profile given as text', background.question_id, 'I know k8s', /JSON object/],
          [
            'profile with a non-numeric range field',
            background.question_id,
            { skills: ['aws'], years_experience: 'many' },
            /years_experience/,
          ],
          ['essay given as a number', design.question_id, 42, /non-empty text/],
          ['essay left blank', design.question_id, '   ', /non-empty text/],
          ['essay under min_words', design.question_id, 'too short', /2 words; write at least 3/],
          ['essay over max_words', design.question_id, 'word '.repeat(401), /401 words; keep it to at most 400/],
          ['no answer at all', design.question_id, null, /an answer is required/],
        ];
        test.each(cases)('%s', (_name, questionId, answer, message) => {
          given([started])
            .when(respond([{ question_id: questionId, answer: answer as never }]))
            .thenThrows('INVALID_ANSWER', { kind: 'validation', details: { question_id: questionId }, message });
        });

        test('a profile missing required fields names the fields', () => {
          given([started])
            .when(respond([{ question_id: background.question_id, answer: { skills: [] } }]))
            .thenThrows('INVALID_ANSWER', {
              details: { question_id: background.question_id, missing_fields: ['skills', 'years_experience'] },
              message: /required fields missing: skills, years_experience/,
            });
        });

        test('one bad answer rejects the whole batch', () => {
          given([started])
            .when(
              respond([
                { question_id: orchestrator.question_id, answer: 'kubernetes' },
                { question_id: design.question_id, answer: '' },
              ]),
            )
            .thenThrows('INVALID_ANSWER', { details: { question_id: design.question_id } });
        });
      });
    });
  });

  describe('when expired', () => {
    test('RecordResponses is refused after expires_at', () => {
      given([started])
        .when(respond([{ question_id: design.question_id, answer: essayAnswer }], { now: afterExpiry }))
        .thenThrows('ASSESSMENT_EXPIRED', { kind: 'conflict', details: { expires_at: expiresAt } });
    });

    test('submitting is refused too', () => {
      given(allAnswered)
        .when(respond([], { complete: true, now: afterExpiry }))
        .thenThrows('ASSESSMENT_EXPIRED');
    });

    test('StartAssessment is still refused as already started', () => {
      given([started]).when(startCommand()).thenThrows('ASSESSMENT_ALREADY_STARTED');
    });
  });

  describe('when submitted', () => {
    const submittedHistory = [...allAnswered, submitted()];

    test('RecordResponses is refused: nothing is accepted after submission', () => {
      given(submittedHistory)
        .when(respond([{ question_id: orchestrator.question_id, answer: 'docker' }]))
        .thenThrows('ASSESSMENT_NOT_IN_PROGRESS', { kind: 'conflict', details: { status: 'awaiting_async' } });
    });

    test('submitting again is refused', () => {
      given(submittedHistory)
        .when(respond([], { complete: true }))
        .thenThrows('ASSESSMENT_NOT_IN_PROGRESS');
    });

    test('the owner check still comes first', () => {
      given(submittedHistory)
        .when(respond([], { complete: true, actor: advisor }))
        .thenThrows('NOT_ASSESSMENT_OWNER');
    });

    test('StartAssessment is refused', () => {
      given(submittedHistory).when(startCommand()).thenThrows('ASSESSMENT_ALREADY_STARTED');
    });

    test('when completed, answers are refused', () => {
      given([...submittedHistory, essayScored, completed])
        .when(respond([{ question_id: orchestrator.question_id, answer: 'docker' }]))
        .thenThrows('ASSESSMENT_NOT_IN_PROGRESS', { details: { status: 'completed' } });
    });

    test('when failed, answers are refused', () => {
      given([...submittedHistory, failed])
        .when(respond([{ question_id: orchestrator.question_id, answer: 'docker' }]))
        .thenThrows('ASSESSMENT_NOT_IN_PROGRESS', { details: { status: 'failed' } });
    });
  });

  describe('evolve', () => {
    test('starts with no assessment', () => {
      expect(assessmentDecider.initialState()).toEqual({ status: 'not_started' });
    });

    test('keeps the latest response and rule score per question', () => {
      const state = stateAfter(assessmentDecider, [
        started,
        recorded(orchestrator, 'docker'),
        orchestratorScored(1, false),
        recorded(orchestrator, 'kubernetes', 2),
        orchestratorScored(2),
      ]);
      expect(state).toMatchObject({
        status: 'in_progress',
        user_id: studentId,
        role_id: roleId,
        questions,
        responses: { [orchestrator.question_id]: { answer: 'kubernetes', revision: 2, question_version: '1' } },
        rule_scores: { [orchestrator.question_id]: { score: 2, max_score: 2, revision: 2 } },
      });
    });

    test('submission moves to awaiting_async with the pending work', () => {
      expect(stateAfter(assessmentDecider, [...allAnswered, submitted()])).toMatchObject({
        status: 'awaiting_async',
        submitted_at: duringTest,
        pending: ['essay_scoring', 'recommendations'],
      });
    });

    test('scoring the last answered essay clears essay_scoring and carries the degraded flag', () => {
      expect(stateAfter(assessmentDecider, [...allAnswered, submitted(), essayScored])).toMatchObject({
        status: 'awaiting_async',
        pending: ['recommendations'],
        degraded: true,
        essay_scores: { [design.question_id]: { score: 3, max_score: 4, revision: 1 } },
      });
    });

    test('completion moves to completed with nothing pending', () => {
      expect(stateAfter(assessmentDecider, [...allAnswered, submitted(), essayScored, completed])).toMatchObject({
        status: 'completed',
        completed_at: completed.data.completed_at,
        pending: [],
        degraded: true,
      });
    });

    test('failure moves to failed, from in progress or awaiting async', () => {
      expect(stateAfter(assessmentDecider, [started, failed])).toMatchObject({
        status: 'failed',
        submitted_at: null,
        reason: 'recommendations failed',
      });
      expect(stateAfter(assessmentDecider, [...allAnswered, submitted(), failed])).toMatchObject({
        status: 'failed',
        submitted_at: duringTest,
      });
    });

    test('ignores events that do not fit the state', () => {
      const state = stateAfter(assessmentDecider, [...allAnswered, submitted()]);
      expect(assessmentDecider.evolve(state, recorded(orchestrator, 'docker', 2))).toBe(state);
      expect(assessmentDecider.evolve(state, started)).toBe(state);
      expect(assessmentDecider.evolve({ status: 'not_started' }, completed)).toEqual({ status: 'not_started' });
    });

    test('leaves the state unchanged for an event type it does not know', () => {
      const state = stateAfter(assessmentDecider, [started]);
      expect(assessmentDecider.evolve(state, { type: 'FromTheFuture', data: {} } as never)).toBe(state);
    });
  });

  test('an unknown command type is refused as malformed', () => {
    given([started])
      .when({ type: 'Teleport', data: {}, metadata: respond([]).metadata } as never)
      .thenThrows('INVALID_COMMAND');
  });
});
