import { randomUUID } from 'node:crypto';
import { assessmentContext, catalogContext, identityContext, type AnyBoundedContext } from '../../../../domain';
import { evidenceTraceIdFor, recommendationIdFor } from '../../../../domain/assessment/recommendations';
import type { Actor, CommandMetadata } from '../../../../domain/shared/decider';
import { idFromKey, userIdForEmail } from '../../../../domain/shared/ids';
import { demoAnswer } from '../../../../services/cli/demoAnswers';
import { demoCatalogFile, type DemoCatalog } from '../../../../services/cli/demoCatalog';
import type { ContextName, EventEnvelope } from '../../../../services/messaging/envelopes';
import { seededRandom } from '../../../../test/support/seededRandom';

/**
 * Realistic event histories for rebuild specs and the replay benchmark, decided by the real
 * deciders (every event is one the system could have written): the demo catalog (roles,
 * questions, credentials, scored examples, a knowledge document), students, advisors and an
 * admin, then assessments through their whole lives — answers in two sittings with revisions,
 * submission, essay scores (some with embeddings, some failed, some overridden), evidence,
 * recommendations, completion, students' feedback, failures, and some left in progress.
 *
 * Seeded: the same seed gives the same histories (ids and choices; event ids are random).
 * State lives only while an aggregate is being generated, so memory does not grow with the count.
 */

export interface GeneratedEvent {
  context: ContextName;
  envelope: EventEnvelope;
}

const SYSTEM: Actor = { id: 'system:history', role: 'system' };
const BASE = Date.UTC(2026, 0, 5, 8, 0, 0);

/** Runs commands on one aggregate through its context's decider, wrapping each event like the runtime. */
class Aggregate {
  private state: unknown;
  private version = 0;
  readonly events: GeneratedEvent[] = [];

  constructor(
    private readonly context: AnyBoundedContext,
    private readonly aggregateId: string,
  ) {
    this.state = context.decider.initialState();
  }

  decide(type: string, data: Record<string, unknown>, actor: Actor, at: number): this {
    const metadata: CommandMetadata = { command_id: randomUUID(), now: new Date(at).toISOString(), actor };
    const command = { type, data, metadata };
    for (const event of this.context.decider.decide(command, this.state) as { type: string; data: unknown }[]) {
      this.state = this.context.decider.evolve(this.state, event);
      this.events.push({
        context: this.context.name,
        envelope: {
          event_id: randomUUID(),
          aggregate_id: this.aggregateId,
          aggregate_type: this.context.aggregateTypeOf(event),
          version: ++this.version,
          type: event.type,
          occurred_at: metadata.now,
          actor,
          correlation_id: randomUUID(),
          causation_id: metadata.command_id,
          data: event.data as Record<string, unknown>,
        },
      });
    }
    return this;
  }
}

interface Question {
  question_id: string;
  definition: DemoCatalog['roles'][number]['questions'][number];
}

interface Role {
  role_id: string;
  name: string;
  questions: Question[];
  skills: string[];
}

export interface HistoryOptions {
  seed?: number;
  /** Namespace of the catalog's ids (histories of two systems never share ids). */
  namespace?: string;
  students?: number;
}

/**
 * The generator: `setup()` yields the catalog and the users; `assessment(i)` the events of the
 * i-th assessment (a few dozen). Events of an aggregate come in version order.
 */
export class HistoryGenerator {
  private readonly random: () => number;
  private readonly namespace: string;
  private readonly roles: Role[] = [];
  private readonly credentials: { credential_id: string; title: string }[] = [];
  readonly students: string[] = [];
  readonly advisor: Actor;
  readonly admin: Actor;
  private clock = BASE;

  constructor(options: HistoryOptions = {}) {
    this.random = seededRandom(options.seed ?? 42);
    this.namespace = options.namespace ?? 'history';
    const demo = demoCatalogFile();
    for (const r of demo.roles) {
      this.roles.push({
        role_id: this.id('role', r.slug),
        name: r.name,
        skills: (r.skills_profile as { skill: string }[]).map((s) => s.skill),
        questions: r.questions.map((q) => ({ question_id: this.id('question', q.slug), definition: q })),
      });
    }
    for (const c of demo.credentials)
      this.credentials.push({ credential_id: this.id('credential', c.slug), title: c.title });
    for (let i = 0; i < (options.students ?? 200); i++) {
      this.students.push(userIdForEmail(`student-${i}@${this.namespace}.history.local`));
    }
    this.advisor = { id: userIdForEmail(`advisor@${this.namespace}.history.local`), role: 'advisor' };
    this.admin = { id: userIdForEmail(`admin@${this.namespace}.history.local`), role: 'admin' };
  }

