/**
 * Finding a model's quoted evidence in the essay. Models copy text imperfectly in two harmless
 * ways: whitespace (a line break becomes a space, runs collapse) and quotation marks (curly
 * becomes straight or back). Both are forgiven; nothing else is (no case folding, no ellipses,
 * no paraphrase). What we keep is always the essay's own text: the exact substring the quote
 * matched, so stored evidence is verifiably verbatim.
 */

const QUOTE_FOLD: Readonly<Record<string, string>> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201A': "'",
  '\u201B': "'",
  '\u2032': "'",
  '`': "'",
  '\u201C': '"',
  '\u201D': '"',
  '\u201E': '"',
  '\u201F': '"',
  '\u2033': '"',
  '\u00AB': '"',
  '\u00BB': '"',
};

const WHITESPACE = /\s/;

interface Folded {
  text: string;
  /** For each character of `text`, where it starts and ends in the original. */
  starts: number[];
  ends: number[];
}

/** Whitespace runs → one space (trimmed at both ends), curly/straight quotes → straight. */
function fold(s: string): Folded {
  let text = '';
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < s.length; i += 1) {
    const ch = s[i]!;
    if (WHITESPACE.test(ch)) {
      if (text.length === 0) continue;
      if (text[text.length - 1] === ' ') {
        ends[ends.length - 1] = i + 1;
        continue;
      }
      text += ' ';
      starts.push(i);
      ends.push(i + 1);
      continue;
    }
    text += QUOTE_FOLD[ch] ?? ch;
    starts.push(i);
    ends.push(i + 1);
  }
  if (text.endsWith(' ')) {
    text = text.slice(0, -1);
    starts.pop();
    ends.pop();
  }
  return { text, starts, ends };
}

/**
 * Folds an essay once for many lookups. `locate(quote)` returns the exact substring of the essay
 * that `quote` matches (after folding), `''` for an empty quote, or null when it is not in the essay.
 */
export function evidenceLocator(essay: string): { locate(quote: string): string | null } {
  const folded = fold(essay);
  const find = (q: string): string | null => {
    const fq = fold(q).text;
    if (fq.length === 0) return null;
    const at = folded.text.indexOf(fq);
    if (at < 0) return null;
    return essay.slice(folded.starts[at], folded.ends[at + fq.length - 1]);
  };
  return {
    locate(quote: string): string | null {
      if (quote.trim().length === 0) return '';
      const direct = find(quote);
      if (direct !== null) return direct;
      // A quote the model wrapped in quotation marks of its own.
      const unwrapped = fold(quote)
        .text.replace(/^"(.*)"$/s, '$1')
        .replace(/^'(.*)'$/s, '$1');
      return unwrapped !== fold(quote).text ? find(unwrapped) : null;
    },
  };
}
