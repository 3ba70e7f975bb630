/**
 * Binary relations and event sets over a small universe of events
 * (0..n-1), stored as bit matrices (rows of 32-bit words).
 */

export class EvSet {
  readonly w: number;
  readonly bits: number[];
  constructor(
    readonly n: number,
    bits?: number[],
  ) {
    this.w = (n + 31) >>> 5;
    this.bits = bits ?? new Array<number>(this.w).fill(0);
  }
  static of(n: number, members: Iterable<number>): EvSet {
    const s = new EvSet(n);
    for (const m of members) s.add(m);
    return s;
  }
  static all(n: number): EvSet {
    const s = new EvSet(n);
    for (let i = 0; i < n; i++) s.add(i);
    return s;
  }
  add(i: number): void {
    this.bits[i >>> 5]! |= 1 << (i & 31);
  }
  has(i: number): boolean {
    return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }
  union(o: EvSet): EvSet {
    const r = new EvSet(this.n);
    for (let k = 0; k < this.w; k++) r.bits[k] = this.bits[k]! | o.bits[k]!;
    return r;
  }
  inter(o: EvSet): EvSet {
    const r = new EvSet(this.n);
    for (let k = 0; k < this.w; k++) r.bits[k] = this.bits[k]! & o.bits[k]!;
    return r;
  }
  minus(o: EvSet): EvSet {
    const r = new EvSet(this.n);
    for (let k = 0; k < this.w; k++) r.bits[k] = this.bits[k]! & ~o.bits[k]!;
    return r;
  }
  complement(): EvSet {
    return EvSet.all(this.n).minus(this);
  }
  isEmpty(): boolean {
    for (let k = 0; k < this.w; k++) if (this.bits[k] !== 0) return false;
    return true;
  }
  *members(): Generator<number> {
    for (let i = 0; i < this.n; i++) if (this.has(i)) yield i;
  }
}

