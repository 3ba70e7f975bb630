/**
 * Helpers for analysing a change when only its hunks are known (mailed patch
 * without a tree) and for deciding what a change touched.
 */
import { createHash } from 'node:crypto';
import type { FileChange, Hunk } from './types.js';

export interface ChangedLines {
  /** Deleted lines, numbered in the old image. */
  oldChanged: Set<number>;
  /** Added lines, numbered in the new image (plus the anchor line of each pure deletion). */
  newChanged: Set<number>;
}

/**
 * Lines a file change touches. A run of deleted lines with no added line next
 * to it (a pure deletion) also marks the new-image line just before the
 * deletion point - git's convention for `+N,0` - so the function the lines
 * were deleted from counts as touched; a deletion at the very top of the file
 * marks line 1. Nothing is marked in the new image of a deleted file.
 */
export function changedLines(fc: FileChange): ChangedLines {
  const oldChanged = new Set<number>();
  const newChanged = new Set<number>();
  const hasNew = fc.newPath !== null;
  for (const h of fc.hunks) {
    // next new-image line number to be assigned while walking the hunk
    let newPos = h.newLines === 0 ? h.newStart + 1 : h.newStart;
    let runDel = false;
    let runAdd = false;
    let runAnchor = 0;
    const flush = () => {
      if (runDel && !runAdd && hasNew) newChanged.add(Math.max(1, runAnchor));
      runDel = false;
      runAdd = false;
    };
    for (const l of h.lines) {
      if (l.kind === 'ctx') {
        flush();
        if (l.newLine !== undefined) newPos = l.newLine + 1;
      } else if (l.kind === 'del') {
        if (!runDel && !runAdd) runAnchor = newPos - 1;
        runDel = true;
        if (l.oldLine !== undefined) oldChanged.add(l.oldLine);
      } else {
        if (!runDel && !runAdd) runAnchor = newPos - 1;
        runAdd = true;
        if (l.newLine !== undefined) {
          newChanged.add(l.newLine);
          newPos = l.newLine + 1;
        }
      }
    }
    flush();
  }
  return { oldChanged, newChanged };
}

export interface FragmentImages {
  /** Old image: context and deleted lines at their old line numbers, every other line empty. */
  pre: string;
  /** New image: context and added lines at their new line numbers, every other line empty. */
  post: string;
}

/**
 * Texts in which every line visible in the hunks sits at its real line number
 * and every invisible line is empty, so that anything parsed from them
 * reports real line numbers. Each text ends after its last visible line (with
 * a newline); an image with no visible line is ''.
 */
export function fragmentImages(fc: FileChange): FragmentImages {
  const pre: string[] = [];
  const post: string[] = [];
  for (const h of fc.hunks) {
    for (const l of h.lines) {
      if (l.oldLine !== undefined && l.kind !== 'add') place(pre, l.oldLine, l.text);
      if (l.newLine !== undefined && l.kind !== 'del') place(post, l.newLine, l.text);
    }
  }
  return { pre: render(pre), post: render(post) };
}

function place(arr: string[], line: number, text: string): void {
  if (line < 1) return;
  while (arr.length < line - 1) arr.push('');
  arr[line - 1] = text;
}

function render(arr: string[]): string {
  if (arr.length === 0) return '';
  for (let i = 0; i < arr.length; i++) if (arr[i] === undefined) arr[i] = '';
  return arr.join('\n') + '\n';
}

/**
 * The new image of a file from its old image and the hunks of a diff between
 * them, or undefined when a context or deleted line does not match the old
 * image. Added lines are given a trailing newline; the "\ No newline at end
 * of file" marker is not kept by the parser, so a change at an unterminated
 * last line can come out one newline off: callers verify the result against
 * the new blob id (`gitBlobId`) and read the blob when it differs.
 */
export function applyHunks(pre: string, hunks: readonly Hunk[]): string | undefined {
  const out: string[] = [];
  let pos = 0; // offset of the start of old line `line`
  let line = 1;
  for (const h of hunks) {
    // `-N,0` inserts after old line N: copy through it.
    const first = h.oldLines === 0 ? h.oldStart + 1 : h.oldStart;
    if (first < line) return undefined; // overlapping or unordered hunks
    const copyFrom = pos;
    while (line < first) {
      const nl = pre.indexOf('\n', pos);
      if (nl < 0) return undefined;
      pos = nl + 1;
      line++;
    }
    if (pos > copyFrom) out.push(pre.slice(copyFrom, pos));
    for (const l of h.lines) {
      if (l.kind === 'add') {
        out.push(l.text, '\n');
        continue;
      }
      if (pos >= pre.length) return undefined;
      const nl = pre.indexOf('\n', pos);
      const end = nl < 0 ? pre.length : nl;
      if (pre.length - pos < l.text.length || !pre.startsWith(l.text, pos) || end - pos !== l.text.length) return undefined;
      if (l.kind === 'ctx') out.push(pre.slice(pos, nl < 0 ? end : nl + 1));
      pos = nl < 0 ? pre.length : nl + 1;
      line++;
    }
  }
  out.push(pre.slice(pos));
  return out.join('');
}

/** git's object id of a blob with this (UTF-8) text: SHA-1, or SHA-256 for 64-digit ids. */
export function gitBlobId(text: string, idLength = 40): string {
  const h = createHash(idLength === 64 ? 'sha256' : 'sha1');
  h.update(`blob ${Buffer.byteLength(text, 'utf8')}\0`);
  h.update(text, 'utf8');
  return h.digest('hex');
}
