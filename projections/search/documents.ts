import type { CredentialCreated, CredentialRetired, CredentialRevised } from '../../domain/catalog/credential';
import type {
  KnowledgeDocumentAdded,
  KnowledgeDocumentRetired,
  KnowledgeDocumentRevised,
} from '../../domain/catalog/knowledgeDocument';
import type { JsonObject } from '../../domain/shared/json';
import type { StoredOf } from '../../services/messaging/envelopes';
import type { EmbeddedText } from '../../services/processors/embeddings/passages';

/**
 * The documents of the search indexes, built from catalog events (pure): a credential's
 * document and its description's passages, and a knowledge document's passages. Every document written
 * for an event carries that event's log position as its external version (`logVersion`), so
 * Elasticsearch keeps the newest and refuses (409) anything older or equal: replays are no-ops.
 *
 * Documents are never deleted (a versioned delete is forgotten after `index.gc_deletes`, and a
 * replayed older event could then resurrect it): a passage a revision no longer has becomes an
 * inactive tombstone, and a retired credential keeps its documents with `active: false`.
 */

/** Where an event sits in the log, as one monotonic number per document (its partition's offset + 1, ≥ 1). */
export function logVersion(offset: number): number {
  return offset + 1;
}

export function credentialSourceUri(credentialId: string): string {
  return `microcred://credentials/${credentialId}`;
}

/**
 * The id of passage `index` of a source in the evidence index: a credential's description or a
 * knowledge document's text (catalog ids are unique across kinds, so they never collide).
 */
export function passageId(sourceId: string, index: number): string {
  return `${sourceId}:${index}`;
}

interface Embedded {
  embedding_provider: string;
  embedding_model: string;
  embedding_degraded: boolean;
}

interface Logged {
  stream_version: number;
  log_partition: number;
  log_offset: number;
  updated_at: string;
}

export interface CredentialDocument extends Partial<Embedded>, Logged {
  credential_id: string;
  title: string;
  description: string;
  skills: string[];
  provider: string | null;
  metadata: JsonObject | null;
  active: boolean;
  vector?: number[];
  /** Live passages: `passageId(id, 0 … passage_count - 1)`. */
  passage_count: number;
  /** Every passage id ever written for it (those ≥ passage_count are tombstones). */
  passage_slots: number;
  retired_at?: string;
}

export interface EvidenceDocument extends Partial<Embedded>, Logged {
  source_type: 'credential' | 'document';
  source_id: string;
  source_uri: string;
  /** The field of the source the offsets are into: a credential's description, a document's text. */
  source_field: 'description' | 'text';
  source_title?: string;
  /** The document version ("1", "2", …) the passage was cut from (documents only). */
  source_version?: string;
  passage_index: number;
  /** Exactly `source_text.slice(start, end)` (absent on a tombstone). */
  text?: string;
  start?: number;
  end?: number;
  active: boolean;
  vector?: number[];
}

/** A document with the id and external version it is written with. */
export interface VersionedDocument<D> {
  id: string;
  version: number;
  doc: D;
}

export interface CredentialWrite {
  credential: VersionedDocument<CredentialDocument>;
  passages: VersionedDocument<EvidenceDocument>[];
}

/** What the credential's vector is made of: title, description and skills. */
export function credentialText(d: { title: string; description: string; skills: string[] }): string {
  const skills = d.skills.length > 0 ? `Skills: ${d.skills.join(', ')}.` : '';
  return [d.title, d.description, skills].filter((part) => part.trim().length > 0).join('\n');
}

type CatalogSearchEvent =
  | CredentialCreated
  | CredentialRevised
  | CredentialRetired
  | KnowledgeDocumentAdded
  | KnowledgeDocumentRevised
  | KnowledgeDocumentRetired;

function logged(event: StoredOf<CatalogSearchEvent>): Logged {
  return {
    stream_version: event.version,
    log_partition: event.partition,
    log_offset: event.offset,
    updated_at: event.occurred_at,
  };
}

function embeddedBy(e: Pick<EmbeddedText, 'provider' | 'model' | 'degraded'>): Embedded {
  return { embedding_provider: e.provider, embedding_model: e.model, embedding_degraded: e.degraded };
}

/**
 * A created or revised credential: its document, its description's passages, and tombstones
 * for the passages an earlier definition had beyond the new count (`previous`: the document as
 * it stands before this event, if any).
 */
