/**
 * Incremental parsing of one `git log -p` stream into per-commit records.
 *
 * Every commit header is printed with `--format=` + LOG_FORMAT, which starts
 * with MARKER. MARKER contains NUL bytes, which never occur in a text diff
 * (git treats files containing NUL as binary and prints no lines for them)
 * nor in a commit subject, so it splits the stream unambiguously without any
 * line scanning. Chunks are copied once at most (plus the few bytes a marker
 * can straddle), so huge commits stay linear.
 */
import { parseUnifiedDiff } from './diff.js';
import type { ChangeSet } from './types.js';

export const MARKER = Buffer.from('\0\0KVMLINT-COMMIT\0', 'latin1');
/** `%x00` escapes; fields: sha, parents, author, subject. */
export const LOG_FORMAT = '%x00%x00KVMLINT-COMMIT%x00%H%x00%P%x00%an <%ae>%x00%s';

export class RecordSplitter {
  private parts: Buffer[] = [];
  private partsLen = 0;
  /** Last MARKER.length-1 bytes seen so far (a copy), to find markers straddling chunks. */
  private tail: Buffer = Buffer.alloc(0);

  /** Feed a chunk; returns the records completed by it (each starting with MARKER). */
  push(chunk: Buffer): Buffer[] {
    const records: Buffer[] = [];
    const base = this.tail.length;
    const window = base > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    let consumed = 0; // bytes of chunk already placed in parts
    let from = 0;
    for (;;) {
      const idx = window.indexOf(MARKER, from);
      if (idx < 0) break;
      const cut = idx - base; // marker start in chunk coordinates; < 0 when it began in earlier data
      if (cut >= consumed) {
        this.add(chunk.subarray(consumed, cut));
      } else {
        this.trimEnd(consumed - cut); // only when consumed === 0: drop the marker's first bytes
      }
      if (this.partsLen > 0) records.push(this.flush());
      if (cut < 0) {
        this.add(Buffer.from(this.tail.subarray(base + cut)));
        consumed = 0;
      } else {
        consumed = cut;
      }
      from = idx + MARKER.length;
    }
    this.add(chunk.subarray(consumed));
    const keep = MARKER.length - 1;
    this.tail = Buffer.from(window.subarray(Math.max(0, window.length - keep)));
    return records;
  }

  /** The last record, if any. */
  end(): Buffer | null {
    return this.partsLen > 0 ? this.flush() : null;
  }

  private add(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.partsLen += b.length;
  }

  private trimEnd(n: number): void {
    while (n > 0 && this.parts.length > 0) {
      const last = this.parts[this.parts.length - 1]!;
      if (last.length <= n) {
        this.parts.pop();
        n -= last.length;
        this.partsLen -= last.length;
      } else {
        this.parts[this.parts.length - 1] = last.subarray(0, last.length - n);
        this.partsLen -= n;
        n = 0;
      }
    }
  }

  private flush(): Buffer {
    const b = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLen);
    this.parts = [];
    this.partsLen = 0;
    return b;
  }
}

/**
 * Turn one record into a ChangeSet. Merge commits are skipped (reported with
 * `skipped`, no files): `git log -p` prints no diff for them without -m, and
 * diffing against the first parent would re-review every commit of the merged
 * branch, which the range normally already contains.
 */
export function parseRecord(rec: Buffer): ChangeSet | null {
  if (rec.length < MARKER.length || !rec.subarray(0, MARKER.length).equals(MARKER)) return null;
  const s = rec.toString('utf8', MARKER.length);
  const f1 = s.indexOf('\0');
  const f2 = s.indexOf('\0', f1 + 1);
  const f3 = s.indexOf('\0', f2 + 1);
  if (f1 < 0 || f2 < 0 || f3 < 0) return null;
  const sha = s.slice(0, f1);
  const parents = s.slice(f1 + 1, f2).split(' ').filter(Boolean);
  const author = s.slice(f2 + 1, f3);
  const nl = s.indexOf('\n', f3 + 1);
  const subject = s.slice(f3 + 1, nl < 0 ? s.length : nl);
  const cs: ChangeSet = { id: sha, subject, author, files: [] };
  if (parents[0] !== undefined) cs.parent = parents[0];
  if (parents.length > 1) {
    cs.skipped = 'merge commit';
    return cs;
  }
  if (nl >= 0) cs.files = parseUnifiedDiff(s.slice(nl + 1));
  return cs;
}
