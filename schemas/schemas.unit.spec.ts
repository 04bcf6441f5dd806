import type { Type } from 'avsc';
import { v5 } from 'uuid';
import type { BoundedContext } from '../domain';
import { boundedContexts } from '../domain';
import type { AssessmentCommand, AssessmentEvent, EssayScored } from '../domain/assessment';
import { cloudProfile, essayDesign } from '../domain/assessment/rubricExamples';
import {
  advisor,
  admin,
  assessmentId,
  background,
  design,
  orchestrator,
  respond,
  startCommand,
  started,
  submittedWithEssay,
  toolbox,
} from '../domain/assessment/testing/fixtures';
import type { CatalogCommand } from '../domain/catalog';
import type { IdentityCommand } from '../domain/identity';
import type { Actor, CommandMetadata } from '../domain/shared/decider';
import { idFromKey, userIdForEmail } from '../domain/shared/ids';
import { avroType } from './avroTypes';
import type { AvroRecordSchema, SchemaEntry } from './catalog';
import { subjectFor } from '../services/platform/avro';
import { schemaCatalog, schemaFor } from './catalog';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyContext = BoundedContext<any, any, any>;
type AnyCommand = { type: string; data: unknown; metadata: CommandMetadata };
type AnyEvent = { type: string; data: unknown };

const contexts = boundedContexts as readonly AnyContext[];
const types = new Map<string, Type>();
const typeOf = (entry: SchemaEntry): Type => {
  let type = types.get(entry.path);
  if (!type) {
    type = avroType(entry.schema);
    types.set(entry.path, type);
  }
  return type;
};
const roundTrip = (entry: SchemaEntry, value: unknown): unknown => {
  const type = typeOf(entry);
  return type.fromBuffer(type.toBuffer(value));
};

// ---------------------------------------------------------------------------------------------
// Samples: real commands, decided by the real deciders, so that the samples are realistic.

const now = '2025-03-01T09:30:00.000Z';
const metaFor = (actor: Actor, key: string): CommandMetadata => ({ command_id: idFromKey('command', key), now, actor });
const adaId = userIdForEmail('ada@example.com');
const roleId = idFromKey('role', 'cloud-engineer');
const questionId = idFromKey('question', 'orchestrator');
const credentialId = idFromKey('credential', 'cka');

interface Sample {
  context: AnyContext;
  given: AnyEvent[];
  command: AnyCommand;
}

const identity = contexts.find((c) => c.name === 'identity')!;
const catalog = contexts.find((c) => c.name === 'catalog')!;
const assessment = contexts.find((c) => c.name === 'assessment')!;

const userRegistered = {
  type: 'UserRegistered',
  data: { user_id: adaId, email: 'ada@example.com', role: 'student', profile: null, registered_at: now },
};
const identitySamples: { given: AnyEvent[]; command: IdentityCommand }[] = [
  {
    given: [],
    command: {
      type: 'RegisterUser',
      data: { user_id: adaId, email: 'Ada@Example.com', role: 'student', profile: { name: 'Ada', locale: 'en-GB' } },
      metadata: metaFor({ id: adaId, role: 'student' }, 'register'),
    },
  },
  {
    given: [],
    command: {
      type: 'RegisterUser',
      data: { user_id: adaId, email: 'ada@example.com', role: 'admin' },
      metadata: metaFor({ id: 'system:bootstrap', role: 'system' }, 'register-admin'),
    },
  },
  {
    given: [userRegistered],
    command: { type: 'DisableUser', data: { user_id: adaId, reason: 'left' }, metadata: metaFor(admin, 'disable') },
  },
  {
    given: [userRegistered],
    command: { type: 'DisableUser', data: { user_id: adaId }, metadata: metaFor(admin, 'disable-2') },
  },
];

const subscriptionId = idFromKey('webhook_subscription', 'partner');
const webhookCreated = {
  type: 'WebhookSubscriptionCreated',
  data: {
    subscription_id: subscriptionId,
    url: 'https://partner.example/hooks',
    event_types: ['assessment.completed'],
    description: null,
    ordered: false,
    secret_id: idFromKey('webhook_secret', 'first'),
    created_at: now,
  },
};
const webhookDisabled = {
  type: 'WebhookSubscriptionDisabled',
  data: { subscription_id: subscriptionId, reason: null, disabled_at: now },
};
const webhookCommand = (type: string, data: Record<string, unknown>, key: string, actor: Actor = admin) =>
  ({ type, data: { subscription_id: subscriptionId, ...data }, metadata: metaFor(actor, key) }) as IdentityCommand;
