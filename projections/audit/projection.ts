import type { PoolClient } from 'pg';
import { v5 as uuidv5 } from 'uuid';
import type {
  AssessmentCompleted,
  AssessmentEvent,
  AssessmentStarted,
  AssessmentSubmitted,
  EssayScored,
  EssayScoreOverridden,
  PendingWork,
  ResponseRecorded,
  ResponseRuleScored,
} from '../../domain/assessment/assessment';
import type { CatalogEvent } from '../../domain/catalog/decide';
import type { CredentialCreated, CredentialRevised } from '../../domain/catalog/credential';
import type { QuestionCreated, QuestionRetired, QuestionRevised } from '../../domain/catalog/question';
import type { RoleCreated, RoleRevised } from '../../domain/catalog/role';
import type { UserEvent, UserRegistered } from '../../domain/identity/user';
import { isUuid } from '../../domain/shared/ids';
import type { StoredEvent, StoredOf } from '../../services/messaging/envelopes';
import type { Projection } from '../runtime/projection';

/**
 * Every event of every context → one `audit_logs` row (id = event id, so a replay adds
 * nothing): who did what to which resource, when, with a one-line summary.
 *
 * The summary names ids, counts, scores and catalog names, never personal data: no email, no
 * profile, no answer text, no free-text reason (those stay in the event log, behind its access
 * rules).
 */
export const AUDIT_PROJECTION = 'audit';

/** For the (never expected) event whose id is not a UUID: `uuidv5('microcred.audit', MICROCRED_NAMESPACE)`. */
const AUDIT_NAMESPACE = 'b94ad35e-d4d1-58d3-9f80-1eb917ebc6e9';

type AnyEvent = UserEvent | CatalogEvent | AssessmentEvent;
type Stored<E extends AnyEvent> = StoredOf<E>;

export const auditProjection: Projection = {
  name: AUDIT_PROJECTION,
  topics: (topics) => [topics.identity.events, topics.catalog.events, topics.assessment.events],
  tables: ['audit_logs'],
  async apply(client, record) {
    await recordEvent(client, record, summaryOf(record as Stored<AnyEvent>));
  },
};

async function recordEvent(client: PoolClient, event: StoredEvent, summary: string): Promise<void> {
  const id = isUuid(event.event_id)
    ? event.event_id
    : uuidv5(`${event.topic}/${event.partition}/${event.offset}`, AUDIT_NAMESPACE);
  const metadata = {
    version: event.version,
    occurred_at: event.occurred_at,
    correlation_id: event.correlation_id,
    causation_id: event.causation_id,
    summary,
  };
  await client.query({
    name: 'audit-insert', // one per event: prepared once per connection
    text: `INSERT INTO audit_logs (id, actor_id, actor_role, action, resource_type, resource_id, metadata, version, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (id) DO NOTHING`,
    values: [
      id,
      isUuid(event.actor.id) ? event.actor.id : null,
      event.actor.role.slice(0, 16),
      event.type.slice(0, 64),
      event.aggregate_type.slice(0, 32),
      isUuid(event.aggregate_id) ? event.aggregate_id : null,
      JSON.stringify(metadata),
      event.version,
      event.occurred_at,
    ],
  });
}

// --- Summaries ---------------------------------------------------------------------------------

/** One sentence per event type; types this build does not know get a generic one. */
export function summaryOf(event: Stored<AnyEvent>): string {
  switch (event.type) {
    case 'UserRegistered':
      return userRegistered(event);
    case 'UserDisabled':
      return 'Disabled the account';
    case 'RoleCreated':
      return roleDefined('Created', event);
    case 'RoleRevised':
      return roleDefined('Revised', event);
    case 'RoleRetired':
      return 'Retired the role';
    case 'QuestionCreated':
      return questionCreated(event);
    case 'QuestionRevised':
      return questionRevised(event);
    case 'QuestionRetired':
      return questionRetired(event);
    case 'CredentialCreated':
      return credentialDefined('Created', event);
    case 'CredentialRevised':
      return credentialDefined('Revised', event);
    case 'CredentialRetired':
      return 'Retired the credential';
    case 'AssessmentStarted':
      return assessmentStarted(event);
    case 'ResponseRecorded':
      return responseRecorded(event);
    case 'ResponseRuleScored':
      return responseRuleScored(event);
    case 'AssessmentSubmitted':
      return assessmentSubmitted(event);
    case 'EssayScored':
      return essayScored(event);
    case 'EssayScoringFailed':
      return `Essay scoring failed on question ${short(event.data.question_id)} after ${plural(event.data.attempts, 'attempt')}`;
    case 'EssayScoreOverridden':
      return essayScoreOverridden(event);
    case 'ScoredExamplesImported':
      return `Imported ${plural(event.data.examples.length, 'scored example')} for the question`;
    case 'AssessmentCompleted':
      return assessmentCompleted(event);
    case 'AssessmentFailed':
      return `Assessment failed: ${event.data.reason}`.slice(0, 500);
    case 'EvidenceRetrieved':
      return `Retrieved ${plural(event.data.traces.length, 'evidence passage')}${event.data.degraded ? ' (degraded)' : ''}`;
    case 'RecommendationsGenerated':
      return `Recommended ${plural(event.data.items.length, 'credential')} (rationales: ${event.data.provider}${event.data.degraded ? ', degraded' : ''})`;
    case 'RecommendationFeedbackReceived':
      return `Feedback ${event.data.acceptance_status} (relevance ${event.data.relevance_score}/5) on credential ${short(event.data.credential_id)}, revision ${event.data.revision}`;
    case 'KnowledgeDocumentAdded':
      return `Added the knowledge document "${event.data.title}" (${event.data.source_uri})`;
    case 'KnowledgeDocumentRevised':
      return `Revised the knowledge document "${event.data.title}" to version ${event.data.version}`;
    case 'KnowledgeDocumentRetired':
      return 'Retired the knowledge document';
    default:
      return `Recorded ${(event as StoredEvent).type}`;
  }
}

