import { containsPhrase, countWords, firstPhraseIn, normaliseText } from './textMatch';

describe('text matching', () => {
  test.each<[string, string, boolean]>([
    ['I use Kubernetes daily', 'kubernetes', true],
    ['KUBERNETES', 'kubernetes', true],
    ['JavaScript', 'java', false],
    ['java-based', 'java', true],
    ['C++ and Go', 'c++', true],
    ['C# only', 'c++', false],
    ['Node.js developer', 'node.js', true],
    ['nodexjs', 'node.js', false],
    ['amazon  web\nservices', 'Amazon Web Services', true],
    ['(k8s)', 'k8s', true],
    ['ci/cd pipelines', 'ci/cd', true],
    ['café owner', 'CAFÉ', true],
    ['anything', '   ', false],
  ])('%p contains %p: %p', (text, phrase, expected) => {
    expect(containsPhrase(text, phrase)).toBe(expected);
  });

  test('firstPhraseIn returns the first phrase found', () => {
    expect(firstPhraseIn('I run k8s', ['kubernetes', 'k8s'])).toBe('k8s');
    expect(firstPhraseIn('I run nomad', ['kubernetes', 'k8s'])).toBeUndefined();
  });

  test('normaliseText lowercases and collapses whitespace', () => {
    expect(normaliseText('  Hello \t World\n')).toBe('hello world');
  });

  test('countWords ignores punctuation-only tokens', () => {
    expect(countWords('One, two - three!  ')).toBe(3);
    expect(countWords('')).toBe(0);
  });
});