identitySamples.push(
  {
    given: [],
    command: webhookCommand(
      'CreateWebhookSubscription',
      {
        url: 'https://Partner.example:443/hooks?tenant=42',
        event_types: ['assessment.completed', 'recommendation.feedback_received'],
        description: 'Advisor platform — Zürich',
        ordered: true,
        secret_id: idFromKey('webhook_secret', 'w0'),
      },
      'w0',
    ),
  },
  {
    given: [],
    command: webhookCommand(
      'CreateWebhookSubscription',
      {
        url: 'http://127.0.0.1:9000/h',
        event_types: ['assessment.failed'],
        secret_id: idFromKey('webhook_secret', 'w1'),
      },
      'w1',
    ),
  },
  {
    given: [webhookCreated],
    command: webhookCommand('UpdateWebhookSubscription', { event_types: ['assessment.failed'], description: '' }, 'w2'),
  },
  {
    given: [webhookCreated],
    command: webhookCommand(
      'UpdateWebhookSubscription',
      { url: 'https://partner.example/v2', event_types: null, description: null, ordered: true },
      'w3',
    ),
  },
  { given: [webhookCreated, webhookDisabled], command: webhookCommand('EnableWebhookSubscription', {}, 'w4') },
  {
    given: [webhookCreated],
    command: webhookCommand('DisableWebhookSubscription', { reason: '410 Gone' }, 'w5', {
      id: 'system:webhooks',
      role: 'system',
    }),
  },
  { given: [webhookCreated], command: webhookCommand('DisableWebhookSubscription', {}, 'w6') },
  {
    given: [webhookCreated],
    command: webhookCommand(
      'RotateWebhookSecret',
      { secret_id: idFromKey('webhook_secret', 'w7'), previous_valid_until: '2025-03-02T09:30:00.000Z' },
      'w7',
    ),
  },
  { given: [webhookCreated], command: webhookCommand('DeleteWebhookSubscription', {}, 'w8') },
);

