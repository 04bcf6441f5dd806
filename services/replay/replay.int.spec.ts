import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allProjections } from '../../projections';
import { AUDIT_PROJECTION } from '../../projections/audit/projection';
import { ProjectionRunner } from '../../projections/runtime/projectionRunner';
import {
  createRoleWithQuestions,
  essayAnswer,
  startAssessment,
  type RoleFixture,
} from '../../test/support/catalogFixture';
import { eventually } from '../../test/support/platform';
import { expectMatchesContract, startTestSystem, type TestSystem } from '../../test/support/system';
import { MessageCodec } from '../messaging/messageCodec';
import { EVENT_CSV_COLUMNS } from './csv';
import type { PartitionLag } from './projectionStatus';
import { cli } from './testing/cliRun';
import { parseCsv } from './testing/parseCsv';
import { deleteTestTopics } from './testing/topics';

jest.setTimeout(180_000);

/**
 * The event log read back (CLI `events export`, `projections status`, `assessment history|state`,
 * and `GET /assessments/{id}/history?as_of=`) against a test system of its own. Its projections
 * run here, one runner each, so the spec can stop one and watch its lag grow.
 */
let sys: TestSystem;
let role: RoleFixture;
let runners: Map<string, ProjectionRunner>;
const dir = mkdtempSync(join(tmpdir(), 'replay-spec-'));

beforeAll(async () => {
  sys = await startTestSystem({ ROLES: 'api,deciders' });
  const { platform } = sys.running;
  const codec = new MessageCodec(platform.codec, platform.topics);
  runners = new Map(allProjections.map((p) => [p.name, new ProjectionRunner(platform, codec, p)]));
  await Promise.all([...runners.values()].map((r) => r.start()));
  role = await createRoleWithQuestions(sys);
});
afterAll(async () => {
  await Promise.all([...(runners?.values() ?? [])].map((r) => r.stop()));
  await sys?.stop();
  if (sys) await deleteTestTopics(sys.env.KAFKA_TOPIC_PREFIX!);
});

const run = (...argv: string[]) => cli(sys.env, ...argv);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A student's assessment: answered the single-choice question at `answeredAt`, then submitted. */
interface Story {
  id: string;
  token: string;
  answeredAt: string;
  submittedAfter: string;
}
let story: Story;

async function answerAndSubmit(): Promise<Story> {
  const student = await sys.registerAndLogin('student');
  const id = await startAssessment(sys, student.token, role.roleId);
  const answer = (responses: unknown[], completed = false) =>
    sys.request('POST', `/api/v1/assessments/${id}/responses`, {
      token: student.token,
      body: { responses, completed },
    });
  expect((await answer([{ question_id: role.mcSingle, answer: 'kubernetes' }])).status).toBe(202);
  await sleep(20);
  const answeredAt = new Date().toISOString();
  await sleep(20);
  const submit = await answer(
    [
      { question_id: role.mcMultiple, answer: { selected: ['kubernetes', 'docker'] } },
      { question_id: role.profile, answer: { skills: ['kubernetes'], years_experience: 3, summary: 'Runs clusters' } },
      {
        question_id: role.essay,
        answer: `${essayAnswer} With a canary, I "watch" the metrics, then widen, or roll back.`,
      },
    ],
    true,
  );
  expect(submit.status).toBe(202);
  expect(submit.body.status).toBe('awaiting_async');
  await sleep(20);
  return { id, token: student.token, answeredAt, submittedAfter: new Date().toISOString() };
}

