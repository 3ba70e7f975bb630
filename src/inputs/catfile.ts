/**
 * One persistent `git cat-file --batch` process. Requests are written as
 * lines and answered strictly in order, so any number of callers can pipeline
 * requests without waiting for each other.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface CatFileObject {
  oid: string;
  type: string;
  content: Buffer;
}

interface Pending {
  name: string;
  resolve: (o: CatFileObject | undefined) => void;
  reject: (e: Error) => void;
}

export class CatFileBatch {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Header of the object whose body is being read, if any. */
  private body: { oid: string; type: string; size: number } | null = null;
  private dead: Error | null = null;
  private stderr = '';
  private readonly exited: Promise<void>;

  constructor(
    private readonly dir: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn('git', ['cat-file', '--batch'], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => this.onData(d));
    this.child.stderr.on('data', (d: Buffer) => {
      if (this.stderr.length < 4096) this.stderr += d.toString('utf8');
    });
    this.child.stdin.on('error', () => {
      /* reported through 'close' */
    });
    this.setRef(false);
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.fail(new Error(`git cat-file in ${dir}: ${e.message}`));
        resolve();
      });
      this.child.on('close', (code, signal) => {
        const why = firstLine(this.stderr) || (signal ? `killed by ${signal}` : `exit code ${String(code)}`);
        this.fail(new Error(`git cat-file in ${dir} ended: ${why}`));
        resolve();
      });
    });
  }

  /** Look up many objects in one write. Results are in request order; undefined = missing. */
  requestMany(names: string[]): Promise<(CatFileObject | undefined)[]> {
    if (names.length === 0) return Promise.resolve([]);
    if (this.dead) return Promise.reject(this.dead);
    const promises: Promise<CatFileObject | undefined>[] = [];
    const lines: string[] = [];
    for (const name of names) {
      if (name.length === 0 || /[\n\r]/.test(name)) {
        promises.push(Promise.resolve(undefined)); // cannot be expressed on the batch protocol
        continue;
      }
      promises.push(
        new Promise<CatFileObject | undefined>((resolve, reject) => this.queue.push({ name, resolve, reject })),
      );
      lines.push(name + '\n');
    }
    if (lines.length > 0) {
      this.setRef(true);
      this.child.stdin.write(lines.join(''));
    }
    return Promise.all(promises);
  }

  request(name: string): Promise<CatFileObject | undefined> {
    return this.requestMany([name]).then((r) => r[0]);
  }

  /** End stdin and wait for the process to exit. Pending requests are answered first. */
  async close(): Promise<void> {
    this.setRef(true);
    if (!this.child.stdin.writableEnded) this.child.stdin.end();
    await this.exited;
  }

  /**
   * An idle cat-file must not keep the Node process alive (a caller that
   * forgets close() would hang at exit), but one with requests in flight must.
   */
  private setRef(on: boolean): void {
    const handles = [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as unknown as {
      ref?: () => void;
      unref?: () => void;
    }[];
    for (const h of handles) (on ? h.ref : h.unref)?.call(h);
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    while (this.queueHead < this.queue.length) this.queue[this.queueHead++]!.reject(e);
    this.queue.length = 0;
    this.queueHead = 0;
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
    for (;;) {
      if (this.body === null) {
        const buf = this.takeLine();
        if (buf === null) return;
        this.onHeader(buf);
      } else {
        const need = this.body.size + 1; // content + LF
        if (this.buffered < need) return;
        const all = this.take(need);
        const { oid, type } = this.body;
        this.body = null;
        this.settle({ oid, type, content: all.subarray(0, need - 1) });
      }
    }
  }

  private onHeader(line: string): void {
    // "<oid> <type> <size>" | "<name> missing" | "<name> ambiguous" | ...
    const m = /^(\S+) (\S+) (\d+)$/.exec(line);
    if (m) {
      this.body = { oid: m[1]!, type: m[2]!, size: Number(m[3]) };
      return;
    }
    this.settle(undefined);
  }

  private settle(o: CatFileObject | undefined): void {
    const p = this.queue[this.queueHead++];
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
      this.setRef(false);
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    p?.resolve(o);
  }

  /** Remove and return one header line (without LF), or null if none is complete. */
  private takeLine(): string | null {
    let offset = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const nl = c.indexOf(10);
      if (nl >= 0) {
        const line = this.take(offset + nl + 1);
        return line.toString('utf8', 0, line.length - 1);
      }
      offset += c.length;
    }
    return null;
  }

  /** Remove and return the first n buffered bytes (n <= buffered), copying only when needed. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let pos = 0;
      while (pos < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - pos);
        c.copy(out, pos, 0, k);
        pos += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }
}

export function firstLine(s: string): string {
  for (const l of s.split('\n')) {
    const t = l.trim();
    if (t) return t;
  }
  return '';
}
