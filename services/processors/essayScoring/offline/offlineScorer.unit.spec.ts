import catalog from '../../../cli/demo/catalog.json';
import type { EssayRubric } from '../../../../domain/assessment/rubric';
import { LexicalEmbeddings } from '../../embeddings/lexicalEmbeddings';
import type { EssayToScore } from '../essayScore';
import type { CalibratedModel } from './calibration';
import { OfflineEssayScorer } from './offlineScorer';
import { sampleSet } from './testing/sample';

interface DemoQuestion {
  slug: string;
  question_type: string;
  prompt: string;
  rubric: unknown;
}
const demo = (catalog.roles as { questions: DemoQuestion[] }[])
  .flatMap((r) => r.questions)
  .find((q) => q.slug === 'data-analyst-q9') as DemoQuestion;
const rubric = demo.rubric as EssayRubric;

const GOOD =
  'First I would clarify the question with the manager: which metric dropped (revenue, units or number of orders), ' +
  'compared with which baseline (last month or the same month last year, to rule out seasonality), and for which scope ' +
  'of regions, products and channels, and what decision the answer should support. Then I would request order-level ' +
  'sales data with product, store, channel and customer type, plus the promotions calendar, price changes and stock ' +
  'levels. Before trusting the drop I would check data quality: is last month complete or are there late-arriving ' +
  'records and failed loads, are there duplicates, did any tracking or definition change, and do the totals reconcile ' +
  'with the finance figures. For the analysis I would segment the drop by product, region, channel and new versus ' +
  'returning customers, and decompose revenue into volume times price to see which driver explains it. I would also ' +
  'check known events such as promotions that ended, stock-outs, holidays and competitor activity, and quantify how ' +
  'much each driver contributed. Finally I would present the findings to the manager leading with the answer: the ' +
  'main drivers and how much each contributed, shown in a waterfall chart, with my confidence, the limitations of ' +
  'the data and a recommended next step.';
const WEAK =
  'I would look at the data to see what happened with the sales last month. Maybe the sales went down because people ' +
  'did not want to buy as much as before or because of the weather. I would make some charts in Excel and look at ' +
  'them carefully to find the reason. Then I would write an email to the manager and send the results. I think it ' +
  'is important to work hard and be careful with the numbers so the manager is happy with the work that I did and ' +
  'can understand it.';

const essay = (text: string, over: Partial<EssayToScore> = {}): EssayToScore => ({
  question_id: 'data-analyst-q9',
  prompt: demo.prompt,
  rubric,
  max_score: 5,
  text,
  ...over,
});

const evap = sampleSet('science-evaporation');
const evapEssay = (text: string): EssayToScore => ({
  question_id: 'science-evaporation',
  prompt: evap.prompt,
  rubric: null,
  max_score: 3,
  text,
});

const BAD = [
  { kind: 'empty', text: '   ' },
  { kind: 'gibberish', text: 'asdfgh jkl qwerty zxcvb sdkjfh' },
  { kind: 'copied_prompt', text: evap.prompt },
  { kind: 'keyword_stuffing', text: 'particles, energy, heat, sun, evaporation, vapour, faster, escape, surface, gas' },
  {
    kind: 'keyword_stuffing',
    text: 'energy particles faster escape surface vapour energy particles faster escape surface vapour',
  },
  { kind: 'off_topic', text: 'I like going to the beach in summer with my friends and eating ice cream there.' },
];

