import { randomUUID } from 'node:crypto';
import { catalogContext } from '../../domain';
import { choiceQuestionChoices, cloudProfile, essayDesign, singleChoice } from '../../domain/assessment/rubricExamples';
import type { CatalogCommand } from '../../domain/catalog/decide';
import type { Actor } from '../../domain/shared/decider';
import type { EventEnvelope } from '../../services/messaging/envelopes';
import { at, commandOf, createTestbed, Streams, type Testbed } from '../audit/testing/testbed';
import { catalogProjection } from './projection';
import {
  activeQuestionsOfRole,
  findCredential,
  findQuestion,
  findRole,
  listActiveRoles,
  listCredentials,
  listQuestionsOfRole,
} from './queries';

jest.setTimeout(120_000);

let bed: Testbed;
const catalog = new Streams(catalogContext);
const admin: Actor = { id: randomUUID(), role: 'admin' };
const decide = (type: CatalogCommand['type'], data: Record<string, unknown>, seconds: number) =>
  catalog.decide(commandOf<CatalogCommand>(type, data as CatalogCommand['data'], admin, at(seconds)));

const analyst = randomUUID();
const cloud = randomUUID();
const legacy = randomUUID();
const [qSql, qProfile, qEssay, qCloud, qLater] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
// Two credentials share a title: the id breaks the tie.
const [sqlA, sqlB] = [randomUUID(), randomUUID()].sort() as [string, string];
const [python, kubernetes, excel, oldSql, bootcamp] = [
  randomUUID(),
  randomUUID(),
  randomUUID(),
  randomUUID(),
  randomUUID(),
];

const first: EventEnvelope[] = [];

function credential(id: string, title: string, skills: string[], seconds: number): EventEnvelope[] {
  return decide(
    'CreateCredential',
    { credential_id: id, title, description: `${title}, online`, skills, provider: 'Coursera', metadata: null },
    seconds,
  );
}

beforeAll(async () => {
  bed = await createTestbed();
  const role = (id: string, name: string, skills: string[], seconds: number) =>
    decide(
      'CreateRole',
      { role_id: id, name, description: `${name} track`, skills_profile: skills.map((skill) => ({ skill, level: 3 })) },
      seconds,
    );
  const question = (id: string, roleId: string, definition: Record<string, unknown>, seconds: number) =>
    decide('CreateQuestion', { question_id: id, role_id: roleId, required: true, weight: 2, ...definition }, seconds);
  const mc = {
    question_type: 'multiple_choice',
    prompt: 'Which tool orchestrates containers?',
    choices: choiceQuestionChoices,
    rubric: singleChoice,
  };
  first.push(
    ...role(analyst, 'Data Analyst', ['SQL', 'Python', 'Statistics'], 0),
    ...role(cloud, 'Cloud Engineer', ['kubernetes', 'terraform'], 1),
    ...role(legacy, 'Mainframe Operator', ['COBOL'], 2),
    ...decide('RetireRole', { role_id: legacy, reason: 'No longer offered' }, 3),
    ...question(qSql, analyst, mc, 100),
    ...question(
      qProfile,
      analyst,
      { question_type: 'profile', prompt: 'Your experience', choices: null, rubric: cloudProfile },
      110,
    ),
    ...question(
      qEssay,
      analyst,
      { question_type: 'essay', prompt: 'Design an HA service', choices: null, rubric: essayDesign },
      120,
    ),
    ...question(qCloud, cloud, mc, 130),
    ...decide('ReviseQuestion', { question_id: qSql, prompt: 'Which tool schedules containers on a cluster?' }, 140),
    ...decide('ReviseQuestion', { question_id: qSql, weight: 3 }, 150),
    ...decide('RetireQuestion', { question_id: qEssay, reason: null }, 160),
    ...credential(sqlB, 'Advanced SQL', ['sql', 'postgres'], 200),
    ...credential(sqlA, 'Advanced SQL', ['SQL'], 201),
    ...credential(python, 'Python for Data', ['PYTHON'], 202),
    ...credential(kubernetes, 'Kubernetes Admin', ['Kubernetes'], 203),
    ...credential(excel, 'Excel Basics', ['excel'], 204),
    ...credential(oldSql, 'Old SQL', ['SQL'], 205),
    ...credential(bootcamp, 'Analytics Bootcamp', ['tableau'], 206),
    ...decide('RetireCredential', { credential_id: oldSql, reason: null }, 207),
    ...decide(
      'ReviseCredential',
      { credential_id: bootcamp, skills: ['Tableau', 'statistics'], metadata: { hours: 40 } },
      208,
    ),
  );
  await bed.publish('catalog', first);
  await bed.startRunner(catalogProjection);
  await bed.caughtUp(catalogProjection);
});

