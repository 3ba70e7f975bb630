/**
 * A byte-bounded LRU cache keyed by blob id (or any string). Used for blob
 * texts and, by the analyzer, for per-blob parse results.
 */

export interface BlobCacheOptions<V> {
  /** Upper bound of the sum of entry sizes. */
  maxBytes: number;
  /**
   * Size of an entry in bytes. Default: UTF-16 size of strings, byteLength of
   * Buffers/typed arrays, 1024 for anything else.
   */
  sizeOf?: (value: V, key: string) => number;
}

export class BlobCache<V> {
  readonly maxBytes: number;
  private readonly sizeOf: (value: V, key: string) => number;
  private readonly entries = new Map<string, { value: V; size: number }>();
  private total = 0;
  private hitCount = 0;
  private missCount = 0;

  constructor(opts: BlobCacheOptions<V> | number) {
    const o: BlobCacheOptions<V> = typeof opts === 'number' ? { maxBytes: opts } : opts;
    if (!(o.maxBytes >= 0)) throw new Error(`BlobCache: invalid maxBytes ${String(o.maxBytes)}`);
    this.maxBytes = o.maxBytes;
    this.sizeOf = o.sizeOf ?? defaultSizeOf;
  }

  /** The cached value (marking it most recently used), or undefined. */
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) {
      this.missCount++;
      return undefined;
    }
    this.hitCount++;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * Store a value; evicts least recently used entries to stay within
   * maxBytes. A value larger than maxBytes on its own is not stored.
   */
  set(key: string, value: V, size?: number): this {
    const sz = Math.max(0, size ?? this.sizeOf(value, key));
    this.delete(key);
    if (sz > this.maxBytes) return this;
    this.entries.set(key, { value, size: sz });
    this.total += sz;
    this.evict();
    return this;
  }

  /** get(), or compute, store and return. */
  async getOrCompute(key: string, compute: () => Promise<V> | V): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const v = await compute();
    this.set(key, v);
    return v;
  }

  delete(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.total -= e.size;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.size;
  }

  /** Sum of entry sizes. */
  get bytes(): number {
    return this.total;
  }

  get stats(): { hits: number; misses: number; entries: number; bytes: number } {
    return { hits: this.hitCount, misses: this.missCount, entries: this.entries.size, bytes: this.total };
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  private evict(): void {
    while (this.total > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }
}

function defaultSizeOf(v: unknown): number {
  if (typeof v === 'string') return v.length * 2;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  return 1024;
}