export class Rel {
  readonly w: number;
  readonly bits: number[];
  constructor(
    readonly n: number,
    bits?: number[],
  ) {
    this.w = (n + 31) >>> 5;
    this.bits = bits ?? new Array<number>(this.w * n).fill(0);
  }
  static fromPairs(n: number, pairs: Iterable<readonly [number, number]>): Rel {
    const r = new Rel(n);
    for (const [a, b] of pairs) r.add(a, b);
    return r;
  }
  /** The identity restricted to a set: [S]. */
  static id(s: EvSet): Rel {
    const r = new Rel(s.n);
    for (let i = 0; i < s.n; i++) if (s.has(i)) r.add(i, i);
    return r;
  }
  /** Cartesian product S1 * S2. */
  static cross(a: EvSet, b: EvSet): Rel {
    const r = new Rel(a.n);
    for (let i = 0; i < a.n; i++) if (a.has(i)) for (let k = 0; k < r.w; k++) r.bits[i * r.w + k] = b.bits[k]!;
    return r;
  }
  clone(): Rel {
    return new Rel(this.n, this.bits.slice());
  }
  add(i: number, j: number): void {
    this.bits[i * this.w + (j >>> 5)]! |= 1 << (j & 31);
  }
  has(i: number, j: number): boolean {
    return (this.bits[i * this.w + (j >>> 5)]! & (1 << (j & 31))) !== 0;
  }
  rowEmpty(i: number): boolean {
    const o = i * this.w;
    for (let k = 0; k < this.w; k++) if (this.bits[o + k] !== 0) return false;
    return true;
  }
  union(...others: Rel[]): Rel {
    const r = this.clone();
    for (const o of others) for (let k = 0; k < r.bits.length; k++) r.bits[k]! |= o.bits[k]!;
    return r;
  }
  inter(o: Rel): Rel {
    const r = new Rel(this.n);
    for (let k = 0; k < r.bits.length; k++) r.bits[k] = this.bits[k]! & o.bits[k]!;
    return r;
  }
  minus(o: Rel): Rel {
    const r = new Rel(this.n);
    for (let k = 0; k < r.bits.length; k++) r.bits[k] = this.bits[k]! & ~o.bits[k]!;
    return r;
  }
  /** Sequential composition this ; o. */
  seq(o: Rel): Rel {
    const r = new Rel(this.n);
    const w = this.w;
    for (let i = 0; i < this.n; i++) {
      const ro = i * w;
      for (let kw = 0; kw < w; kw++) {
        let word = this.bits[ro + kw]!;
        while (word !== 0) {
          const b = word & -word;
          const j = (kw << 5) + (31 - Math.clz32(b));
          word ^= b;
          const jo = j * w;
          for (let k = 0; k < w; k++) r.bits[ro + k]! |= o.bits[jo + k]!;
        }
      }
    }
    return r;
  }
  /** [S] ; this */
  dom(s: EvSet): Rel {
    const r = new Rel(this.n);
    for (let i = 0; i < this.n; i++)
      if (s.has(i)) for (let k = 0; k < this.w; k++) r.bits[i * this.w + k] = this.bits[i * this.w + k]!;
    return r;
  }
  /** this ; [S] */
  rng(s: EvSet): Rel {
    const r = new Rel(this.n);
    for (let i = 0; i < this.n; i++)
      for (let k = 0; k < this.w; k++) r.bits[i * this.w + k] = this.bits[i * this.w + k]! & s.bits[k]!;
    return r;
  }
  /** [A] ; this ; [B] */
  restrict(a: EvSet, b: EvSet): Rel {
    const r = new Rel(this.n);
    for (let i = 0; i < this.n; i++)
      if (a.has(i)) for (let k = 0; k < this.w; k++) r.bits[i * this.w + k] = this.bits[i * this.w + k]! & b.bits[k]!;
    return r;
  }
  inv(): Rel {
    const r = new Rel(this.n);
    const w = this.w;
    for (let i = 0; i < this.n; i++)
      for (let kw = 0; kw < w; kw++) {
        let word = this.bits[i * w + kw]!;
        while (word !== 0) {
          const b = word & -word;
          r.add((kw << 5) + (31 - Math.clz32(b)), i);
          word ^= b;
        }
      }
    return r;
  }
  /** Transitive closure r+. */
  plus(): Rel {
    return this.closeInPlace(this.clone());
  }
  private closeInPlace(r: Rel): Rel {
    const w = this.w;
    const n = this.n;
    for (let k = 0; k < n; k++) {
      const ko = k * w;
      const kword = k >>> 5;
      const kbit = 1 << (k & 31);
      for (let i = 0; i < n; i++) {
        const io = i * w;
        if ((r.bits[io + kword]! & kbit) !== 0) for (let x = 0; x < w; x++) r.bits[io + x]! |= r.bits[ko + x]!;
      }
    }
    return r;
  }
  /** Reflexive-transitive closure r*. */
  star(): Rel {
    const r = this.clone();
    if (this.isEmpty()) {
      for (let i = 0; i < this.n; i++) r.add(i, i);
      return r;
    }
    for (let i = 0; i < this.n; i++) r.add(i, i);
    return this.closeInPlace(r);
  }
  /** r? */
  opt(): Rel {
    return this.withId();
  }
  withId(): Rel {
    const r = this.clone();
    for (let i = 0; i < this.n; i++) r.add(i, i);
    return r;
  }
  withoutId(): Rel {
    const r = this.clone();
    for (let i = 0; i < this.n; i++) r.bits[i * this.w + (i >>> 5)]! &= ~(1 << (i & 31));
    return r;
  }
  isEmpty(): boolean {
    for (let k = 0; k < this.bits.length; k++) if (this.bits[k] !== 0) return false;
    return true;
  }
  irreflexive(): boolean {
    for (let i = 0; i < this.n; i++) if (this.has(i, i)) return false;
    return true;
  }
  /** Kahn's algorithm over the bit rows. */
  acyclic(): boolean {
    const n = this.n;
    const w = this.w;
    const indeg = new Array<number>(n).fill(0);
    const bits = this.bits;
    for (let i = 0; i < n; i++) {
      for (let kw = 0; kw < w; kw++) {
        let word = bits[i * w + kw]!;
        while (word !== 0) {
          const b = word & -word;
          indeg[(kw << 5) + (31 - Math.clz32(b))]!++;
          word ^= b;
        }
      }
    }
    const stack: number[] = [];
    for (let i = 0; i < n; i++) if (indeg[i] === 0) stack.push(i);
    let seen = 0;
    while (stack.length) {
      const i = stack.pop()!;
      seen++;
      for (let kw = 0; kw < w; kw++) {
        let word = bits[i * w + kw]!;
        while (word !== 0) {
          const b = word & -word;
          const j = (kw << 5) + (31 - Math.clz32(b));
          word ^= b;
          if (--indeg[j]! === 0) stack.push(j);
        }
      }
    }
    return seen === n;
  }
  domainSet(): EvSet {
    const s = new EvSet(this.n);
    for (let i = 0; i < this.n; i++) if (!this.rowEmpty(i)) s.add(i);
    return s;
  }
  rangeSet(): EvSet {
    const s = new EvSet(this.n);
    for (let i = 0; i < this.n; i++) for (let k = 0; k < this.w; k++) s.bits[k]! |= this.bits[i * this.w + k]!;
    return s;
  }
  equals(o: Rel): boolean {
    for (let k = 0; k < this.bits.length; k++) if (this.bits[k] !== o.bits[k]) return false;
    return true;
  }
  *pairs(): Generator<[number, number]> {
    for (let i = 0; i < this.n; i++) for (let j = 0; j < this.n; j++) if (this.has(i, j)) yield [i, j];
  }
}
