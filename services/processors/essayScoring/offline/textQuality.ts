/**
 * Answers that must not be rewarded: empty, too short, gibberish (keyboard mash, implausible
 * words), off topic, a copy of the prompt, or a list of keywords without sentences. Pure and
 * character-level: no dictionary, no model (topic similarity, when known, is passed in).
 */
import type { EssayFlag } from '../essayScore';
import { FUNCTION_WORDS, contentStems, stem, words } from './textFeatures';

export interface TextQualityOptions {
  /** Fewer words than this is `too_short` (default 3; the rubric's min_words / 2 when larger). */
  minWords?: number;
  /** Share of implausible words from which an answer is gibberish (default 0.4). */
  gibberishShare?: number;
  /** Share of the answer's word trigrams found in the prompt from which it is a copy (default 0.7). */
  copiedContainment?: number;
}

export interface TextQualityContext {
  prompt: string;
  /** The rubric's min_words, when it has one. */
  rubricMinWords?: number;
  /** Stems that belong to the question's topic (`topicVocabulary`); off-topic is not judged without it. */
  topicVocabulary?: ReadonlySet<string>;
  /**
   * The answer's best embedding similarity to the prompt, rubric and good examples, and the
   * similarity below which that counts as unrelated; both or neither.
   */
  topicSimilarity?: { value: number; threshold: number };
}

export interface TextQualityReport {
  flags: EssayFlag[];
  /** One short reason per flag, in the same order. */
  reasons: string[];
  words: number;
  implausibleShare: number;
  promptContainment: number;
  functionWordRatio: number;
  topicShare: number | null;
}

const KEYBOARD_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
const KEYBOARD_RUNS: string[] = [];
for (const row of KEYBOARD_ROWS) {
  for (const r of [row, [...row].reverse().join('')]) {
    for (let i = 0; i + 4 <= r.length; i++) {
      const run = r.slice(i, i + 4);
      if (run !== 'erty' && run !== 'ytre') KEYBOARD_RUNS.push(run);
    }
  }
}

/** Letter pairs that (almost) never occur inside English words. */
const RARE_PAIRS = new Set(
  (
    'bq bx cj cx dx fj fq fx fz gq gx hx hz jb jc jd jf jg jh jj jk jl jm jn jp jq jr js jt jv jw jx jy jz ' +
    'kj kq kx kz lx mq mx mz pq px pz qb qc qd qe qf qg qh qj qk ql qm qn qo qp qq qr qs qt qv qw qx qy qz ' +
    'sx sz tq tx vb vc vd vf vg vh vj vk vm vn vp vq vt vw vx vz wj wq wx wz xj xk xz yq yj zb zc zd zf zg ' +
    'zj zk zm zn zp zq zr zs zt zv zw zx'
  ).split(' '),
);

const VOWELS = /[aeiouy]/;

/** True when a lower-case letter token cannot plausibly be an (even misspelt) English word. */
export function isImplausibleWord(token: string): boolean {
  const w = token.normalize('NFKD').replace(/[^a-z]/g, '');
  if (w.length < 2) return false;
  if (/(.)\1\1/.test(w)) return true; // "aaa", "zzzz"
  if (w.length >= 4 && !VOWELS.test(w)) return true;
  // Five consonants in a row, counting th/ch/sh/ph/ng/ck as one ("strengths" passes, "sdkjfh" does not).
  if (/[bcdfghjklmnpqrstvwxz]{5,}/.test(w.replace(/th|ch|sh|ph|ng|ck/g, 'T'))) return true;
  if (/[aeiou]{4,}/.test(w) && !/(?:queue|eau|iou)/.test(w)) return true;
  for (let i = 0; i + 1 < w.length; i++) if (RARE_PAIRS.has(w.slice(i, i + 2))) return true;
  if (w.length >= 4) for (const run of KEYBOARD_RUNS) if (w.includes(run)) return true;
  // a short unit repeated: "asdasd", "lololol", "hahaha"
  if (w.length >= 6 && /^(.{1,3})\1{1,}.?.?$/.test(w)) return true;
  return false;
}

/** Stems that belong to a question's topic: prompt and rubric words, and words common in good answers. */
export function topicVocabulary(
  referenceTexts: readonly string[],
  goodExamples: readonly string[] = [],
  minShare = 0.03,
): Set<string> {
  const vocab = new Set<string>();
  for (const t of referenceTexts) for (const s of contentStems(t)) vocab.add(s);
  if (goodExamples.length > 0) {
    const df = new Map<string, number>();
    for (const t of goodExamples) for (const s of new Set(contentStems(t))) df.set(s, (df.get(s) ?? 0) + 1);
    const min = Math.max(2, minShare * goodExamples.length);
    for (const [s, d] of df) if (d >= min) vocab.add(s);
  }
  return vocab;
}

