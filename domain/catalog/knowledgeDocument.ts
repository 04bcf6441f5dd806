import type { Event } from '../shared/decider';

/**
 * A knowledge document an admin loads into the catalog: a guide, a syllabus, a page of advice.
 * Retrieval cuts its text into passages and quotes them as evidence for recommendations, by
 * character offsets into `text`, so the text is stored exactly as given (never trimmed or
 * normalised). Documents are versioned like questions: creation is version "1" and every
 * revision is the next version, its event carrying the complete definition after the change.
 */
export const knowledgeDocumentAggregateType = 'knowledge_document';

export interface KnowledgeDocumentDefinition {
  title: string;
  /** Where the document comes from: an absolute URI (https://…, urn:…). Quoted with every passage. */
  source_uri: string;
  /** The full text, as given (offsets of passages index into it). */
  text: string;
}

export type KnowledgeDocumentVersionData = { document_id: string; version: string } & KnowledgeDocumentDefinition;

export type KnowledgeDocumentAdded = Event<'KnowledgeDocumentAdded', KnowledgeDocumentVersionData>;
/** Carries the full definition after the revision, as the next version. */
export type KnowledgeDocumentRevised = Event<'KnowledgeDocumentRevised', KnowledgeDocumentVersionData>;
export type KnowledgeDocumentRetired = Event<
  'KnowledgeDocumentRetired',
  { document_id: string; version: string; reason: string | null }
>;

export type KnowledgeDocumentEvent = KnowledgeDocumentAdded | KnowledgeDocumentRevised | KnowledgeDocumentRetired;

const eventTypeSet: Record<KnowledgeDocumentEvent['type'], true> = {
  KnowledgeDocumentAdded: true,
  KnowledgeDocumentRevised: true,
  KnowledgeDocumentRetired: true,
};
export const knowledgeDocumentEventTypes = Object.keys(eventTypeSet) as KnowledgeDocumentEvent['type'][];

export type KnowledgeDocumentState =
  { status: 'none' } | ({ status: 'active' | 'retired' } & KnowledgeDocumentVersionData);

export const initialKnowledgeDocumentState = (): KnowledgeDocumentState => ({ status: 'none' });

export function evolveKnowledgeDocument(
  state: KnowledgeDocumentState,
  event: KnowledgeDocumentEvent,
): KnowledgeDocumentState {
  switch (event.type) {
    case 'KnowledgeDocumentAdded':
      if (state.status !== 'none') return state;
      return { status: 'active', ...event.data };
    case 'KnowledgeDocumentRevised':
      if (state.status !== 'active') return state;
      return { status: 'active', ...event.data };
    case 'KnowledgeDocumentRetired':
      if (state.status !== 'active') return state;
      return { ...state, status: 'retired' };
    default: {
      const _unhandled: never = event;
      return state;
    }
  }
}

// --- What a document's fields may hold (pure; also used by the CLI before it sends anything) ---

/** The longest text a document may have, in characters (UTF-16 code units, as offsets count them). */
export const MAX_DOCUMENT_TEXT = 200_000;
export const MAX_DOCUMENT_TITLE = 200;
export const MAX_SOURCE_URI = 2000;

// C0 control characters other than tab, line feed and carriage return.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const codePoint = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why `text` is not a document's text, or undefined when it is: empty (or only whitespace),
 * longer than MAX_DOCUMENT_TEXT, or not text at all: a NUL or another C0 control character
 * (a binary file), U+FFFD replacement characters (bytes that were not UTF-8, decoded anyway), or
 * a lone surrogate (not Unicode). Positions are character offsets from 0.
 */
export function documentTextProblem(text: string): string | undefined {
  if (text.trim().length === 0) return 'text must not be empty.';
  if (text.length > MAX_DOCUMENT_TEXT) {
    return `text must be at most ${MAX_DOCUMENT_TEXT.toLocaleString('en-US')} characters (got ${text.length.toLocaleString('en-US')}); split the document.`;
  }
  const control = CONTROL.exec(text);
  if (control) {
    return `text is not plain text: it holds the control character ${codePoint(control[0])} at character ${control.index} (a binary file?); only tab, line feed and carriage return are allowed.`;
  }
  const replacement = text.indexOf('\uFFFD');
  if (replacement >= 0) {
    return `text holds U+FFFD replacement characters (the first at character ${replacement}): it was decoded from bytes that are not UTF-8; send the original text as UTF-8.`;
  }
  const lone = LONE_SURROGATE.exec(text);
  if (lone) return `text is not valid Unicode: a lone surrogate ${codePoint(lone[0])} at character ${lone.index}.`;
  return undefined;
}

/** Why `uri` is not a source URI, or undefined: an absolute URI with a scheme (http(s) with a host). */
export function sourceUriProblem(uri: string): string | undefined {
  const shown = uri.length > 80 ? `${JSON.stringify(uri.slice(0, 77))}...` : JSON.stringify(uri);
  const expected = `source_uri must be an absolute URI such as https://docs.example.org/guide or urn:isbn:9780000000000, got ${shown}.`;
  if (uri.length === 0) return 'source_uri must not be empty.';
  if (uri.length > MAX_SOURCE_URI)
    return `source_uri must be at most ${MAX_SOURCE_URI} characters (got ${uri.length}).`;
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001F\u007F]/.test(uri)) return `${expected} (no spaces or control characters)`;
  // A scheme of two letters or more (one letter is a Windows drive: C:\docs is a path, not a URI).
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):(.+)$/.exec(uri);
  if (!scheme) return expected;
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return expected;
  }
  const web = ['http', 'https'].includes(scheme[1]!.toLowerCase());
  if (web && (!/^\/\/[^/?#]/.test(scheme[2]!) || parsed.hostname === '')) return expected;
  return undefined;
}
