import { describe, expect, it } from 'vitest';
import { parseUnifiedDiff, parseUnifiedDiffDetailed } from '../src/inputs/diff.js';
import { changedLines, fragmentImages } from '../src/inputs/hunks.js';

const OLD = '1111111111111111111111111111111111111111';
const NEW = '2222222222222222222222222222222222222222';

export const TOY_DIFF = [
  'diff --git a/arch/x86/kvm/mmu/toy.c b/arch/x86/kvm/mmu/toy.c',
  `index ${OLD}..${NEW} 100644`,
  '--- a/arch/x86/kvm/mmu/toy.c',
  '+++ b/arch/x86/kvm/mmu/toy.c',
  '@@ -10,7 +10,8 @@ static int toy_walk(struct kvm *kvm, gfn_t gfn)',
  ' {',
  ' \tstruct kvm_memory_slot *slot;',
  '-\tint idx;',
  '+\tint idx, r;',
  ' ',
  ' \tidx = srcu_read_lock(&kvm->srcu);',
  ' \tslot = gfn_to_memslot(kvm, gfn);',
  '+\tr = slot ? 0 : -ENOENT;',
  ' \tsrcu_read_unlock(&kvm->srcu, idx);',
  '@@ -40,3 +41,2 @@ void toy_exit(void)',
  ' \ta();',
  '-\tb();',
  ' \tc();',
  '',
].join('\n');

