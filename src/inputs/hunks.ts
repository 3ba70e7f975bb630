/**
 * Helpers for analysing a change when only its hunks are known (mailed patch
 * without a tree) and for deciding what a change touched.
 */
import type { FileChange } from './types.js';

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