const roleCreated = {
  type: 'RoleCreated',
  data: { role_id: roleId, name: 'Cloud engineer', description: '', skills_profile: [{ skill: 'aws' }] },
};
const questionCreated = {
  type: 'QuestionCreated',
  data: {
    question_id: questionId,
    role_id: roleId,
    version: '1',
    question_type: 'profile',
    prompt: 'About you',
    choices: null,
    rubric: cloudProfile,
    weight: 5,
    required: false,
  },
};
const credentialCreated = {
  type: 'CredentialCreated',
  data: {
    credential_id: credentialId,
    title: 'CKA',
    description: '',
    skills: ['kubernetes'],
    provider: null,
    metadata: null,
  },
};
const documentId = idFromKey('document', 'sql-in-practice');
const documentAdded = {
  type: 'KnowledgeDocumentAdded',
  data: {
    document_id: documentId,
    version: '1',
    title: 'SQL in practice',
    source_uri: 'https://docs.microcred.example/guides/sql-in-practice',
    text: '# SQL in practice\n\nAnalysts join, filter and aggregate.\r\n',
  },
};
const catalogSamples: { given: AnyEvent[]; command: CatalogCommand }[] = [
  {
    given: [],
    command: {
      type: 'CreateRole',
      data: {
        role_id: roleId,
        name: 'Cloud engineer',
        description: 'Builds cloud platforms',
        skills_profile: [{ skill: 'kubernetes', level: 3, weight: 2 }, { skill: 'aws' }],
      },
      metadata: metaFor(admin, 'create-role'),
    },
  },
  {
    given: [roleCreated],
    command: {
      type: 'ReviseRole',
      data: { role_id: roleId, name: 'Platform engineer' },
      metadata: metaFor(admin, 'r1'),
    },
  },
  {
    given: [roleCreated],
    command: { type: 'RetireRole', data: { role_id: roleId, reason: 'merged' }, metadata: metaFor(admin, 'r2') },
  },
  {
    given: [],
    command: {
      type: 'CreateQuestion',
      data: {
        question_id: questionId,
        role_id: roleId,
        question_type: 'multiple_choice',
        prompt: 'Which tool orchestrates containers?',
        choices: ['kubernetes', 'docker', 'helm', 'ftp'],
        rubric: orchestrator.rubric,
        weight: 2.5,
        required: true,
      },
      metadata: metaFor(admin, 'q0'),
    },
  },
  {
    given: [],
    command: {
      type: 'CreateQuestion',
      data: {
        question_id: questionId,
        role_id: roleId,
        question_type: 'essay',
        prompt: 'Describe a design',
        choices: null,
        rubric: essayDesign,
        weight: 4,
        required: true,
      },
      metadata: metaFor(admin, 'q0-essay'),
    },
  },
  {
    given: [questionCreated],
    command: {
      type: 'ReviseQuestion',
      data: { question_id: questionId, prompt: 'Tell us about your experience', weight: 6 },
      metadata: metaFor(admin, 'q1'),
    },
  },
  {
    given: [questionCreated],
    command: { type: 'RetireQuestion', data: { question_id: questionId }, metadata: metaFor(admin, 'q2') },
  },
  {
    given: [
      {
        type: 'QuestionCreated',
        data: { ...questionCreated.data, question_type: 'essay', prompt: 'Describe a design', rubric: essayDesign },
      },
    ],
    command: {
      type: 'ImportScoredExamples',
      data: {
        question_id: questionId,
        import_id: idFromKey('import', 'q3'),
        examples: [
          { text: 'Replicas in two zones behind a load balancer.', score: 4 },
          { text: 'Use a bigger server.', score: 0.5 },
        ],
      },
      metadata: metaFor(admin, 'q3'),
    },
  },
  {
    given: [],
    command: {
      type: 'CreateCredential',
      data: {
        credential_id: credentialId,
        title: 'Certified Kubernetes Administrator',
        description: 'Hands-on administration',
        skills: ['kubernetes', 'linux'],
        provider: 'CNCF',
        metadata: { hours: 40, url: 'https://example.org/cka', tags: ['cloud'] },
      },
      metadata: metaFor(admin, 'c0'),
    },
  },
  {
    given: [credentialCreated],
    command: {
      type: 'ReviseCredential',
      data: { credential_id: credentialId, skills: ['kubernetes', 'networking'], metadata: { level: 'advanced' } },
      metadata: metaFor(admin, 'c1'),
    },
  },
  {
    given: [credentialCreated],
    command: {
      type: 'RetireCredential',
      data: { credential_id: credentialId, reason: null },
      metadata: metaFor(admin, 'c2'),
    },
  },
  {
    given: [],
    command: {
      type: 'AddKnowledgeDocument',
      data: {
        document_id: documentId,
        title: 'Zürich guide: naïve SQL',
        source_uri: 'urn:microcred:guide:sql',
        text: '  Leading spaces kept.\tTabs too; emoji 👩🏽‍💻 and 東京 survive.\n',
      },
      metadata: metaFor(admin, 'd0'),
    },
  },
  {
    given: [documentAdded],
    command: {
      type: 'ReviseKnowledgeDocument',
      data: { document_id: documentId, text: 'Revised text.', title: null },
      metadata: metaFor(admin, 'd1'),
    },
  },
  {
    given: [documentAdded],
    command: {
      type: 'RetireKnowledgeDocument',
      data: { document_id: documentId, reason: 'superseded' },
      metadata: metaFor({ id: 'system:demo-catalog', role: 'system' }, 'd2'),
    },
  },
  {
    given: [documentAdded],
    command: { type: 'RetireKnowledgeDocument', data: { document_id: documentId }, metadata: metaFor(admin, 'd3') },
  },
];

const assessmentSamples: { given: AssessmentEvent[]; command: AssessmentCommand }[] = [
  { given: [], command: startCommand() },
  { given: [], command: startCommand({ metadata: null }) },
  {
    given: [started],
    command: respond([
      { question_id: orchestrator.question_id, answer: 1 },
      {
        question_id: toolbox.question_id,
        answer: { selected: ['kubernetes', 'ftp'] },
        submitted_at: '2025-03-01T09:29:00Z',
      },
      { question_id: background.question_id, answer: { skills: ['k8s'], years_experience: 4, summary: 'SRE' } },
    ]),
  },
  {
    given: [started],
    command: respond(
      [
        { question_id: orchestrator.question_id, answer: 'kubernetes' },
        { question_id: toolbox.question_id, answer: { selected: [0, 1, 2] } },
        { question_id: design.question_id, answer: 'Replicas across zones behind a balancer.' },
      ],
      { complete: true },
    ),
  },
];