describe('OfflineEssayScorer', () => {
  const scorer = new OfflineEssayScorer(new LexicalEmbeddings());
  let model: CalibratedModel | null = null;

  beforeAll(async () => {
    model = await scorer.calibrate(
      { question_id: 'science-evaporation', prompt: evap.prompt, rubric: null },
      evap.rows.filter((r) => r.score > 0 || r.text.length > 40).map((r) => ({ text: r.text, score: r.score })),
    );
  });

  describe('without a calibrated model (rubric coverage)', () => {
    it('gives a good answer a higher score than a weak one, with bands and verbatim evidence', async () => {
      const good = await scorer.score(essay(GOOD), null);
      const weak = await scorer.score(essay(WEAK), null);
      expect(good.model).toBe('offline-rubric-v1');
      expect(good.flags).toEqual([]);
      expect(weak.flags).toEqual([]);
      expect(good.score).toBeGreaterThan(weak.score);
      expect(good.score).toBeGreaterThan(0);
      expect(good.score).toBeLessThanOrEqual(5);
      expect(good.criteria.map((c) => c.criterion_id)).toEqual(rubric.criteria.map((c) => c.id));
      for (const [r, text] of [
        [good, GOOD],
        [weak, WEAK],
      ] as const) {
        for (const c of r.criteria) {
          expect(text.includes(c.evidence)).toBe(true);
          expect(c.band_score).toBeGreaterThanOrEqual(0);
          expect(c.band_score).toBeLessThanOrEqual(c.max_band_score);
          expect(c.rationale.length).toBeGreaterThan(10);
        }
      }
      expect(good.criteria.every((c) => c.evidence !== '')).toBe(true);
      const sum = (r: typeof good) => r.criteria.reduce((s, c) => s + c.band_score, 0);
      expect(sum(good)).toBeGreaterThan(sum(weak));
      expect(good).toMatchObject({
        provider: 'offline',
        prompt_version: 'offline-v1',
        degraded: true,
        tokens_in: 0,
        tokens_out: 0,
        cost_cents: 0,
      });
      expect(good.latency_ms).toBeGreaterThanOrEqual(0);
    });

    it('scores a flagged answer at the minimum', async () => {
      const r = await scorer.score(essay('sql, data, charts, dashboard, metric, baseline, region, seasonality'), null);
      expect(r.score).toBe(0);
      expect(r.needs_review).toBe(true);
      expect(r.criteria.every((c) => c.band_score === 0 && c.evidence === '')).toBe(true);
    });
  });

  describe('with a model calibrated on scored examples and no rubric', () => {
    it('calibrates and says which model scored', async () => {
      expect(model).not.toBeNull();
      const good = await scorer.score(
        evapEssay(
          'The sun gives the water particles more energy so they move faster and more of them escape from the surface as vapour.',
        ),
        model,
      );
      const weak = await scorer.score(evapEssay('The water got used up by the sun.'), model);
      expect(good.model).toBe(`offline-calibrated-v1:${model?.n_examples} examples`);
      expect(good.score).toBeGreaterThan(weak.score);
      expect(good.criteria).toHaveLength(1);
      expect(good.criteria[0]?.criterion_id).toBe('overall');
    });

    it.each(BAD)('does not reward $kind: $text', async ({ kind, text }) => {
      const r = await scorer.score(evapEssay(text), model);
      expect(r.score).toBe(0);
      expect(r.flags).toContain(kind);
      expect(r.needs_review).toBe(true);
      expect(r.rationale).toMatch(/Not rewarded/);
    });

    it('evidence is always an exact substring of the answer', async () => {
      for (const row of evap.rows) {
        const r = await scorer.score(evapEssay(row.text), model);
        for (const c of r.criteria) expect(row.text.includes(c.evidence)).toBe(true);
      }
    });

    it('uses the calibrated model with a rubric too, keeping per-criterion bands', async () => {
      const rubricModel = await scorer.calibrate(
        { question_id: 'data-analyst-q9', prompt: demo.prompt, rubric },
        [...Array(12).keys()].flatMap((i) => [
          { text: `${GOOD} (${i})`, score: 5 },
          { text: `${WEAK} (${i})`, score: 1 },
        ]),
      );
      expect(rubricModel).not.toBeNull();
      const r = await scorer.score(essay(GOOD), rubricModel);
      expect(r.model).toMatch(/^offline-calibrated-v1:24 examples$/);
      expect(r.score).toBe(5);
      expect(r.criteria.map((c) => c.criterion_id)).toEqual(rubric.criteria.map((c) => c.id));
      for (const c of r.criteria) expect(GOOD.includes(c.evidence)).toBe(true);
    });
  });

  it('without rubric and without a model, scores nothing and asks for review', async () => {
    const r = await scorer.score(evapEssay('The sun heats the water so it evaporates.'), null);
    expect(r.score).toBe(0);
    expect(r.needs_review).toBe(true);
  });
});

describe('recalibration', () => {
  /** The lexical embedding, counting the texts it is asked to embed. */
  class CountingEmbeddings extends LexicalEmbeddings {
    texts = 0;
    override embed(texts: string[]) {
      this.texts += texts.length;
      return super.embed(texts);
    }
  }

  it('reuses the previous model’s vectors: one new example embeds one text, and fits as a fresh calibration', async () => {
    const embeddings = new CountingEmbeddings();
    const scorer = new OfflineEssayScorer(embeddings);
    const question = { question_id: 'science-evaporation', prompt: evap.prompt, rubric: null };
    const rows = evap.rows.map((r) => ({ text: r.text, score: r.score }));
    const previous = await scorer.calibrate(question, rows.slice(0, -1));
    embeddings.texts = 0;
    const refitted = await scorer.calibrate(question, rows, previous);
    expect(embeddings.texts).toBe(1);
    const fresh = await new OfflineEssayScorer(new LexicalEmbeddings()).calibrate(question, rows);
    expect(refitted).toEqual(fresh);
  });
});
