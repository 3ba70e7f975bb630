/**
 * The jobs behind the subcommands. Each returns a RunResult; one bad file,
 * patch or commit becomes an InputError and never loses the others' results.
 */
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Finding, InputError, RunResult } from '../types.js';
import { compareFindings } from '../types.js';
import { Analyzer, type PersistentCache } from '../analyzer/analyze.js';
import { analyzeChange, isCSource } from '../analyzer/differential.js';
import { BlobCache, GitRepo, parsePatchInput, renderUnifiedDiff, type ChangeSet } from '../inputs/index.js';
import { Model } from '../model/index.js';
import type { Rule } from '../analyzer/rule-api.js';

export interface RunOptions {
  rules: readonly Rule[];
  /** Also report pre-existing findings (marked). */
  all?: boolean;
  /** Progress callback (commits done, total if known). */
  progress?: (done: number, total?: number) => void;
}

/** Paths kvmlint looks at in a kernel tree by default. */
export const KVM_PATHS = ['virt/kvm', 'arch/*/kvm', 'include/linux/kvm*.h', 'include/kvm', 'include/uapi/linux/kvm.h'];

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

function errorOf(input: string, e: unknown): InputError {
  const msg = e instanceof Error ? e.message : String(e);
  return { input, message: oneLine(msg.startsWith(input) ? msg : `${input}: ${msg}`) };
}

function finish(findings: Finding[], errors: InputError[]): RunResult {
  return { findings: findings.sort(compareFindings), errors };
}

export function newAnalyzer(rules: readonly Rule[]): Analyzer {
  return new Analyzer(new Model(), rules);
}

