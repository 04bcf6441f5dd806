import type { Actor, CommandMetadata } from '../shared/decider';
import { DeciderSpecification, stateAfter } from '../shared/deciderSpecification';
import { idFromKey } from '../shared/ids';
import type { AddKnowledgeDocument, CatalogCommand, CatalogState, ReviseKnowledgeDocument } from './decide';
import { aggregateIdOf, aggregateTypeOf, catalogDecider } from './decide';
import type { KnowledgeDocumentAdded, KnowledgeDocumentRevised } from './knowledgeDocument';
import { documentTextProblem, MAX_DOCUMENT_TEXT, sourceUriProblem } from './knowledgeDocument';
import type { RoleCreated } from './role';

const given = DeciderSpecification.for(catalogDecider);

const admin: Actor = { id: idFromKey('user', 'root@example.com'), role: 'admin' };
const system: Actor = { id: 'system:demo-catalog', role: 'system' };
const student: Actor = { id: idFromKey('user', 'ada@example.com'), role: 'student' };
const advisor: Actor = { id: idFromKey('user', 'grace@example.com'), role: 'advisor' };
const meta = (actor: Actor = admin): CommandMetadata => ({
  command_id: idFromKey('command', 'document-spec'),
  now: '2025-03-01T09:00:00.000Z',
  actor,
});

const documentId = idFromKey('document', 'sql-in-practice');
const text = '# SQL in practice\n\nAnalysts write SQL every day.\r\nThey join, filter and aggregate.\tTabs are fine.\n';

const add = (data: Partial<AddKnowledgeDocument['data']> = {}, actor?: Actor): AddKnowledgeDocument => ({
  type: 'AddKnowledgeDocument',
  data: {
    document_id: documentId,
    title: 'SQL in practice',
    source_uri: 'https://docs.microcred.example/guides/sql-in-practice',
    text,
    ...data,
  },
  metadata: meta(actor),
});
const revise = (data: Partial<ReviseKnowledgeDocument['data']>, actor?: Actor): ReviseKnowledgeDocument => ({
  type: 'ReviseKnowledgeDocument',
  data: { document_id: documentId, ...data },
  metadata: meta(actor),
});
const retire = (actor?: Actor, reason: string | null = 'superseded'): CatalogCommand => ({
  type: 'RetireKnowledgeDocument',
  data: { document_id: documentId, reason },
  metadata: meta(actor),
});
const added: KnowledgeDocumentAdded = {
  type: 'KnowledgeDocumentAdded',
  data: {
    document_id: documentId,
    version: '1',
    title: 'SQL in practice',
    source_uri: 'https://docs.microcred.example/guides/sql-in-practice',
    text,
  },
};
const revised = (
  version: string,
  changes: Partial<KnowledgeDocumentRevised['data']> = {},
): KnowledgeDocumentRevised => ({
  type: 'KnowledgeDocumentRevised',
  data: { ...added.data, version, ...changes },
});
const retired = {
  type: 'KnowledgeDocumentRetired',
  data: { document_id: documentId, version: '1', reason: 'superseded' },
} as const;

