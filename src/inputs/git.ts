/**
 * Access to a git repository: commit ranges streamed from one `git log -p`,
 * the staged diff, blobs through one persistent `git cat-file --batch`, and
 * temporary worktrees for applying mailed patches.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BlobCache } from './cache.js';
import { CatFileBatch } from './catfile.js';
import { parseUnifiedDiff } from './diff.js';
import { applyHunks, gitBlobId } from './hunks.js';
import { LOG_FORMAT, RecordSplitter, parseRecord } from './logstream.js';
import type { ChangeSet, Hunk } from './types.js';

export interface GitRepoOptions {
  /** When given, readBlobs() answers from and fills this cache. */
  cache?: BlobCache<string>;
}

export interface RangeOptions {
  /** Pathspecs limiting commits and diffs, e.g. ['*.c', '*.h']. */
  paths?: string[];
  /** Rename detection (default true). */
  renames?: boolean;
}

interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/**
 * `-c` settings that make git's output independent of user configuration
 * (prefixes, colors, quoting, external diff drivers, signatures, hooks).
 */
const CONFIG_ARGS = [
  '-c', 'core.quotePath=false',
  '-c', 'color.ui=false',
  '-c', 'diff.noprefix=false',
  '-c', 'diff.mnemonicPrefix=false',
  '-c', 'diff.relative=false',
  '-c', 'log.showSignature=false',
  '-c', 'log.showRoot=true',
  '-c', 'core.hooksPath=/dev/null',
];

const DIFF_ARGS = ['--full-index', '--no-color', '--no-ext-diff', '--no-textconv', '--src-prefix=a/', '--dst-prefix=b/'];

/**
 * Environment for child gits. Variables a git hook exports (GIT_DIR,
 * GIT_INDEX_FILE, ...) would redirect every command, including those run in
 * temporary worktrees, so they are removed; staged() re-adds GIT_INDEX_FILE.
 */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' };
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_PREFIX', 'GIT_COMMON_DIR', 'GIT_NAMESPACE']) delete env[k];
  delete env.LANGUAGE;
  return env;
}

function run(cwd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn('git', [...CONFIG_ARGS, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 65536) err += d.toString('utf8');
    });
    child.stdin.on('error', () => {
      /* the exit code tells */
    });
    child.on('error', (e) => resolve({ code: -1, stdout: Buffer.alloc(0), stderr: e.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(input ?? '');
  });
}

/** Last "fatal:"/"error:" line of git's stderr, else its first line. */
function gitMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const important = lines.filter((l) => /^(fatal|error):/.test(l));
  return (important[0] ?? lines[0] ?? '').replace(/\s+/g, ' ');
}

function checkRev(rev: string, what: string): void {
  if (rev.length === 0 || rev.startsWith('-') || /[\0\n\r]/.test(rev)) throw new Error(`invalid ${what} '${rev}'`);
}

export class GitRepo {
  private batch: CatFileBatch | null = null;
  private closed = false;

  private constructor(
    /** Absolute top-level directory (the git directory of a bare repository). */
    readonly dir: string,
    readonly bare: boolean,
    private readonly env: NodeJS.ProcessEnv,
    private readonly cache: BlobCache<string> | undefined,
    /** Absolute common git directory (shared by all worktrees). */
    readonly commonDir: string,
  ) {}

