/**
 * npm run bench — kvmlint's speed, measured end to end with the built binary.
 *
 *  1. pre-commit: `kvmlint staged` on a one-function change (budget ~120 ms with node start);
 *  2. b4: `kvmlint patch -` on one mailed patch, no tree;
 *  3. range: commits/s of `kvmlint range` over a synthetic history of N commits, each editing one
 *     function of a large KVM-like file (target >= 150 commits/s on 2 cores). When the real KVM tree
 *     is cached by `npm run eval:upstream` (.cache/), the history edits real 6.12 files instead.
 *  4. the LKMM engine on the kernel's 47 litmus tests in ../shared/litmus (target < 2 s), in-process.
 *
 * Options: --commits N (default 300), --runs N (default 7), --keep (keep the temporary repository
 * and print its path, for profiling).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { indexFile } from '../src/analyzer/frontend/index-file.js';
import { listLitmusFiles, runFile } from '../src/analyzer/memory-model/corpus.js';

const ROOT = resolve(import.meta.dirname ?? '.', '../..');
const BIN = join(ROOT, 'dist/src/cli/main.js');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@kvmlint.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
}

function timeRun(args: string[], input?: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && r.status !== 1) throw new Error(`kvmlint ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Source files for the synthetic history: real KVM files if cached, else the demo's. */
function corpus(): { path: string; text: string }[] {
  const real = join(ROOT, '.cache/linux-source-6.12/tree/linux-source-6.12');
  const files = ['arch/x86/kvm/mmu/mmu.c', 'virt/kvm/kvm_main.c', 'arch/x86/kvm/mmu/tdp_mmu.c', 'arch/x86/kvm/x86.c'];
  if (files.every((f) => existsSync(join(real, f)))) return files.map((f) => ({ path: f, text: readFileSync(join(real, f), 'utf8') }));
  const demo = join(ROOT, 'fixtures/demo/history/01-base');
  return ['virt/kvm/kvm_main.c', 'arch/x86/kvm/mmu/mmu.c'].map((f) => ({ path: f, text: readFileSync(join(demo, f), 'utf8') }));
}

function main(): void {
  const nCommits = arg('--commits', 300);
  const runs = arg('--runs', 7);
  if (!existsSync(BIN)) throw new Error('build first: npm run build');
  const files = corpus();
  const repo = mkdtempSync(join(tmpdir(), 'kvmlint-bench-'));
  try {
    git(repo, 'init', '-q', '-b', 'main');
    for (const f of files) {
      mkdirSync(dirname(join(repo, f.path)), { recursive: true });
      writeFileSync(join(repo, f.path), f.text);
    }
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'base');
    const base = git(repo, 'rev-parse', 'HEAD').trim();

    // Synthetic history: each commit inserts a statement into one function of one file.
    const state = files.map((f) => ({ ...f }));
    const t0 = Date.now();
    for (let c = 0; c < nCommits; c++) {
      const f = state[c % state.length];
      const idx = indexFile(f.path, f.text);
      const fns = idx.functions.filter((fn) => fn.endLine - fn.startLine > 3);
      const fn = fns[(c * 7919) % fns.length];
      const lines = f.text.split('\n');
      lines.splice(fn.endLine - 1, 0, `\tbench_touch_${c}(${c});`);
      f.text = lines.join('\n');
      writeFileSync(join(repo, f.path), f.text);
      git(repo, 'commit', '-q', '-am', `KVM: bench change ${c} in ${fn.name}`);
    }
    const buildMs = Date.now() - t0;

    // 1. pre-commit: stage a one-function change.
    const f0 = state[0];
    const idx0 = indexFile(f0.path, f0.text);
    const target = idx0.functions[Math.floor(idx0.functions.length / 2)];
    const staged = f0.text.split('\n');
    staged.splice(target.endLine - 1, 0, '\tbench_staged_change();');
    writeFileSync(join(repo, f0.path), staged.join('\n'));
    git(repo, 'add', f0.path);
    const stagedTimes = Array.from({ length: runs }, () => timeRun(['staged', '--repo', repo, '--no-color']));
    const nodeStart = Array.from({ length: runs }, () => {
      const t = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '0']);
      return Number(process.hrtime.bigint() - t) / 1e6;
    });

    // 2. one patch on stdin, no tree.
    const patch = git(repo, 'format-patch', '--stdout', '-1', 'HEAD');
    const patchTimes = Array.from({ length: runs }, () => timeRun(['patch', '-', '--no-color'], patch));

    // 3. range.
    const rangeRuns = Math.max(1, Math.min(3, runs));
    const rangeTimes = Array.from({ length: rangeRuns }, () => timeRun(['range', `${base}..HEAD`, '--repo', repo, '--all-paths', '--no-color']));
    const rangeMs = median(rangeTimes);
    const logTimes = Array.from({ length: rangeRuns }, () => {
      const t = process.hrtime.bigint();
      git(repo, 'log', '-p', '--full-index', `${base}..HEAD`);
      return Number(process.hrtime.bigint() - t) / 1e6;
    });

    const lines = files.reduce((s, f) => s + f.text.split('\n').length, 0);
    const out = [
      `kvmlint bench (${files.length} files, ${lines} lines; ${nCommits} commits built in ${buildMs} ms; median of ${runs} runs)`,
      `node start (node -e 0):        ${median(nodeStart).toFixed(0)} ms`,
      `pre-commit (kvmlint staged):   ${median(stagedTimes).toFixed(0)} ms   (budget ~120 ms with node start)`,
      `one patch on stdin (no tree):  ${median(patchTimes).toFixed(0)} ms`,
      `range of ${nCommits} commits:         ${rangeMs.toFixed(0)} ms = ${((nCommits * 1000) / rangeMs).toFixed(0)} commits/s   (target >= 150; git log -p alone: ${((nCommits * 1000) / median(logTimes)).toFixed(0)} commits/s)`,
    ];
    // 4. The LKMM engine on the kernel's own litmus tests (target: all 47 in under 2 s).
    const litmusDir = join(ROOT, '../shared/litmus/kernel-6.12');
    if (existsSync(litmusDir)) {
      const tests = listLitmusFiles(litmusDir);
      const times = Array.from({ length: Math.max(1, Math.min(3, runs)) }, () => {
        const t = process.hrtime.bigint();
        for (const f of tests) runFile(f);
        return Number(process.hrtime.bigint() - t) / 1e6;
      });
      out.push(`LKMM engine, ${tests.length} kernel litmus tests: ${median(times).toFixed(0)} ms   (target < 2000 ms; in-process)`);
    } else {
      out.push('LKMM engine: ../shared/litmus/kernel-6.12 not found, skipped');
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    if (process.argv.includes('--keep')) process.stdout.write(`repository kept: ${repo}\n`);
    else rmSync(repo, { recursive: true, force: true });
  }
  void cpSync;
}

main();
