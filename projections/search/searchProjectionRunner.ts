import type { estypes } from '@elastic/elasticsearch';
import type { CredentialCreated, CredentialRetired, CredentialRevised } from '../../domain/catalog/credential';
import type {
  KnowledgeDocumentAdded,
  KnowledgeDocumentRetired,
  KnowledgeDocumentRevised,
} from '../../domain/catalog/knowledgeDocument';
import type { EventEnvelope, StoredOf } from '../../services/messaging/envelopes';
import type { MessageCodec } from '../../services/messaging/messageCodec';
import type { ElasticsearchClient } from '../../services/platform/elasticsearch';
import type { Consumer } from '../../services/platform/kafka/kafka';
import type { Logger } from '../../services/platform/logger';
import type { Platform } from '../../services/platform/platform';
import type { Embeddings } from '../../services/processors/embeddings/embeddings';
import { embedPassages } from '../../services/processors/embeddings/passages';
import {
  credentialDefined,
  credentialRetired,
  credentialText,
  documentDefined,
  documentRetired,
  logVersion,
  passageId,
  type CredentialDocument,
  type EvidenceDocument,
  type VersionedDocument,
} from './documents';
import { ensureSearchIndexes, type SearchIndexes } from './indexes';
import { storedOffset, storedOffsets, storeOffset } from '../runtime/offsets';

export const SEARCH_PROJECTION = 'search-catalog';

type CredentialStored = StoredOf<CredentialCreated | CredentialRevised | CredentialRetired>;
type DocumentStored = StoredOf<KnowledgeDocumentAdded | KnowledgeDocumentRevised | KnowledgeDocumentRetired>;
type SearchStored = CredentialStored | DocumentStored;
const CREDENTIAL_EVENTS = new Set(['CredentialCreated', 'CredentialRevised', 'CredentialRetired']);
const DOCUMENT_EVENTS = new Set(['KnowledgeDocumentAdded', 'KnowledgeDocumentRevised', 'KnowledgeDocumentRetired']);
const isDocumentEvent = (event: SearchStored): event is DocumentStored => DOCUMENT_EVENTS.has(event.type);

export interface SearchProjectionOptions {
  /** Its row key in `projection_offsets` and its consumer group's suffix (a rebuild uses another). */
  name?: string;
  groupPrefix?: string;
  /** Where to write (default: the aliases of KAFKA_TOPIC_PREFIX, created on start if missing). */
  indexes?: SearchIndexes;
  maxBatchSize?: number;
}

/** What one batch did, for listeners (read-your-writes waiters, tests, metrics). */
export interface SearchBatchReport {
  topic: string;
  partition: number;
  /** The offset stored: the batch's last offset + 1. */
  next: number;
  /** Credential and knowledge document events applied (their documents were built and sent). */
  applied: number;
  /** Events skipped because their documents already hold this or a newer version. */
  skipped: number;
  /** Documents Elasticsearch took, and those it refused as not newer (409: already applied). */
  written: number;
  conflicts: number;
}

/**
 * Catalog events → the `credentials` and `evidence` Elasticsearch indexes: credentials with
 * their description's passages, and knowledge documents' passages. A consumer group
 * (read_committed) whose position lives in PostgreSQL (`projection_offsets`, as ProjectionRunner's),
 * stored after each batch's `_bulk` writes. Every document is written with `version_type:
 * external` and the version of the event's log position (offset + 1; an aggregate's events share
 * a partition, so this grows per document), so a replayed or duplicated batch is refused with 409
 * (counted as success) and a crash between the writes and the offset store re-applies harmlessly.
 *
 * Embeddings are computed here (events carry text only): the credential's vector from title,
 * description and skills, one per passage of the description, and one per passage of a
 * document's text. A document has no document of its own: its passages `<id>:0 … <id>:n-1` are
 * contiguous (a revision that has fewer tombstones the rest), and passage 0, always live until
 * retirement, is written last, so its version says the whole write is in place.
 */
