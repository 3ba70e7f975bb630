import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUnifiedDiff } from '../src/inputs/diff.js';
import { applyHunks, changedLines, fragmentImages, gitBlobId } from '../src/inputs/hunks.js';
import { indexFile, reindex, type FileIndex } from '../src/analyzer/frontend/index-file.js';
import { hunkExtents } from '../src/analyzer/differential.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kvmlint-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Unified diff of two texts as git produces it (exit code 1 = differences). */
function gitDiff(a: string, b: string, context: number): string {
  writeFileSync(path.join(dir, 'a.c'), a);
  writeFileSync(path.join(dir, 'b.c'), b);
  try {
    return execFileSync('git', ['diff', '--no-index', '--no-color', `-U${context}`, 'a.c', 'b.c'], { cwd: dir, encoding: 'utf8' });
  } catch (e) {
    return (e as { stdout: string }).stdout;
  }
}

// Small alphabet so that the diff algorithm has repeated lines to choose from;
// lines beginning with '-', '+', '--' and empty lines stress the hunk scanner.
const line = fc.constantFrom('{', '}', '', '\tr = 0;', '\tspin_lock(&kvm->mmu_lock);', '-- x', '--- y', '+z', '\tkvm_flush(kvm);', 'int f(void)');
const edit = fc.record({
  kind: fc.constantFrom('del', 'ins', 'rep'),
  at: fc.nat(),
  n: fc.integer({ min: 1, max: 3 }),
  text: fc.array(line, { minLength: 1, maxLength: 3 }),
});

function applyEdits(lines: string[], edits: { kind: string; at: number; n: number; text: string[] }[]): string[] {
  const out = [...lines];
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % (out.length + 1);
    if (e.kind === 'del') out.splice(at, e.n);
    else if (e.kind === 'ins') out.splice(at, 0, ...e.text);
    else out.splice(at, e.n, ...e.text);
  }
  return out;
}