describe('GET /assessments/{id}/history?as_of=', () => {
  beforeAll(async () => {
    story = await answerAndSubmit();
  });

  test('between the answer and the submit: in_progress with that answer, recomputed from the log', async () => {
    const res = await sys.request('GET', `/api/v1/assessments/${story.id}/history?as_of=${story.answeredAt}`, {
      token: story.token,
    });
    expect(res.status).toBe(200);
    expectMatchesContract('GET', '/assessments/{assessment_id}/history', res);
    expect(res.body.as_of).toBe(story.answeredAt);
    expect(res.body.events.map((e: { type: string }) => e.type)).toEqual([
      'AssessmentStarted',
      'ResponseRecorded',
      'ResponseRuleScored',
    ]);
    const { state } = res.body;
    expect(state).toMatchObject({ status: 'in_progress', version: 3, role_id: role.roleId });
    expect(state.responses).toEqual([
      expect.objectContaining({ question_id: role.mcSingle, answer: 'kubernetes', revision: 1 }),
    ]);
    expect(state.rule_scores).toEqual([
      expect.objectContaining({ question_id: role.mcSingle, score: 2, max_score: 2 }),
    ]);
    // No answer keys: choice rubrics lose their correct options, as in the start response.
    const mc = state.questions.find((q: { question_id: string }) => q.question_id === role.mcSingle);
    expect(mc.rubric).toEqual({ scoring: 'choice', select: 'single' });
    expect(JSON.stringify(state.questions)).not.toContain('"correct"');
  });

  test('after the submit: awaiting_async with every answer; without as_of the route is as before', async () => {
    const res = await sys.request('GET', `/api/v1/assessments/${story.id}/history?as_of=${story.submittedAfter}`, {
      token: story.token,
    });
    expect(res.status).toBe(200);
    expectMatchesContract('GET', '/assessments/{assessment_id}/history', res);
    expect(res.body.state).toMatchObject({
      status: 'awaiting_async',
      pending: expect.arrayContaining(['essay_scoring']),
    });
    expect(res.body.state.responses).toHaveLength(4);
    expect(res.body.events.at(-1).type).toBe('AssessmentSubmitted');

    const plain = await sys.request('GET', `/api/v1/assessments/${story.id}/history`, { token: story.token });
    expect(plain.status).toBe(200);
    expectMatchesContract('GET', '/assessments/{assessment_id}/history', plain);
    expect(plain.body.state).toBeUndefined();
    expect(plain.body.events).toHaveLength(res.body.events.length);

    // Before the start: nothing yet.
    const before = await sys.request('GET', `/api/v1/assessments/${story.id}/history?as_of=2020-01-01T00:00:00Z`, {
      token: await sys.adminToken(),
    });
    expect(before.status).toBe(200);
    expectMatchesContract('GET', '/assessments/{assessment_id}/history', before);
    expect(before.body).toMatchObject({ events: [], state: { status: 'not_started', version: 0 } });
  });

  test('400 for an unparseable or future as_of; the same access rules as without it', async () => {
    const path = `/api/v1/assessments/${story.id}/history`;
    for (const [query, code] of [
      ['as_of=yesterday', 'INVALID_AS_OF'],
      ['as_of=2026-13-45T00:00:00Z', 'INVALID_AS_OF'],
      ['as_of=2026-01-01', 'INVALID_AS_OF'],
      ['as_of=', 'INVALID_AS_OF'],
      ['as_of=2020-01-01T00:00:00Z&as_of=2021-01-01T00:00:00Z', 'INVALID_AS_OF'],
      [`as_of=${new Date(Date.now() + 3_600_000).toISOString()}`, 'AS_OF_IN_FUTURE'],
    ] as const) {
      const res = await sys.request('GET', `${path}?${query}`, { token: story.token });
      expect({ query, status: res.status, code: res.body.error_code }).toEqual({ query, status: 400, code });
      expect(typeof res.body.message).toBe('string');
      expectMatchesContract('GET', '/assessments/{assessment_id}/history', res);
    }
    const stranger = await sys.registerAndLogin('student');
    const forbidden = await sys.request('GET', `${path}?as_of=${story.answeredAt}`, { token: stranger.token });
    expect(forbidden.status).toBe(403);
    const advisor = await sys.registerAndLogin('advisor');
    const seen = await sys.request('GET', `${path}?as_of=${story.answeredAt}`, { token: advisor.token });
    expect(seen.status).toBe(200);
    expect(seen.body.state.status).toBe('in_progress');
  });
});

describe('microcred assessment history|state', () => {
  test('the state at an instant, folded by the domain, and the events up to it', async () => {
    const state = await run('assessment', 'state', story.id, '--as-of', story.answeredAt, '--json');
    expect(state).toMatchObject({ code: 0, stderr: '' });
    const doc = JSON.parse(state.stdout);
    expect(doc).toMatchObject({ assessment_id: story.id, version: 3, state: { status: 'in_progress' } });
    expect(doc.state.responses[role.mcSingle]).toMatchObject({ answer: 'kubernetes', revision: 1 });

    const after = JSON.parse((await run('assessment', 'state', story.id, '--as-of', story.submittedAfter)).stdout);
    expect(after.state.status).toBe('awaiting_async');

    const history = await run('assessment', 'history', story.id, '--json');
    expect(history.code).toBe(0);
    const events = JSON.parse(history.stdout).events as { type: string; version: number; partition: number }[];
    expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)!.type).toBe('AssessmentSubmitted');
    const text = await run('assessment', 'history', story.id, '--as-of', story.answeredAt);
    expect(text.stdout.trim().split('\n')).toHaveLength(3);
  });

  test('an assessment the log does not hold: exit 1, one line', async () => {
    const res = await run('assessment', 'history', '00000000-0000-4000-8000-000000000000');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^microcred: no assessment 00000000-0000-4000-8000-000000000000 in the event log\n$/);
  });
});

