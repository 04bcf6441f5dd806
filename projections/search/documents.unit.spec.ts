import type { CredentialCreated, CredentialRetired, CredentialRevised } from '../../domain/catalog/credential';
import type {
  KnowledgeDocumentAdded,
  KnowledgeDocumentRetired,
  KnowledgeDocumentRevised,
} from '../../domain/catalog/knowledgeDocument';
import type { StoredOf } from '../../services/messaging/envelopes';
import type { EmbeddedText } from '../../services/processors/embeddings/passages';
import { splitPassages } from '../../services/processors/embeddings/passages';
import {
  credentialDefined,
  credentialRetired,
  credentialText,
  documentDefined,
  documentRetired,
  logVersion,
  passageId,
} from './documents';

const id = '7d0b3f9e-0000-4000-8000-000000000001';

function stored<E extends CredentialCreated | CredentialRevised | CredentialRetired>(
  type: E['type'],
  data: E['data'],
  offset: number,
  version: number,
): StoredOf<E> {
  return {
    event_id: `e${offset}`,
    aggregate_id: id,
    aggregate_type: 'credential',
    version,
    type,
    data,
    occurred_at: `2025-03-01T09:00:0${version}Z`,
    actor: { id: 'admin', role: 'admin' },
    correlation_id: 'c',
    causation_id: null,
    topic: 't',
    partition: 2,
    offset,
    schema_id: 1,
  } as unknown as StoredOf<E>;
}

/** Fake embeddings: real passage splits (small windows, so several passages), constant vectors. */
function embedded(text: string): EmbeddedText {
  const vector = new Float32Array(384).fill(1 / Math.sqrt(384));
  const passages = splitPassages(text, { targetTokens: 4, maxSentences: 1 }).map((p) => ({ ...p, vector }));
  return { passages, vector, provider: 'lexical', model: 'lexical-hash-v1', degraded: true };
}

const definition = (description: string) => ({
  credential_id: id,
  title: 'SQL basics',
  description,
  skills: ['sql'],
  provider: null,
  metadata: null,
});
const three = 'One sentence here. Another sentence there. A third one, too.';

describe('search documents of a credential', () => {
  it('versions every document by the event log position (offset + 1)', () => {
    const created = stored<CredentialCreated>('CredentialCreated', definition(three), 0, 1);
    const write = credentialDefined(created, { credential: embedded('x'), passages: embedded(three) }, undefined);
    expect(logVersion(0)).toBe(1);
    expect(write.credential.version).toBe(1);
    expect(write.passages.map((p) => [p.id, p.version])).toEqual([0, 1, 2].map((i) => [passageId(id, i), 1]));
    for (const p of write.passages) expect(p.doc.text).toBe(three.slice(p.doc.start, p.doc.end));
    expect(write.credential.doc).toMatchObject({ active: true, passage_count: 3, passage_slots: 3, log_offset: 0 });
    expect(write.credential.doc.embedding_degraded).toBe(true);
  });

  it('turns the passages a revision no longer has into inactive tombstones', () => {
    const created = stored<CredentialCreated>('CredentialCreated', definition(three), 0, 1);
    const first = credentialDefined(created, { credential: embedded('x'), passages: embedded(three) }, undefined);
    const revised = stored<CredentialRevised>('CredentialRevised', definition('Just one now.'), 7, 2);
    const second = credentialDefined(
      revised,
      { credential: embedded('x'), passages: embedded('Just one now.') },
      first.credential.doc,
    );
    expect(second.passages).toHaveLength(3);
    expect(second.passages.every((p) => p.version === 8)).toBe(true);
    expect(second.passages[0]!.doc).toMatchObject({ active: true, text: 'Just one now.', start: 0, end: 13 });
    expect(second.passages.slice(1).map((p) => [p.doc.active, p.doc.text])).toEqual([
      [false, undefined],
      [false, undefined],
    ]);
    expect(second.credential.doc).toMatchObject({ passage_count: 1, passage_slots: 3 });
  });

  it('keeps a retired credential and its passages, inactive, and a later revision does not revive it', () => {
    const created = stored<CredentialCreated>('CredentialCreated', definition(three), 0, 1);
    const first = credentialDefined(created, { credential: embedded('x'), passages: embedded(three) }, undefined);
    const retiredEvent = stored<CredentialRetired>('CredentialRetired', { credential_id: id, reason: null }, 3, 2);
    const retired = credentialRetired(
      retiredEvent,
      first.credential.doc,
      first.passages.map((p) => p.doc),
    );
    expect(retired.credential.doc).toMatchObject({
      active: false,
      title: 'SQL basics',
      retired_at: retiredEvent.occurred_at,
    });
    expect(retired.passages.map((p) => [p.version, p.doc.active, p.doc.text])).toEqual(
      first.passages.map((p) => [4, false, p.doc.text]),
    );
    const stray = stored<CredentialRevised>('CredentialRevised', definition(three), 9, 3);
    const after = credentialDefined(
      stray,
      { credential: embedded('x'), passages: embedded(three) },
      retired.credential.doc,
    );
    expect(after.credential.doc.active).toBe(false);
    expect(after.passages.every((p) => !p.doc.active)).toBe(true);
  });

  it('retires a credential it never saw created as an inactive stub', () => {
    const event = stored<CredentialRetired>('CredentialRetired', { credential_id: id, reason: 'x' }, 5, 2);
    const write = credentialRetired(event, undefined, []);
    expect(write.credential).toMatchObject({ id, version: 6, doc: { active: false, passage_count: 0 } });
    expect(write.passages).toEqual([]);
  });

  it('embeds a credential as its title, description and skills', () => {
    expect(credentialText({ title: 'T', description: 'D.', skills: ['a', 'b'] })).toBe('T\nD.\nSkills: a, b.');
    expect(credentialText({ title: 'T', description: '', skills: [] })).toBe('T');
  });
});

