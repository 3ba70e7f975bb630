/**
 * A cheap index of a C file's function definitions, so that only the functions
 * a change touches (plus what summaries need) are parsed with tree-sitter.
 *
 * The scan runs on the pass-1 preprocessed text (directives, dead #if branches
 * and annotations blanked) and tracks brace and parenthesis depth, skipping
 * comments and literals. A top-level `{` whose previous significant token is a
 * `)` opens a function body; the identifier before the matching `(` names it.
 * Struct, enum and initializer braces are preceded by an identifier or `=`.
 */
import { createHash } from 'node:crypto';
import { preprocessDirectives } from './preprocess.js';

export interface FunctionSpan {
  name: string;
  /** 1-based lines of the definition (first token .. closing brace). */
  startLine: number;
  endLine: number;
  /** Pass-1 text of the lines startLine..endLine (latin1 view), starting at column 0. */
  text: string;
  isStatic: boolean;
  /** Identifiers followed by `(` in the body: a superset of the callees. */
  calls: string[];
  /** Content hash (line-independent). */
  hash: string;
}

export interface FileIndex {
  path: string;
  source: string;
  lines: string[];
  functions: FunctionSpan[];
}

function isIdentChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || (c >= 48 && c <= 57);
}

const NOT_CALLS = new Set(['if', 'for', 'while', 'switch', 'return', 'sizeof', 'typeof', '__typeof__', 'do', 'case', 'defined']);

export function indexFile(path: string, source: string): FileIndex {
  return fileIndex(path, source, scanFunctions(preprocessDirectives(source), 0));
}

/**
 * A FileIndex whose `lines` are split from the source only when first read
 * (rules need them for a snippet or a comment now and then; splitting a large
 * file per commit is a measurable share of a range's time and garbage).
 */
export function fileIndex(path: string, source: string, functions: FunctionSpan[]): FileIndex {
  let lines: string[] | undefined;
  return {
    path,
    source,
    functions,
    get lines(): string[] {
      return (lines ??= source.split('\n'));
    },
  };
}

/** Line access without splitting the whole text: line starts found on demand. */
class LazyLines {
  private readonly starts: number[] = [0];
  private complete = false;
  constructor(private readonly src: string) {}

  /** Know the starts of lines 1..n (those that exist). */
  private reach(n: number): void {
    while (!this.complete && this.starts.length < n) {
      const nl = this.src.indexOf('\n', this.starts[this.starts.length - 1]!);
      if (nl < 0) {
        this.complete = true;
        break;
      }
      this.starts.push(nl + 1);
    }
  }

  /** The number of lines, as `split('\n').length` counts them. */
  count(): number {
    this.reach(Infinity);
    return this.starts.length;
  }

  /** Lines from..to (1-based, inclusive), as `split('\n').slice(from - 1, to).join('\n')`. */
  text(from: number, to: number): string {
    this.reach(to + 1);
    const n = this.starts.length;
    const a = Math.max(1, from);
    const b = Math.min(to, n);
    if (b < a) return '';
    return this.src.slice(this.starts[a - 1]!, b < n ? this.starts[b]! - 1 : this.src.length);
  }
}

/** A hunk's extent in both images (1-based, inclusive; empty ranges have end < start). */
export interface HunkExtent {
  oldStart: number;
  oldEnd: number;
  newStart: number;
  newEnd: number;
  /** A changed line is a preprocessor directive (forces a full re-index). */
  directive: boolean;
}

/**
 * The post-image index from the pre-image's, for a change with these hunks:
 * functions that no hunk touches are reused with their lines shifted; only
 * the regions between them that contain a hunk are scanned again. A change to
 * a preprocessor directive re-indexes the whole file.
 */
export function reindex(pre: FileIndex, path: string, source: string, hunks: readonly HunkExtent[]): FileIndex {
  if (hunks.length === 0 || hunks.some((h) => h.directive)) return indexFile(path, source);
  const sorted = [...hunks].sort((a, b) => a.oldStart - b.oldStart);
  const lines = new LazyLines(source);
  const kept: FunctionSpan[] = [];
  for (const sp of pre.functions) {
    let delta = 0;
    let dirty = false;
    for (const h of sorted) {
      if (h.oldStart > sp.endLine) break;
      if (h.oldEnd < sp.startLine && h.oldEnd >= h.oldStart - 1) {
        delta += (h.newEnd - h.newStart) - (h.oldEnd - h.oldStart);
        continue;
      }
      dirty = true;
      break;
    }
    if (!dirty) kept.push(delta ? { ...sp, startLine: sp.startLine + delta, endLine: sp.endLine + delta } : sp);
  }
  // Gaps between kept functions that contain a hunk's new lines are scanned again.
  const out: FunctionSpan[] = [];
  let prevEnd = 0;
  const scanGap = (from: number, to: number): void => {
    if (to < from) return;
    if (!sorted.some((h) => h.newStart <= to + 1 && h.newEnd >= from - 1)) return;
    out.push(...scanFunctions(preprocessDirectives(lines.text(from, to)), from - 1));
  };
  for (const sp of kept) {
    scanGap(prevEnd + 1, sp.startLine - 1);
    out.push(sp);
    prevEnd = sp.endLine;
  }
  // The tail after the last kept function (counting the lines only if a hunk reaches it).
  if (sorted.some((h) => h.newEnd >= prevEnd)) scanGap(prevEnd + 1, lines.count());
  return fileIndex(path, source, out);
}