describe('microcred events export', () => {
  test('ndjson and csv hold the same events; the CSV parses back field for field', async () => {
    const ndjsonFile = join(dir, 'all.ndjson');
    const csvFile = join(dir, 'all.csv');
    expect((await run('events', 'export', '--format', 'ndjson', '--output', ndjsonFile)).code).toBe(0);
    expect((await run('events', 'export', '--format', 'csv', '--output', csvFile)).code).toBe(0);
    const lines = readFileSync(ndjsonFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const [header, ...rows] = parseCsv(readFileSync(csvFile, 'utf8'));
    expect(header).toEqual([...EVENT_CSV_COLUMNS]);
    expect(rows).toHaveLength(lines.length);
    const contexts = new Set(lines.map((e) => e.aggregate_type));
    expect(contexts).toEqual(new Set(['user', 'role', 'question', 'credential', 'assessment']));
    for (const [i, row] of rows.entries()) {
      const e = lines[i];
      const byColumn = Object.fromEntries(EVENT_CSV_COLUMNS.map((c, j) => [c, row[j]]));
      expect(byColumn).toEqual({
        event_id: e.event_id,
        aggregate_id: e.aggregate_id,
        aggregate_type: e.aggregate_type,
        version: String(e.version),
        type: e.type,
        occurred_at: e.occurred_at,
        actor_id: e.actor.id,
        actor_role: e.actor.role,
        correlation_id: e.correlation_id,
        causation_id: e.causation_id ?? '',
        topic: e.topic,
        partition: String(e.partition),
        offset: String(e.offset),
        data: JSON.stringify(e.data),
      });
    }
    // The essay's quotes and commas survive the round trip.
    const essay = rows.find((r) => r[4] === 'ResponseRecorded' && r[13]!.includes('canary, I'));
    expect(JSON.parse(essay![13]!).answer).toContain('With a canary, I "watch" the metrics, then widen, or roll back.');
  });

  test('filters by context, type, aggregate and time', async () => {
    const ndjson = async (...args: string[]) => {
      const res = await run('events', 'export', '--format', 'ndjson', ...args);
      expect(res.code).toBe(0);
      return res.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; aggregate_id: string; occurred_at: string; partition: number });
    };
    const submitted = await ndjson('--context', 'assessment', '--type', 'AssessmentSubmitted');
    expect(submitted.map((e) => e.aggregate_id)).toEqual([story.id]);
    const two = await ndjson('--type', 'AssessmentStarted,AssessmentSubmitted');
    expect(two.map((e) => e.type).sort()).toEqual(['AssessmentStarted', 'AssessmentSubmitted']);
    const mine = await ndjson('--aggregate', story.id);
    expect(mine.map((e) => e.type)).toEqual([
      'AssessmentStarted',
      'ResponseRecorded',
      'ResponseRuleScored',
      'ResponseRecorded',
      'ResponseRuleScored',
      'ResponseRecorded',
      'ResponseRuleScored',
      'ResponseRecorded',
      'AssessmentSubmitted',
    ]);
    const window = await ndjson('--aggregate', story.id, '--from', story.answeredAt, '--to', story.submittedAfter);
    expect(window.map((e) => e.type)).toEqual([
      'ResponseRecorded',
      'ResponseRuleScored',
      'ResponseRecorded',
      'ResponseRuleScored',
      'ResponseRecorded',
      'AssessmentSubmitted',
    ]);
    expect(await ndjson('--context', 'identity', '--type', 'AssessmentStarted')).toEqual([]);
  });
});

