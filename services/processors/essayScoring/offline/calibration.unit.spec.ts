import { LexicalEmbeddings } from '../../embeddings/lexicalEmbeddings';
import { quadraticWeightedKappa } from './agreement';
import { decodeVector, fitCalibratedModel, kernelRow, predict, prepareModel, denseFeatures } from './calibration';
import { applyCuts, optimiseCuts } from './kernelRidge';
import { words } from './textFeatures';
import { seededRandom as rng } from '../../../../test/support/seededRandom';

const embeddings = new LexicalEmbeddings();

const CONCEPTS = [
  [
    'the particles gain energy from the sun',
    'the water particles get more heat energy',
    'energy is absorbed by the molecules',
  ],
  ['so they move faster', 'so the molecules speed up', 'and their motion increases'],
  [
    'and more escape from the surface as vapour',
    'so more of them evaporate into the air',
    'and they leave the liquid as a gas',
  ],
];
const FILLER = [
  'I think that',
  'as we learned in class',
  'this happens on a hot day',
  'it is like when a puddle dries up',
  'the dish is outside in the garden',
  'the sun is very bright',
  'the shade is cooler than the sun',
  'my teacher showed us this',
];

/** Score = number of key ideas present; length is kept roughly constant by filler. */
function synthetic(n: number, seed: number): { text: string; score: number }[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  return Array.from({ length: n }, () => {
    const present = CONCEPTS.map(() => r() < 0.5);
    const parts: string[] = [];
    const fill = 5 - present.filter(Boolean).length + Math.floor(r() * 2);
    for (let i = 0; i < fill; i++) parts.push(pick(FILLER));
    CONCEPTS.forEach((c, i) => present[i] && parts.splice(Math.floor(r() * (parts.length + 1)), 0, pick(c)));
    return { text: `${parts.join(', ')}.`, score: present.filter(Boolean).length };
  });
}

const question = { question_id: 'synthetic', prompt: 'Why does the dish in the sun lose more water?', rubric: null };

async function fit(train: { text: string; score: number }[]) {
  const batch = await embeddings.embed(train.map((e) => e.text));
  const qv = await embeddings.embed([question.prompt]);
  const vectors = { prompt: qv.vectors[0] as Float32Array, criteria: [] };
  const model = fitCalibratedModel(question, train, batch.vectors, batch, vectors, {});
  if (model === null) throw new Error('expected a model');
  const prepared = prepareModel(model, question, vectors);
  const score = async (text: string): Promise<number> => {
    const v = (await embeddings.embed([text])).vectors[0] as Float32Array;
    return predict(prepared, kernelRow(prepared, text, v, denseFeatures(text, v, question, vectors, []))).score;
  };
  return { model, score };
}

describe('calibration', () => {
  it('QWK matches a hand-computed value', () => {
    // observed: (0,0) (1,1) (2,1) (2,2); expected disagreement 1.25, observed 0.25 → 1 − 0.25/1.25
    expect(quadraticWeightedKappa([0, 1, 2, 2], [0, 1, 1, 2], [0, 1, 2])).toBeCloseTo(0.8, 10);
    expect(quadraticWeightedKappa([0, 1, 2], [0, 1, 2])).toBe(1);
    expect(quadraticWeightedKappa([0, 0, 2, 2], [2, 2, 0, 0], [0, 1, 2])).toBeCloseTo(-1, 10);
  });

  it('cut points maximise QWK where rounding at the midpoints does not', () => {
    const preds = [0.1, 0.2, 0.45, 0.5, 0.9, 1.0, 1.2, 0.3];
    const truth = [0, 0, 1, 1, 2, 2, 2, 0];
    const levels = [0, 1, 2];
    const qwk = (cuts: number[]) =>
      quadraticWeightedKappa(
        preds.map((p) => levels[applyCuts(p, cuts)] as number),
        truth,
        levels,
      );
    const cuts = optimiseCuts(preds, truth, levels);
    expect(cuts[0]).toBeLessThan(cuts[1] as number);
    expect(qwk(cuts)).toBe(1);
    expect(qwk([0.5, 1.5])).toBeLessThan(0.8);
  });

  it('needs enough examples and at least two distinct scores', async () => {
    const few = synthetic(10, 1);
    const batch = await embeddings.embed(few.map((e) => e.text));
    const vectors = { prompt: batch.vectors[0] as Float32Array, criteria: [] };
    expect(fitCalibratedModel(question, few, batch.vectors, batch, vectors)).toBeNull();
    const same = synthetic(30, 2).map((e) => ({ ...e, score: 1 }));
    const b2 = await embeddings.embed(same.map((e) => e.text));
    expect(fitCalibratedModel(question, same, b2.vectors, b2, vectors)).toBeNull();
    expect(fitCalibratedModel(question, few, batch.vectors, batch, vectors, { minExamples: 5 })).not.toBeNull();
  });

  it('out of sample, beats a constant and a length-only baseline', async () => {
    const train = synthetic(120, 7);
    const test = synthetic(60, 8);
    const { model, score } = await fit(train);
    const truth = test.map((e) => e.score);
    const pred: number[] = [];
    for (const e of test) pred.push(await score(e.text));
    const levels = model.levels;
    const qwk = quadraticWeightedKappa(pred, truth, levels);

    const len = (t: string) => Math.log1p(words(t).length);
    const mx = train.reduce((s, e) => s + len(e.text), 0) / train.length;
    const my = train.reduce((s, e) => s + e.score, 0) / train.length;
    const b =
      train.reduce((s, e) => s + (len(e.text) - mx) * (e.score - my), 0) /
      train.reduce((s, e) => s + (len(e.text) - mx) ** 2, 0);
    const lengthPred = test.map((e) => Math.max(0, Math.min(3, Math.round(my + b * (len(e.text) - mx)))));
    const constant = test.map(() => Math.round(my));

    expect(qwk).toBeGreaterThan(quadraticWeightedKappa(lengthPred, truth, levels) + 0.1);
    expect(qwk).toBeGreaterThan(quadraticWeightedKappa(constant, truth, levels) + 0.1);
  });

  it('the model is plain JSON that says what it is, and survives a round trip', async () => {
    const train = synthetic(80, 11);
    const { model, score } = await fit(train);
    expect(model.model).toBe('offline-calibrated-v1');
    expect(model.n_examples).toBe(80);
    expect(model.lambda).toBeGreaterThan(0);
    expect(model.cuts).toHaveLength(model.levels.length - 1);
    expect(model.cv.qwk_cuts).toBeGreaterThanOrEqual(model.cv.qwk_rounded - 1e-9);
    const copy = JSON.parse(JSON.stringify(model)) as typeof model;
    expect(copy).toEqual(model);
    expect(decodeVector(copy.embedding.vectors[0] as string)).toEqual(
      (await embeddings.embed([train[0]?.text as string])).vectors[0],
    );
    const text =
      'the particles gain energy from the sun, so they move faster, and more escape from the surface as vapour.';
    const qv = await embeddings.embed([question.prompt]);
    const vectors = { prompt: qv.vectors[0] as Float32Array, criteria: [] };
    const fromCopy = prepareModel(copy, question, vectors);
    const v = (await embeddings.embed([text])).vectors[0] as Float32Array;
    expect(predict(fromCopy, kernelRow(fromCopy, text, v, denseFeatures(text, v, question, vectors, []))).score).toBe(
      await score(text),
    );
  });
});