/** Scan pass-1 text for function definitions; `lineOffset` is added to every line. */
export function scanFunctions(text: string, lineOffset: number): FunctionSpan[] {
  const n = text.length;
  // Line start offsets for offset -> line.
  const lineStarts: number[] = [0];
  for (let i = 0; i < n; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const lineOf = (off: number): number => lineOffset + lineIndex(off);
  const lineIndex = (off: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= off) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };

  const functions: FunctionSpan[] = [];
  let depth = 0;
  let paren = 0;
  let lastSig = -1; // offset of the last significant char at depth 0
  let boundary = 0; // offset after the last top-level ';' or '}'
  const parenOpen: number[] = [];
  let lastCloseParenMatch = -1; // offset of the '(' matching the last ')' at depth 0
  let bodyStart = -1;
  let headStart = -1;
  let headParen = -1;

  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
      continue;
    }
    if (c === 34 || c === 39) {
      let k = i + 1;
      while (k < n) {
        const d = text.charCodeAt(k);
        if (d === 92) {
          k += 2;
          continue;
        }
        if (d === c || d === 10) break;
        k++;
      }
      i = k;
      if (depth === 0) lastSig = i;
      continue;
    }
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    if (depth === 0) {
      if (c === 40) {
        parenOpen.push(i);
        paren++;
      } else if (c === 41) {
        paren--;
        lastCloseParenMatch = parenOpen.pop() ?? -1;
      } else if (c === 123) {
        const prev = lastSig >= 0 ? text.charCodeAt(lastSig) : 0;
        if (paren === 0 && prev === 41 && lastCloseParenMatch >= 0) {
          bodyStart = i;
          headStart = boundary;
          headParen = lastCloseParenMatch;
        } else {
          bodyStart = -1;
        }
        depth = 1;
        continue;
      } else if (c === 59 && paren === 0) {
        boundary = i + 1;
      }
      lastSig = i;
      continue;
    }
    if (c === 123) depth++;
    else if (c === 125) {
      depth--;
      if (depth === 0) {
        if (bodyStart >= 0) {
          const span = makeSpan(text, headStart, headParen, i, lineOf);
          if (span) functions.push(span);
        }
        bodyStart = -1;
        boundary = i + 1;
        lastSig = i;
      }
    }
  }
  return functions;
}

function makeSpan(text: string, headStart: number, headParen: number, end: number, lineOf: (o: number) => number): FunctionSpan | null {
  // Name: identifier before the '(' of the parameter list (skipping spaces).
  let k = headParen - 1;
  while (k >= 0 && /\s/.test(text[k])) k--;
  let s = k;
  while (s >= 0 && isIdentChar(text.charCodeAt(s))) s--;
  const rawName = text.slice(s + 1, k + 1);
  if (!rawName || /^\d/.test(rawName)) return null;
  // The definition starts at the first significant char after the previous boundary.
  let start = headStart;
  for (;;) {
    while (start < headParen && /\s/.test(text[start])) start++;
    if (text.startsWith('/*', start)) {
      const e = text.indexOf('*/', start + 2);
      start = e < 0 ? headParen : e + 2;
      continue;
    }
    if (text.startsWith('//', start)) {
      const e = text.indexOf('\n', start);
      start = e < 0 ? headParen : e + 1;
      continue;
    }
    break;
  }
  const startLine = lineOf(start);
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const body = text.slice(lineStart, end + 1);
  const head = text.slice(start, headParen);
  const calls = new Set<string>();
  const re = /\b([A-Za-z_]\w*)\s*\(/g;
  const bodyOnly = text.slice(headParen, end + 1);
  for (let m = re.exec(bodyOnly); m; m = re.exec(bodyOnly)) if (!NOT_CALLS.has(m[1])) calls.add(m[1]);
  const name = /^FNAME_(\w+)_$/.exec(rawName) ? `FNAME(${rawName.slice(6, -1)})` : rawName;
  return {
    name,
    startLine,
    endLine: lineOf(end),
    text: body,
    isStatic: /\bstatic\b/.test(head),
    calls: [...calls].sort(),
    hash: createHash('sha1').update(body).digest('hex'),
  };
}