describe('parseUnifiedDiff', () => {
  it('parses a bare git diff with exact line numbers and blob ids', () => {
    const files = parseUnifiedDiff(TOY_DIFF);
    expect(files).toHaveLength(1);
    const f = files[0]!;
    expect(f.oldPath).toBe('arch/x86/kvm/mmu/toy.c');
    expect(f.newPath).toBe('arch/x86/kvm/mmu/toy.c');
    expect(f.oldBlob).toBe(OLD);
    expect(f.newBlob).toBe(NEW);
    expect(f.binary).toBeUndefined();
    expect(f.hunks).toHaveLength(2);
    const [h1, h2] = f.hunks;
    expect(h1).toMatchObject({ oldStart: 10, oldLines: 7, newStart: 10, newLines: 8, section: 'static int toy_walk(struct kvm *kvm, gfn_t gfn)' });
    expect(h1!.lines.map((l) => [l.kind, l.oldLine, l.newLine, l.text])).toEqual([
      ['ctx', 10, 10, '{'],
      ['ctx', 11, 11, '\tstruct kvm_memory_slot *slot;'],
      ['del', 12, undefined, '\tint idx;'],
      ['add', undefined, 12, '\tint idx, r;'],
      ['ctx', 13, 13, ''],
      ['ctx', 14, 14, '\tidx = srcu_read_lock(&kvm->srcu);'],
      ['ctx', 15, 15, '\tslot = gfn_to_memslot(kvm, gfn);'],
      ['add', undefined, 16, '\tr = slot ? 0 : -ENOENT;'],
      ['ctx', 16, 17, '\tsrcu_read_unlock(&kvm->srcu, idx);'],
    ]);
    expect(h2).toMatchObject({ oldStart: 40, oldLines: 3, newStart: 41, newLines: 2, section: 'void toy_exit(void)' });
    expect(h2!.lines.map((l) => [l.kind, l.oldLine, l.newLine])).toEqual([
      ['ctx', 40, 41],
      ['del', 41, undefined],
      ['ctx', 42, 42],
    ]);
  });

  it('handles added, deleted, renamed, binary and mode-only files', () => {
    const text = [
      'diff --git a/virt/kvm/new.c b/virt/kvm/new.c',
      'new file mode 100644',
      `index 0000000000000000000000000000000000000000..${NEW}`,
      '--- /dev/null',
      '+++ b/virt/kvm/new.c',
      '@@ -0,0 +1,2 @@',
      '+int x;',
      '+int y;',
      'diff --git a/virt/kvm/old.c b/virt/kvm/old.c',
      'deleted file mode 100644',
      `index ${OLD}..0000000000000000000000000000000000000000`,
      '--- a/virt/kvm/old.c',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-int z;',
      '\\ No newline at end of file',
      'diff --git a/virt/kvm/from.h b/virt/kvm/sub dir/to.h',
      'similarity index 90%',
      'rename from virt/kvm/from.h',
      'rename to virt/kvm/sub dir/to.h',
      `index ${OLD}..${NEW} 100644`,
      '--- a/virt/kvm/from.h',
      '+++ b/virt/kvm/sub dir/to.h\t',
      '@@ -3 +3 @@ struct kvm_toy {',
      '-\tint a;',
      '+\tlong a;',
      'diff --git a/virt/kvm/pure.c b/virt/kvm/moved.c',
      'similarity index 100%',
      'rename from virt/kvm/pure.c',
      'rename to virt/kvm/moved.c',
      `diff --git a/fw.bin b/fw.bin`,
      `index ${OLD}..${NEW}`,
      'Binary files a/fw.bin and b/fw.bin differ',
      'diff --git a/scripts/run.sh b/scripts/run.sh',
      'old mode 100644',
      'new mode 100755',
      'diff --git "a/tools/t\\303\\244st.c" "b/tools/t\\303\\244st.c"',
      `index ${OLD}..${NEW} 100644`,
      '--- "a/tools/t\\303\\244st.c"',
      '+++ "b/tools/t\\303\\244st.c"',
      '@@ -1,1 +1,1 @@',
      '--- old comment',
      '+-- new comment',
      '',
    ].join('\n');
    const files = parseUnifiedDiff(text);
    expect(files.map((f) => [f.oldPath, f.newPath, f.oldBlob, f.newBlob, f.binary ?? false, f.hunks.length])).toEqual([
      [null, 'virt/kvm/new.c', undefined, NEW, false, 1],
      ['virt/kvm/old.c', null, OLD, undefined, false, 1],
      ['virt/kvm/from.h', 'virt/kvm/sub dir/to.h', OLD, NEW, false, 1],
      ['virt/kvm/pure.c', 'virt/kvm/moved.c', undefined, undefined, false, 0],
      ['fw.bin', 'fw.bin', OLD, NEW, true, 0],
      ['scripts/run.sh', 'scripts/run.sh', undefined, undefined, false, 0],
      ['tools/täst.c', 'tools/täst.c', OLD, NEW, false, 1],
    ]);
    expect(files[0]!.hunks[0]!.lines.map((l) => l.newLine)).toEqual([1, 2]);
    // "\ No newline" is not a line
    expect(files[1]!.hunks[0]!.lines).toEqual([{ kind: 'del', text: 'int z;', oldLine: 1 }]);
    expect(files[2]!.hunks[0]!.lines.map((l) => [l.kind, l.oldLine, l.newLine])).toEqual([
      ['del', 3, undefined],
      ['add', undefined, 3],
    ]);
    // a deleted line that itself starts with "-- " is not a file header
    expect(files[6]!.hunks[0]!.lines.map((l) => [l.kind, l.text])).toEqual([
      ['del', '-- old comment'],
      ['add', '-- new comment'],
    ]);
  });

  it('parses plain diff -u output with timestamps and -p1 directories', () => {
    const text = [
      'diff -Naur linux-6.1.orig/virt/kvm/kvm_main.c linux-6.1/virt/kvm/kvm_main.c',
      '--- linux-6.1.orig/virt/kvm/kvm_main.c\t2024-01-01 10:00:00.000000000 +0000',
      '+++ linux-6.1/virt/kvm/kvm_main.c\t2024-01-02 10:00:00.000000000 +0000',
      '@@ -5,2 +5,3 @@',
      ' a',
      '+b',
      '', // blank line standing for an empty context line (mailer stripped the space)
      '--- a/x.h',
      '+++ b/x.h',
      '@@ -1 +1 @@',
      '-old',
      '+new',
      '-- ',
      '2.39.0',
    ].join('\n');
    const files = parseUnifiedDiff(text);
    expect(files.map((f) => [f.oldPath, f.newPath])).toEqual([
      ['virt/kvm/kvm_main.c', 'virt/kvm/kvm_main.c'],
      ['x.h', 'x.h'],
    ]);
    expect(files[0]!.hunks[0]!.lines.map((l) => [l.kind, l.oldLine, l.newLine, l.text])).toEqual([
      ['ctx', 5, 5, 'a'],
      ['add', undefined, 6, 'b'],
      ['ctx', 6, 7, ''],
    ]);
    expect(files[1]!.hunks[0]!.lines).toHaveLength(2);
  });

  it('reports a truncated hunk and keeps what it has', () => {
    const text = ['--- a/f.c', '+++ b/f.c', '@@ -1,4 +1,4 @@', ' a', '-b', '+B'].join('\n');
    const r = parseUnifiedDiffDetailed(text);
    expect(r.files).toHaveLength(1);
    expect(r.files[0]!.hunks[0]).toMatchObject({ oldLines: 2, newLines: 2 });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^truncated hunk @@ -1 \+1 @@ in f\.c/);
    expect(r.problems[0]).not.toContain('\n');
  });

  it('ignores text that is not a diff', () => {
    expect(parseUnifiedDiff('hello\n--- not a header\nworld\n')).toEqual([]);
    expect(parseUnifiedDiff('')).toEqual([]);
  });
});