const system: Actor = { id: 'system:essay-scoring', role: 'system' };
const essayScoreSample = {
  type: 'RecordEssayScore',
  data: {
    assessment_id: assessmentId,
    question_id: design.question_id,
    revision: 1,
    score: 2.5,
    criteria: [
      { criterion_id: 'reasoning', band_score: 3, max_band_score: 4, evidence: 'across zones', rationale: 'ok' },
    ],
    explanation: 'Names redundancy.',
    provider: 'openai',
    model: 'gpt-4o-mini',
    prompt_version: 'essay-v1',
    degraded: false,
    flags: ['needs_more'],
    needs_review: true,
    tokens_in: 812,
    tokens_out: 96,
    cost_cents: 0.018,
    latency_ms: 640,
    job_key: 'essay_scoring/a/q/1',
    embedding: { provider: 'minilm-onnx', model: 'all-MiniLM-L6-v2', vector: [0.5, -0.25, 0.75] },
  },
  metadata: metaFor(system, 'e1'),
} satisfies AssessmentCommand;
assessmentSamples.push(
  { given: submittedWithEssay, command: essayScoreSample },
  {
    given: submittedWithEssay,
    command: {
      ...essayScoreSample,
      data: {
        ...essayScoreSample.data,
        tokens_in: null,
        tokens_out: null,
        cost_cents: null,
        embedding: null,
        job_key: null,
      },
      metadata: metaFor(system, 'e2'),
    },
  },
  {
    given: submittedWithEssay,
    command: {
      type: 'ReportEssayScoringFailed',
      data: {
        assessment_id: assessmentId,
        question_id: design.question_id,
        revision: 1,
        reason: 'the offline scorer failed',
        attempts: 5,
        job_key: 'essay_scoring/a/q/1',
      },
      metadata: metaFor(system, 'e3'),
    },
  },
  {
    given: [
      ...submittedWithEssay,
      ...assessment.decider.decide(
        essayScoreSample,
        submittedWithEssay.reduce(assessment.decider.evolve, assessment.decider.initialState()),
      ),
    ],
    command: {
      type: 'OverrideEssayScore',
      data: { assessment_id: assessmentId, question_id: design.question_id, score: 3.5, reason: 'Covers failover.' },
      metadata: metaFor(advisor, 'e4'),
    },
  },
);

/** A history followed by what the real decider makes of each command. */
const afterCommands = (history: AssessmentEvent[], ...commands: AssessmentCommand[]): AssessmentEvent[] =>
  commands.reduce<AssessmentEvent[]>(
    (events, command) => [
      ...events,
      ...assessment.decider.decide(
        command,
        events.reduce(assessment.decider.evolve, assessment.decider.initialState()),
      ),
    ],
    history,
  );