  private id(kind: string, key: string): string {
    return idFromKey(kind, `${this.namespace}/${key}`);
  }

  private tick(seconds: number): number {
    this.clock += Math.round(seconds * 1000);
    return this.clock;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  /** The catalog and the users, first in the log. */
  *setup(): Generator<GeneratedEvent> {
    const demo = demoCatalogFile();
    const admin = new Aggregate(identityContext, this.admin.id).decide(
      'RegisterUser',
      { user_id: this.admin.id, email: `admin@${this.namespace}.history.local`, role: 'admin' },
      SYSTEM,
      this.tick(1),
    );
    yield* admin.events;
    yield* new Aggregate(identityContext, this.advisor.id).decide(
      'RegisterUser',
      { user_id: this.advisor.id, email: `advisor@${this.namespace}.history.local`, role: 'advisor' },
      this.admin,
      this.tick(1),
    ).events;
    for (const [i, r] of demo.roles.entries()) {
      const role = this.roles[i]!;
      const aggregate = new Aggregate(catalogContext, role.role_id).decide(
        'CreateRole',
        { role_id: role.role_id, name: r.name, description: r.description, skills_profile: r.skills_profile },
        this.admin,
        this.tick(2),
      );
      if (i === 0)
        aggregate.decide('ReviseRole', { role_id: role.role_id, description: 'Revised.' }, this.admin, this.tick(5));
      yield* aggregate.events;
      for (const q of role.questions) {
        const { slug: _slug, ...definition } = q.definition;
        const question = new Aggregate(catalogContext, q.question_id).decide(
          'CreateQuestion',
          { ...definition, question_id: q.question_id, role_id: role.role_id },
          this.admin,
          this.tick(1),
        );
        if (definition.question_type === 'essay' && i < 2) {
          question.decide(
            'ImportScoredExamples',
            {
              question_id: q.question_id,
              import_id: this.id('import', q.question_id),
              examples: [
                { text: 'A thorough answer naming every criterion with examples.', score: definition.weight },
                { text: 'A short answer.', score: 0 },
              ],
            },
            this.admin,
            this.tick(1),
          );
        }
        yield* question.events;
      }
    }
    for (const [i, c] of demo.credentials.entries()) {
      const { slug: _slug, ...definition } = c;
      const credential = new Aggregate(catalogContext, this.credentials[i]!.credential_id).decide(
        'CreateCredential',
        { ...definition, credential_id: this.credentials[i]!.credential_id },
        this.admin,
        this.tick(1),
      );
      if (i === 1) {
        credential.decide(
          'ReviseCredential',
          { credential_id: this.credentials[i]!.credential_id, provider: 'Revised provider' },
          this.admin,
          this.tick(3),
        );
      }
      if (i === 2)
        credential.decide(
          'RetireCredential',
          { credential_id: this.credentials[i]!.credential_id },
          this.admin,
          this.tick(3),
        );
      yield* credential.events;
    }
    const documentId = this.id('document', 'guide');
    yield* new Aggregate(catalogContext, documentId)
      .decide(
        'AddKnowledgeDocument',
        {
          document_id: documentId,
          title: 'How to choose a micro-credential',
          source_uri: `https://docs.${this.namespace}.example/guide`,
          text: 'Pick credentials that close the gaps your assessment found.\n\nPrefer hands-on ones.',
        },
        this.admin,
        this.tick(2),
      )
      .decide(
        'ReviseKnowledgeDocument',
        { document_id: documentId, title: 'Choosing a micro-credential' },
        this.admin,
        this.tick(2),
      ).events;
    for (const [i, userId] of this.students.entries()) {
      const student = new Aggregate(identityContext, userId).decide(
        'RegisterUser',
        {
          user_id: userId,
          email: `student-${i}@${this.namespace}.history.local`,
          role: 'student',
          profile: { cohort: i % 7 },
        },
        { id: userId, role: 'student' },
        this.tick(3),
      );
      if (i % 50 === 49)
        student.decide('DisableUser', { user_id: userId, reason: 'left the programme' }, this.admin, this.tick(1));
      yield* student.events;
    }
  }

  /** The i-th assessment's events: its whole life, or part of it. */
  assessment(i: number): GeneratedEvent[] {
    const assessmentId = this.id('assessment', String(i));
    const role = this.pick(this.roles);
    const studentId = this.pick(this.students.filter((_, k) => k % 50 !== 49));
    const student: Actor = { id: studentId, role: 'student' };
    const a = new Aggregate(assessmentContext, assessmentId);
    const started = this.tick(20 + this.random() * 40);
    a.decide(
      'StartAssessment',
      {
        assessment_id: assessmentId,
        user_id: studentId,
        role_id: role.role_id,
        role_name: role.name,
        questions: role.questions.map((q) => ({
          question_id: q.question_id,
          version: '1',
          type: q.definition.question_type,
          prompt: q.definition.prompt,
          choices: q.definition.choices,
          rubric: q.definition.rubric,
          weight: q.definition.weight,
          required: q.definition.required,
        })),
        expires_at: new Date(started + 2 * 3600_000).toISOString(),
        metadata: { source: 'history', seat: i % 10 },
      },
      student,
      started,
    );
    const weak = role.skills.filter(() => this.random() < 0.3);
    const answer = (q: Question, wrong = false) => ({
      question_id: q.question_id,
      answer: demoAnswer(q.definition, { weak, wrongChoices: wrong }) as never,
    });
    const half = Math.ceil(role.questions.length / 2);
    // First sitting: half the questions, some of them wrong.
    a.decide(
      'RecordResponses',
      {
        assessment_id: assessmentId,
        complete: false,
        responses: role.questions.slice(0, half).map((q) => answer(q, this.random() < 0.3)),
      },
      student,
      started + 300_000,
    );
    if (this.random() < 0.08) return a.events; // left in progress
    // Second sitting: two answers revised, the rest answered, submitted.
    const revised = role.questions.slice(0, 2).filter((q) => q.definition.question_type !== 'essay');
    a.decide(
      'RecordResponses',
      {
        assessment_id: assessmentId,
        complete: true,
        responses: [...revised.map((q) => answer(q)), ...role.questions.slice(half).map((q) => answer(q))],
      },
      student,
      started + 900_000,
    );
    const essays = role.questions.filter((q) => q.definition.question_type === 'essay');
    let at = started + 905_000;
    const fate = this.random();
    if (fate < 0.04) {
      // Every scorer failed for good: the assessment fails.
      a.decide(
        'ReportEssayScoringFailed',
        {
          assessment_id: assessmentId,
          question_id: essays[0]!.question_id,
          revision: 1,
          reason: 'provider down',
          attempts: 5,
          job_key: null,
        },
        SYSTEM,
        (at += 60_000),
      );
      a.decide('FailAssessment', { assessment_id: assessmentId, reason: 'essay scoring failed' }, SYSTEM, at + 1000);
      return a.events;
    }
    const degraded = this.random() < 0.1;
    for (const q of essays) {
      const max = q.definition.weight;
      a.decide(
        'RecordEssayScore',
        {
          assessment_id: assessmentId,
          question_id: q.question_id,
          revision: 1,
          score: Math.round(this.random() * max * 100) / 100,
          criteria: [{ id: 'reasoning', score: 2, evidence: 'Names the trade-offs.' }],
          explanation: 'Covers most criteria.',
          provider: degraded ? 'offline' : 'openai',
          model: degraded ? 'offline-rubric' : 'gpt-4o-mini',
          prompt_version: 'essay-v3',
          degraded,
          flags: [],
          needs_review: this.random() < 0.05,
          tokens_in: degraded ? null : 700 + Math.floor(this.random() * 300),
          tokens_out: degraded ? null : 150 + Math.floor(this.random() * 100),
          cost_cents: degraded ? null : Math.round(this.random() * 300) / 10000,
          latency_ms: 800 + Math.floor(this.random() * 3000),
          job_key: `essay:${assessmentId}:${q.question_id}`,
          embedding:
            this.random() < 0.2 ? { provider: 'minilm-onnx', model: 'all-MiniLM-L6-v2', vector: this.vector() } : null,
        },
        SYSTEM,
        (at += 4000),
      );
    }
    if (this.random() < 0.05) {
      a.decide(
        'OverrideEssayScore',
        {
          assessment_id: assessmentId,
          question_id: essays[0]!.question_id,
          score: essays[0]!.definition.weight / 2,
          reason: 'Second reading.',
        },
        this.advisor,
        (at += 3600_000),
      );
    }
    const picks = [0, 1, 2].map((k) => this.credentials[(i * 7 + k * 13) % this.credentials.length]!);
    a.decide(
      'RecordEvidence',
      {
        assessment_id: assessmentId,
        traces: picks.map((c, k) => ({
          trace_id: evidenceTraceIdFor(assessmentId, `${c.credential_id}/${k}`),
          source_uri: `microcred://credentials/${c.credential_id}`,
          source_id: c.credential_id,
          source_type: 'credential',
          snippet: `${c.title}: hands-on practice.`,
          start: 0,
          end: `${c.title}: hands-on practice.`.length,
          similarity: Math.round((0.9 - k / 10) * 1000) / 1000,
          embedding_provider: degraded ? 'lexical' : 'minilm-onnx',
          embedding_model: degraded ? 'lexical-hash-384' : 'all-MiniLM-L6-v2',
        })),
        query_summary: `${role.skills.slice(0, 2).join('; ')}; gaps: ${weak.join(', ') || 'none'}`,
        latency_ms: 30 + Math.floor(this.random() * 50),
        degraded,
        job_key: `recommendations:${assessmentId}:evidence`,
      },
      SYSTEM,
      (at += 2000),
    );
    a.decide(
      'RecordRecommendations',
      {
        assessment_id: assessmentId,
        recommendation_id: recommendationIdFor(assessmentId),
        summary: {
          text: `Strong on ${role.skills[0]}.`,
          strengths: role.skills.slice(0, 1),
          gaps: weak.slice(0, 3),
          next_steps: [],
        },
        items: picks.map((c, k) => ({
          credential_id: c.credential_id,
          title: c.title,
          confidence: Math.round((0.9 - k * 0.15) * 1000) / 1000,
          rationale: `Closes a gap in ${role.skills[k % role.skills.length]}.`,
          source_trace_ids: [evidenceTraceIdFor(assessmentId, `${c.credential_id}/${k}`)],
          position: k + 1,
          scores: {
            content: 0.6,
            skill_gap: Math.round(this.random() * 1000) / 1000,
            collaborative: k === 0 ? null : 0.25,
          },
        })),
        degraded,
        provider: degraded ? 'composed' : 'openai',
        model: degraded ? 'templates' : 'gpt-4o-mini',
        prompt_version: 'rationale-v1',
        tokens_in: degraded ? null : 1000,
        tokens_out: degraded ? null : 200,
        cost_cents: degraded ? null : 0.031,
        metrics: {
          total_latency_ms: 4000 + Math.floor(this.random() * 8000),
          gpt_latency_ms: degraded ? null : 2500,
          rag_latency_ms: 40,
          token_cost_cents: 0.05,
        },
        profile: {
          role_id: role.role_id,
          skills: role.skills.map((skill) => ({
            skill,
            proficiency: weak.includes(skill) ? 0.2 : 0.8,
            gap: weak.includes(skill) ? 0.6 : 0,
          })),
          vector: role.skills.map((skill) => (weak.includes(skill) ? 0.6 : 0)),
        },
        job_key: `recommendations:${assessmentId}:rank`,
      },
      SYSTEM,
      (at += 5000),
    );
    if (this.random() < 0.3) {
      for (const [k, c] of picks.slice(0, 1 + Math.floor(this.random() * 2)).entries()) {
        a.decide(
          'SubmitRecommendationFeedback',
          {
            assessment_id: assessmentId,
            recommendation_id: recommendationIdFor(assessmentId),
            credential_id: c.credential_id,
            relevance_score: 1 + Math.floor(this.random() * 5),
            acceptance_status: k === 0 ? 'accepted' : 'pending',
            comments: k === 0 ? 'Useful.' : null,
          },
          student,
          (at += 86_400_000),
        );
      }
    }
    return a.events;
  }

  /** A unit vector of 384 values (MiniLM's size). */
  private vector(): number[] {
    const v = Array.from({ length: 384 }, () => this.random() - 0.5);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  }
}