export class SearchProjectionRunner {
  readonly name: string;
  private consumer?: Consumer;
  private indexes?: SearchIndexes;
  private readonly logger: Logger;
  private readonly es: ElasticsearchClient;
  private readonly listeners = new Set<(report: SearchBatchReport) => void>();
  private readonly abort = new AbortController();

  constructor(
    private readonly platform: Platform,
    private readonly codec: MessageCodec,
    private readonly embeddings: Embeddings,
    private readonly options: SearchProjectionOptions = {},
  ) {
    this.name = options.name ?? SEARCH_PROJECTION;
    this.es = platform.elasticsearch;
    this.logger = platform.logger.child({ component: 'search-projection', projection: this.name });
  }

  /** The topics it consumes. */
  topics(): string[] {
    return [this.platform.topics.catalog.events];
  }

  /** The indexes it writes to (known once started). */
  targets(): SearchIndexes {
    if (!this.indexes) throw new Error('search projection not started');
    return this.indexes;
  }

  async start(): Promise<void> {
    this.indexes =
      this.options.indexes ?? (await ensureSearchIndexes(this.es, this.platform.config.KAFKA_TOPIC_PREFIX));
    const groupPrefix = this.options.groupPrefix ?? this.platform.config.KAFKA_CLIENT_ID;
    this.consumer = this.platform.kafka.consumer(`${groupPrefix}-projection-${this.name}`, {
      maxBatchSize: this.options.maxBatchSize ?? 200,
      rebalance: async (event, partitions) =>
        event === 'assign' ? storedOffsets(this.platform.pool, this.name, partitions) : undefined,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics() });
    await this.consumer.run({
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch }) => this.handleBatch(batch.topic, batch.partition, batch.messages),
    });
    this.logger.info({ topics: this.topics(), indexes: this.indexes }, 'search projection started');
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.consumer?.disconnect().catch(() => undefined);
  }

  /** Called after every batch whose offset is stored. */
  onProgress(listener: (report: SearchBatchReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async handleBatch(
    topic: string,
    partition: number,
    messages: { offset: string; value: Buffer | null }[],
  ): Promise<void> {
    if (messages.length === 0) return;
    const next = Number(messages[messages.length - 1]!.offset) + 1;
    try {
      // A runner that overlapped ours during a rebalance may have stored a later position.
      const from = await storedOffset(this.platform.pool, this.name, topic, partition);
      const events: SearchStored[] = [];
      for (const m of messages) {
        if (!m.value || Number(m.offset) < from) continue;
        const { schemaId, value } = await this.codec.decode<EventEnvelope>(m.value);
        if (!CREDENTIAL_EVENTS.has(value.type) && !DOCUMENT_EVENTS.has(value.type)) continue;
        events.push({ ...value, topic, partition, offset: Number(m.offset), schema_id: schemaId } as SearchStored);
      }
      const report = await this.apply(events);
      await storeOffset(this.platform.pool, this.name, topic, partition, next);
      const full = { topic, partition, next, ...report };
      if (events.length > 0) this.logger.debug(full, 'search batch applied');
      for (const l of this.listeners) l(full);
    } catch (err) {
      if (this.abort.signal.aborted) throw err;
      this.logger.error(
        { err, topic, partition, from: messages[0]!.offset },
        'search projection batch failed; retrying',
      );
      await new Promise((r) => setTimeout(r, 500));
      throw err;
    }
  }

  /**
   * Folds the batch's events over the documents as they stand (realtime GETs, plus what earlier
   * events of this batch produced), then writes the newest version of each document.
   */
  private async apply(events: SearchStored[]): Promise<Omit<SearchBatchReport, 'topic' | 'partition' | 'next'>> {
    const targets = this.targets();
    const result = { applied: 0, skipped: 0, written: 0, conflicts: 0 };
    if (events.length === 0) return result;
    const docs = new BatchDocuments(this.es, targets);
    await docs.loadCredentials(events.flatMap((e) => (isDocumentEvent(e) ? [] : [e.data.credential_id])));
    for (const event of events) {
      if (isDocumentEvent(event)) {
        result[(await this.applyDocument(docs, event)) ? 'applied' : 'skipped']++;
        continue;
      }
      const previous = docs.credential(event.data.credential_id);
      // Already applied (or superseded): nothing to embed or write. The credential document is
      // written after its passages, so its version says the passages are in place too.
      if (previous && previous.version >= logVersion(event.offset)) {
        result.skipped++;
        continue;
      }
      if (event.type === 'CredentialRetired') {
        const count = previous?.doc.passage_count ?? 0;
        const passages = await docs.passages(event.data.credential_id, count);
        docs.put(credentialRetired(event, previous?.doc, passages));
      } else {
        const signal = this.abort.signal;
        const credential = await embedPassages(this.embeddings, credentialText(event.data), { signal });
        const passages = await embedPassages(this.embeddings, event.data.description, { signal });
        docs.put(credentialDefined(event, { credential, passages }, previous?.doc));
      }
      result.applied++;
    }
    // Passages first, then the credentials: a credential document at version v means the
    // passages of v were written (the skip above relies on it); likewise a document's passage 0.
    for (const [index, batch] of docs.pending()) {
      const { written, conflicts } = await bulkVersioned(this.es, index, batch);
      result.written += written;
      result.conflicts += conflicts;
    }
    return result;
  }

  /**
   * A knowledge document event over its passages as they stand. False when already applied (or
   * superseded): passage 0 is written last, so its version at or past this event's says the
   * whole write is in place, and nothing needs embedding again.
   */
  private async applyDocument(docs: BatchDocuments, event: DocumentStored): Promise<boolean> {
    const previous = await docs.documentPassages(event.data.document_id);
    if (previous[0] && previous[0].version >= logVersion(event.offset)) return false;
    const current = previous.map((p) => p.doc);
    if (event.type === 'KnowledgeDocumentRetired') {
      docs.putPassages(documentRetired(event, current));
    } else {
      const embedded = await embedPassages(this.embeddings, event.data.text, { signal: this.abort.signal });
      docs.putPassages(documentDefined(event, embedded, current));
    }
    return true;
  }
}

/** How many passage ids one realtime multi-get asks for when walking a document's passages. */
const PASSAGE_PROBE = 100;

/** The documents one batch reads and writes: fetched ones (realtime) and the batch's own. */
class BatchDocuments {
  private readonly fetchedCredentials = new Map<string, VersionedDocument<CredentialDocument>>();
  private readonly credentials = new Map<string, VersionedDocument<CredentialDocument>>();
  private readonly evidence = new Map<string, VersionedDocument<EvidenceDocument>>();

  constructor(
    private readonly es: ElasticsearchClient,
    private readonly targets: SearchIndexes,
  ) {}

  async loadCredentials(ids: string[]): Promise<void> {
    for (const doc of await mget<CredentialDocument>(this.es, this.targets.credentials, [...new Set(ids)])) {
      this.fetchedCredentials.set(doc.id, doc);
    }
  }

  credential(id: string): VersionedDocument<CredentialDocument> | undefined {
    return this.credentials.get(id) ?? this.fetchedCredentials.get(id);
  }

  /** Passages 0 … count-1 of a credential as they stand (undefined where none exists). */
  async passages(credentialId: string, count: number): Promise<(EvidenceDocument | undefined)[]> {
    const ids = Array.from({ length: count }, (_, i) => passageId(credentialId, i));
    const missing = ids.filter((id) => !this.evidence.has(id));
    const fetched = new Map(
      (await mget<EvidenceDocument>(this.es, this.targets.evidence, missing)).map((d) => [d.id, d.doc]),
    );
    return ids.map((id) => this.evidence.get(id)?.doc ?? fetched.get(id));
  }

  put(write: { credential: VersionedDocument<CredentialDocument>; passages: VersionedDocument<EvidenceDocument>[] }) {
    this.credentials.set(write.credential.id, write.credential);
    for (const p of write.passages) this.evidence.set(p.id, p);
  }

  /**
   * A knowledge document's passages as they stand: 0, 1, … up to the first id that exists
   * neither in this batch nor in the index (slots are contiguous), with their versions.
   */
  async documentPassages(documentId: string): Promise<VersionedDocument<EvidenceDocument>[]> {
    const out: VersionedDocument<EvidenceDocument>[] = [];
    for (let from = 0; ; from += PASSAGE_PROBE) {
      const ids = Array.from({ length: PASSAGE_PROBE }, (_, i) => passageId(documentId, from + i));
      const fetched = new Map(
        (
          await mget<EvidenceDocument>(
            this.es,
            this.targets.evidence,
            ids.filter((id) => !this.evidence.has(id)),
          )
        ).map((d) => [d.id, d]),
      );
      for (const id of ids) {
        const found = this.evidence.get(id) ?? fetched.get(id);
        if (!found) return out;
        out.push(found);
      }
    }
  }

  /** A document's passages to write; passage 0 goes last (moved behind anything this batch holds). */
  putPassages(passages: VersionedDocument<EvidenceDocument>[]): void {
    const first = passages.find((p) => p.doc.passage_index === 0);
    for (const p of passages) if (p !== first) this.evidence.set(p.id, p);
    if (first) {
      this.evidence.delete(first.id);
      this.evidence.set(first.id, first);
    }
  }

  /** What to write, in order: the evidence index, then the credentials index. */
  pending(): [string, VersionedDocument<unknown>[]][] {
    return [
      [this.targets.evidence, [...this.evidence.values()]],
      [this.targets.credentials, [...this.credentials.values()]],
    ];
  }
}

/** Realtime multi-get (sees writes not yet refreshed); only the documents that exist. */
async function mget<D>(es: ElasticsearchClient, index: string, ids: string[]): Promise<VersionedDocument<D>[]> {
  if (ids.length === 0) return [];
  const found: VersionedDocument<D>[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const res = await es.mget<D>({ index, ids: ids.slice(i, i + 500), realtime: true });
    for (const d of res.docs) {
      if ('found' in d && d.found && d._source && d._version !== undefined) {
        found.push({ id: d._id, version: d._version, doc: d._source });
      }
    }
  }
  return found;
}

const BULK_CHUNK = 200;

/**
 * `_bulk` index operations with `version_type: external`. A 409 (the stored version is this one
 * or newer: a replay, or an overlapping runner) counts as done; any other failure throws, so the
 * batch is retried and its offset not stored.
 */
export async function bulkVersioned(
  es: ElasticsearchClient,
  index: string,
  docs: VersionedDocument<unknown>[],
): Promise<{ written: number; conflicts: number }> {
  let written = 0;
  let conflicts = 0;
  for (let i = 0; i < docs.length; i += BULK_CHUNK) {
    const chunk = docs.slice(i, i + BULK_CHUNK);
    const operations = chunk.flatMap((d) => [
      { index: { _index: index, _id: d.id, version: d.version, version_type: 'external' as const } },
      d.doc,
    ]);
    const res = await es.bulk({ operations });
    const failures: estypes.BulkResponseItem[] = [];
    for (const item of res.items) {
      const r = item.index;
      if (!r) continue;
      if (r.status === 409) conflicts++;
      else if (r.status >= 200 && r.status < 300) written++;
      else failures.push(r);
    }
    if (failures.length > 0) {
      const first = failures[0]!;
      throw new Error(
        `bulk write to ${index}: ${failures.length} of ${chunk.length} failed, e.g. ${first._id}: ${first.status} ${JSON.stringify(first.error)}`,
      );
    }
  }
  return { written, conflicts };
}