const recommender: Actor = { id: 'system:recommendations', role: 'system' };
const traceIds = [idFromKey('rag-trace', 'cka/0'), idFromKey('rag-trace', 'cka/1')];
const evidenceSample = {
  type: 'RecordEvidence',
  data: {
    assessment_id: assessmentId,
    traces: traceIds.map((trace_id, i) => ({
      trace_id,
      source_uri: `microcred://credentials/${credentialId}`,
      source_id: credentialId,
      source_type: 'credential',
      snippet: i === 0 ? 'Hands-on cluster administration. ' : 'Troubleshooting',
      start: i === 0 ? 0 : 120,
      end: i === 0 ? 33 : 135,
      similarity: i === 0 ? 0.8125 : -0.25,
      embedding_provider: 'minilm-onnx',
      embedding_model: 'all-MiniLM-L6-v2',
    })),
    query_summary: 'kubernetes, high availability',
    latency_ms: 42,
    degraded: false,
    job_key: 'recommendations/a/evidence',
  },
  metadata: metaFor(recommender, 'r-evidence'),
} satisfies AssessmentCommand;
const recommendationsSample = {
  type: 'RecordRecommendations',
  data: {
    assessment_id: assessmentId,
    recommendation_id: idFromKey('recommendation', assessmentId),
    summary: { text: 'Strong on orchestration.', strengths: ['kubernetes'], gaps: ['monitoring'], next_steps: [] },
    items: [
      {
        credential_id: idFromKey('credential', 'prometheus'),
        title: 'Prometheus Certified Associate',
        confidence: 0.5,
        rationale: 'Closes the monitoring gap.',
        source_trace_ids: [],
        position: 2,
        scores: { content: 0.25, skill_gap: 0.75, collaborative: null },
      },
      {
        credential_id: credentialId,
        title: 'Certified Kubernetes Administrator',
        confidence: 0.875,
        rationale: 'Builds on cluster administration.',
        source_trace_ids: traceIds,
        position: 1,
        scores: { content: 0.5, skill_gap: 0.625, collaborative: 0.125 },
      },
    ],
    degraded: false,
    provider: 'openai',
    model: 'gpt-4o-mini',
    prompt_version: 'rationale-v1',
    tokens_in: 1200,
    tokens_out: 240,
    cost_cents: 0.031,
    metrics: { total_latency_ms: 5400, gpt_latency_ms: 3100, rag_latency_ms: 42, token_cost_cents: 0.049 },
    profile: {
      role_id: '9b2f8c1e-4a7d-4c3b-8e5f-1a2b3c4d5e6f',
      skills: [
        { skill: 'kubernetes', proficiency: 0.8, gap: 0 },
        { skill: 'monitoring', proficiency: 0.3, gap: 0.6 },
      ],
      vector: [0, 0.6],
    },
    job_key: 'recommendations/a/rank',
  },
  metadata: metaFor(recommender, 'r-rank'),
} satisfies AssessmentCommand;
const scoredWithEvidence = afterCommands(submittedWithEssay, essayScoreSample, evidenceSample);
const completedWithRecommendations = afterCommands(scoredWithEvidence, recommendationsSample);
const feedbackSample = {
  type: 'SubmitRecommendationFeedback',
  data: {
    assessment_id: assessmentId,
    recommendation_id: recommendationsSample.data.recommendation_id,
    credential_id: credentialId,
    relevance_score: 4,
    acceptance_status: 'accepted',
    comments: 'Exactly what I need next.',
  },
  metadata: metaFor({ id: adaId, role: 'student' }, 'r-feedback'),
} satisfies AssessmentCommand;
assessmentSamples.push(
  { given: submittedWithEssay, command: evidenceSample },
  {
    given: submittedWithEssay,
    command: {
      ...evidenceSample,
      data: { ...evidenceSample.data, traces: [], latency_ms: null, degraded: true, job_key: null },
      metadata: metaFor(recommender, 'r-evidence-2'),
    },
  },
  { given: scoredWithEvidence, command: recommendationsSample },
  {
    given: scoredWithEvidence,
    command: {
      ...recommendationsSample,
      data: {
        ...recommendationsSample.data,
        summary: { text: '', strengths: [], gaps: [], next_steps: ['Take the CKA'] },
        items: [
          { ...recommendationsSample.data.items[1]!, scores: { content: null, skill_gap: null, collaborative: null } },
        ],
        degraded: true,
        provider: 'composed',
        model: 'composed',
        prompt_version: 'composed-v1',
        tokens_in: null,
        tokens_out: null,
        cost_cents: null,
        metrics: { total_latency_ms: 900, gpt_latency_ms: null, rag_latency_ms: null, token_cost_cents: 0 },
        job_key: null,
      },
      metadata: metaFor(recommender, 'r-rank-2'),
    },
  },
  {
    given: submittedWithEssay,
    command: {
      type: 'FailAssessment',
      data: { assessment_id: assessmentId, reason: 'The role has no active credentials.' },
      metadata: metaFor(recommender, 'r-fail'),
    },
  },
  { given: completedWithRecommendations, command: feedbackSample },
  {
    given: afterCommands(completedWithRecommendations, feedbackSample),
    command: {
      ...feedbackSample,
      data: { ...feedbackSample.data, relevance_score: 2, acceptance_status: null, comments: null },
      metadata: metaFor(advisor, 'r-feedback-2'),
    },
  },
);

