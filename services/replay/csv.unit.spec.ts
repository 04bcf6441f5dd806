import { csvField, csvRecord, EVENT_CSV_COLUMNS, EVENT_CSV_HEADER, eventCsvRecord } from './csv';
import type { LoggedEvent } from './eventLog';
import { parseCsv } from './testing/parseCsv';

describe('RFC 4180 fields', () => {
  test('plain text is left as is; empty for null', () => {
    expect(csvField('abc')).toBe('abc');
    expect(csvField(42)).toBe('42');
    expect(csvField(null)).toBe('');
    expect(csvField('')).toBe('');
  });

  test('commas, quotes and line breaks are quoted, quotes doubled', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rlf')).toBe('"cr\rlf"');
    expect(csvField('"')).toBe('""""');
  });

  test('records end with CRLF and read back field for field', () => {
    const tricky = ['plain', 'a,b', 'say "hi", then\r\nleave', '', '"', 'é ✓', ',,', '\n'];
    const text = csvRecord(tricky) + csvRecord(['x', 'y']);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(parseCsv(text)).toEqual([tricky, ['x', 'y']]);
  });
});

describe('an event as a CSV record', () => {
  const event: LoggedEvent = {
    event_id: 'e-1',
    aggregate_id: 'a-1',
    aggregate_type: 'assessment',
    version: 3,
    type: 'ResponseRecorded',
    occurred_at: '2026-01-02T03:04:05.000Z',
    actor: { id: 'u-1', role: 'student' },
    correlation_id: 'c,1',
    causation_id: null,
    data: { answer: 'He said "ship it",\nthen left', n: 1 },
    topic: 'microcred.assessment.events',
    partition: 2,
    offset: 17,
    schema_id: 5,
    timestamp: 0,
  };

  test('the header is fixed', () => {
    expect(parseCsv(EVENT_CSV_HEADER)).toEqual([[...EVENT_CSV_COLUMNS]]);
    expect(EVENT_CSV_HEADER).toBe(
      'event_id,aggregate_id,aggregate_type,version,type,occurred_at,actor_id,actor_role,correlation_id,causation_id,topic,partition,offset,data\r\n',
    );
  });

  test('round trip: data is JSON, null causation is empty', () => {
    const [row] = parseCsv(eventCsvRecord(event));
    const byColumn = Object.fromEntries(EVENT_CSV_COLUMNS.map((c, i) => [c, row![i]]));
    expect(byColumn).toMatchObject({
      event_id: 'e-1',
      version: '3',
      correlation_id: 'c,1',
      causation_id: '',
      offset: '17',
    });
    expect(JSON.parse(byColumn.data!)).toEqual(event.data);
  });
});