describe('changedLines / fragmentImages', () => {
  it('marks deleted, added and pure-deletion anchor lines', () => {
    const f = parseUnifiedDiff(TOY_DIFF)[0]!;
    const { oldChanged, newChanged } = changedLines(f);
    expect([...oldChanged].sort((a, b) => a - b)).toEqual([12, 41]);
    // 12 and 16 are added; 41 is the new-image line just before the pure deletion of b()
    expect([...newChanged].sort((a, b) => a - b)).toEqual([12, 16, 41]);
  });

  it('anchors a deletion at the top of the file to line 1 and marks nothing new for a deleted file', () => {
    const top = parseUnifiedDiff(['--- a/f.c', '+++ b/f.c', '@@ -1,2 +0,0 @@', '-x', '-y', ''].join('\n'))[0]!;
    expect([...changedLines(top).newChanged]).toEqual([1]);
    const del = parseUnifiedDiff(['--- a/f.c', '+++ /dev/null', '@@ -1,2 +0,0 @@', '-x', '-y', ''].join('\n'))[0]!;
    expect(changedLines(del)).toEqual({ oldChanged: new Set([1, 2]), newChanged: new Set() });
  });

  it('places every visible line at its real line number', () => {
    const f = parseUnifiedDiff(TOY_DIFF)[0]!;
    const { pre, post } = fragmentImages(f);
    const preLines = pre.split('\n');
    const postLines = post.split('\n');
    expect(preLines[10 - 1]).toBe('{');
    expect(preLines[12 - 1]).toBe('\tint idx;');
    expect(preLines[16 - 1]).toBe('\tsrcu_read_unlock(&kvm->srcu, idx);');
    expect(preLines[41 - 1]).toBe('\tb();');
    expect(preLines[42 - 1]).toBe('\tc();');
    expect(preLines.slice(0, 9).every((l) => l === '')).toBe(true);
    expect(preLines.slice(16, 39).every((l) => l === '')).toBe(true);
    expect(pre.endsWith('\tc();\n')).toBe(true);
    expect(postLines[12 - 1]).toBe('\tint idx, r;');
    expect(postLines[16 - 1]).toBe('\tr = slot ? 0 : -ENOENT;');
    expect(postLines[17 - 1]).toBe('\tsrcu_read_unlock(&kvm->srcu, idx);');
    expect(postLines[41 - 1]).toBe('\ta();');
    expect(postLines[42 - 1]).toBe('\tc();');
    expect(postLines).toHaveLength(43); // 42 lines + '' after the final newline
  });
});