  /** Open the repository containing dir; rejects with a one-line Error naming dir otherwise. */
  static async open(dir: string, opts: GitRepoOptions = {}): Promise<GitRepo> {
    const abs = path.resolve(dir);
    try {
      const st = await stat(abs);
      if (!st.isDirectory()) throw new Error('not a directory');
    } catch {
      throw new Error(`not a git repository: ${dir} (no such directory)`);
    }
    const env = gitEnv();
    const absolute = (d: string, base: string): string => (path.isAbsolute(d) ? d : path.resolve(base, d));
    // One git process in the common case (a work tree): the pre-commit hook
    // pays for every spawn. --show-toplevel fails in a bare repository,
    // which then takes the two-step path below.
    const one = await run(abs, ['rev-parse', '--is-bare-repository', '--absolute-git-dir', '--git-common-dir', '--show-toplevel'], env);
    if (one.code === 0) {
      const [isBare, gitDir, common, top] = one.stdout.toString('utf8').split('\n');
      if (isBare === 'false' && top) return new GitRepo(top.trim(), false, env, opts.cache, absolute(common || gitDir || '.git', abs));
    }
    const r = await run(abs, ['rev-parse', '--is-bare-repository', '--absolute-git-dir', '--git-common-dir'], env);
    if (r.code !== 0) throw new Error(`not a git repository: ${dir}`);
    const [isBare, gitDir, common] = r.stdout.toString('utf8').split('\n');
    if (isBare === 'true') return new GitRepo(gitDir || abs, true, env, opts.cache, absolute(common || gitDir || abs, abs));
    const t = await run(abs, ['rev-parse', '--show-toplevel'], env);
    if (t.code !== 0) throw new Error(`not a git repository: ${dir} (${gitMessage(t.stderr) || 'no work tree'})`);
    return new GitRepo(t.stdout.toString('utf8').trim(), false, env, opts.cache, absolute(common || gitDir || '.git', abs));
  }