const samples: Sample[] = [
  ...identitySamples.map((s) => ({ context: identity, ...s })),
  ...catalogSamples.map((s) => ({ context: catalog, ...s })),
  ...assessmentSamples.map((s) => ({ context: assessment, ...s })),
];

/** Events no command produces yet (their commands come in a later issue). */
const provisional: { context: AnyContext; event: AnyEvent }[] = [
  {
    context: assessment,
    event: {
      type: 'EssayScored',
      data: {
        assessment_id: assessmentId,
        question_id: design.question_id,
        question_version: '2',
        revision: 1,
        score: 3.25,
        max_score: 4,
        criteria: [{ criterion_id: 'reasoning', score: 3, rationale: 'Weighs trade-offs' }],
        explanation: 'Clear trade-offs; little on monitoring.',
        model: 'gpt-4o-mini',
        prompt_version: 'essay-v1',
        degraded: false,
        latency_ms: 1840,
        cost_cents: 0.12,
        provider: 'offline',
        job_key: null,
        flags: [],
        needs_review: false,
        tokens_in: null,
        tokens_out: null,
        embedding: null,
      },
    } satisfies EssayScored,
  },
  {
    context: assessment,
    event: {
      type: 'EssayScored',
      data: {
        assessment_id: assessmentId,
        question_id: design.question_id,
        question_version: '2',
        revision: 2,
        score: 2,
        max_score: 4,
        criteria: [],
        explanation: 'Offline rubric scorer',
        model: 'offline-rubric',
        prompt_version: 'offline-v1',
        degraded: true,
        latency_ms: null,
        cost_cents: null,
        provider: 'offline',
        job_key: null,
        flags: [],
        needs_review: false,
        tokens_in: null,
        tokens_out: null,
        embedding: null,
      },
    },
  },
  {
    context: assessment,
    event: {
      type: 'AssessmentCompleted',
      data: { assessment_id: assessmentId, completed_at: '2025-03-01T09:31:02.123Z', degraded: true },
    },
  },
  {
    context: assessment,
    event: {
      type: 'AssessmentFailed',
      data: { assessment_id: assessmentId, failed_at: '2025-03-01T09:31:02.123Z', reason: 'retries exhausted' },
    },
  },
];

const EVENT_NS = '6f1e0c1a-1d5b-4a57-9a64-4f1d0c7f2b11';

interface Envelope {
  event_id: string;
  aggregate_id: string;
  aggregate_type: string;
  version: number;
  type: string;
  occurred_at: string;
  actor: Actor;
  correlation_id: string;
  causation_id: string | null;
  data: unknown;
}

function decided(sample: Sample): { command: AnyCommand; state: unknown; events: AnyEvent[] } {
  const { decider } = sample.context;
  const state = sample.given.reduce(decider.evolve, decider.initialState());
  return { command: sample.command, state, events: decider.decide(sample.command, state) };
}

function envelopesOf(context: AnyContext, command: AnyCommand, events: AnyEvent[], version0 = 0): Envelope[] {
  return events.map((event, i) => ({
    event_id: v5(`${command.metadata.command_id}/${i}`, EVENT_NS),
    aggregate_id: context.aggregateIdOf(command),
    aggregate_type: context.aggregateTypeOf(event),
    version: version0 + i + 1,
    type: event.type,
    occurred_at: command.metadata.now,
    actor: command.metadata.actor,
    correlation_id: idFromKey('correlation', command.metadata.command_id),
    causation_id: i % 2 === 0 ? command.metadata.command_id : null,
    data: event.data,
  }));
}

const allEnvelopes: { context: AnyContext; envelope: Envelope }[] = [
  ...samples.flatMap((sample) => {
    const { command, events } = decided(sample);
    return envelopesOf(sample.context, command, events, sample.given.length).map((envelope) => ({
      context: sample.context,
      envelope,
    }));
  }),
  ...provisional.map(({ context, event }, i) => ({
    context,
    envelope: {
      event_id: v5(`provisional/${i}`, EVENT_NS),
      aggregate_id: assessmentId,
      aggregate_type: context.aggregateTypeOf(event),
      version: 42 + i,
      type: event.type,
      occurred_at: '2025-03-01T09:31:02.123Z',
      actor: { id: 'system:essay-scorer', role: 'system' as const },
      correlation_id: idFromKey('correlation', `provisional-${i}`),
      causation_id: idFromKey('command', `provisional-${i}`),
      data: event.data,
    },
  })),
];

