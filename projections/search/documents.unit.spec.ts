import type { CredentialCreated, CredentialRetired, CredentialRevised } from '../../domain/catalog/credential';
import type { StoredOf } from '../../services/messaging/envelopes';
import type { EmbeddedText } from '../../services/processors/embeddings/passages';
import { splitPassages } from '../../services/processors/embeddings/passages';
import { credentialDefined, credentialRetired, credentialText, logVersion, passageId } from './documents';

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