describe('microcred projections status', () => {
  const status = async () => {
    const res = await run('projections', 'status', '--json');
    expect(res).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(res.stdout).projections as PartitionLag[];
  };

  test('0 lag once caught up; a stopped projection falls behind, in events and seconds', async () => {
    const caughtUp = await eventually(
      async () => {
        const rows = await status();
        return rows.every((r) => r.lag_events === 0 && r.lag_seconds === 0) ? rows : undefined;
      },
      30_000,
      'every projection caught up',
    );
    expect(new Set(caughtUp.map((r) => r.projection))).toEqual(new Set(allProjections.map((p) => p.name)));
    const audit = caughtUp.filter((r) => r.projection === AUDIT_PROJECTION);
    expect(audit).toHaveLength(3 * sys.config.KAFKA_PARTITIONS); // identity, catalog and assessment events
    expect(audit.some((r) => r.applied_offset > 0 && r.end_offset >= r.applied_offset)).toBe(true);

    await runners.get(AUDIT_PROJECTION)!.stop();
    const student = await sys.registerAndLogin('student');
    const id = await startAssessment(sys, student.token, role.roleId);
    await sleep(1200);
    const behind = (await status()).filter(
      (r) =>
        r.projection === AUDIT_PROJECTION &&
        r.topic === sys.running.platform.topics.assessment.events &&
        r.lag_events > 0,
    );
    expect(behind).toHaveLength(1);
    expect(behind[0]).toMatchObject({ lag_events: 1, lag_exact: true });
    expect(behind[0]!.lag_seconds).toBeGreaterThanOrEqual(1);
    const partitionOfId = JSON.parse((await run('assessment', 'history', id, '--json')).stdout).events[0].partition;
    expect(behind[0]!.partition).toBe(partitionOfId);
    // The others kept up.
    expect((await status()).filter((r) => r.projection === 'assessments' && r.lag_events > 0)).toEqual([]);

    const { platform } = sys.running;
    const restarted = new ProjectionRunner(
      platform,
      new MessageCodec(platform.codec, platform.topics),
      runners.get(AUDIT_PROJECTION)!.projection,
    );
    runners.set(AUDIT_PROJECTION, restarted);
    await restarted.start();
    await eventually(
      async () => ((await status()).every((r) => r.lag_events === 0) ? true : undefined),
      30_000,
      'audit caught up',
    );
  });

  test('the table for people', async () => {
    const res = await run('projections', 'status');
    expect(res.code).toBe(0);
    expect(res.stdout.split('\n')[0]).toMatch(
      /^projection\s+topic\s+partition\s+applied\s+end\s+lag_events\s+lag_seconds$/,
    );
  });
});

describe('microcred on bad arguments', () => {
  test.each([
    [['bogus'], /unknown command 'bogus'/],
    [['events', 'export'], /required option '--format <format>' not specified/],
    [['events', 'export', '--format', 'xml'], /argument 'xml' is invalid/],
    [['events', 'export', '--format', 'csv', '--from', 'yesterday'], /"yesterday" is not an ISO 8601 instant/],
    [['events', 'export', '--format', 'csv', '--context', 'billing'], /argument 'billing' is invalid/],
    [['assessment', 'state', 'not-a-uuid', '--as-of', '2026-01-01T00:00:00Z'], /"not-a-uuid" is not an assessment id/],
    [['assessment', 'state', '00000000-0000-4000-8000-000000000000'], /required option '--as-of <iso>' not specified/],
    [['projections', 'status', '--jsn'], /unknown option '--jsn'/],
    [['import-examples', 'only-one'], /missing required argument 'file.tsv'/],
  ])('%j: exit 2, one line, no stack trace', async (argv, message) => {
    const res = await run(...(argv as string[]));
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(message);
    expect(res.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  test('--help on every command, exit 0', async () => {
    for (const argv of [
      [],
      ['events', 'export'],
      ['projections', 'status'],
      ['assessment', 'history'],
      ['assessment', 'state'],
      ['demo-catalog'],
      ['import-examples'],
    ]) {
      const res = await run(...argv, '--help');
      expect({ argv, code: res.code }).toEqual({ argv, code: 0 });
      expect(res.stdout).toMatch(/^Usage: microcred/);
    }
  });

  test('a failure (here: an unreachable output file) is one line with exit 1', async () => {
    const res = await run('events', 'export', '--format', 'csv', '--output', join(dir, 'missing', 'x.csv'));
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^microcred: cannot write .*x\.csv: ENOENT\n$/);
  });
});