// ---------------------------------------------------------------------------------------------

describe('Avro schemas', () => {
  test('every command and event type of every context has a schema, and every schema a type', () => {
    for (const context of contexts) {
      for (const type of context.commandTypes) expect(schemaFor(context.name, 'commands', type)).toBeDefined();
      for (const type of context.eventTypes) expect(schemaFor(context.name, 'events', type)).toBeDefined();
      const commands = schemaCatalog
        .filter((e) => e.context === context.name && e.kind === 'commands')
        .map((e) => e.type);
      const events = schemaCatalog.filter((e) => e.context === context.name && e.kind === 'events').map((e) => e.type);
      expect(commands.sort()).toEqual([...context.commandTypes].sort());
      expect(events.sort()).toEqual([...context.eventTypes].sort());
    }
    const known = new Set(['replies', 'public', ...contexts.map((c) => c.name)]);
    for (const entry of schemaCatalog) expect(known).toContain(entry.context);
  });

  describe.each(schemaCatalog.map((entry) => [entry.path, entry] as const))('%s', (_path, entry) => {
    test('parses with avsc and microcred’s logical types', () => {
      expect(() => typeOf(entry)).not.toThrow();
    });

    test('no union has a json branch (null would fit both branches)', () => {
      const unions: unknown[][] = [];
      const visit = (node: unknown): void => {
        if (Array.isArray(node)) {
          unions.push(node);
          node.forEach(visit);
        } else if (node && typeof node === 'object') {
          Object.values(node).forEach(visit);
        }
      };
      visit(entry.schema.fields);
      for (const union of unions) {
        expect(union.some((b) => (b as { logicalType?: string })?.logicalType === 'json')).toBe(false);
      }
    });

    // Replies and the public contracts have no envelope (services/publisher specs check the public ones).
    if (entry.kind === 'replies' || entry.kind === 'public') return;

    test('is named after its type in microcred.<context>.<kind>', () => {
      expect(entry.schema.name).toBe(entry.type);
      expect(entry.schema.namespace).toBe(`microcred.${entry.context}.${entry.kind}`);
      expect(entry.fullName).toBe(`microcred.${entry.context}.${entry.kind}.${entry.type}`);
      expect(subjectFor('microcred.assessment.events', entry.schema)).toBe(
        `microcred.assessment.events-${entry.fullName}`,
      );
    });

    test('has the envelope, then a data record', () => {
      const fields = entry.schema.fields;
      const names = fields.map((f) => f.name);
      const timestamp = { type: 'long', logicalType: 'timestamp-millis' };
      const actor = fields.find((f) => f.name === 'actor')!.type as AvroRecordSchema;
      expect(actor).toMatchObject({ type: 'record', name: 'Actor', namespace: 'microcred.common' });
      expect(actor.fields.map((f) => [f.name, f.type])).toEqual([
        ['id', 'string'],
        ['role', 'string'],
      ]);
      if (entry.kind === 'events') {
        expect(names).toEqual([
          'event_id',
          'aggregate_id',
          'aggregate_type',
          'version',
          'type',
          'occurred_at',
          'actor',
          'correlation_id',
          'causation_id',
          'data',
        ]);
        expect(fields.find((f) => f.name === 'version')!.type).toBe('long');
        expect(fields.find((f) => f.name === 'occurred_at')!.type).toEqual(timestamp);
        expect(fields.find((f) => f.name === 'causation_id')).toMatchObject({
          type: ['null', 'string'],
          default: null,
        });
      } else {
        expect(names).toEqual(['command_id', 'type', 'aggregate_id', 'issued_at', 'actor', 'correlation_id', 'data']);
        expect(fields.find((f) => f.name === 'issued_at')!.type).toEqual(timestamp);
      }
      expect(fields[fields.length - 1]!.type).toMatchObject({ type: 'record', name: `${entry.type}Data` });
    });

    test('optional fields default to null (json ones to JSON null)', () => {
      const data = (entry.schema.fields.find((f) => f.name === 'data')!.type as AvroRecordSchema).fields;
      for (const field of data) {
        if (Array.isArray(field.type)) {
          expect(field.type[0]).toBe('null');
          expect(field).toHaveProperty('default', null);
        }
        if ((field.type as { logicalType?: string }).logicalType === 'json' && 'default' in field) {
          expect(field.default).toBe('null');
        }
      }
    });
  });

  test('the samples cover every command and event type', () => {
    for (const context of contexts) {
      const commandTypes = new Set(samples.filter((s) => s.context === context).map((s) => s.command.type));
      expect([...commandTypes].sort()).toEqual([...context.commandTypes].sort());
      const eventTypes = new Set(allEnvelopes.filter((e) => e.context === context).map((e) => e.envelope.type));
      expect([...eventTypes].sort()).toEqual([...context.eventTypes].sort());
    }
  });

  describe('events round-trip with a realistic envelope', () => {
    test.each(
      allEnvelopes.map(
        ({ context, envelope }) => [`${envelope.type} #${envelope.version}`, context, envelope] as const,
      ),
    )('%s', (_name, context, envelope) => {
      const entry = schemaFor(context.name, 'events', envelope.type)!;
      expect(typeOf(entry).isValid(envelope)).toBe(true);
      expect(roundTrip(entry, envelope)).toEqual(envelope);
    });

    test('decoded events fold to the same state as the originals', () => {
      for (const sample of samples) {
        const { decider } = sample.context;
        const { command, state, events } = decided(sample);
        const decoded = envelopesOf(sample.context, command, events).map((envelope) => {
          const wire = roundTrip(schemaFor(sample.context.name, 'events', envelope.type)!, envelope) as Envelope;
          return { type: wire.type, data: wire.data };
        });
        expect(decoded.reduce(decider.evolve, state)).toEqual(events.reduce(decider.evolve, state));
      }
    });
  });

  describe('commands round-trip, and a decoded command decides exactly like the original', () => {
    test.each(samples.map((sample, i) => [`${sample.command.type} #${i}`, sample] as const))('%s', (_name, sample) => {
      const { command, state, events } = decided(sample);
      const entry = schemaFor(sample.context.name, 'commands', command.type)!;
      const wire = {
        command_id: command.metadata.command_id,
        type: command.type,
        aggregate_id: sample.context.aggregateIdOf(command),
        issued_at: command.metadata.now,
        actor: command.metadata.actor,
        correlation_id: idFromKey('correlation', command.metadata.command_id),
        data: command.data,
      };
      const decoded = roundTrip(entry, wire) as typeof wire;
      expect(decoded).toMatchObject({ ...wire, data: expect.any(Object) });
      const rebuilt = {
        type: decoded.type,
        data: decoded.data,
        metadata: { command_id: decoded.command_id, now: decoded.issued_at, actor: decoded.actor },
      };
      expect(sample.context.decider.decide(rebuilt, state)).toEqual(events);
    });
  });

  test('an advisor actor and an instant with an offset survive the wire', () => {
    const entry = schemaFor('assessment', 'commands', 'RecordResponses')!;
    const command = respond(
      [{ question_id: orchestrator.question_id, answer: 'kubernetes', submitted_at: '2025-03-01T10:29:00+01:00' }],
      {
        actor: advisor,
      },
    );
    const decoded = roundTrip(entry, {
      command_id: command.metadata.command_id,
      type: command.type,
      aggregate_id: assessmentId,
      issued_at: command.metadata.now,
      actor: command.metadata.actor,
      correlation_id: 'c',
      data: command.data,
    }) as { actor: Actor; data: { responses: { submitted_at: string }[] } };
    expect(decoded.actor).toEqual(advisor);
    expect(decoded.data.responses[0]!.submitted_at).toBe('2025-03-01T09:29:00.000Z');
  });

  test('timestamps refuse what is not an instant', () => {
    const entry = schemaFor('assessment', 'events', 'AssessmentCompleted')!;
    const valid = allEnvelopes.find((e) => e.envelope.type === 'AssessmentCompleted')!.envelope;
    expect(typeOf(entry).isValid(valid)).toBe(true);
    expect(typeOf(entry).isValid({ ...valid, occurred_at: 'yesterday' })).toBe(false);
    expect(typeOf(entry).isValid({ ...valid, occurred_at: '2025-03-01T09:00:00' })).toBe(false);
  });
});
