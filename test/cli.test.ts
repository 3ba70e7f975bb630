/**
 * End-to-end tests of the built binary (npm test builds dist/ first): temporary
 * git repositories made by the tests, fixture patches, every output format.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateSarif } from '../src/report/sarif-schema.js';

const ROOT = resolve(__dirname, '..');
const BIN = join(ROOT, 'dist/src/cli/main.js');

function kvmlint(args: string[], opts: { cwd?: string; input?: string } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, input: opts.input, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@kvmlint.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
}

interface JsonFinding {
  rule: string;
  file: string;
  line: number;
  function: string;
  commit?: string;
  preexisting: boolean;
  fingerprint: string;
}

const BASE = `#include <linux/kvm_host.h>

int vcpu_cache_gfn(struct kvm_vcpu *vcpu, gfn_t gfn, struct gfn_cache *c)
{
	struct kvm_memslots *slots = kvm_memslots(vcpu->kvm);
	struct kvm_memory_slot *slot = __gfn_to_memslot(slots, gfn);

	c->slot = slot;
	c->gen = slots->generation;
	return slot ? 0 : -ENOENT;
}
`;

const TWICE = BASE.replace('\tc->slot = slot;\n', '\tc->slot = slot;\n\tc->gen2 = kvm_memslots(vcpu->kvm)->generation;\n');

let repo: string;
let commits: string[];

beforeAll(() => {
  expect(existsSync(BIN), 'run `npm run build` first (npm test does)').toBe(true);
  repo = mkdtempSync(join(tmpdir(), 'kvmlint-cli-'));
  git(repo, 'init', '-q', '-b', 'main');
  mkdirSync(join(repo, 'virt/kvm'), { recursive: true });
  const steps: [string, string][] = [
    ['KVM: base', BASE],
    ['KVM: also cache the generation twice', TWICE],
    ['KVM: go back to one snapshot', BASE],
  ];
  commits = [];
  for (const [msg, text] of steps) {
    writeFileSync(join(repo, 'virt/kvm/cache.c'), text);
    writeFileSync(join(repo, 'README'), msg);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', msg);
    commits.push(git(repo, 'rev-parse', 'HEAD').trim());
  }
});

afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
});

describe('kvmlint range', () => {
  it('reports exactly the commit, function and line that add a second kvm_memslots()', () => {
    const r = kvmlint(['range', `${commits[0]}..HEAD`, '--repo', repo, '--format', 'json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { findings: JsonFinding[]; errors: unknown[] };
    expect(out.errors).toEqual([]);
    const line = TWICE.split('\n').findIndex((l) => l.includes('c->gen2')) + 1;
    expect(out.findings.map((f) => [f.rule, f.commit, f.file, f.function, f.line])).toEqual([
      ['memslots-double-snapshot', commits[1], 'virt/kvm/cache.c', 'vcpu_cache_gfn', line],
    ]);
  });

  it('the commit that removes it reports nothing', () => {
    const r = kvmlint(['range', `${commits[1]}..${commits[2]}`, '--repo', repo, '--format', 'json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { findings: unknown[] }).findings).toEqual([]);
  });

  it('a long range on two threads gives exactly the one-thread result', () => {
    const long = mkdtempSync(join(tmpdir(), 'kvmlint-long-'));
    git(long, 'init', '-q', '-b', 'main');
    mkdirSync(join(long, 'virt/kvm'), { recursive: true });
    const shas: string[] = [];
    for (let i = 0; i < 48; i++) {
      // Commit 10 and commit 40 introduce the second snapshot; the commits in between remove it.
      const bad = i === 10 || i === 40;
      writeFileSync(join(long, 'virt/kvm/cache.c'), (bad ? TWICE : BASE) + `\nint filler_${i};\n`);
      git(long, 'add', '-A');
      git(long, 'commit', '-q', '-m', `step ${i}`);
      shas.push(git(long, 'rev-parse', 'HEAD').trim());
    }
    const one = kvmlint(['range', `${shas[0]}..HEAD`, '--repo', long, '--format', 'json', '--jobs', '1']);
    const two = kvmlint(['range', `${shas[0]}..HEAD`, '--repo', long, '--format', 'json', '--jobs', '2']);
    expect(one.code).toBe(1);
    const pick = (r: { stdout: string }) => (JSON.parse(r.stdout) as { findings: JsonFinding[] }).findings.map((f) => `${f.commit} ${f.rule} ${f.line}`);
    expect(pick(one)).toEqual([`${shas[10]} memslots-double-snapshot 9`, `${shas[40]} memslots-double-snapshot 9`]);
    expect(pick(two)).toEqual(pick(one));
    rmSync(long, { recursive: true, force: true });
  });

  it('a bad range is a one-line error and exit 2', () => {
    const r = kvmlint(['range', 'nosuchrev..HEAD', '--repo', repo]);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/nosuchrev/);
  });
});

describe('kvmlint staged', () => {
  it('checks the index against HEAD (pre-commit hook)', () => {
    writeFileSync(join(repo, 'virt/kvm/cache.c'), TWICE);
    git(repo, 'add', 'virt/kvm/cache.c');
    const bad = kvmlint(['staged', '--repo', repo, '--format', 'json']);
    expect(bad.code).toBe(1);
    const f = (JSON.parse(bad.stdout) as { findings: JsonFinding[] }).findings;
    expect(f.map((x) => `${x.rule} ${x.function}`)).toEqual(['memslots-double-snapshot vcpu_cache_gfn']);
    // The persistent cache lives in the git dir, and a warm run gives the same answer.
    expect(existsSync(join(repo, '.git/kvmlint/cache.json'))).toBe(true);
    // It keeps the file indexes by content key, so a warm run does not re-scan HEAD's file.
    const cache = JSON.parse(readFileSync(join(repo, '.git/kvmlint/cache.json'), 'utf8')) as { indexes: [string, { name: string }[]][] };
    const cached = cache.indexes.filter(([k]) => k.startsWith('virt/kvm/cache.c\0'));
    expect(cached.length).toBeGreaterThanOrEqual(1);
    expect(cached[0]![1].map((fn) => fn.name)).toContain('vcpu_cache_gfn');
    const warm = kvmlint(['staged', '--repo', repo, '--format', 'json']);
    expect((JSON.parse(warm.stdout) as { findings: JsonFinding[] }).findings.map((x) => x.fingerprint)).toEqual(f.map((x) => x.fingerprint));
    expect(kvmlint(['staged', '--repo', repo, '--no-cache']).code).toBe(1);
    git(repo, 'checkout', '-q', 'HEAD', '--', 'virt/kvm/cache.c');
    const good = kvmlint(['staged', '--repo', repo]);
    expect(good.code).toBe(0);
  });

  it('a directory that is not a repo is exit 2 naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmlint-norepo-'));
    const r = kvmlint(['staged', '--repo', dir]);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain(dir);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('kvmlint check', () => {
  it('analyses whole files; a missing file is an error that does not lose the others', () => {
    const r = kvmlint(['check', 'fixtures/c/memslots-demo.c', 'fixtures/c/no-such-file.c', '--format', 'json']);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as { findings: JsonFinding[]; errors: { input: string; message: string }[] };
    expect(out.findings.map((f) => `${f.rule} ${f.function}:${f.line}`)).toEqual(['memslots-double-snapshot fixture_dirty_gen:12']);
    expect(out.errors.map((e) => e.input)).toEqual(['fixtures/c/no-such-file.c']);
    expect(out.errors[0].message.split('\n')).toHaveLength(1);
  });

  it('text output is compiler style', () => {
    const r = kvmlint(['check', 'fixtures/c/memslots-demo.c', '--no-color']);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/^fixtures\/c\/memslots-demo\.c:12:\d+: error: .* \[memslots-double-snapshot\]$/);
    expect(r.stdout).not.toMatch(/\u001b\[/);
  });

  it('SARIF output validates against the SARIF 2.1.0 schema', () => {
    const r = kvmlint(['check', 'fixtures/c/memslots-demo.c', '--format', 'sarif']);
    const v = validateSarif(r.stdout);
    expect(v.errors).toEqual([]);
    expect(v.valid).toBe(true);
    const log = JSON.parse(r.stdout) as { runs: { results: { ruleId: string }[] }[] };
    expect(log.runs[0].results.map((x) => x.ruleId)).toEqual(['memslots-double-snapshot']);
  });

  it('--rules selects rules; an unknown rule id is exit 2', () => {
    expect(kvmlint(['check', 'fixtures/c/memslots-demo.c', '--rules', 'memslots-publish-without-sync']).code).toBe(0);
    const r = kvmlint(['check', 'fixtures/c/memslots-demo.c', '--rules', 'no-such-rule']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no-such-rule');
  });
});

describe('kvmlint patch', () => {
  it('hunk-only: a mailed series without a tree (lower confidence)', () => {
    const r = kvmlint(['patch', 'fixtures/demo/series.mbox', '--format', 'json']);
    expect(r.code).toBe(1);
    const f = (JSON.parse(r.stdout) as { findings: (JsonFinding & { confidence: string; patch: string })[] }).findings;
    const ds = f.filter((x) => x.rule === 'memslots-double-snapshot');
    expect(ds.map((x) => `${x.file}:${x.line} ${x.function}`)).toEqual(['virt/kvm/kvm_main.c:42 demo_read_slot_flags']);
    expect(ds[0].confidence).toBe('medium');
    expect(ds[0].patch).toContain('2/2');
  });

  it('reads a patch on stdin (b4 | kvmlint patch -)', () => {
    const r = kvmlint(['patch', '-', '--format', 'json'], { input: readFileSync(join(ROOT, 'fixtures/demo/series.mbox'), 'utf8') });
    expect(r.code).toBe(1);
  });

  it('--tree applies the patch onto a checkout and analyses whole functions', () => {
    const tree = mkdtempSync(join(tmpdir(), 'kvmlint-tree-'));
    git(tree, 'init', '-q', '-b', 'main');
    mkdirSync(join(tree, 'fixtures/c'), { recursive: true });
    writeFileSync(join(tree, 'fixtures/c/memslots-demo.c'), readFileSync(join(ROOT, 'fixtures/c/memslots-demo.c')));
    git(tree, 'add', '-A');
    git(tree, 'commit', '-q', '-m', 'base');
    const withTree = kvmlint(['patch', 'fixtures/patches/free-before-sync.patch', '--tree', tree, '--format', 'json']);
    expect(withTree.code).toBe(1);
    const f = (JSON.parse(withTree.stdout) as { findings: JsonFinding[] }).findings;
    expect(f.map((x) => `${x.rule} ${x.function}:${x.line}`)).toEqual(['memslots-publish-without-sync fixture_publish:25']);
    // The pre-existing double snapshot in another function is not reported...
    expect(f.some((x) => x.function === 'fixture_dirty_gen')).toBe(false);
    // ...and the tree's work tree is untouched (a temporary worktree was used).
    expect(git(tree, 'status', '--porcelain')).toBe('');
    rmSync(tree, { recursive: true, force: true });
  });

  it('garbage input is one line naming the input, exit 2', () => {
    const r = kvmlint(['patch', 'fixtures/patches/garbage.txt']);
    expect(r.code).toBe(2);
    const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.includes('garbage.txt'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
  });
});

describe('kvmlint litmus', () => {
  it('names each bad input on one stderr line, runs the others, exits 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmlint-litmus-cli-'));
    try {
      writeFileSync(join(dir, 'bad.litmus'), 'C bad\n{}\nP0(int *x) { WRITE_ONCE(*x, ; }\nexists (x=1)\n');
      writeFileSync(
        join(dir, 'mp.litmus'),
        'C MP\n{}\nP0(int *x, int *y)\n{\n\tWRITE_ONCE(*x, 1);\n\tsmp_store_release(y, 1);\n}\nP1(int *x, int *y)\n{\n\tint r0;\n\tint r1;\n\tr0 = smp_load_acquire(y);\n\tr1 = READ_ONCE(*x);\n}\nexists (1:r0=1 /\\ 1:r1=0)\n',
      );
      const missing = join(dir, 'missing.litmus');
      const r = kvmlint(['litmus', missing, join(dir, 'bad.litmus'), join(dir, 'mp.litmus')]);
      expect(r.code).toBe(2);
      expect(r.stdout.trim()).toBe('Observation MP Never 0 3');
      expect(r.stderr.trim().split('\n')).toEqual([
        `kvmlint: ${missing}: no such file or directory`,
        `kvmlint: ${join(dir, 'bad.litmus')}: line 3: unexpected ';' in expression`,
      ]);
      const ok = kvmlint(['litmus', join(dir, 'mp.litmus')]);
      expect([ok.code, ok.stderr]).toEqual([0, '']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kvmlint rules / explain / demo', () => {
  it('lists every rule with id, severity and summary', () => {
    const r = kvmlint(['rules']);
    expect(r.code).toBe(0);
    const ids = r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
    expect(ids).toContain('memslots-double-snapshot');
    expect(ids).toContain('memslots-publish-without-sync');
    for (const id of ids) expect(existsSync(join(ROOT, 'docs/rules', `${id}.md`)), `docs/rules/${id}.md`).toBe(true);
  });

  it('explain prints the path and the other side of each finding', () => {
    const json = kvmlint(['check', 'fixtures/c/memslots-demo.c', '--format', 'json']);
    const dir = mkdtempSync(join(tmpdir(), 'kvmlint-explain-'));
    writeFileSync(join(dir, 'r.json'), json.stdout);
    const r = kvmlint(['explain', '--json', join(dir, 'r.json'), '--litmus-out', join(dir, 'litmus')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\[1\/1\] fixtures\/c\/memslots-demo\.c:12/);
    expect(r.stdout).toMatch(/path:\n\s+\d+ \| /);
    expect(r.stdout).toMatch(/the other side:\n\s+fixtures\/c\/memslots-demo\.c:10: first snapshot/);
    expect(existsSync(join(dir, 'litmus'))).toBe(true);
    expect(readdirSync(join(dir, 'litmus')).filter((f) => f.endsWith('.litmus')).length).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('explain --litmus-out writes a litmus test whose bad outcome the LKMM allows; the fixed code is silent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmlint-litmus-'));
    const r = kvmlint(['explain', 'check', 'fixtures/c/lockless-count.c', '--litmus-out', join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\[barrier-unpaired-lockless-read\]/);
    expect(r.stdout).toMatch(/litmus test \(LKMM allows the bad outcome\):/);
    expect(r.stdout).toMatch(/witness:/);
    const files = readdirSync(join(dir, 'out')).filter((f) => f.endsWith('.litmus'));
    expect(files).toHaveLength(1);
    const { runLitmus } = await import('../src/analyzer/memory-model/index.js');
    const verdict = runLitmus(readFileSync(join(dir, 'out', files[0]), 'utf8')).verdict;
    expect(verdict).toBe('Sometimes');
    // With the reader-side smp_mb() the outcome is forbidden and nothing is reported.
    const fixed = readFileSync(join(ROOT, 'fixtures/c/lockless-count.c'), 'utf8').replace(
      '\tkvm_vcpu_write_guest(vcpu, gpa, new, bytes);\n',
      '\tkvm_vcpu_write_guest(vcpu, gpa, new, bytes);\n\t/* Pairs with the smp_mb() in fixture_account(). */\n\tsmp_mb();\n',
    );
    writeFileSync(join(dir, 'fixed.c'), fixed);
    const ok = kvmlint(['check', join(dir, 'fixed.c'), '--rules', 'barrier-unpaired-lockless-read,barrier-misplaced', '--format', 'json']);
    expect((JSON.parse(ok.stdout) as { findings: unknown[] }).findings).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('explain --json rejects a malformed result with one line naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmlint-badjson-'));
    writeFileSync(join(dir, 'bad.json'), '{"findings":[{"rule":1}]}');
    const r = kvmlint(['explain', '--json', join(dir, 'bad.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('bad.json');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the demo (npm start) shows real findings', () => {
    const r = kvmlint(['demo', '--format', 'json']);
    // demo prints one JSON document per part; take each and collect the rules
    const rules = new Set<string>();
    for (const m of r.stdout.matchAll(/"rule": "([^"]+)"/g)) rules.add(m[1]);
    expect(rules.has('memslots-double-snapshot')).toBe(true);
    expect(rules.has('memslots-publish-without-sync')).toBe(true);
    expect(rules.has('barrier-unpaired-lockless-read')).toBe(true);
    expect(rules.has('tdp-root-ref-leak')).toBe(true);
    expect(rules.has('zap-outside-invalidation')).toBe(true);
    expect(r.code).toBe(1);
  });
});
