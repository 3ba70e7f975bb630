/**
 * Small text helpers over C source fragments.
 */

/** A regular expression matching `word` as a whole C identifier (non-identifier characters dropped). */
export function wordRe(word: string): RegExp {
  return new RegExp(`\\b${word.replace(/\W/g, '')}\\b`);
}

/** Whether `text` mentions the identifier `word`. */
export function mentionsWord(text: string, word: string): boolean {
  return wordRe(word).test(text);
}
