import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobCache } from '../src/inputs/cache.js';
import { GitRepo } from '../src/inputs/git.js';
import type { ChangeSet } from '../src/inputs/types.js';

const ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Toy Dev',
  GIT_AUTHOR_EMAIL: 'toy@example.org',
  GIT_COMMITTER_NAME: 'Toy Dev',
  GIT_COMMITTER_EMAIL: 'toy@example.org',
};

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env: ENV, encoding: 'utf8' }).trim();
}

function write(dir: string, file: string, text: string): void {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), text);
}

function commit(dir: string, msg: string): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', msg);
  return git(dir, 'rev-parse', 'HEAD');
}

/** A C file of n numbered lines, with a few KVM-ish statements. */
function cfile(n: number, tweak: (lines: string[]) => void = () => {}): string {
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) lines.push(i % 10 === 1 ? `static int toy_fn${i}(struct kvm *kvm)` : `\ttoy_step(kvm, ${i});`);
  tweak(lines);
  return lines.join('\n') + '\n';
}

interface Fixture {
  dir: string;
  c: Record<string, string>;
}

function buildRepo(): Fixture {
  const dir = mkdtempSync(path.join(tmpdir(), 'kvmlint-inputs-'));
  git(dir, 'init', '-q', '-b', 'main');
  const c: Record<string, string> = {};
  write(dir, 'README', 'toy\n');
  c.root = commit(dir, 'toy: initial');
  write(dir, 'virt/kvm/toy.c', cfile(30));
  c.add = commit(dir, 'KVM: toy: add toy.c');
  write(dir, 'virt/kvm/toy.c', cfile(30, (l) => { l[4] = '\tsrcu_read_lock(&kvm->srcu);'; l.splice(20, 1); }));
  write(dir, 'include/kvm/toy.h', '#define TOY 1\nint toy(void);\n');
  c.modify = commit(dir, 'KVM: toy: modify toy.c, add toy.h');
  write(dir, 'README', 'toy docs\n');
  c.docs = commit(dir, 'docs: README only');
  git(dir, 'mv', 'include/kvm/toy.h', 'include/kvm/toy_moved.h');
  write(dir, 'include/kvm/toy_moved.h', '#define TOY 1\nint toy(void);\nint toy2(void);\n');
  write(dir, 'virt/kvm/gone.c', 'int gone;\n');
  c.rename = commit(dir, 'KVM: toy: rename toy.h');
  git(dir, 'rm', '-q', 'virt/kvm/gone.c');
  c.del = commit(dir, 'KVM: toy: delete gone.c');
  // a side branch merged back: the merge is skipped, its commit listed
  git(dir, 'checkout', '-q', '-b', 'side', c.del);
  write(dir, 'virt/kvm/side.c', 'int side;\n');
  c.side = commit(dir, 'KVM: toy: side work');
  git(dir, 'checkout', '-q', 'main');
  write(dir, 'virt/kvm/toy.c', cfile(30, (l) => { l[4] = '\tsrcu_read_lock(&kvm->srcu);'; l.splice(20, 1); l[28] = '\tsmp_mb();'; }));
  c.main2 = commit(dir, 'KVM: toy: barrier');
  git(dir, 'merge', '-q', '--no-ff', '-m', 'Merge branch side', 'side');
  c.merge = git(dir, 'rev-parse', 'HEAD');
  return { dir, c };
}

async function collect(it: AsyncIterable<ChangeSet>): Promise<ChangeSet[]> {
  const out: ChangeSet[] = [];
  for await (const cs of it) out.push(cs);
  return out;
}

