import { createRoleWithQuestions, essayAnswer, type RoleFixture } from '../../../test/support/catalogFixture';
import { expectMatchesContract, startTestSystem, type TestSystem } from '../../../test/support/system';

jest.setTimeout(120_000);

let sys: TestSystem;
let role: RoleFixture;

beforeAll(async () => {
  sys = await startTestSystem();
  role = await createRoleWithQuestions(sys);
});
afterAll(async () => {
  await sys?.stop();
});

test('start → answer → revise → submit → status → history, every answer matching the contract', async () => {
  const student = await sys.registerAndLogin('student');

  // Start: the snapshot of the role's active questions, without the answer key.
  const start = await sys.request('POST', '/api/v1/assessments/start', {
    token: student.token,
    body: { role_id: role.roleId },
  });
  expect(start.status).toBe(201);
  expectMatchesContract('POST', '/assessments/start', start);
  const id = start.body.assessment_id as string;
  expect(start.body.status).toBe('in_progress');
  expect(start.body.questions.map((q: { question_id: string }) => q.question_id).sort()).toEqual(
    [role.mcSingle, role.mcMultiple, role.profile, role.essay, role.optional].sort(),
  );
  expect(JSON.stringify(start.body.questions)).not.toContain('"correct"');
  expect(new Date(start.body.expires_at).getTime()).toBeGreaterThan(Date.now());

  // Answer one question wrongly, then revise it.
  const wrong = await sys.request('POST', `/api/v1/assessments/${id}/responses`, {
    token: student.token,
    body: { responses: [{ question_id: role.mcSingle, answer: 'ftp' }] },
  });
  expect(wrong.status).toBe(202);
  expectMatchesContract('POST', '/assessments/{assessment_id}/responses', wrong);
  expect(wrong.body).toMatchObject({ assessment_id: id, status: 'in_progress', async_job_enqueued: false });

  const revised = await sys.request('POST', `/api/v1/assessments/${id}/responses`, {
    token: student.token,
    body: { responses: [{ question_id: role.mcSingle, answer: 'kubernetes' }] },
  });
  expect(revised.status).toBe(202);

  // The status reflects the caller's own last write at once (read-your-writes, no sleeping).
  const midway = await sys.request('GET', `/api/v1/assessments/${id}`, { token: student.token });
  expect(midway.status).toBe(200);
  expectMatchesContract('GET', '/assessments/{assessment_id}', midway);
  expect(midway.body).toMatchObject({
    assessment_id: id,
    status: 'in_progress',
    progress: { answered: 1, total: 5 },
    degraded: false,
  });

  // Submit the rest in one batch.
  const submit = await sys.request('POST', `/api/v1/assessments/${id}/responses`, {
    token: student.token,
    body: {
      completed: true,
      responses: [
        { question_id: role.mcMultiple, answer: { selected: ['kubernetes', 'docker', 'ftp'] } },
        {
          question_id: role.profile,
          answer: {
            skills: ['K8s', 'Terraform', 'AWS'],
            years_experience: 4,
            summary: 'SRE work on CI/CD and observability',
          },
        },
        { question_id: role.essay, answer: essayAnswer },
      ],
    },
  });
  expect(submit.status).toBe(202);
  expectMatchesContract('POST', '/assessments/{assessment_id}/responses', submit);
  expect(submit.body).toMatchObject({ status: 'awaiting_async', async_job_enqueued: true });

  const done = await sys.request('GET', `/api/v1/assessments/${id}`, { token: student.token });
  expect(done.body).toMatchObject({ status: 'awaiting_async', progress: { answered: 4, total: 5 } });

  // Nothing is accepted after submission.
  const late = await sys.request('POST', `/api/v1/assessments/${id}/responses`, {
    token: student.token,
    body: { responses: [{ question_id: role.optional, answer: 'helm' }] },
  });
  expect(late.status).toBe(409);
  expect(late.body.error_code).toBe('ASSESSMENT_NOT_IN_PROGRESS');
  expectMatchesContract('POST', '/assessments/{assessment_id}/responses', late);

  // The history is the event timeline, in order, with who did what.
  const history = await sys.request('GET', `/api/v1/assessments/${id}/history`, { token: student.token });
  expect(history.status).toBe(200);
  expectMatchesContract('GET', '/assessments/{assessment_id}/history', history);
  const types = history.body.events.map((e: { type: string }) => e.type);
  expect(types).toEqual([
    'AssessmentStarted',
    'ResponseRecorded',
    'ResponseRuleScored',
    'ResponseRecorded',
    'ResponseRuleScored',
    'ResponseRecorded',
    'ResponseRuleScored',
    'ResponseRecorded',
    'ResponseRuleScored',
    'ResponseRecorded',
    'AssessmentSubmitted',
  ]);
  expect(history.body.events.map((e: { version: number }) => e.version)).toEqual(
    types.map((_: string, i: number) => i + 1),
  );
  expect(history.body.events[0].actor).toEqual({ id: student.userId, role: 'student' });
  for (const e of history.body.events) expect(typeof e.summary).toBe('string');
  // The audit trail never carries the answers themselves.
  expect(JSON.stringify(history.body)).not.toContain('readiness probes');

  // Rule scores are in the read model, with the rules applied and an explanation.
  const { rows } = await sys.running.platform.pool.query(
    `SELECT s.question_id, r.score::float AS score, r.max_score::float AS max_score, r.explanation, r.rules_applied
       FROM rule_scores r JOIN assessment_question_snapshots s ON s.id = r.question_snapshot_id
      WHERE r.assessment_id = $1`,
    [id],
  );
  const byQuestion = Object.fromEntries(rows.map((r) => [r.question_id, r]));
  expect(byQuestion[role.mcSingle]).toMatchObject({ score: 2, max_score: 2 });
  expect(byQuestion[role.mcMultiple].score).toBeCloseTo(1.5, 2); // 2 right, 1 wrong at −0.5: 1.5 / 3 × 3
  expect(byQuestion[role.profile].score).toBeGreaterThan(0);
  expect(byQuestion[role.profile].explanation).toEqual(expect.any(String));
  expect(byQuestion[role.essay]).toBeUndefined(); // essays are scored later, by the essay scorer
});

test('the contract is served at /openapi.json and rendered at /docs', async () => {
  const spec = await sys.request('GET', '/openapi.json');
  expect(spec.status).toBe(200);
  expect(spec.body.openapi).toBe('3.0.3');
  expect(Object.keys(spec.body.paths)).toEqual(
    expect.arrayContaining(['/assessments/start', '/assessments/{assessment_id}/history']),
  );
  const docs = await fetch(`${sys.url}/docs`);
  expect(docs.headers.get('content-type')).toMatch(/text\/html/);
  expect(await docs.text()).toContain('/openapi.json');
  const asset = await fetch(`${sys.url}/docs/swagger-ui-bundle.js`);
  expect(asset.status).toBe(200);
  expect((await asset.text()).length).toBeGreaterThan(100_000);
});