describe('search passages of a knowledge document', () => {
  const docId = '7d0b3f9e-0000-4000-8000-000000000002';
  const storedDoc = <E extends KnowledgeDocumentAdded | KnowledgeDocumentRevised | KnowledgeDocumentRetired>(
    type: E['type'],
    data: E['data'],
    offset: number,
  ): StoredOf<E> =>
    ({
      ...stored<CredentialCreated>('CredentialCreated', definition(''), offset, 1),
      aggregate_id: docId,
      aggregate_type: 'knowledge_document',
      type,
      data,
    }) as unknown as StoredOf<E>;
  const version = (v: string, text: string) => ({
    document_id: docId,
    version: v,
    title: 'SQL guide',
    source_uri: 'https://docs.microcred.example/guides/sql',
    text,
  });
  const text = '  One sentence here.\r\nAnother sentence there. A third one, too.\n';

  it('cuts the text into passages with exact offsets, the source URI and the document version', () => {
    const added = storedDoc<KnowledgeDocumentAdded>('KnowledgeDocumentAdded', version('1', text), 4);
    const passages = documentDefined(added, embedded(text), []);
    expect(passages.map((p) => [p.id, p.version])).toEqual([0, 1, 2].map((i) => [passageId(docId, i), 5]));
    for (const { doc } of passages) {
      expect(doc.text).toBe(text.slice(doc.start, doc.end));
      expect(doc).toMatchObject({
        source_type: 'document',
        source_field: 'text',
        source_id: docId,
        source_uri: 'https://docs.microcred.example/guides/sql',
        source_title: 'SQL guide',
        source_version: '1',
        active: true,
      });
    }
    expect(passages[0]!.doc.start).toBe(2);
  });

  it('a revision tombstones the passages it no longer has; a retirement keeps content, inactive', () => {
    const added = storedDoc<KnowledgeDocumentAdded>('KnowledgeDocumentAdded', version('1', text), 4);
    const first = documentDefined(added, embedded(text), []).map((p) => p.doc);
    const revised = storedDoc<KnowledgeDocumentRevised>('KnowledgeDocumentRevised', version('2', 'Short.'), 9);
    const second = documentDefined(revised, embedded('Short.'), first);
    expect(second.map((p) => [p.doc.active, p.doc.text ?? null, p.version])).toEqual([
      [true, 'Short.', 10],
      [false, null, 10],
      [false, null, 10],
    ]);
    const retired = storedDoc<KnowledgeDocumentRetired>(
      'KnowledgeDocumentRetired',
      { document_id: docId, version: '2', reason: null },
      12,
    );
    const third = documentRetired(
      retired,
      second.map((p) => p.doc),
    );
    expect(third.map((p) => [p.id, p.doc.active, p.doc.text ?? null, p.version])).toEqual([
      [passageId(docId, 0), false, 'Short.', 13],
      [passageId(docId, 1), false, null, 13],
      [passageId(docId, 2), false, null, 13],
    ]);
    // A stray revision after the retirement stays inactive.
    const stray = storedDoc<KnowledgeDocumentRevised>('KnowledgeDocumentRevised', version('3', text), 15);
    expect(
      documentDefined(
        stray,
        embedded(text),
        third.map((p) => p.doc),
      ).every((p) => !p.doc.active),
    ).toBe(true);
  });

  it('cuts the longest text without a space or a sentence end (CJK, base64) in linear time', () => {
    const longest = '知識'.repeat(100_000);
    const started = Date.now();
    const passages = splitPassages(longest);
    // About 0.3 s; quadratic before (every piece re-counted the rest): 14 s here, minutes with MiniLM's tokenizer.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(passages.length).toBeGreaterThan(700);
    expect(passages.map((p) => p.text).join('')).toBe(longest);
    for (const p of passages) {
      expect(p.text).toBe(longest.slice(p.start, p.end));
      expect(p.tokens).toBeLessThanOrEqual(254);
    }
  });

  it('a retirement with no passages before it leaves an inactive stub', () => {
    const retired = storedDoc<KnowledgeDocumentRetired>(
      'KnowledgeDocumentRetired',
      { document_id: docId, version: '1', reason: null },
      3,
    );
    expect(documentRetired(retired, [])).toEqual([
      { id: passageId(docId, 0), version: 4, doc: expect.objectContaining({ active: false, passage_index: 0 }) },
    ]);
  });
});