afterAll(async () => {
  await bed?.close();
});

const pool = () => bed.platform.pool;
const ids = <T>(items: T[], key: keyof T) => items.map((item) => item[key]);

/** The read model as the queries and the tables show it. */
async function snapshot() {
  const table = async (sql: string) => (await pool().query(sql)).rows;
  return {
    roles: await table('SELECT * FROM role_catalog ORDER BY id'),
    questions: await table('SELECT * FROM questions ORDER BY id'),
    versions: await table('SELECT * FROM question_versions ORDER BY question_id, version'),
    credentials: await table('SELECT * FROM credential_catalog ORDER BY id'),
    activeRoles: await listActiveRoles(pool()),
    analyst: await findRole(pool(), analyst),
    activeQuestions: await activeQuestionsOfRole(pool(), analyst),
    allQuestions: await listQuestionsOfRole(pool(), analyst),
    sql: await findQuestion(pool(), qSql),
    credentialsPage: await listCredentials(pool(), { page: 1, pageSize: 50 }),
    forAnalyst: await listCredentials(pool(), { roleId: analyst, page: 1, pageSize: 50 }),
    retired: await findCredential(pool(), oldSql),
  };
}

test('roles: active ones by name, each with its count of active questions', async () => {
  const roles = await listActiveRoles(pool());
  expect(roles.map((r) => [r.name, r.active_questions])).toEqual([
    ['Cloud Engineer', 1],
    ['Data Analyst', 2],
  ]);
  expect(roles[1]).toEqual({
    role_id: analyst,
    name: 'Data Analyst',
    description: 'Data Analyst track',
    skills_profile: [
      { skill: 'SQL', level: 3 },
      { skill: 'Python', level: 3 },
      { skill: 'Statistics', level: 3 },
    ],
    active: true,
    active_questions: 2,
    created_at: at(0),
    updated_at: at(0),
  });
  expect(await findRole(pool(), legacy)).toMatchObject({ active: false, updated_at: at(3), created_at: at(2) });
  expect(await findRole(pool(), randomUUID())).toBeUndefined();
});

test('questions: the current version in questions, every version in question_versions', async () => {
  const active = await activeQuestionsOfRole(pool(), analyst);
  expect(ids(active, 'question_id')).toEqual([qSql, qProfile]);
  expect(active[0]).toEqual({
    question_id: qSql,
    role_id: analyst,
    question_type: 'multiple_choice',
    prompt: 'Which tool schedules containers on a cluster?',
    choices: choiceQuestionChoices,
    rubric: first.find((e) => e.type === 'QuestionCreated' && e.aggregate_id === qSql)!.data.rubric,
    weight: 3,
    required: true,
    version: '3',
    active: true,
    created_at: at(100),
    updated_at: at(150),
  });
  const all = await listQuestionsOfRole(pool(), analyst);
  expect(all.map((q) => [q.question_id, q.active])).toEqual([
    [qSql, true],
    [qProfile, true],
    [qEssay, false],
  ]);
  expect(await findQuestion(pool(), qEssay)).toMatchObject({ active: false, version: '1', updated_at: at(160) });

  const { rows } = await pool().query(
    'SELECT version, prompt, weight::float AS weight, created_at FROM question_versions WHERE question_id = $1 ORDER BY version',
    [qSql],
  );
  expect(rows).toEqual([
    { version: '1', prompt: 'Which tool orchestrates containers?', weight: 2, created_at: new Date(at(100)) },
    { version: '2', prompt: 'Which tool schedules containers on a cluster?', weight: 2, created_at: new Date(at(140)) },
    { version: '3', prompt: 'Which tool schedules containers on a cluster?', weight: 3, created_at: new Date(at(150)) },
  ]);
});