function trigrams(tokens: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 2 < tokens.length; i++) out.push(`${tokens[i]} ${tokens[i + 1]} ${tokens[i + 2]}`);
  return out;
}

export function assessTextQuality(
  text: string,
  context: TextQualityContext,
  options: TextQualityOptions = {},
): TextQualityReport {
  const flags: EssayFlag[] = [];
  const reasons: string[] = [];
  const flag = (f: EssayFlag, reason: string): void => {
    flags.push(f);
    reasons.push(reason);
  };
  const tokens = words(text);
  const letterTokens = tokens.filter((t) => /\p{L}/u.test(t));
  const report = (extra: Partial<TextQualityReport>): TextQualityReport => ({
    flags,
    reasons,
    words: tokens.length,
    implausibleShare: 0,
    promptContainment: 0,
    functionWordRatio: 0,
    topicShare: null,
    ...extra,
  });

  if (letterTokens.length === 0) {
    flag('empty', 'the answer has no words');
    return report({});
  }

  // Gibberish: implausible tokens, or mostly symbols.
  const implausible = letterTokens.filter(isImplausibleWord).length;
  const implausibleShare = implausible / letterTokens.length;
  const visible = text.replace(/\s+/g, '');
  const letters = (visible.match(/\p{L}/gu) ?? []).length;
  const gibberishShare = options.gibberishShare ?? 0.4;
  if (implausible >= 1 && implausibleShare >= gibberishShare) {
    flag('gibberish', `${Math.round(implausibleShare * 100)}% of the words are not plausible words`);
  } else if (visible.length >= 8 && letters / visible.length < 0.5) {
    flag('gibberish', 'the answer is mostly symbols or digits');
  }

  const minWords = Math.max(options.minWords ?? 3, Math.floor((context.rubricMinWords ?? 0) / 2));
  if (tokens.length < minWords) flag('too_short', `${tokens.length} word(s), fewer than ${minWords}`);

  // Copied prompt: the answer's trigrams (of stems) mostly found in the prompt, little new content.
  const answerStems = tokens.map(stem);
  const promptStems = words(context.prompt).map(stem);
  const promptTri = new Set(trigrams(promptStems));
  const answerTri = trigrams(answerStems);
  const containment =
    answerTri.length > 0
      ? answerTri.filter((t) => promptTri.has(t)).length / answerTri.length
      : answerStems.length > 0 && promptStems.join(' ').includes(answerStems.join(' '))
        ? 1
        : 0;
  const promptVocab = new Set(promptStems);
  const content = contentStems(text);
  const novel = new Set(content.filter((s) => !promptVocab.has(s)));
  if (containment >= (options.copiedContainment ?? 0.7) && novel.size <= Math.max(2, 0.15 * new Set(content).size)) {
    flag('copied_prompt', `${Math.round(containment * 100)}% of the answer repeats the prompt`);
  }

  // Keyword stuffing: content words without the glue of sentences, or one word hammered.
  const functionWordRatio = tokens.filter((t) => FUNCTION_WORDS.has(t)).length / tokens.length;
  const separators = (text.match(/[,;/|\n•·]|\s-\s/g) ?? []).length;
  const counts = new Map<string, number>();
  for (const s of content) counts.set(s, (counts.get(s) ?? 0) + 1);
  const topCount = Math.max(0, ...counts.values());
  const distinct = counts.size;
  const listLike = separators >= 0.25 * tokens.length || (tokens.length >= 8 && !/[.!?]/.test(text));
  if (
    !flags.includes('copied_prompt') &&
    !flags.includes('gibberish') &&
    tokens.length >= 6 &&
    ((functionWordRatio < 0.1 && listLike) ||
      (topCount >= 4 && topCount >= 0.25 * tokens.length) ||
      (tokens.length >= 12 && distinct > 0 && content.length / distinct >= 2.5 && functionWordRatio < 0.25))
  ) {
    flag('keyword_stuffing', 'a list of keywords rather than sentences');
  }

  // Off topic: no word of the question's topic at all, or hardly any and (when known) no
  // semantic match either.
  let topicShare: number | null = null;
  if (context.topicVocabulary && context.topicVocabulary.size > 0 && content.length >= 3) {
    topicShare = content.filter((s) => context.topicVocabulary?.has(s)).length / content.length;
    const semanticMiss = context.topicSimilarity
      ? context.topicSimilarity.value < context.topicSimilarity.threshold
      : true;
    const noTopicWord = topicShare === 0 && content.length >= 4;
    if ((noTopicWord || (topicShare < 0.15 && semanticMiss)) && !flags.includes('gibberish')) {
      flag('off_topic', 'the answer shares almost no words or meaning with the question');
    }
  }

  return report({ implausibleShare, promptContainment: containment, functionWordRatio, topicShare });
}