describe('Knowledge documents (catalog decider)', () => {
  test('commands are keyed by the document id and typed knowledge_document', () => {
    expect(aggregateIdOf(add())).toBe(documentId);
    expect(aggregateIdOf(revise({ title: 'x' }))).toBe(documentId);
    expect(aggregateTypeOf(add())).toBe('knowledge_document');
    expect(aggregateTypeOf(retired)).toBe('knowledge_document');
    expect(aggregateTypeOf(revised('2'))).toBe('knowledge_document');
  });

  describe.each<[string, CatalogCommand]>([
    ['AddKnowledgeDocument', add()],
    ['ReviseKnowledgeDocument', revise({ title: 'x' })],
    ['RetireKnowledgeDocument', retire()],
  ])('%s is admin-only', (_name, command) => {
    test.each([
      ['a student', student],
      ['an advisor', advisor],
    ])('%s is refused', (_who, actor) => {
      given([added])
        .when({ ...command, metadata: meta(actor) })
        .thenThrows('ADMIN_ROLE_REQUIRED', { kind: 'forbidden', message: /Only an admin/ });
    });
  });

  describe('when none', () => {
    test('AddKnowledgeDocument adds version "1", the text exactly as given (not trimmed)', () => {
      given([]).when(add()).then([added]);
      const padded = `\n  ${text}  \n`;
      given([])
        .when(add({ text: padded, title: '  SQL in practice ' }, system))
        .then([{ ...added, data: { ...added.data, text: padded, title: 'SQL in practice' } }]);
    });

    test.each<[string, Partial<AddKnowledgeDocument['data']>, RegExp]>([
      ['a blank title', { title: '  ' }, /title must not be empty/],
      ['a title over 200 characters', { title: 'x'.repeat(201) }, /title must be at most 200 characters/],
      ['a title on two lines', { title: 'SQL\nin practice' }, /title must be one line/],
      ['a relative source URI', { source_uri: 'guides/sql' }, /source_uri must be an absolute URI/],
      ['a source URI with a space', { source_uri: 'https://docs.example.org/a guide' }, /no spaces/],
      ['an http URI without a host', { source_uri: 'https:guide' }, /source_uri must be an absolute URI/],
      ['a Windows path', { source_uri: 'C:\\docs\\guide.md' }, /source_uri must be an absolute URI/],
      ['an empty text', { text: '' }, /text must not be empty/],
      ['a text of only whitespace', { text: ' \n\t\r\n ' }, /text must not be empty/],
      ['a text that is not a string', { text: 42 as never }, /text must be a string/],
      [
        'a text over the limit',
        { text: 'a'.repeat(MAX_DOCUMENT_TEXT + 1) },
        /text must be at most 200,000 characters \(got 200,001\)/,
      ],
      ['a NUL byte', { text: 'PK\u0003\u0004\u0000\u0000binary' }, /control character U\+0003 at character 2/],
      ['a form feed', { text: 'page one\fpage two' }, /control character U\+000C at character 8/],
      [
        'replacement characters from a bad decode',
        { text: 'caf\uFFFD au lait' },
        /U\+FFFD replacement characters \(the first at character 3\).*not UTF-8/,
      ],
      ['a lone surrogate', { text: 'half \uD83D of an emoji' }, /lone surrogate U\+D83D at character 5/],
    ])('refuses %s with INVALID_DOCUMENT (422), naming the problem', (_name, data, message) => {
      given([]).when(add(data)).thenThrows('INVALID_DOCUMENT', { kind: 'validation', message });
    });

    test('accepts the longest text, any script, emoji and URNs', () => {
      given([])
        .when(add({ text: 'a'.repeat(MAX_DOCUMENT_TEXT) }))
        .thenEvents();
      const events = given([])
        .when(add({ text: 'Zürich, 東京, naïve — 👩🏽‍💻 ok', source_uri: 'urn:isbn:9780262033848' }))
        .thenEvents();
      expect(events[0]!.data).toMatchObject({ source_uri: 'urn:isbn:9780262033848' });
    });

    test('a document id must be a UUID', () => {
      given([])
        .when(add({ document_id: 'sql' }))
        .thenThrows('INVALID_COMMAND', { message: /document_id must be a UUID/ });
    });

    test('ReviseKnowledgeDocument and RetireKnowledgeDocument are refused: no such document', () => {
      given([])
        .when(revise({ title: 'x' }))
        .thenThrows('DOCUMENT_NOT_FOUND', { kind: 'not_found' });
      given([]).when(retire()).thenThrows('DOCUMENT_NOT_FOUND', { kind: 'not_found' });
    });
  });

  describe('when active', () => {
    test('AddKnowledgeDocument is refused: it exists', () => {
      given([added]).when(add()).thenThrows('DOCUMENT_ALREADY_EXISTS', { kind: 'conflict' });
    });

    test('ReviseKnowledgeDocument makes version "2" carrying the full definition', () => {
      given([added])
        .when(revise({ text: 'New text.', title: null }))
        .then([revised('2', { text: 'New text.' })]);
    });

    test('each revision is the next version', () => {
      given([added, revised('2', { title: 'Two' })])
        .when(revise({ source_uri: 'urn:microcred:guide:sql' }))
        .then([revised('3', { title: 'Two', source_uri: 'urn:microcred:guide:sql' })]);
    });

    test('a revision is validated like an addition', () => {
      given([added])
        .when(revise({ text: 'binary\u0000' }))
        .thenThrows('INVALID_DOCUMENT', {
          message: /control character U\+0000 at character 6/,
          details: { field: 'text' },
        });
      given([added])
        .when(revise({ source_uri: 'not a uri' }))
        .thenThrows('INVALID_DOCUMENT', { details: { field: 'source_uri' } });
    });

    test('ReviseKnowledgeDocument with nothing to change is refused', () => {
      given([added])
        .when(revise({ title: null, text: undefined }))
        .thenThrows('NOTHING_TO_REVISE', { kind: 'validation', message: /title, source_uri, text/ });
    });

    test('RetireKnowledgeDocument retires the current version, with an optional reason', () => {
      given([added]).when(retire()).then([retired]);
      given([added, revised('2')])
        .when(retire(admin, null))
        .then([{ type: 'KnowledgeDocumentRetired', data: { document_id: documentId, version: '2', reason: null } }]);
    });
  });

  describe('when retired', () => {
    test('ReviseKnowledgeDocument and RetireKnowledgeDocument are refused', () => {
      given([added, retired])
        .when(revise({ title: 'x' }))
        .thenThrows('DOCUMENT_RETIRED', { kind: 'conflict', message: /retired and cannot be revised/ });
      given([added, retired])
        .when(retire())
        .thenThrows('DOCUMENT_RETIRED', { message: /already retired/ });
    });
  });

  test('an id used by another kind of catalog entry is refused, both ways', () => {
    const roleCreated: RoleCreated = {
      type: 'RoleCreated',
      data: { role_id: documentId, name: 'Analyst', description: '', skills_profile: [{ skill: 'sql' }] },
    };
    given([roleCreated])
      .when(add())
      .thenThrows('CATALOG_ID_IN_USE', { message: /is the id of a role, not of a knowledge_document/ });
    given([added])
      .when({
        type: 'CreateRole',
        data: { role_id: documentId, name: 'Analyst', skills_profile: [{ skill: 'sql' }] },
        metadata: meta(),
      })
      .thenThrows('CATALOG_ID_IN_USE', { message: /is the id of a knowledge_document, not of a role/ });
  });

  describe('evolve', () => {
    test('keeps the current version, and ignores events that do not fit the state', () => {
      expect(stateAfter(catalogDecider, [added, revised('2', { title: 'Two' })]).knowledge_document).toMatchObject({
        status: 'active',
        version: '2',
        title: 'Two',
      });
      expect(stateAfter(catalogDecider, [added, retired]).knowledge_document).toMatchObject({ status: 'retired' });
      expect(stateAfter(catalogDecider, [retired, revised('2')])).toEqual(catalogDecider.initialState());
      expect(stateAfter(catalogDecider, [added, retired, revised('2')]).knowledge_document).toMatchObject({
        status: 'retired',
        version: '1',
      });
    });

    test('a state from before documents existed (an old decider snapshot) still decides and evolves', () => {
      const { knowledge_document: _none, ...old } = catalogDecider.initialState();
      const legacy = old as CatalogState;
      expect(catalogDecider.decide(add(), legacy)).toEqual([added]);
      expect(catalogDecider.evolve(legacy, added).knowledge_document).toMatchObject({ status: 'active' });
      const credential: CatalogCommand = {
        type: 'CreateCredential',
        data: { credential_id: documentId, title: 'CKA', skills: ['kubernetes'] },
        metadata: meta(),
      };
      expect(catalogDecider.decide(credential, legacy)[0]!.type).toBe('CredentialCreated');
    });
  });
});

describe('documentTextProblem and sourceUriProblem', () => {
  test('plain text with tabs, CR and LF is fine', () => {
    expect(documentTextProblem('a\tb\r\nc\n')).toBeUndefined();
    expect(documentTextProblem('\u{1F600} and \u00E9')).toBeUndefined();
  });

  test.each([
    'https://docs.microcred.example/guides/sql',
    'http://localhost:3000/guide',
    'urn:isbn:9780262033848',
    'microcred://credentials/5f7c',
    'mailto:advisors@example.org',
  ])('%s is a source URI', (uri) => {
    expect(sourceUriProblem(uri)).toBeUndefined();
  });

  test.each(['', '/guides/sql', 'docs.example.org/guide', 'https://', 'http:///path', 'x:'])(
    '%p is not a source URI',
    (uri) => {
      expect(sourceUriProblem(uri)).toEqual(expect.any(String));
    },
  );
});
