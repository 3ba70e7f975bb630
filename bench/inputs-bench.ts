/**
 * Speed check of the input layer: builds (with git fast-import, in
 * os.tmpdir()) a synthetic repository of ~300 commits touching a few C files
 * of a few thousand lines each, then measures commits/s of GitRepo.range()
 * plus readBlobs() of every touched blob (pre and post images).
 *
 *   npx vite-node bench/inputs-bench.ts            (or build and run dist/bench/inputs-bench.js)
 *   KVMLINT_BENCH_COMMITS=600 KVMLINT_BENCH_KEEP=1 npx vite-node bench/inputs-bench.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitRepo } from '../src/inputs/git.js';

const COMMITS = Number(process.env.KVMLINT_BENCH_COMMITS ?? 300);
const FILES = ['arch/x86/kvm/mmu/toy_mmu.c', 'arch/x86/kvm/toy_x86.c', 'virt/kvm/toy_main.c', 'include/linux/toy_kvm.h'];
const LINES = 3000;

/** Deterministic PRNG (xorshift32), so runs are comparable. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

function initialFile(k: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < LINES; i++) {
    if (i % 40 === 0) out.push(`static int toy_${k}_fn${i}(struct kvm *kvm, gfn_t gfn)`, '{');
    else if (i % 40 === 39) out.push('}', '');
    else out.push(`\tkvm_toy_step(kvm, gfn, ${k * 100000 + i});`);
  }
  return out;
}

function buildRepo(dir: string): void {
  const git = (args: string[], input?: string) => {
    const r = spawnSync('git', args, { cwd: dir, input, encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`git ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  };
  git(['init', '-q', '-b', 'main']);
  const rand = rng(42);
  const files = FILES.map((_, k) => initialFile(k));
  const parts: string[] = [];
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}`;
  let t = 1700000000;
  for (let c = 0; c <= COMMITS; c++) {
    const touched = c === 0 ? FILES.map((_, k) => k) : [...new Set([Math.floor(rand() * FILES.length), Math.floor(rand() * FILES.length)])];
    if (c > 0) {
      for (const k of touched) {
        const f = files[k]!;
        const edits = 1 + Math.floor(rand() * 4);
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(rand() * f.length);
          const r = rand();
          if (r < 0.4) f[at] = `\tkvm_toy_changed(kvm, ${c}, ${e});`;
          else if (r < 0.7) f.splice(at, 0, `\tif (kvm_toy_check(kvm, ${c}))`, `\t\tkvm_toy_flush(kvm);`);
          else f.splice(at, 1 + Math.floor(rand() * 3));
        }
      }
    }
    t += 60;
    parts.push(
      'commit refs/heads/main',
      `committer Bench <bench@example.org> ${t} +0000`,
      data(c === 0 ? 'toy: initial import' : `KVM: toy: change ${c}`),
    );
    for (const k of touched) parts.push(`M 100644 inline ${FILES[k]}`, data(files[k]!.join('\n') + '\n'));
    if (c % 25 === 7) parts.push('M 100644 inline Documentation/toy.txt', data(`doc ${c}\n`));
    parts.push('');
  }
  git(['fast-import', '--quiet'], parts.join('\n'));
  git(['checkout', '-q', 'main']);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kvmlint-bench-'));
  try {
    const t0 = performance.now();
    buildRepo(dir);
    const t1 = performance.now();
    console.log(`built ${COMMITS + 1} commits x ${FILES.length} files of ~${LINES} lines in ${((t1 - t0) / 1000).toFixed(1)}s (${dir})`);

    for (const [label, paths] of [
      ['all paths', undefined],
      ["paths *.c *.h", ['*.c', '*.h']],
    ] as const) {
      for (let run = 0; run < 2; run++) {
        const repo = await GitRepo.open(dir);
        const s = performance.now();
        let commits = 0;
        let blobs = 0;
        let bytes = 0;
        let lines = 0;
        for await (const cs of repo.range('main~' + COMMITS + '..main', paths ? { paths: [...paths] } : {})) {
          commits++;
          const ids: string[] = [];
          for (const f of cs.files) {
            if (f.oldBlob) ids.push(f.oldBlob);
            if (f.newBlob) ids.push(f.newBlob);
            for (const h of f.hunks) lines += h.lines.length;
          }
          const m = await repo.readBlobs(ids);
          blobs += m.size;
          for (const v of m.values()) bytes += v.length;
        }
        const e = performance.now();
        await repo.close();
        const secs = (e - s) / 1000;
        console.log(
          `${label} run ${run + 1}: ${commits} commits, ${blobs} blobs (${(bytes / 1e6).toFixed(1)} MB), ${lines} hunk lines in ${secs.toFixed(2)}s = ${(commits / secs).toFixed(0)} commits/s`,
        );
      }
    }

    // baseline: raw `git log -p` on the same range
    const s = performance.now();
    spawnSync('git', ['log', '-p', '--full-index', 'main~' + COMMITS + '..main'], { cwd: dir, maxBuffer: 1 << 30 });
    const secs = (performance.now() - s) / 1000;
    console.log(`baseline git log -p: ${(COMMITS / secs).toFixed(0)} commits/s`);
  } finally {
    if (!process.env.KVMLINT_BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