describe('GitRepo', () => {
  let fx: Fixture;
  let repo: GitRepo;
  const blob = (rev: string, p: string) => git(fx.dir, 'rev-parse', `${rev}:${p}`);

  beforeAll(async () => {
    fx = buildRepo();
    repo = await GitRepo.open(fx.dir);
  });
  afterAll(async () => {
    await repo?.close();
    if (fx) rmSync(fx.dir, { recursive: true, force: true });
  });

  it('opens a repo from a subdirectory and resolves revisions', async () => {
    const sub = await GitRepo.open(path.join(fx.dir, 'virt/kvm'));
    expect(sub.dir).toBe(git(fx.dir, 'rev-parse', '--show-toplevel'));
    expect(await sub.resolve('HEAD')).toBe(fx.c.merge);
    expect(await sub.resolve('main~1')).toBe(fx.c.main2);
    await sub.close();
    await expect(repo.resolve('no-such-branch')).rejects.toThrow(/^unknown revision 'no-such-branch'/);
  });

  it('knows the common git directory from a subdirectory, a worktree and a bare clone', async () => {
    const common = realpathSync(path.join(fx.dir, '.git'));
    const sub = await GitRepo.open(path.join(fx.dir, 'virt/kvm'));
    expect(realpathSync(sub.commonDir)).toBe(common);
    await sub.close();
    const wt = path.join(fx.dir, '..', path.basename(fx.dir) + '-wt');
    git(fx.dir, 'worktree', 'add', '-q', '--detach', wt, fx.c.del);
    try {
      const w = await GitRepo.open(wt);
      expect(realpathSync(w.dir)).toBe(realpathSync(wt));
      expect(realpathSync(w.commonDir)).toBe(common);
      await w.close();
    } finally {
      git(fx.dir, 'worktree', 'remove', '--force', wt);
    }
    const bareDir = fx.dir + '-bare.git';
    git(fx.dir, 'clone', '-q', '--bare', fx.dir, bareDir);
    try {
      const b = await GitRepo.open(bareDir);
      expect(b.bare).toBe(true);
      expect(realpathSync(b.commonDir)).toBe(realpathSync(bareDir));
      await b.close();
    } finally {
      rmSync(bareDir, { recursive: true, force: true });
    }
  });

  it('streams a range oldest first with exact files, blobs and line numbers', async () => {
    const all = await collect(repo.range(`${fx.c.root}..HEAD`));
    const { c } = fx;
    expect(all.map((cs) => [cs.id, cs.parent, cs.subject, cs.skipped])).toEqual([
      [c.add, c.root, 'KVM: toy: add toy.c', undefined],
      [c.modify, c.add, 'KVM: toy: modify toy.c, add toy.h', undefined],
      [c.docs, c.modify, 'docs: README only', undefined],
      [c.rename, c.docs, 'KVM: toy: rename toy.h', undefined],
      [c.del, c.rename, 'KVM: toy: delete gone.c', undefined],
      [c.side, c.del, 'KVM: toy: side work', undefined],
      [c.main2, c.del, 'KVM: toy: barrier', undefined],
      [c.merge, c.main2, 'Merge branch side', 'merge commit'],
    ]);
    expect(all[0]!.author).toBe('Toy Dev <toy@example.org>');
    const files = (cs: ChangeSet) => cs.files.map((f) => [f.oldPath, f.newPath, f.oldBlob, f.newBlob]);
    expect(files(all[0]!)).toEqual([[null, 'virt/kvm/toy.c', undefined, blob(c.add, 'virt/kvm/toy.c')]]);
    expect(files(all[1]!)).toEqual([
      [null, 'include/kvm/toy.h', undefined, blob(c.modify, 'include/kvm/toy.h')],
      ['virt/kvm/toy.c', 'virt/kvm/toy.c', blob(c.add, 'virt/kvm/toy.c'), blob(c.modify, 'virt/kvm/toy.c')],
    ]);
    expect(files(all[2]!)).toEqual([['README', 'README', blob(c.root, 'README'), blob(c.docs, 'README')]]);
    expect(files(all[3]!)).toEqual([
      ['include/kvm/toy.h', 'include/kvm/toy_moved.h', blob(c.docs, 'include/kvm/toy.h'), blob(c.rename, 'include/kvm/toy_moved.h')],
      [null, 'virt/kvm/gone.c', undefined, blob(c.rename, 'virt/kvm/gone.c')],
    ]);
    expect(files(all[4]!)).toEqual([['virt/kvm/gone.c', null, blob(c.rename, 'virt/kvm/gone.c'), undefined]]);
    expect(all[7]!.files).toEqual([]);

    // line 5 replaced, line 21 deleted (old numbering)
    const toy = all[1]!.files[1]!;
    const changed = toy.hunks.flatMap((h) => h.lines.filter((l) => l.kind !== 'ctx').map((l) => [l.kind, l.oldLine ?? l.newLine, l.text]));
    expect(changed).toEqual([
      ['del', 5, '\ttoy_step(kvm, 5);'],
      ['add', 5, '\tsrcu_read_lock(&kvm->srcu);'],
      ['del', 21, 'static int toy_fn21(struct kvm *kvm)'],
    ]);
    expect(toy.hunks[0]).toMatchObject({ oldStart: 2, oldLines: 7, newStart: 2, newLines: 7, section: 'static int toy_fn1(struct kvm *kvm)' });
    // all new blobs are readable through the batch process
    const ids = all.flatMap((cs) => cs.files.map((f) => f.newBlob).filter((x): x is string => !!x));
    const texts = await repo.readBlobs(ids);
    expect(texts.size).toBe(new Set(ids).size);
    expect(texts.get(blob(c.modify, 'virt/kvm/toy.c'))).toBe(readFileSync(path.join(fx.dir, 'virt/kvm/toy.c'), 'utf8').replace('\tsmp_mb();', '\ttoy_step(kvm, 30);'));
  });

  it('limits a range to C paths, keeping real parents', async () => {
    const got = await collect(repo.range(`${fx.c.root}..main`, { paths: ['*.c', '*.h'] }));
    const { c } = fx;
    const nonMerge = got.filter((cs) => !cs.skipped);
    expect(nonMerge.map((cs) => [cs.id, cs.parent])).toEqual([
      [c.add, c.root],
      [c.modify, c.add],
      [c.rename, c.docs], // the README-only commit is left out, the parent is still real
      [c.del, c.rename],
      [c.side, c.del],
      [c.main2, c.del],
    ]);
    for (const cs of got) for (const f of cs.files) expect(f.newPath ?? f.oldPath).toMatch(/\.[ch]$/);
  });

  it('stops the git process when the consumer breaks early', async () => {
    let n = 0;
    for await (const cs of repo.range(fx.c.merge)) {
      expect(cs.id).toBe(fx.c.root); // --reverse: the root comes first
      n++;
      break;
    }
    expect(n).toBe(1);
  });

  it('rejects a bad range with a one-line error naming it', async () => {
    await expect(collect(repo.range('nope..HEAD'))).rejects.toThrow(/^bad revision range 'nope\.\.HEAD' in .+: fatal: .*[^\n]$/);
    try {
      await collect(repo.range('HEAD..nope2'));
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
      expect((e as Error).message).toContain("'HEAD..nope2'");
    }
    expect(() => repo.range('--output=/tmp/x')).toThrow(/invalid revision range '--output=\/tmp\/x'/);
  });

  it('reads blobs in one batch, missing ids absent; readFileAt', async () => {
    const a = blob(fx.c.add, 'virt/kvm/toy.c');
    const r = blob(fx.c.root, 'README');
    const missing = 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef';
    const m = await repo.readBlobs([a, missing, r, a, '0000000000000000000000000000000000000000', fx.c.add /* a commit */]);
    expect([...m.keys()].sort()).toEqual([a, r].sort());
    expect(m.get(r)).toBe('toy\n');
    expect(m.get(a)).toBe(cfile(30));
    expect(await repo.readFileAt(fx.c.add, 'virt/kvm/toy.c')).toBe(cfile(30));
    expect(await repo.readFileAt(fx.c.root, 'virt/kvm/toy.c')).toBeUndefined();
    expect(await repo.readFileAt('HEAD', 'virt/kvm')).toBeUndefined(); // a tree
    expect(await repo.readFileAt('HEAD', 'virt/kvm/side.c')).toBe('int side;\n');
    // concurrent requests are answered in order
    const many = await Promise.all([repo.readBlobs([a]), repo.readFileAt(fx.c.root, 'README'), repo.readBlobs([r, missing])]);
    expect(many[0].get(a)).toBe(cfile(30));
    expect(many[1]).toBe('toy\n');
    expect([...many[2].keys()]).toEqual([r]);
  });

  it('uses a BlobCache when given one', async () => {
    const cache = new BlobCache<string>({ maxBytes: 1 << 20 });
    const cached = await GitRepo.open(fx.dir, { cache });
    const a = blob(fx.c.add, 'virt/kvm/toy.c');
    await cached.readBlobs([a]);
    expect(cache.get(a)).toBe(cfile(30));
    await cached.close();
    // served from the cache after close (no process needed)
    expect((await cached.readBlobs([a])).get(a)).toBe(cfile(30));
  });

  it('adds a worktree, applies a patch, removes it', async () => {
    const wt = await repo.addWorktree(fx.c.add);
    try {
      expect(readFileSync(path.join(wt.dir, 'virt/kvm/toy.c'), 'utf8')).toBe(cfile(30));
      expect(wt.dir.startsWith(tmpdir())).toBe(true);
      const patch = git(fx.dir, 'format-patch', '--stdout', '-1', fx.c.modify) + '\n';
      expect(await repo.applyPatch(wt.dir, patch)).toEqual({ ok: true });
      expect(readFileSync(path.join(wt.dir, 'include/kvm/toy.h'), 'utf8')).toBe('#define TOY 1\nint toy(void);\n');
      // a patch touching the same line differently conflicts, with a one-line message
      const other = patch.replace('+\tsrcu_read_lock(&kvm->srcu);', '+\tsrcu_read_lock_other(&kvm->srcu);');
      const again = await repo.applyPatch(wt.dir, other);
      expect(again.ok).toBe(false);
      expect(again.message).toBeTruthy();
      expect(again.message).not.toContain('\n');
      const bad = await repo.applyPatch(wt.dir, 'not a patch at all\n');
      expect(bad.ok).toBe(false);
    } finally {
      await wt.remove();
    }
    expect(existsSync(wt.dir)).toBe(false);
    expect(git(fx.dir, 'worktree', 'list')).not.toContain(wt.dir);
    await wt.remove(); // idempotent
  });

  it('returns staged changes against HEAD', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'kvmlint-staged-'));
    try {
      git(d, 'init', '-q', '-b', 'main');
      write(d, 'a.c', 'int a;\nint b;\n');
      write(d, 'notes.txt', 'x\n');
      git(d, 'add', '-A');
      const r = await GitRepo.open(d);
      // no HEAD yet: diff against the empty tree
      const first = await r.staged({ paths: ['*.c', '*.h'] });
      expect(first.id).toBe('staged');
      expect(first.parent).toBeUndefined();
      expect(first.files.map((f) => [f.oldPath, f.newPath, f.newBlob])).toEqual([[null, 'a.c', git(d, 'rev-parse', ':a.c')]]);
      git(d, 'commit', '-q', '-m', 'first');
      write(d, 'a.c', 'int a;\nint c;\n');
      git(d, 'add', 'a.c');
      write(d, 'a.c', 'int a;\nint unstaged;\n'); // not staged: must not show
      const s = await r.staged();
      expect(s.parent).toBe(git(d, 'rev-parse', 'HEAD'));
      expect(s.files).toHaveLength(1);
      const f = s.files[0]!;
      expect([f.oldPath, f.newPath, f.oldBlob, f.newBlob]).toEqual(['a.c', 'a.c', git(d, 'rev-parse', 'HEAD:a.c'), git(d, 'rev-parse', ':a.c')]);
      expect(f.hunks[0]!.lines.map((l) => [l.kind, l.oldLine, l.newLine, l.text])).toEqual([
        ['ctx', 1, 1, 'int a;'],
        ['del', 2, undefined, 'int b;'],
        ['add', undefined, 2, 'int c;'],
      ]);
      expect((await r.readBlobs([f.newBlob!])).get(f.newBlob!)).toBe('int a;\nint c;\n');

      // inside a pre-commit hook git exports GIT_INDEX_FILE (and GIT_DIR): the
      // index being committed is the one to review
      const alt = path.join(d, '.git', 'alt-index');
      const altEnv = { ...ENV, GIT_INDEX_FILE: alt };
      execFileSync('git', ['read-tree', 'HEAD'], { cwd: d, env: altEnv });
      write(d, 'b.h', 'int hook;\n');
      execFileSync('git', ['add', 'b.h'], { cwd: d, env: altEnv });
      const saved = { idx: process.env.GIT_INDEX_FILE, dir: process.env.GIT_DIR };
      process.env.GIT_INDEX_FILE = alt;
      process.env.GIT_DIR = path.join(tmpdir(), 'no-such-git-dir');
      try {
        const hook = await (await GitRepo.open(d)).staged();
        expect(hook.files.map((x) => [x.oldPath, x.newPath])).toEqual([[null, 'b.h']]);
      } finally {
        if (saved.idx === undefined) delete process.env.GIT_INDEX_FILE;
        else process.env.GIT_INDEX_FILE = saved.idx;
        if (saved.dir === undefined) delete process.env.GIT_DIR;
        else process.env.GIT_DIR = saved.dir;
      }
      await r.close();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('rejects a directory that is not a repository with a one-line error', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'kvmlint-norepo-'));
    try {
      await expect(GitRepo.open(d)).rejects.toThrow(new RegExp(`^not a git repository: ${d.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
      await expect(GitRepo.open(path.join(d, 'missing'))).rejects.toThrow(/^not a git repository: .*missing \(no such directory\)$/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
