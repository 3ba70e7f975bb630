/**
 * Differential reporting: what a change introduces.
 *
 * The post-image's touched functions are analysed, and so are the functions of
 * the same names (plus those the deletion touched) in the pre-image. A finding
 * is new when its fingerprint (rule + function + a line-independent key) occurs
 * more often after the change than before, so moved code is not "new".
 *
 * Without a tree (a mailed patch), only the hunks' visible lines are known:
 * each hunk that starts inside a function is wrapped into a fragment function
 * named by the hunk header's section, with every line at its real number.
 */
import type { Finding } from '../types.js';
import type { FileChange, Hunk } from '../inputs/types.js';
import { changedLines, fragmentImages } from '../inputs/hunks.js';
import type { Analyzer, FileAnalysis } from './analyze.js';
import type { FileIndex, HunkExtent } from './frontend/index-file.js';

export interface FilePair {
  path: string;
  /** Full pre-image (undefined: added file, or hunk-only). */
  pre?: string;
  /** Full post-image (undefined: deleted file, or hunk-only). */
  post?: string;
  change: FileChange;
  /** Analyse only the hunks' visible lines. */
  hunkOnly?: boolean;
}

export interface DiffOptions {
  /** Also return pre-existing findings (marked preexisting). */
  all?: boolean;
}

export function isCSource(path: string | null): boolean {
  return !!path && /\.(c|h)$/.test(path);
}

/** Collapse a set of line numbers into sorted [start, end] ranges. */
export function toRanges(lines: Iterable<number>): [number, number][] {
  const sorted = [...new Set(lines)].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const l of sorted) {
    const last = out[out.length - 1];
    if (last && l === last[1] + 1) last[1] = l;
    else out.push([l, l]);
  }
  return out;
}

export function analyzeChange(analyzer: Analyzer, pair: FilePair, opts: DiffOptions = {}): Finding[] {
  const fc = pair.change;
  if (fc.newPath === null || fc.binary) return [];
  const { oldChanged, newChanged } = changedLines(fc);
  let preText = pair.pre;
  let postText = pair.post;
  if (pair.hunkOnly) {
    const frags = fragmentSources(fc);
    preText = frags.pre;
    postText = frags.post;
  }
  if (postText === undefined) return [];
  const postRanges = toRanges(newChanged);
  if (postRanges.length === 0) return [];
  const blobs = { pre: fc.oldBlob, post: fc.newBlob };
  const postIndex = pair.hunkOnly ? analyzer.index(pair.path, postText) : analyzer.indexPost(pair.path, preText, postText, hunkExtents(fc), blobs);
  const touchedPost = new Set(postIndex.functions.filter((f) => postRanges.some(([a, b]) => f.startLine <= b && f.endLine >= a)).map((f) => f.name));

  // Pre-image first: the same functions (and what the deletion touched), with their summary digests.
  let preIndex: FileIndex | undefined;
  let pre: FileAnalysis | undefined;
  if (preText !== undefined && fc.oldPath !== null) {
    preIndex = pair.hunkOnly ? analyzer.index(pair.path, preText) : analyzer.index(pair.path, preText, fc.oldBlob);
    const preRanges = toRanges(oldChanged);
    pre = analyzer.analyzeIndex(preIndex, { lines: preRanges, functions: touchedPost, hunkOnly: pair.hunkOnly });
  }
  // Post-image: touched functions, plus the direct callers of those whose summary changed
  // (a callee's new or lost effect, e.g. a dropped barrier, shows up in its callers).
  const preDigests = pre?.digests ?? {};
  const post = analyzer.analyzeIndex(postIndex, {
    lines: postRanges,
    hunkOnly: pair.hunkOnly,
    callersIf: pair.hunkOnly ? undefined : (name, digest) => preDigests[name] !== digest,
  });
  const touched = new Set(post.targets);
  const postFindings = post.findings.filter((f) => touched.has(f.function));
  // Callers added on the post side are compared with the same callers before the change.
  const extra = [...touched].filter((n) => !(pre?.targets ?? []).includes(n) && !touchedPost.has(n));
  if (preIndex && extra.length) {
    const more = analyzer.analyzeIndex(preIndex, { functions: new Set(extra), hunkOnly: pair.hunkOnly });
    pre = pre ? { ...pre, findings: [...pre.findings, ...more.findings] } : more;
  }
  const before = new Map<string, number>();
  for (const f of pre?.findings ?? []) before.set(f.fingerprint, (before.get(f.fingerprint) ?? 0) + 1);
  const out: Finding[] = [];
  for (const f of [...postFindings].sort((a, b) => a.line - b.line || a.column - b.column)) {
    const n = before.get(f.fingerprint) ?? 0;
    if (n > 0) {
      before.set(f.fingerprint, n - 1);
      if (opts.all) out.push({ ...f, preexisting: true });
    } else {
      out.push(f);
    }
  }
  return out;
}