test('credentials: active ones by title then id, paged, optionally matching a role by skill', async () => {
  const all = await listCredentials(pool(), { page: 1, pageSize: 50 });
  expect(all.total).toBe(6);
  expect(all.items.map((c) => c.title)).toEqual([
    'Advanced SQL',
    'Advanced SQL',
    'Analytics Bootcamp',
    'Excel Basics',
    'Kubernetes Admin',
    'Python for Data',
  ]);
  expect(ids(all.items, 'credential_id').slice(0, 2)).toEqual([sqlA, sqlB]);
  expect(all.items[2]).toEqual({
    credential_id: bootcamp,
    title: 'Analytics Bootcamp',
    description: 'Analytics Bootcamp, online',
    skills: ['Tableau', 'statistics'],
    provider: 'Coursera',
    metadata: { hours: 40 },
    active: true,
    created_at: at(206),
    updated_at: at(208),
  });

  // Data Analyst wants SQL, Python, Statistics: the match ignores case.
  const page1 = await listCredentials(pool(), { roleId: analyst, page: 1, pageSize: 2 });
  const page2 = await listCredentials(pool(), { roleId: analyst, page: 2, pageSize: 2 });
  const page3 = await listCredentials(pool(), { roleId: analyst, page: 3, pageSize: 2 });
  expect(ids(page1.items, 'credential_id')).toEqual([sqlA, sqlB]);
  expect(ids(page2.items, 'credential_id')).toEqual([bootcamp, python]);
  expect(page3).toEqual({ items: [], total: 4 });
  expect([page1.total, page2.total]).toEqual([4, 4]);

  expect(ids((await listCredentials(pool(), { roleId: cloud, page: 1, pageSize: 10 })).items, 'credential_id')).toEqual(
    [kubernetes],
  );
  expect(await listCredentials(pool(), { roleId: randomUUID(), page: 1, pageSize: 10 })).toEqual({
    items: [],
    total: 0,
  });
  expect(await findCredential(pool(), oldSql)).toMatchObject({ active: false, title: 'Old SQL', updated_at: at(207) });
  await expect(listCredentials(pool(), { page: 0, pageSize: 10 })).rejects.toThrow(RangeError);
});

test('a new runner resumes where the last one stopped: nothing applied twice, nothing lost', async () => {
  await bed.stopRunners();
  const before = await snapshot();
  await bed.publish('catalog', [
    ...decide('ReviseRole', { role_id: analyst, skills_profile: [{ skill: 'SQL' }, { skill: 'Excel' }] }, 300),
    ...decide(
      'CreateQuestion',
      {
        question_id: qLater,
        role_id: cloud,
        question_type: 'essay',
        prompt: 'Explain IaC',
        choices: null,
        rubric: essayDesign,
        weight: 4,
        required: false,
      },
      310,
    ),
  ]);
  await bed.startRunner(catalogProjection);
  await bed.caughtUp(catalogProjection);

  const after = await snapshot();
  expect(after.versions).toHaveLength(before.versions.length + 1);
  expect(after.questions).toHaveLength(before.questions.length + 1);
  expect(after.credentials).toEqual(before.credentials);
  expect(after.analyst).toMatchObject({ skills_profile: [{ skill: 'SQL' }, { skill: 'Excel' }], updated_at: at(300) });
  expect(after.forAnalyst.items.map((c) => c.title)).toEqual(['Advanced SQL', 'Advanced SQL', 'Excel Basics']);
  expect((await listActiveRoles(pool())).map((r) => r.active_questions)).toEqual([2, 2]);
});

test('re-applying older events changes nothing', async () => {
  const before = await snapshot();
  for (const event of first) await bed.applyDirectly(catalogProjection, event);
  expect(await snapshot()).toEqual(before);
});

test('events this build does not know are ignored', async () => {
  const before = await snapshot();
  await bed.applyDirectly(catalogProjection, {
    ...first[0]!,
    event_id: randomUUID(),
    type: 'RoleRenamed',
    version: 99,
  });
  expect(await snapshot()).toEqual(before);
});

test('replaying from offset 0 over the rows, then into empty tables, gives the same read model', async () => {
  const before = await snapshot();
  await bed.stopRunners();
  await bed.reset(catalogProjection);
  await bed.startRunner(catalogProjection);
  await bed.caughtUp(catalogProjection);
  expect(await snapshot()).toEqual(before);

  await bed.stopRunners();
  await bed.reset(catalogProjection, ['role_catalog', 'questions', 'question_versions', 'credential_catalog']);
  expect((await snapshot()).roles).toEqual([]);
  await bed.startRunner(catalogProjection);
  await bed.caughtUp(catalogProjection);
  expect(await snapshot()).toEqual(before);
});
