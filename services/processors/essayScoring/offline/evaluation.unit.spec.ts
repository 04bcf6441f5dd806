import { LexicalEmbeddings } from '../../embeddings/lexicalEmbeddings';
import { formatBenchReport, hashSplit, runEssayBench } from './evaluation';
import { sampleRows } from './testing/sample';

describe('essay-quality bench core', () => {
  it('runs on the shipped sample: report shape, last line, and the calibrated scorer beats the baselines', async () => {
    const rows = sampleRows();
    const sets = [...new Set(rows.map((r) => r.set))];
    expect(sets.length).toBeGreaterThanOrEqual(3);
    const report = await runEssayBench(rows, new LexicalEmbeddings());

    expect(report.sets.map((s) => s.set)).toEqual(sets);
    expect(report.embeddings).toMatchObject({ provider: 'lexical', degraded: true });
    for (const s of report.sets) {
      expect(s.train + s.test).toBe(rows.filter((r) => r.set === s.set).length);
      expect(s.model).toMatch(/^offline-calibrated-v1:\d+ examples$/);
      expect(s.human).not.toBeNull();
      for (const a of [s.offline, s.baselines.tfidf_ridge, s.baselines.embedding_ridge]) {
        expect(a.qwk).toBeGreaterThanOrEqual(-1);
        expect(a.qwk).toBeLessThanOrEqual(1);
        expect(a.adjacent).toBeGreaterThanOrEqual(a.exact);
      }
    }
    expect(report.mean.offline).toBeGreaterThan(report.mean.tfidf_ridge);
    expect(report.mean.offline).toBeGreaterThan(report.mean.constant);

    const text = formatBenchReport(report);
    const last = text.split('\n').pop();
    expect(last).toMatch(/^mean_qwk=-?\d\.\d{3} human_qwk=(?:-?\d\.\d{3}|n\/a)$/);
    expect(text).toMatch(/DEGRADED lexical fallback/);
  });

  it('splits deterministically by a hash of the text, about 75/25', () => {
    const texts = Array.from({ length: 2000 }, (_, i) => `answer number ${i}`);
    const train = texts.filter((t) => hashSplit(t) === 'train').length;
    expect(train / texts.length).toBeGreaterThan(0.7);
    expect(train / texts.length).toBeLessThan(0.8);
    expect(texts.map((t) => hashSplit(t))).toEqual(texts.map((t) => hashSplit(t)));
  });
});
