/**
 * Tokenizer for herd7 litmus tests (C and LISA flavours).
 *
 * Comments: OCaml-style `(* ... *)` (nestable), C-style `/* ... *\/` and `//`.
 * Inside C code `(*x)` is a dereference, not a comment: `(*` only opens a
 * comment when followed by whitespace, `*`, `)` or end of input.
 */
import { LitmusSyntaxError } from './types.js';

export type TokKind = 'id' | 'num' | 'punct' | 'str' | 'eof';

export interface Token {
  kind: TokKind;
  text: string;
  line: number;
  /** Offset of the token in the source. */
  pos: number;
}

const PUNCTS = [
  '/\\', '\\/', '->', '==', '!=', '<=', '>=', '&&', '||', '<<', '>>', '=>',
  '++', '--', '+=', '-=', '|=', '&=', '^=',
  '{', '}', '(', ')', '[', ']', ';', ',', '=', '*', '&', '|', '^', '+', '-',
  '/', '%', '!', '~', '<', '>', '?', ':', '.',
];

export function isIdStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isIdChar(c: string): boolean {
  return isIdStart(c) || (c >= '0' && c <= '9') || c === '$';
}

/** Returns the end offset of a comment starting at `i`, or -1 if none. */
function commentEnd(src: string, i: number, topLevel = true): number {
  const c = src[i];
  const d = src[i + 1];
  if (c === '(' && d === '*') {
    const e = src[i + 2];
    const spaceAfter = e === undefined || e === ' ' || e === '\t' || e === '\n' || e === '\r' || e === '*' || e === ')';
    if (!spaceAfter && !topLevel) return -1;
    let depth = 1;
    let j = i + 2;
    while (j < src.length && depth > 0) {
      if (src[j] === '(' && src[j + 1] === '*') {
        depth++;
        j += 2;
      } else if (src[j] === '*' && src[j + 1] === ')') {
        depth--;
        j += 2;
      } else j++;
    }
    return j;
  }
  if (c === '/' && d === '*') {
    const j = src.indexOf('*/', i + 2);
    return j < 0 ? src.length : j + 2;
  }
  if (c === '/' && d === '/') {
    const j = src.indexOf('\n', i);
    return j < 0 ? src.length : j;
  }
  return -1;
}

export function tokenize(src: string, startLine = 1, baseOffset = 0): Token[] {
  const toks: Token[] = [];
  let line = startLine;
  let i = 0;
  const n = src.length;
  // Outside braces and parentheses `(*` always opens a comment.
  let depth = 0;
  while (i < n) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    const ce = commentEnd(src, i, depth === 0);
    if (ce >= 0) {
      for (let j = i; j < ce; j++) if (src[j] === '\n') line++;
      i = ce;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') depth++;
    if ((c === '}' || c === ')' || c === ']') && depth > 0) depth--;
    if (c === '"') {
      let j = i + 1;
      while (j < n && src[j] !== '"') j++;
      const text = src.slice(i + 1, j);
      toks.push({ kind: 'str', text, line, pos: baseOffset + i });
      for (const ch of text) if (ch === '\n') line++;
      i = j + 1;
      continue;
    }
    if (c >= '0' && c <= '9') {
      let j = i;
      if (c === '0' && (src[i + 1] === 'x' || src[i + 1] === 'X')) {
        j = i + 2;
        while (j < n && /[0-9a-fA-F]/.test(src[j]!)) j++;
      } else {
        while (j < n && src[j]! >= '0' && src[j]! <= '9') j++;
      }
      // Suffixes such as 1UL.
      while (j < n && /[uUlL]/.test(src[j]!)) j++;
      toks.push({ kind: 'num', text: src.slice(i, j), line, pos: baseOffset + i });
      i = j;
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdChar(src[j]!)) j++;
      toks.push({ kind: 'id', text: src.slice(i, j), line, pos: baseOffset + i });
      i = j;
      continue;
    }
    let matched = false;
    for (const p of PUNCTS) {
      if (src.startsWith(p, i)) {
        toks.push({ kind: 'punct', text: p, line, pos: baseOffset + i });
        i += p.length;
        matched = true;
        break;
      }
    }
    if (!matched) throw new LitmusSyntaxError(`unexpected character '${c}'`, line);
  }
  toks.push({ kind: 'eof', text: '<eof>', line, pos: baseOffset + n });
  return toks;
}

/** Removes comments from a text, keeping newlines (used for line scans). */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const ce = commentEnd(src, i);
    if (ce >= 0) {
      for (let j = i; j < ce; j++) if (src[j] === '\n') out += '\n';
      out += ' ';
      i = ce;
      continue;
    }
    out += src[i];
    i++;
  }
  return out;
}

export function parseNumber(text: string): number {
  const t = text.replace(/[uUlL]+$/, '');
  return t.startsWith('0x') || t.startsWith('0X') ? parseInt(t.slice(2), 16) : parseInt(t, 10);
}

export class TokenStream {
  i = 0;
  constructor(readonly toks: Token[]) {}
  peek(o = 0): Token {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)]!;
  }
  next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  is(text: string, o = 0): boolean {
    const t = this.peek(o);
    return (t.kind === 'punct' || t.kind === 'id') && t.text === text;
  }
  accept(text: string): boolean {
    if (this.is(text)) {
      this.next();
      return true;
    }
    return false;
  }
  expect(text: string): Token {
    const t = this.peek();
    if (!this.is(text)) throw new LitmusSyntaxError(`expected '${text}' but found '${t.text}'`, t.line);
    return this.next();
  }
  ident(): Token {
    const t = this.peek();
    if (t.kind !== 'id') throw new LitmusSyntaxError(`expected identifier but found '${t.text}'`, t.line);
    return this.next();
  }
}