export function credentialDefined(
  event: StoredOf<CredentialCreated | CredentialRevised>,
  embedded: { credential: EmbeddedText; passages: EmbeddedText },
  previous: CredentialDocument | undefined,
): CredentialWrite {
  const d = event.data;
  const version = logVersion(event.offset);
  const log = logged(event);
  const sourceUri = credentialSourceUri(d.credential_id);
  const live = d.description.trim().length === 0 ? [] : embedded.passages.passages;
  const slots = Math.max(previous?.passage_slots ?? 0, live.length);
  // Retirement is final (the decider refuses a revision after it): a stray one stays inactive.
  const retiredAt = previous?.active === false ? previous.retired_at : undefined;
  const active = retiredAt === undefined;
  const passages: VersionedDocument<EvidenceDocument>[] = [];
  for (let i = 0; i < slots; i++) {
    const p = live[i];
    const base = {
      source_type: 'credential' as const,
      source_id: d.credential_id,
      source_uri: sourceUri,
      source_field: 'description' as const,
      passage_index: i,
      ...log,
    };
    passages.push({
      id: passageId(d.credential_id, i),
      version,
      doc: p
        ? {
            ...base,
            source_title: d.title,
            text: p.text,
            start: p.start,
            end: p.end,
            vector: Array.from(p.vector),
            ...embeddedBy(embedded.passages),
            active,
          }
        : { ...base, active: false },
    });
  }
  const credential: CredentialDocument = {
    credential_id: d.credential_id,
    title: d.title,
    description: d.description,
    skills: d.skills,
    provider: d.provider,
    metadata: d.metadata,
    active,
    vector: Array.from(embedded.credential.vector),
    ...embeddedBy(embedded.credential),
    passage_count: live.length,
    passage_slots: slots,
    ...log,
    ...(retiredAt === undefined ? {} : { retired_at: retiredAt }),
  };
  return { credential: { id: d.credential_id, version, doc: credential }, passages };
}

/**
 * A retired credential: its document and its live passages again, inactive (content kept). With
 * no document before it (its creation never projected), an inactive stub, so that a replayed
 * older event can no longer make it active.
 */
export function credentialRetired(
  event: StoredOf<CredentialRetired>,
  previous: CredentialDocument | undefined,
  previousPassages: (EvidenceDocument | undefined)[],
): CredentialWrite {
  const id = event.data.credential_id;
  const version = logVersion(event.offset);
  const log = logged(event);
  const credential: CredentialDocument = previous
    ? { ...previous, ...log, active: false, retired_at: event.occurred_at }
    : {
        credential_id: id,
        title: '',
        description: '',
        skills: [],
        provider: null,
        metadata: null,
        active: false,
        passage_count: 0,
        passage_slots: 0,
        ...log,
        retired_at: event.occurred_at,
      };
  const passages = previousPassages.flatMap((p, i) =>
    p ? [{ id: passageId(id, i), version, doc: { ...p, ...log, active: false } }] : [],
  );
  return { credential: { id, version, doc: credential }, passages };
}

/**
 * An added or revised knowledge document: its text's passages (`source_type: 'document'`), and
 * tombstones for the passages an earlier version had beyond the new count. `previous` are the
 * document's passages as they stand before this event, 0 … n-1 (every slot ever written; none
 * before its first version). Passage 0 always holds text (a document's text is never blank), so
 * an inactive passage 0 means the document was retired: a stray revision after it stays inactive.
 */
export function documentDefined(
  event: StoredOf<KnowledgeDocumentAdded | KnowledgeDocumentRevised>,
  embedded: EmbeddedText,
  previous: EvidenceDocument[],
): VersionedDocument<EvidenceDocument>[] {
  const d = event.data;
  const version = logVersion(event.offset);
  const live = embedded.passages.filter((p) => p.text.length > 0);
  const active = previous[0]?.active !== false;
  const slots = Math.max(previous.length, live.length);
  const out: VersionedDocument<EvidenceDocument>[] = [];
  for (let i = 0; i < slots; i++) {
    const p = live[i];
    const base = documentPassageBase(event, d.document_id, d.source_uri, i);
    out.push({
      id: passageId(d.document_id, i),
      version,
      doc: p
        ? {
            ...base,
            source_title: d.title,
            source_version: d.version,
            text: p.text,
            start: p.start,
            end: p.end,
            vector: Array.from(p.vector),
            ...embeddedBy(embedded),
            active,
          }
        : { ...base, active: false },
    });
  }
  return out;
}

/**
 * A retired knowledge document: every passage it has, again, inactive (content kept). With no
 * passage before it (its addition never projected), an inactive stub as passage 0, so that a
 * replayed older event can no longer make it retrievable.
 */
export function documentRetired(
  event: StoredOf<KnowledgeDocumentRetired>,
  previous: EvidenceDocument[],
): VersionedDocument<EvidenceDocument>[] {
  const id = event.data.document_id;
  const version = logVersion(event.offset);
  const log = logged(event);
  if (previous.length === 0) {
    return [
      {
        id: passageId(id, 0),
        version,
        doc: { ...documentPassageBase(event, id, '', 0), source_version: event.data.version, active: false },
      },
    ];
  }
  return previous.map((p, i) => ({ id: passageId(id, i), version, doc: { ...p, ...log, active: false } }));
}

function documentPassageBase(
  event: StoredOf<KnowledgeDocumentAdded | KnowledgeDocumentRevised | KnowledgeDocumentRetired>,
  documentId: string,
  sourceUri: string,
  index: number,
) {
  return {
    source_type: 'document' as const,
    source_id: documentId,
    source_uri: sourceUri,
    source_field: 'text' as const,
    passage_index: index,
    ...logged(event),
  };
}