describe('fragmentImages property', () => {
  it('places every visible line at its true line number in the real pre/post files', () => {
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 0, maxLength: 40 }),
        fc.array(edit, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 4 }),
        fc.boolean(),
        (oldLines, edits, context, finalNewline) => {
          const newLines = applyEdits(oldLines, edits);
          const nl = (ls: string[]) => (ls.length === 0 ? '' : ls.join('\n') + (finalNewline ? '\n' : ''));
          const oldText = nl(oldLines);
          const newText = nl(newLines);
          const diff = gitDiff(oldText, newText, context);
          const files = parseUnifiedDiff(diff);
          if (oldText === newText) {
            expect(files).toEqual([]);
            return;
          }
          expect(files).toHaveLength(1);
          const f = files[0]!;
          const { pre, post } = fragmentImages(f);
          const preL = pre === '' ? [] : pre.slice(0, -1).split('\n');
          const postL = post === '' ? [] : post.slice(0, -1).split('\n');
          const visOld = new Set<number>();
          const visNew = new Set<number>();
          for (const h of f.hunks) {
            for (const l of h.lines) {
              if (l.kind !== 'add') {
                expect(l.oldLine).toBeDefined();
                expect(oldLines[l.oldLine! - 1]).toBe(l.text);
                expect(preL[l.oldLine! - 1]).toBe(l.text);
                visOld.add(l.oldLine!);
              }
              if (l.kind !== 'del') {
                expect(l.newLine).toBeDefined();
                expect(newLines[l.newLine! - 1]).toBe(l.text);
                expect(postL[l.newLine! - 1]).toBe(l.text);
                visNew.add(l.newLine!);
              }
            }
          }
          preL.forEach((t, i) => { if (!visOld.has(i + 1)) expect(t).toBe(''); });
          postL.forEach((t, i) => { if (!visNew.has(i + 1)) expect(t).toBe(''); });
          expect(preL.length).toBe(visOld.size === 0 ? 0 : Math.max(...visOld));
          expect(postL.length).toBe(visNew.size === 0 ? 0 : Math.max(...visNew));
          // changed lines are exactly the non-context lines (plus deletion anchors inside the new file)
          const { oldChanged, newChanged } = changedLines(f);
          const dels = f.hunks.flatMap((h) => h.lines.filter((l) => l.kind === 'del').map((l) => l.oldLine));
          const adds = new Set(f.hunks.flatMap((h) => h.lines.filter((l) => l.kind === 'add').map((l) => l.newLine!)));
          expect([...oldChanged].sort()).toEqual([...new Set(dels)].sort());
          for (const a of adds) expect(newChanged.has(a)).toBe(true);
          for (const n of newChanged) expect(n >= 1 && n <= Math.max(1, newLines.length)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('applyHunks property', () => {
  it('rebuilds the new image from the old one and git diff hunks; the blob id decides the unterminated-last-line cases', () => {
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 0, maxLength: 40 }),
        fc.array(edit, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 4 }),
        fc.boolean(),
        fc.boolean(),
        (oldLines, edits, context, oldFinalNewline, newFinalNewline) => {
          const newLines = applyEdits(oldLines, edits);
          const text = (ls: string[], nl: boolean) => (ls.length === 0 ? '' : ls.join('\n') + (nl ? '\n' : ''));
          const oldText = text(oldLines, oldFinalNewline);
          const newText = text(newLines, newFinalNewline);
          if (oldText === newText) return;
          const files = parseUnifiedDiff(gitDiff(oldText, newText, context));
          expect(files).toHaveLength(1);
          const got = applyHunks(oldText, files[0]!.hunks);
          // Always the exact text when both images end with a newline (or are empty).
          if ((oldFinalNewline || oldText === '') && (newFinalNewline || newText === '')) expect(got).toBe(newText);
          // Never a wrong text that the blob id would accept.
          if (got !== undefined && got !== newText) expect(gitBlobId(got)).not.toBe(gitBlobId(newText));
          // git's own blob id.
          writeFileSync(path.join(dir, 'b.c'), newText);
          expect(gitBlobId(newText)).toBe(execFileSync('git', ['hash-object', 'b.c'], { cwd: dir, encoding: 'utf8' }).trim());
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses hunks that do not match the old image', () => {
    const files = parseUnifiedDiff(gitDiff('a\nb\nc\n', 'a\nB\nc\n', 1));
    expect(applyHunks('a\nb\nc\n', files[0]!.hunks)).toBe('a\nB\nc\n');
    expect(applyHunks('a\nx\nc\n', files[0]!.hunks)).toBeUndefined();
    expect(applyHunks('a\n', files[0]!.hunks)).toBeUndefined();
  });
});

describe('incremental index property', () => {
  // Small C functions and top-level lines, so that edits create, split, merge and delete functions.
  // Elements may hold several lines: whole functions appear, move and vanish.
  // Braces stay balanced at file level, as in code that compiles (a stray
  // top-level '}' re-pairs every later brace, which no incremental index can
  // see from the hunks alone).
  const cline = fc.constantFrom(
    'static int f(int a)\n{\n\tif (a) {\n\t\treturn 1;\n\t}\n\treturn 0;\n}',
    'void g(void)\n{\n\tspin_lock(&kvm->mmu_lock);\n}',
    'int k(void) { return 2; }',
    '\treturn 0;',
    '',
    'int x;',
    '/* comment */',
    'struct s { int a; };',
    '#define M(a) (a)',
  );
  it('reindex from the old index gives the index of the new text, line-shifted spans included', () => {
    fc.assert(
      fc.property(
        fc.array(cline, { minLength: 0, maxLength: 60 }),
        fc.array(
          edit.map((e) => ({ ...e, text: e.text.map((_, i) => ['void h(void)\n{\n\treturn 1;\n}', '', 'int y;', '\tkvm_flush(kvm);', 'int k(void) { return 3; }'][(e.at + i) % 5]!) })),
          { minLength: 1, maxLength: 4 },
        ),
        fc.integer({ min: 0, max: 3 }),
        (oldLines, edits, context) => {
          const newLines = applyEdits(oldLines, edits);
          const oldText = oldLines.join('\n') + '\n';
          const newText = newLines.join('\n') + '\n';
          if (oldText === newText) return;
          const files = parseUnifiedDiff(gitDiff(oldText, newText, context));
          const pre = indexFile('a.c', oldText);
          const inc = reindex(pre, 'a.c', newText, hunkExtents(files[0]!));
          const full = indexFile('a.c', newText);
          const view = (ix: FileIndex) => ix.functions.map((f) => [f.name, f.startLine, f.endLine, f.hash, f.text]);
          expect(view(inc)).toEqual(view(full));
          expect(inc.lines).toEqual(newText.split('\n'));
        },
      ),
      { numRuns: 200 },
    );
  });
});
