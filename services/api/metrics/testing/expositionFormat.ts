/**
 * A strict reader of the Prometheus text exposition format 0.0.4, written against its spec
 * (prometheus.io/docs/instrumenting/exposition_formats, "Text-based format"), for specs: no
 * Prometheus text parser is installed here, so `/metrics` is checked with this reader AND by a
 * round trip against prom-client's own registry (`getMetricsAsJSON`).
 *
 * It throws, naming the line, on anything the format does not allow: a malformed metric or
 * label name, a bad escape in a label value, a value that is not a Go float, a duplicate label,
 * a second HELP or TYPE for a name, a TYPE after the family's samples, a family's samples split
 * into two groups, the same series twice, and, for histograms, a bucket without `le`, buckets
 * that decrease or lack `+Inf`, a `+Inf` bucket different from `_count`.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help?: string;
  type: MetricType;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const GO_FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|0[xX][0-9a-fA-F]+)$/;
const TYPES: MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

function parseValue(text: string, where: string): number {
  // Go's strconv.ParseFloat, which Prometheus uses, reads nan/inf/infinity in any case.
  if (/^nan$/i.test(text)) return NaN;
  if (/^[+]?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (!GO_FLOAT.test(text)) throw new Error(`${where}: "${text}" is not a float`);
  return Number(text);
}

/** `{a="x",b="y\"z"}` starting at `start` (the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, start: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (line[i] === '}') return { labels, end: i + 1 };
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without "="`);
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name "${name}"`);
    if (name in labels) throw new Error(`${where}: label "${name}" twice`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: label "${name}" value is not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] === '\\') {
        const escaped = line[++j];
        if (escaped === '\\') value += '\\';
        else if (escaped === '"') value += '"';
        else if (escaped === 'n') value += '\n';
        else throw new Error(`${where}: bad escape "\\${escaped ?? ''}" in label "${name}"`);
      } else {
        value += line[j];
      }
    }
    if (line[j] !== '"') throw new Error(`${where}: unterminated value of label "${name}"`);
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected "," or "}" after label "${name}"`);
  }
}

function unescapeHelp(text: string, where: string): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new Error(`${where}: bad escape in HELP`);
  });
}

/** The family a sample name belongs to, given the declared types (histogram/summary suffixes). */
function familyOf(sampleName: string, types: Map<string, MetricType>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const type = types.get(base);
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
  }
  return sampleName;
}

export function parseExposition(text: string): Map<string, MetricFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition does not end with a line feed');
  const families = new Map<string, MetricFamily>();
  const types = new Map<string, MetricType>();
  const helps = new Set<string>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  const family = (name: string): MetricFamily => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: 'untyped', samples: [] }));
    return f;
  };
  const enter = (name: string, where: string) => {
    if (current === name) return;
    if (closed.has(name)) throw new Error(`${where}: samples of ${name} are not in one group`);
    if (current) closed.add(current);
    current = name;
  };

  text.split('\n').forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // a comment
      const [, keyword, name, rest = ''] = m as unknown as [string, 'HELP' | 'TYPE', string, string?];
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
      if (keyword === 'HELP') {
        if (helps.has(name)) throw new Error(`${where}: second HELP for ${name}`);
        helps.add(name);
        family(name).help = unescapeHelp(rest, where);
      } else {
        const type = rest.trim() as MetricType;
        if (!TYPES.includes(type)) throw new Error(`${where}: bad type "${rest}" for ${name}`);
        if (types.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
        if (family(name).samples.length > 0) throw new Error(`${where}: TYPE of ${name} after its samples`);
        types.set(name, type);
        family(name).type = type;
      }
      enter(name, where);
      return;
    }
    const nameEnd = line.search(/[{ \t]/);
    if (nameEnd <= 0) throw new Error(`${where}: no value`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
    let labels: Record<string, string> = {};
    let rest = line.slice(nameEnd);
    if (rest.startsWith('{')) {
      const parsed = parseLabels(line, nameEnd, where);
      labels = parsed.labels;
      rest = line.slice(parsed.end);
    }
    const fields = rest.trim().split(/[ \t]+/);
    if (!/^[ \t]/.test(rest) || fields.length < 1 || fields.length > 2) {
      throw new Error(`${where}: expected " value [timestamp]"`);
    }
    const value = parseValue(fields[0]!, where);
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) throw new Error(`${where}: bad timestamp`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`${where}: series ${key} twice`);
    series.add(key);
    const base = familyOf(name, types);
    enter(base, where);
    family(base).samples.push({ name, labels, value });
  });

  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: MetricFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  const groupOf = (labels: Record<string, string>) => {
    const rest = Object.entries(labels)
      .filter(([k]) => k !== 'le')
      .sort();
    const key = JSON.stringify(rest);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    return g;
  };
  for (const s of f.samples) {
    if (s.name === `${f.name}_bucket`) {
      if (s.labels.le === undefined) throw new Error(`${f.name}: a bucket without le`);
      groupOf(s.labels).buckets.push([parseValue(s.labels.le, `${f.name} le`), s.value]);
    } else if (s.name === `${f.name}_count`) {
      groupOf(s.labels).count = s.value;
    } else if (s.name !== `${f.name}_sum`) {
      throw new Error(`${f.name}: unexpected sample ${s.name} in a histogram`);
    }
  }
  for (const [key, g] of groups) {
    const sorted = [...g.buckets].sort((a, b) => a[0] - b[0]);
    sorted.forEach(([, v], i) => {
      if (i > 0 && v < sorted[i - 1]![1]) throw new Error(`${f.name}${key}: buckets decrease`);
    });
    const inf = sorted[sorted.length - 1];
    if (!inf || inf[0] !== Infinity) throw new Error(`${f.name}${key}: no le="+Inf" bucket`);
    if (g.count !== inf[1])
      throw new Error(`${f.name}${key}: _count ${g.count} differs from the +Inf bucket ${inf[1]}`);
  }
}

/** The sum of the series of `sample` whose labels include `labels` (0 when none: a counter not moved yet). */
export function sumOf(
  families: Map<string, MetricFamily>,
  sample: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
    }
  }
  return sum;
}
