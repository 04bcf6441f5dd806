import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBenchTsv } from './scoredExamplesTsv';
import { assessTextQuality, isImplausibleWord, topicVocabulary } from './textQuality';

const prompt =
  'A student leaves two identical dishes of water outside, one in the sun and one in the shade. After three ' +
  'hours the dish in the sun has less water. Explain why, using the idea of particles and energy.';
const context = { prompt, topicVocabulary: topicVocabulary([prompt, 'evaporation of water particles']) };
const flagsOf = (text: string) => assessTextQuality(text, context).flags;

describe('textQuality', () => {
  describe('bad answers are caught', () => {
    it.each(['', '   ', '.', '?!', '---'])('empty: %j', (text) => {
      expect(flagsOf(text)).toEqual(['empty']);
    });

    it('too short', () => {
      expect(flagsOf('sun')).toContain('too_short');
      expect(assessTextQuality('The sun heats the water.', { prompt, rubricMinWords: 150 }).flags).toContain(
        'too_short',
      );
    });

    it.each([
      'asdfgh jkl qwerty zxcvb',
      'sdkjfh sdkfjh wqeoiru zmxncb',
      'jjjj kkkk lllll',
      'hhhhhhhh jjjjjjj kkkkk',
      'asdasdasd lkjlkj qwqwqw',
      'ok #### $$$$ %%%% !!!! ????',
    ])('gibberish: %j', (text) => {
      expect(flagsOf(text)).toContain('gibberish');
    });

    it('copied prompt, in full or in part', () => {
      expect(flagsOf(prompt)).toContain('copied_prompt');
      expect(flagsOf('Explain why, using the idea of particles and energy.')).toContain('copied_prompt');
      expect(flagsOf('After three hours the dish in the sun has less water')).toContain('copied_prompt');
    });

    it('keyword stuffing: lists of terms and hammered words', () => {
      expect(flagsOf('sun, heat, energy, particles, evaporation, gas, vapour')).toContain('keyword_stuffing');
      expect(flagsOf('particles energy sun heat evaporation vapour particles energy')).toContain('keyword_stuffing');
      expect(flagsOf('energy energy energy energy particles particles evaporation evaporation the sun')).toContain(
        'keyword_stuffing',
      );
    });

    it('off topic', () => {
      expect(flagsOf('I like going to the beach in summer with my friends and eating ice cream.')).toContain(
        'off_topic',
      );
      expect(
        assessTextQuality('My favourite football team won the league last year.', {
          ...context,
          topicSimilarity: { value: 0.05, threshold: 0.2 },
        }).flags,
      ).toContain('off_topic');
    });
  });

  describe('ordinary answers are not flagged', () => {
    it.each([
      'The sun gives the water energy, so the particles move faster and more of them escape as vapour.',
      'Its hotter in the sun so the water evaporates faster, the heat gives the water energy to change from liquid to gas.',
      'Beacuse the sun is hoter and it dries stuff.',
      'more heat energy in the sun = particles move faster = more particles escape from the surface as gas',
      'The sun heats up the water which gives the particles more energy (kinetic energy), and then the water evaporates.',
    ])('%j', (text) => {
      expect(flagsOf(text)).toEqual([]);
    });

    it('no answer a human scored above the minimum in the shipped sample is flagged', () => {
      const rows = parseBenchTsv(readFileSync(join(__dirname, '../../../../bench/essay-quality/sample.tsv'), 'utf8'));
      const prompts = new Map(rows.filter((r) => r.prompt).map((r) => [r.set, r.prompt as string]));
      const flagged = rows
        .filter((r) => r.score > 0)
        .map((r) => {
          const p = prompts.get(r.set) ?? '';
          return { text: r.text, flags: assessTextQuality(r.text, { prompt: p }).flags };
        })
        .filter((r) => r.flags.length > 0);
      expect(flagged).toEqual([]);
    });

    it('real words, misspelt or long, are plausible', () => {
      for (const w of ['strengths', 'rhythm', 'queueing', 'beacuse', 'definately', 'property', 'twelfth', 'sky']) {
        expect(isImplausibleWord(w)).toBe(false);
      }
    });
  });
});