function userRegistered(event: Stored<UserRegistered>): string {
  const role = event.data.role;
  return `Registered ${role === 'admin' || role === 'advisor' ? 'an' : 'a'} ${role} account`;
}

function roleDefined(verb: string, event: Stored<RoleCreated | RoleRevised>): string {
  const skills = event.data.skills_profile.length;
  return `${verb} role ${clip(event.data.name)} with ${plural(skills, 'skill')}`;
}

function questionCreated(event: Stored<QuestionCreated>): string {
  const d = event.data;
  return `Created ${article(d.question_type)} ${d.question_type.replace('_', ' ')} question (version ${d.version}) for role ${short(d.role_id)}`;
}

function questionRevised(event: Stored<QuestionRevised>): string {
  return `Revised the question to version ${event.data.version}`;
}

function questionRetired(event: Stored<QuestionRetired>): string {
  return `Retired the question at version ${event.data.version}`;
}

function credentialDefined(verb: string, event: Stored<CredentialCreated | CredentialRevised>): string {
  return `${verb} credential ${clip(event.data.title)} with ${plural(event.data.skills.length, 'skill')}`;
}

function assessmentStarted(event: Stored<AssessmentStarted>): string {
  const d = event.data;
  return `Started assessment for role ${clip(d.role_name)} with ${plural(d.questions.length, 'question')}`;
}

function responseRecorded(event: Stored<ResponseRecorded>): string {
  return `Answered question ${short(event.data.question_id)} (revision ${event.data.revision})`;
}

function responseRuleScored(event: Stored<ResponseRuleScored>): string {
  const d = event.data;
  return `Scored ${d.score} / ${d.max_score} on question ${short(d.question_id)} (revision ${d.revision})`;
}

const pendingWords: Record<PendingWork, string> = {
  essay_scoring: 'essay scoring',
  recommendations: 'recommendations',
};

function assessmentSubmitted(event: Stored<AssessmentSubmitted>): string {
  const d = event.data;
  const pending = d.pending.map((work) => pendingWords[work] ?? String(work));
  const tail = pending.length === 0 ? 'nothing pending' : `${pending.join(' and ')} pending`;
  return `Submitted with ${d.answered} of ${d.total} answered; ${tail}`;
}

function essayScored(event: Stored<EssayScored>): string {
  const d = event.data;
  const how = d.degraded ? `by ${clip(d.model)} (degraded)` : `by ${clip(d.model)}`;
  return `Scored ${d.score} / ${d.max_score} on essay question ${short(d.question_id)} ${how}`;
}

function essayScoreOverridden(event: Stored<EssayScoreOverridden>): string {
  const d = event.data;
  const from = d.previous_score === null ? 'a failed scoring' : `${d.previous_score}`;
  return `Overrode the score on essay question ${short(d.question_id)}: ${from} → ${d.score} / ${d.max_score}`;
}

function assessmentCompleted(event: Stored<AssessmentCompleted>): string {
  return event.data.degraded ? 'Completed (degraded)' : 'Completed';
}

/** First 8 characters of an id, enough to tell ids apart in a timeline. */
function short(id: string): string {
  return `${id.slice(0, 8)}…`;
}

function clip(text: string, max = 60): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `${trimmed.slice(0, max - 1)}…`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