  private git(args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<RunResult> {
    return run(this.dir, args, env ?? this.env, input);
  }

  /** Full object id of rev (peeled to a commit when it names one). */
  async resolve(rev: string): Promise<string> {
    checkRev(rev, 'revision');
    let r = await this.git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
    if (r.code !== 0) r = await this.git(['rev-parse', '--verify', '--quiet', rev]);
    if (r.code !== 0) throw new Error(`unknown revision '${rev}' in ${this.dir}`);
    return r.stdout.toString('utf8').trim();
  }

  /**
   * Commits of revRange (anything `git log` takes: `A..B`, `A...B`, `^A B`, a
   * single rev meaning all its history), oldest first, from one streamed
   * `git log -p`. Merge commits are yielded with `skipped: 'merge commit'` and
   * no files. With paths, only commits touching them are listed, with
   * --full-history so that no side branch is pruned (same commits as without
   * paths, filtered). Throws a one-line Error naming the range if git rejects
   * it (before anything is yielded) or fails.
   */
  range(revRange: string, opts: RangeOptions = {}): AsyncIterable<ChangeSet> {
    const revs = revRange.trim().split(/\s+/).filter(Boolean);
    if (revs.length === 0) throw new Error(`invalid revision range '${revRange}'`);
    for (const r of revs) checkRev(r, 'revision range');
    const args = [
      'log',
      '-p',
      '--reverse',
      `--format=${LOG_FORMAT}`,
      ...DIFF_ARGS,
      opts.renames === false ? '--no-renames' : '-M',
      '--encoding=UTF-8',
      '--no-notes',
      '--no-mailmap',
    ];
    if (opts.paths && opts.paths.length > 0) args.push('--full-history');
    args.push(...revs, '--', ...(opts.paths ?? []));
    const dir = this.dir;
    const env = this.env;
    return {
      [Symbol.asyncIterator]: () => streamLog(dir, env, args, revRange),
    };
  }

  /**
   * The staged changes (index vs HEAD, or vs the empty tree before the first
   * commit) as one ChangeSet with id 'staged'. Honours GIT_INDEX_FILE of the
   * calling process (set by git for pre-commit hooks).
   */
  async staged(opts: { paths?: string[] } = {}): Promise<ChangeSet> {
    if (this.bare) throw new Error(`no index in bare repository ${this.dir}`);
    const head = await this.git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
    let base: string;
    let parent: string | undefined;
    if (head.code === 0) {
      parent = head.stdout.toString('utf8').trim();
      base = parent;
    } else {
      const e = await this.git(['hash-object', '-t', 'tree', '--stdin'], '');
      if (e.code !== 0) throw new Error(`cannot compute the empty tree in ${this.dir}: ${gitMessage(e.stderr)}`);
      base = e.stdout.toString('utf8').trim();
    }
    let env = this.env;
    const indexFile = process.env.GIT_INDEX_FILE;
    if (indexFile) env = { ...this.env, GIT_INDEX_FILE: path.resolve(process.cwd(), indexFile) };
    const r = await this.git(
      ['diff', '--cached', ...DIFF_ARGS, '-M', base, '--', ...(opts.paths ?? [])],
      undefined,
      env,
    );
    if (r.code !== 0) throw new Error(`git diff --cached failed in ${this.dir}: ${gitMessage(r.stderr)}`);
    const cs: ChangeSet = { id: 'staged', subject: 'staged changes', files: parseUnifiedDiff(r.stdout.toString('utf8')) };
    if (parent) cs.parent = parent;
    return cs;
  }

  private catFile(): CatFileBatch {
    if (this.closed) throw new Error(`repository ${this.dir} is closed`);
    if (!this.batch) this.batch = new CatFileBatch(this.dir, this.env);
    return this.batch;
  }

  /**
   * Blob texts (UTF-8) by id, all requested in one write to the persistent
   * `git cat-file --batch`. Missing ids and non-blobs are absent from the map.
   */
  async readBlobs(ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const want: string[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      const hit = this.cache?.get(id);
      if (hit !== undefined) out.set(id, hit);
      else if (/^[0-9a-fA-F]{4,64}$/.test(id) && !/^0+$/.test(id)) want.push(id);
    }
    if (want.length === 0) return out;
    const objs = await this.catFile().requestMany(want);
    for (let i = 0; i < want.length; i++) {
      const o = objs[i];
      if (o && o.type === 'blob') {
        const text = o.content.toString('utf8');
        out.set(want[i]!, text);
        this.cache?.set(want[i]!, text);
      }
    }
    return out;
  }

  /** Texts being read or derived, by blob id (so a later commit's pre-image waits for them). */
  private readonly pending = new Map<string, Promise<string | undefined>>();

  /** One blob's text (cached, pending or read through the batch), or undefined. */
  blobText(id: string): Promise<string | undefined> {
    const known = this.knownBlob(id);
    if (known) return known;
    return this.track(id, this.readBlobs([id]).then((m) => m.get(id)));
  }

  /**
   * The new image of a file change: derived from the old image (`oldId`) and
   * the hunks, and used only when its git object id is `newId` (so it is
   * byte-for-byte the blob); otherwise read. Saves the read, the transfer and
   * the UTF-8 decoding of the large files a range edits commit after commit.
   */
  postImage(oldId: string, newId: string, hunks: readonly Hunk[]): Promise<string | undefined> {
    const known = this.knownBlob(newId);
    if (known) return known;
    const read = (): Promise<string | undefined> => this.readBlobs([newId]).then((m) => m.get(newId));
    const p = this.blobText(oldId).then((pre) => {
      if (pre === undefined || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(newId)) return read();
      const text = applyHunks(pre, hunks);
      if (text === undefined || gitBlobId(text, newId.length) !== newId) return read();
      this.cache?.set(newId, text);
      return text;
    }, read);
    return this.track(newId, p);
  }

  private knownBlob(id: string): Promise<string | undefined> | undefined {
    if (!/^[0-9a-fA-F]{4,64}$/.test(id) || /^0+$/.test(id)) return Promise.resolve(undefined);
    const hit = this.cache?.get(id);
    if (hit !== undefined) return Promise.resolve(hit);
    return this.pending.get(id);
  }

  private track(id: string, p: Promise<string | undefined>): Promise<string | undefined> {
    this.pending.set(id, p);
    const done = (): void => {
      if (this.pending.get(id) === p) this.pending.delete(id);
    };
    p.then(done, done);
    return p;
  }

  /** Text of path (relative to the top level) at rev, or undefined if there is no such file. */
  async readFileAt(rev: string, filePath: string): Promise<string | undefined> {
    if (rev.startsWith('-') || /[\0\n\r]/.test(rev + filePath)) return undefined;
    const p = filePath.replace(/^\.\//, '');
    const o = await this.catFile().request(`${rev}:${p}`);
    return o && o.type === 'blob' ? o.content.toString('utf8') : undefined;
  }

  /** A temporary detached worktree of rev under os.tmpdir(). */
  async addWorktree(rev: string): Promise<{ dir: string; remove(): Promise<void> }> {
    const sha = await this.resolve(rev);
    const parent = await mkdtemp(path.join(tmpdir(), 'kvmlint-wt-'));
    const wt = path.join(parent, 'tree');
    const r = await this.git(['worktree', 'add', '--detach', '--quiet', wt, sha]);
    if (r.code !== 0) {
      await rm(parent, { recursive: true, force: true });
      throw new Error(`cannot add a worktree of '${rev}' in ${this.dir}: ${gitMessage(r.stderr)}`);
    }
    let removed = false;
    const remove = async () => {
      if (removed) return;
      removed = true;
      await this.git(['worktree', 'remove', '--force', '--force', wt]);
      await rm(parent, { recursive: true, force: true });
      await this.git(['worktree', 'prune']);
    };
    return { dir: wt, remove };
  }

  /**
   * Apply a unified diff (or a format-patch mail, whose text around the diff
   * git ignores) to the index and files of worktreeDir with `git apply
   * --3way`, which falls back to a 3-way merge using the blob ids of the
   * patch's `index` lines. A conflict leaves markers behind and gives ok=false.
   * Apply series patches one at a time.
   */
  async applyPatch(worktreeDir: string, patchText: string): Promise<{ ok: boolean; message?: string }> {
    const text = patchText.endsWith('\n') ? patchText : patchText + '\n';
    const r = await run(worktreeDir, ['apply', '--3way', '--whitespace=nowarn', '-'], this.env, text);
    if (r.code === 0) return { ok: true };
    const lines = r.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
    let message = lines.join('; ').replace(/\s+/g, ' ');
    if (message.length > 500) message = message.slice(0, 497) + '...';
    return { ok: false, message: message || `git apply failed in ${worktreeDir}` };
  }

  /** End the cat-file process. The object can no longer read blobs afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const b = this.batch;
    this.batch = null;
    if (b) await b.close();
  }
}

async function* streamLog(
  dir: string,
  env: NodeJS.ProcessEnv,
  args: string[],
  revRange: string,
): AsyncGenerator<ChangeSet> {
  const child = spawn('git', [...CONFIG_ARGS, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 65536) stderr += d.toString('utf8');
  });
  let spawnError: Error | null = null;
  const exited = new Promise<number>((resolve) => {
    child.on('error', (e) => {
      spawnError = e;
      resolve(-1);
    });
    child.on('close', (code) => resolve(code ?? -1));
  });
  let done = false;
  let yielded = 0;
  try {
    const splitter = new RecordSplitter();
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      for (const rec of splitter.push(chunk)) {
        const cs = parseRecord(rec);
        if (cs) {
          yielded++;
          yield cs;
        }
      }
    }
    const last = splitter.end();
    if (last) {
      const cs = parseRecord(last);
      if (cs) yield cs;
    }
    const code = await exited;
    done = true;
    if (spawnError) throw new Error(`cannot run git log for '${revRange}': ${(spawnError as Error).message}`);
    if (code !== 0) {
      const msg = gitMessage(stderr);
      const what = yielded === 0 ? 'bad revision range' : 'git log failed for range';
      throw new Error(`${what} '${revRange}' in ${dir}: ${msg || `git log exited with ${code}`}`);
    }
  } finally {
    if (!done) {
      child.stdout.destroy();
      child.kill();
      await exited;
    }
  }
}
