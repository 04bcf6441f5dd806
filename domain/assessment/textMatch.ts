/**
 * Case-insensitive phrase matching on word boundaries, used by the profile rules.
 *
 * A phrase matches when it occurs in the text with no letter or digit immediately before or
 * after it, so "java" does not match "javascript" but "c++" matches "C++ and Go" and
 * "node.js" matches "Node.js developer". Runs of whitespace inside a phrase match any run of
 * whitespace in the text. Both sides are Unicode-normalised (NFKC) and lowercased.
 */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

export function containsPhrase(text: string, phrase: string): boolean {
  const needle = normaliseText(phrase);
  if (needle.length === 0) return false;
  const pattern = needle
    .split(' ')
    .map((word) => word.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&'))
    .join('\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}])${pattern}(?![\\p{L}\\p{N}])`, 'u').test(normaliseText(text));
}

/** The first of `phrases` found in `text`, or undefined. */
export function firstPhraseIn(text: string, phrases: readonly string[]): string | undefined {
  return phrases.find((phrase) => containsPhrase(text, phrase));
}

/** Words in a text: whitespace-separated tokens holding at least one letter or digit. */
export function countWords(text: string): number {
  return text.split(/\s+/u).filter((token) => /[\p{L}\p{N}]/u.test(token)).length;
}