/**
 * The hunks' extents in both images, for incremental indexing. An empty side
 * (`-N,0`: lines inserted after old line N; `+N,0`: lines deleted after new
 * line N, as in a diff with no context) becomes the empty range N+1..N, which
 * sits between lines N and N+1 where the change is.
 */
export function hunkExtents(fc: FileChange): HunkExtent[] {
  return fc.hunks.map((h) => {
    const oldStart = h.oldLines === 0 ? h.oldStart + 1 : h.oldStart;
    const newStart = h.newLines === 0 ? h.newStart + 1 : h.newStart;
    return {
      oldStart,
      oldEnd: oldStart + h.oldLines - 1,
      newStart,
      newEnd: newStart + h.newLines - 1,
      directive: h.lines.some((l) => l.kind !== 'ctx' && /^\s*#/.test(l.text)),
    };
  });
}

// ------------------------------------------------------------------ fragments

/** Pre and post fragment sources for hunk-only analysis. */
export function fragmentSources(fc: FileChange): { pre: string; post: string } {
  const images = fragmentImages(fc);
  return { pre: wrapFragments(images.pre, fc.hunks, 'pre'), post: wrapFragments(images.post, fc.hunks, 'post') };
}

function braceDelta(line: string): { delta: number; min: number } {
  // Strip strings, chars and comments roughly (a fragment may start inside a comment; tolerate).
  const s = line.replace(/"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|\/\*.*?\*\/|\/\/.*$/g, '');
  let d = 0;
  let min = 0;
  for (const ch of s) {
    if (ch === '{') d++;
    else if (ch === '}') {
      d--;
      if (d < min) min = d;
    }
  }
  return { delta: d, min };
}

function headerFor(section: string, index: number): string {
  let sig = section.trim();
  if (!sig.includes('(')) return `void __kvmlint_fragment_${index}(void)`;
  // Hunk headers cut long signatures: close what is open.
  let depth = 0;
  for (const ch of sig) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
  }
  sig = sig.replace(/[,\s]+$/, '');
  if (depth > 0) sig += ')'.repeat(depth);
  // Drop anything after the parameter list (e.g. a '{' on the same line).
  const close = sig.lastIndexOf(')');
  return sig.slice(0, close + 1);
}

/**
 * Wrap each hunk of an image (from `fragmentImages`: visible lines at their
 * real numbers, the rest empty) that starts inside a function into a fragment
 * function, using the invisible lines around it for the header and braces.
 */
function wrapFragments(image: string, hunks: Hunk[], side: 'pre' | 'post'): string {
  const lines = image ? image.replace(/\n$/, '').split('\n') : [];
  const put = (n: number, text: string): void => {
    while (lines.length < n) lines.push('');
    lines[n - 1] = text;
  };
  hunks.forEach((h, hi) => {
    const visible = h.lines
      .filter((l) => (side === 'pre' ? l.kind !== 'add' && l.oldLine !== undefined : l.kind !== 'del' && l.newLine !== undefined))
      .map((l) => ({ n: side === 'pre' ? l.oldLine! : l.newLine!, text: l.text }));
    if (visible.length === 0) return;
    const first = visible.find((v) => v.text.trim() !== '');
    if (!first) return;
    // Kernel style: a function body line is indented, or is a brace or a label.
    const inside = /^\s/.test(first.text) || /^[{}]/.test(first.text) || /^\w+:\s*$/.test(first.text);
    const startLine = visible[0].n;
    if (!inside || startLine <= 1) return;
    let depth = 0;
    let min = 0;
    for (const v of visible) {
      const b = braceDelta(v.text);
      if (depth + b.min < min) min = depth + b.min;
      depth += b.delta;
    }
    const openers = Math.max(1, -min);
    put(startLine - 1, `${headerFor(h.section, hi)} ${'{'.repeat(openers)}`);
    const remaining = openers + depth;
    if (remaining > 0) {
      const lastLine = visible[visible.length - 1].n;
      const closing = '}'.repeat(remaining);
      // The line after the hunk is invisible (empty) unless another hunk starts right there.
      const next = hunks[hi + 1];
      const nextStart = next ? (side === 'pre' ? next.oldStart : next.newStart) : Infinity;
      if (lastLine + 1 < nextStart) put(lastLine + 1, closing);
      else lines[lastLine - 1] += ` ${closing}`;
    }
  });
  return lines.length ? `${lines.join('\n')}\n` : '';
}