/** `kvmlint check FILE...`: whole files, every function. */
export async function runCheck(files: string[], opts: RunOptions, analyzer = newAnalyzer(opts.rules)): Promise<RunResult> {
  const findings: Finding[] = [];
  const errors: InputError[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      errors.push({ input: file, message: `${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      continue;
    }
    if (text.includes('\0')) {
      errors.push({ input: file, message: `${file}: binary file, not C source` });
      continue;
    }
    try {
      findings.push(...analyzer.analyzeSource(file, text).findings);
    } catch (e) {
      errors.push(errorOf(file, e));
    }
  }
  return finish(findings, errors);
}

/** Analyse one change set given a way to get full pre/post images (or none: hunk-only). */
async function analyzeChangeSet(
  analyzer: Analyzer,
  cs: ChangeSet,
  images: ((paths: { old: string | null; neu: string | null; oldBlob?: string; newBlob?: string }) => Promise<{ pre?: string; post?: string }>) | null,
  opts: RunOptions,
  tag: { commit?: string; patch?: string; seq?: number },
): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const fc of cs.files) {
    const path = fc.newPath ?? fc.oldPath;
    if (!isCSource(fc.newPath) || fc.binary) continue;
    let pre: string | undefined;
    let post: string | undefined;
    if (images) {
      const im = await images({ old: fc.oldPath, neu: fc.newPath, oldBlob: fc.oldBlob, newBlob: fc.newBlob });
      pre = im.pre;
      post = im.post;
    }
    const found = analyzeChange(analyzer, { path: path!, pre, post, change: fc, hunkOnly: !images }, { all: opts.all });
    for (const f of found) out.push({ ...f, ...tag });
  }
  return out;
}

/** `kvmlint patch FILE|-`: a diff, a format-patch file or an mbox series. */
export async function runPatch(text: string, name: string, opts: RunOptions & { tree?: string }, analyzer = newAnalyzer(opts.rules)): Promise<RunResult> {
  const parsed = parsePatchInput(text, name);
  const findings: Finding[] = [];
  const errors: InputError[] = [...parsed.errors];
  if (!opts.tree) {
    for (const [seq, cs] of parsed.changes.entries()) {
      try {
        findings.push(...(await analyzeChangeSet(analyzer, cs, null, opts, { patch: patchLabel(cs), seq })));
      } catch (e) {
        errors.push(errorOf(patchLabel(cs), e));
      }
    }
    return finish(findings, errors);
  }
  let repo: GitRepo;
  try {
    repo = await GitRepo.open(opts.tree);
  } catch (e) {
    errors.push(errorOf(opts.tree, e));
    return finish(findings, errors);
  }
  try {
    const base = parsed.changes.find((c) => c.baseCommit)?.baseCommit;
    let rev = 'HEAD';
    if (base) {
      try {
        rev = await repo.resolve(base);
      } catch {
        errors.push({ input: name, message: `${name}: base-commit ${base} not found in ${opts.tree}; applying onto HEAD` });
      }
    }
    const wt = await repo.addWorktree(rev);
    try {
      for (const [seq, cs] of parsed.changes.entries()) {
        const label = patchLabel(cs);
        const pres = new Map<string, string | undefined>();
        for (const fc of cs.files) {
          if (fc.oldPath) pres.set(fc.oldPath, await readFile(join(wt.dir, fc.oldPath), 'utf8').catch(() => undefined));
        }
        const applied = await repo.applyPatch(wt.dir, renderUnifiedDiff(cs.files));
        if (!applied.ok) {
          errors.push({ input: label, message: oneLine(`${label}: does not apply to ${rev.slice(0, 12)}: ${applied.message ?? 'git apply failed'}`) });
          continue;
        }
        try {
          findings.push(
            ...(await analyzeChangeSet(
              analyzer,
              cs,
              async (p) => ({
                pre: p.old ? pres.get(p.old) : undefined,
                post: p.neu ? await readFile(join(wt.dir, p.neu), 'utf8').catch(() => undefined) : undefined,
              }),
              opts,
              { patch: label, seq },
            )),
          );
        } catch (e) {
          errors.push(errorOf(label, e));
        }
      }
    } finally {
      await wt.remove();
    }
  } catch (e) {
    errors.push(errorOf(opts.tree, e));
  } finally {
    await repo.close();
  }
  return finish(findings, errors);
}

function patchLabel(cs: ChangeSet): string {
  const idx = cs.seriesIndex !== undefined ? `[${cs.seriesIndex}/${cs.seriesTotal ?? '?'}] ` : '';
  return `${idx}${cs.subject || cs.id}`;
}

const PREFETCH = 4;
const RANGE_BLOB_CACHE_BYTES = 64 * 1024 * 1024;

type Images = ((p: { oldBlob?: string; newBlob?: string; old: string | null; neu: string | null }) => Promise<{ pre?: string; post?: string }>) & {
  prefetch(): void;
};

/**
 * Images of a commit's files from blob ids, startable early (prefetch). A
 * post-image is derived from its pre-image and the hunks when that gives the
 * exact blob (verified by its object id); otherwise, and for pre-images not
 * yet known, blobs are read through the repository's one cat-file batch.
 */
function blobImages(repo: GitRepo, cs: ChangeSet): Images {
  let texts: Map<string, Promise<string | undefined>> | undefined;
  const start = (): Map<string, Promise<string | undefined>> => {
    if (texts) return texts;
    const m = new Map<string, Promise<string | undefined>>();
    for (const f of cs.files) {
      if (!isCSource(f.newPath)) continue;
      const pre = f.oldBlob ? (m.get(f.oldBlob) ?? repo.blobText(f.oldBlob)) : undefined;
      if (f.oldBlob && pre) m.set(f.oldBlob, pre);
      if (!f.newBlob || m.has(f.newBlob)) continue;
      m.set(f.newBlob, f.oldBlob && !f.binary && f.hunks.length > 0 ? repo.postImage(f.oldBlob, f.newBlob, f.hunks) : repo.blobText(f.newBlob));
    }
    texts = m;
    return m;
  };
  const images = async (p: { oldBlob?: string; newBlob?: string; old: string | null; neu: string | null }): Promise<{ pre?: string; post?: string }> => {
    const m = start();
    let pre = p.oldBlob ? await (m.get(p.oldBlob) ?? repo.blobText(p.oldBlob)) : undefined;
    let post = p.newBlob ? await (m.get(p.newBlob) ?? repo.blobText(p.newBlob)) : undefined;
    // Renames and mode-only changes carry no blob ids: read by path.
    if (pre === undefined && p.old && cs.parent) pre = await repo.readFileAt(cs.parent, p.old);
    if (post === undefined && p.neu && cs.id !== 'staged') post = await repo.readFileAt(cs.id, p.neu);
    return { pre, post };
  };
  return Object.assign(images, {
    prefetch: (): void => {
      for (const p of start().values()) p.catch(() => undefined);
    },
  });
}

/**
 * Sequential analysis of commits of one repository, with blob prefetch: used
 * by the main thread and by the range worker.
 */
export class RangeAnalysis {
  private readonly findings: Finding[] = [];
  private readonly errors: InputError[] = [];
  private readonly queue: { cs: ChangeSet; seq: number; images: Images }[] = [];
  private running: Promise<void> | undefined;

  private constructor(
    private readonly repo: GitRepo,
    private readonly opts: RunOptions,
    private readonly analyzer: Analyzer,
  ) {}

  static async open(dir: string, opts: RunOptions, analyzer = newAnalyzer(opts.rules)): Promise<RangeAnalysis> {
    // Each commit's pre-image blob is usually an earlier commit's post-image: keep blobs around.
    const repo = await GitRepo.open(dir, { cache: new BlobCache<string>(RANGE_BLOB_CACHE_BYTES) });
    return new RangeAnalysis(repo, opts, analyzer);
  }

  /** Queue a commit; the next few commits' blobs are always being read while one is analysed. */
  add(cs: ChangeSet, seq: number): void {
    if (cs.skipped) return;
    this.queue.push({ cs, seq, images: blobImages(this.repo, cs) });
    this.prefetchAhead();
    this.running ??= this.drain();
  }

  private prefetchAhead(): void {
    for (let i = 0; i < Math.min(PREFETCH, this.queue.length); i++) this.queue[i].images.prefetch();
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const { cs, seq, images } = this.queue.shift()!;
      this.prefetchAhead();
      try {
        this.findings.push(...(await analyzeChangeSet(this.analyzer, cs, images, this.opts, { commit: cs.id, patch: cs.subject, seq })));
      } catch (e) {
        this.errors.push(errorOf(`commit ${cs.id.slice(0, 12)}`, e));
      }
    }
    this.running = undefined;
  }

  async finish(): Promise<RunResult> {
    while (this.running) await this.running;
    await this.repo.close();
    return { findings: this.findings, errors: this.errors };
  }
}

/** Below this many commits a second thread costs more than it saves. */
const PARALLEL_MIN_COMMITS = 40;

function countCommits(repo: string, range: string, paths: string[] | undefined): number {
  try {
    const out = execFileSync('git', ['rev-list', '--count', '--no-merges', range, '--', ...(paths ?? [])], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return parseInt(out.trim(), 10) || 0;
  } catch {
    return 0;
  }
}

/** Commits one thread may run ahead of the other before file affinity yields to balance. */
const MAX_IMBALANCE = 8;

/**
 * Which thread takes a commit: the one that already analysed its files when
 * possible. Each thread's caches (file indexes, lowered functions, summaries,
 * call-site walks) are keyed by file content, so a file's commits on one
 * thread pay its cold cost once instead of on both threads; new files go to
 * the less loaded thread, and affinity gives way when one runs too far ahead.
 */
class FileAffinity {
  private readonly owner = new Map<string, 0 | 1>();
  private readonly load: [number, number] = [0, 0];

  toWorker(cs: ChangeSet): boolean {
    const paths = cs.files.map((f) => f.newPath ?? f.oldPath).filter((p): p is string => isCSource(p));
    const votes: [number, number] = [0, 0];
    for (const p of paths) {
      const o = this.owner.get(p);
      if (o !== undefined) votes[o]++;
    }
    const lighter: 0 | 1 = this.load[1] < this.load[0] ? 1 : 0;
    let t: 0 | 1 = votes[0] === votes[1] ? lighter : votes[1] > votes[0] ? 1 : 0;
    if (this.load[t] - this.load[1 - t] > MAX_IMBALANCE) t = (1 - t) as 0 | 1;
    this.load[t]++;
    for (const p of paths) if (!this.owner.has(p)) this.owner.set(p, t);
    return t === 1;
  }
}

/**
 * `kvmlint range A..B`: every commit against its parent. One streamed
 * `git log -p`; with enough commits a worker thread takes part of the range
 * as it streams in (by file affinity, see FileAffinity), the rest is analysed
 * here (2 cores).
 */
export async function runRange(range: string, opts: RunOptions & { repo: string; paths?: string[]; jobs?: number }, analyzer = newAnalyzer(opts.rules)): Promise<RunResult> {
  let source: GitRepo;
  try {
    source = await GitRepo.open(opts.repo);
  } catch (e) {
    return finish([], [errorOf(opts.repo, e)]);
  }
  const total = (opts.jobs ?? 1) > 1 ? countCommits(opts.repo, range, opts.paths) : 0;
  const parallel = total >= PARALLEL_MIN_COMMITS;
  const errors: InputError[] = [];
  const local = await RangeAnalysis.open(opts.repo, opts, analyzer).catch((e: unknown) => {
    errors.push(errorOf(opts.repo, e));
    return undefined;
  });
  if (!local) {
    await source.close();
    return finish([], errors);
  }
  let worker: Worker | undefined;
  let remote: Promise<RunResult> | undefined;
  if (parallel) {
    worker = new Worker(new URL('./range-worker.js', import.meta.url), {
      workerData: { repo: opts.repo, rules: opts.rules.map((r) => r.meta.id), all: !!opts.all },
    });
    const w = worker;
    remote = new Promise<RunResult>((resolve, reject) => {
      w.on('message', (m: RunResult & { ready?: boolean }) => {
        if (!m.ready) resolve(m);
      });
      w.on('error', reject);
      w.on('exit', (code) => {
        if (code !== 0) reject(new Error(`range worker exited with code ${code}`));
      });
    });
  }
  const split = new FileAffinity();
  let seq = 0;
  try {
    for await (const cs of source.range(range, { paths: opts.paths })) {
      seq++;
      opts.progress?.(seq, total || undefined);
      if (worker && !cs.skipped && split.toWorker(cs)) worker.postMessage({ cs, seq });
      else local.add(cs, seq);
    }
  } catch (e) {
    errors.push(errorOf(range, e));
  } finally {
    await source.close();
  }
  worker?.postMessage({ done: true });
  const mine = await local.finish();
  const findings = [...mine.findings];
  errors.push(...mine.errors);
  if (remote && worker) {
    try {
      const theirs = await remote;
      findings.push(...theirs.findings);
      errors.push(...theirs.errors);
    } catch (e) {
      errors.push(errorOf(range, e));
    } finally {
      await worker.terminate();
    }
  }
  return finish(findings, errors);
}

/**
 * Where `staged` keeps its persistent cache: `<git common dir>/kvmlint/cache.json`
 * (never committed, shared by the worktrees of one repository).
 */
function cacheFile(repo: GitRepo): string {
  return join(repo.commonDir, 'kvmlint', 'cache.json');
}

/** Cache version: the tool version and the rule set (summaries depend on the model and engine). */
export function cacheVersion(rules: readonly Rule[], toolVersion: string): string {
  return `${toolVersion}|${rules.map((r) => r.meta.id).join(',')}`;
}

/** `kvmlint staged`: the index against HEAD (pre-commit hook). */
export async function runStaged(opts: RunOptions & { repo: string; toolVersion?: string; cache?: boolean }, analyzer = newAnalyzer(opts.rules)): Promise<RunResult> {
  let repo: GitRepo;
  try {
    repo = await GitRepo.open(opts.repo);
  } catch (e) {
    return finish([], [errorOf(opts.repo, e)]);
  }
  const file = opts.cache === false ? undefined : cacheFile(repo);
  const version = cacheVersion(opts.rules, opts.toolVersion ?? '0');
  if (file) {
    try {
      analyzer.importCache(JSON.parse(await readFile(file, 'utf8')) as PersistentCache, version);
    } catch {
      /* no cache yet, or unreadable: start cold */
    }
  }
  try {
    const cs = await repo.staged();
    const findings = await analyzeChangeSet(analyzer, cs, blobImages(repo, cs), opts, {});
    if (file) {
      try {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(`${file}.tmp`, JSON.stringify(analyzer.exportCache(version)));
        await rename(`${file}.tmp`, file);
      } catch {
        /* a read-only repository still gets its findings */
      }
    }
    return finish(findings, []);
  } catch (e) {
    return finish([], [errorOf('staged changes', e)]);
  } finally {
    await repo.close();
  }
}
