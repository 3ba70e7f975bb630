/**
 * Differential tests of the LKMM engine's search shortcuts on random small
 * litmus programs:
 *  - pruning rf/co subtrees with the monotone axioms must not change any
 *    answer (verdict, counts, race, flags, deadlock, witness);
 *  - the decide pass (used when counting runs out of budget) must give the
 *    verdict, deadlock and flags that a full count gives, with counts that
 *    are lower bounds;
 *  - with smp_mb() between all accesses the LKMM is sequentially consistent,
 *    so the engine's verdict must match an independent interleaving
 *    interpreter (this is the oracle that catches per-location coherence
 *    mistakes such as a lost lock re-acquisition or RMW-after-read).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runLitmus, type LitmusResult } from '../src/analyzer/memory-model/index.js';

const LOCS = ['x', 'y', 'z'] as const;

type Op =
  | { k: 'w'; loc: number; v: number; how: 'once' | 'release' | 'plain' }
  | { k: 'r'; loc: number; reg: number; how: 'once' | 'acquire' | 'plain' }
  | { k: 'xchg'; loc: number; reg: number; v: number; relaxed: boolean }
  | { k: 'fence'; which: 'smp_mb' | 'smp_wmb' | 'smp_rmb' }
  | { k: 'ctrl'; reg: number; loc: number; v: number };

interface Thread {
  locked: boolean;
  ops: Op[];
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('w' as const), loc: fc.nat(2), v: fc.integer({ min: 1, max: 2 }), how: fc.constantFrom('once' as const, 'release' as const, 'plain' as const) }),
  fc.record({ k: fc.constant('r' as const), loc: fc.nat(2), reg: fc.nat(2), how: fc.constantFrom('once' as const, 'acquire' as const, 'plain' as const) }),
  fc.record({ k: fc.constant('xchg' as const), loc: fc.nat(2), reg: fc.nat(2), v: fc.integer({ min: 1, max: 2 }), relaxed: fc.boolean() }),
  fc.record({ k: fc.constant('fence' as const), which: fc.constantFrom('smp_mb' as const, 'smp_wmb' as const, 'smp_rmb' as const) }),
  fc.record({ k: fc.constant('ctrl' as const), reg: fc.nat(2), loc: fc.nat(2), v: fc.integer({ min: 1, max: 2 }) }),
);

const threadArb: fc.Arbitrary<Thread> = fc.record({
  locked: fc.boolean(),
  ops: fc.array(opArb, { minLength: 1, maxLength: 4 }),
});

const condArb = fc.array(
  fc.oneof(
    fc.record({ t: fc.nat(2), reg: fc.nat(2), v: fc.nat(2) }),
    fc.record({ loc: fc.nat(2), v: fc.nat(2) }),
  ),
  { minLength: 1, maxLength: 3 },
);

function stmt(op: Op): string {
  const L = (i: number): string => LOCS[i]!;
  switch (op.k) {
    case 'w':
      return op.how === 'once'
        ? `WRITE_ONCE(*${L(op.loc)}, ${op.v});`
        : op.how === 'release'
          ? `smp_store_release(${L(op.loc)}, ${op.v});`
          : `*${L(op.loc)} = ${op.v};`;
    case 'r':
      return op.how === 'once'
        ? `r${op.reg} = READ_ONCE(*${L(op.loc)});`
        : op.how === 'acquire'
          ? `r${op.reg} = smp_load_acquire(${L(op.loc)});`
          : `r${op.reg} = *${L(op.loc)};`;
    case 'xchg':
      return `r${op.reg} = ${op.relaxed ? 'xchg_relaxed' : 'xchg'}(${L(op.loc)}, ${op.v});`;
    case 'fence':
      return `${op.which}();`;
    case 'ctrl':
      return `if (r${op.reg}) WRITE_ONCE(*${L(op.loc)}, ${op.v});`;
  }
}

function program(threads: Thread[], cond: ({ t: number; reg: number; v: number } | { loc: number; v: number })[]): string {
  const lines = ['C random', '{}'];
  threads.forEach((t, i) => {
    lines.push(`P${i}(int *x, int *y, int *z, spinlock_t *s)`, '{', '\tint r0;', '\tint r1;', '\tint r2;');
    if (t.locked) lines.push('\tspin_lock(s);');
    for (const op of t.ops) lines.push('\t' + stmt(op));
    if (t.locked) lines.push('\tspin_unlock(s);');
    lines.push('}');
  });
  const atoms = cond.map((a) => ('t' in a ? `${Math.min(a.t, threads.length - 1)}:r${a.reg}=${a.v}` : `${LOCS[a.loc]}=${a.v}`));
  lines.push(`exists (${atoms.join(' /\\ ')})`);
  return lines.join('\n') + '\n';
}

const progArb = fc
  .tuple(fc.array(threadArb, { minLength: 2, maxLength: 3 }), condArb)
  .map(([threads, cond]) => program(threads, cond));

function answer(r: LitmusResult): unknown {
  return {
    verdict: r.verdict,
    positive: r.positive,
    negative: r.negative,
    datarace: r.datarace,
    flags: r.flags,
    deadlock: r.deadlock,
    witness: r.witness,
    detail: r.detail,
  };
}

describe('LKMM engine search shortcuts', () => {
  it('pruning with the monotone axioms changes no answer', () => {
    fc.assert(
      fc.property(progArb, (text) => {
        const pruned = runLitmus(text, { maxStates: 200_000 });
        const full = runLitmus(text, { maxStates: 2_000_000, prune: false });
        if (pruned.verdict === 'too large') return; // the unpruned run would only be larger
        expect(answer(pruned), text).toEqual(answer(full));
      }),
      { numRuns: 250, seed: 20261206 },
    );
  });

  it('pruning does cut work: a two-level xchg lock test fits a budget the unpruned search exceeds', () => {
    // P1 and P2 take the global lock, then the local one (as in C-ManfredSpraul-L1G2xchg).
    const globalTaker = (i: number): string => `P${i}(int *lk, int *gk, int *lh, int *gh)
{
\tint r0;
\tint r1;
\tint r2;
\tr0 = xchg_acquire(gk, 1);
\tr1 = xchg_acquire(lk, 1);
\tsmp_store_release(lk, 0);
\tr2 = READ_ONCE(*lh);
\tWRITE_ONCE(*gh, 1);
\tWRITE_ONCE(*gh, 0);
\tsmp_store_release(gk, 0);
}`;
    const text = `C two-level-locks
{}
P0(int *lk, int *gk, int *lh, int *gh)
{
\tint r0;
\tint r1;
\tr0 = xchg_acquire(lk, 1);
\tr1 = READ_ONCE(*gh);
\tWRITE_ONCE(*lh, 1);
\tWRITE_ONCE(*lh, 0);
\tsmp_store_release(lk, 0);
}
${globalTaker(1)}
${globalTaker(2)}
exists ((0:r1=1 \\/ 1:r2=1) /\\ 0:r0=0 /\\ 1:r0=0 /\\ 1:r1=0 /\\ 2:r0=0 /\\ 2:r1=0)
`;
    const budget = { maxStates: 135_000, decideStates: 1 };
    const pruned = runLitmus(text, budget);
    expect([pruned.verdict, pruned.positive, pruned.negative, pruned.countsBounded]).toEqual(['Sometimes', 16, 78022, undefined]);
    expect(runLitmus(text, { ...budget, prune: false }).verdict).toBe('too large');
  }, 60_000);

  it('the decide pass agrees with a full count on verdict, deadlock and flags', () => {
    let decided = 0;
    fc.assert(
      fc.property(progArb, (text) => {
        const full = runLitmus(text, { maxStates: 200_000 });
        if (full.verdict !== 'Never' && full.verdict !== 'Sometimes' && full.verdict !== 'Always') return;
        // A count budget of 1 forces the decide pass (with its own budget).
        const small = runLitmus(text, { maxStates: 1, decideStates: 200_000 });
        if (small.verdict === 'too large') return; // plain accesses or SRCU: no decide pass
        if (small.countsBounded === undefined) {
          expect(answer(small), text).toEqual(answer(full));
          return;
        }
        decided++;
        expect([small.verdict, small.deadlock, small.datarace, small.flags], text).toEqual([full.verdict, full.deadlock, full.datarace, full.flags]);
        expect(small.positive, text).toBeLessThanOrEqual(full.positive);
        expect(small.negative, text).toBeLessThanOrEqual(full.negative);
        expect(small.positive > 0, text).toBe(full.positive > 0);
        expect(small.negative > 0, text).toBe(full.negative > 0);
      }),
      { numRuns: 250, seed: 20261207 },
    );
    // The property must actually exercise the decide pass.
    expect(decided).toBeGreaterThan(20);
  });

  it('with smp_mb() between all accesses, verdicts match sequential consistency', () => {
    type ScOp =
      | { k: 'w'; loc: number; v: number }
      | { k: 'r'; loc: number; reg: number }
      | { k: 'xchg'; loc: number; reg: number; v: number }
      | { k: 'cmpxchg'; loc: number; reg: number; old: number; v: number }
      | { k: 'inc'; loc: number }
      | { k: 'addret'; loc: number; reg: number; v: number }
      | { k: 'ctrl'; reg: number; loc: number; v: number };
    interface ScThread {
      locked: boolean;
      relock: boolean;
      ops: ScOp[];
    }
    const scOp: fc.Arbitrary<ScOp> = fc.oneof(
      fc.record({ k: fc.constant('w' as const), loc: fc.nat(2), v: fc.integer({ min: 1, max: 2 }) }),
      fc.record({ k: fc.constant('r' as const), loc: fc.nat(2), reg: fc.nat(2) }),
      fc.record({ k: fc.constant('xchg' as const), loc: fc.nat(2), reg: fc.nat(2), v: fc.integer({ min: 1, max: 2 }) }),
      fc.record({ k: fc.constant('ctrl' as const), reg: fc.nat(2), loc: fc.nat(2), v: fc.integer({ min: 1, max: 2 }) }),
      fc.record({ k: fc.constant('cmpxchg' as const), loc: fc.nat(2), reg: fc.nat(2), old: fc.nat(2), v: fc.integer({ min: 1, max: 2 }) }),
      fc.record({ k: fc.constant('inc' as const), loc: fc.nat(2) }),
      fc.record({ k: fc.constant('addret' as const), loc: fc.nat(2), reg: fc.nat(2), v: fc.integer({ min: 1, max: 2 }) }),
    );
    const scThread: fc.Arbitrary<ScThread> = fc.record({ locked: fc.boolean(), relock: fc.boolean(), ops: fc.array(scOp, { minLength: 1, maxLength: 3 }) });
    type Atom = { t: number; reg: number; v: number } | { loc: number; v: number };

    // Each thread: its ops, optionally in a lock section; "relock" splits the
    // section in two (unlock; lock) after the first op.
    const steps = (t: ScThread): (ScOp | { k: 'lock' } | { k: 'unlock' })[] => {
      const out: (ScOp | { k: 'lock' } | { k: 'unlock' })[] = [];
      t.ops.forEach((op, i) => {
        if (t.locked && i === 0) out.push({ k: 'lock' });
        out.push(op);
        if (t.locked && t.relock && i === 0 && t.ops.length > 1) out.push({ k: 'unlock' }, { k: 'lock' });
      });
      if (t.locked) out.push({ k: 'unlock' });
      return out;
    };
    const litmus = (threads: ScThread[], cond: Atom[]): string => {
      const lines = ['C sc-random', '{}'];
      threads.forEach((t, i) => {
        lines.push(`P${i}(int *x, int *y, int *z, spinlock_t *s)`, '{', '\tint r0;', '\tint r1;', '\tint r2;');
        steps(t).forEach((st, j) => {
          if (j > 0) lines.push('\tsmp_mb();');
          if (st.k === 'lock') lines.push('\tspin_lock(s);');
          else if (st.k === 'unlock') lines.push('\tspin_unlock(s);');
          else if (st.k === 'w') lines.push(`\tWRITE_ONCE(*${LOCS[st.loc]}, ${st.v});`);
          else if (st.k === 'r') lines.push(`\tr${st.reg} = READ_ONCE(*${LOCS[st.loc]});`);
          else if (st.k === 'xchg') lines.push(`\tr${st.reg} = xchg(${LOCS[st.loc]}, ${st.v});`);
          else if (st.k === 'cmpxchg') lines.push(`\tr${st.reg} = cmpxchg(${LOCS[st.loc]}, ${st.old}, ${st.v});`);
          else if (st.k === 'inc') lines.push(`\tatomic_inc(${LOCS[st.loc]});`);
          else if (st.k === 'addret') lines.push(`\tr${st.reg} = atomic_add_return(${st.v}, ${LOCS[st.loc]});`);
          else lines.push(`\tif (r${st.reg}) WRITE_ONCE(*${LOCS[st.loc]}, ${st.v});`);
        });
        lines.push('}');
      });
      lines.push(`exists (${cond.map((a) => ('t' in a ? `${Math.min(a.t, threads.length - 1)}:r${a.reg}=${a.v}` : `${LOCS[a.loc]}=${a.v}`)).join(' /\\ ')})`);
      return lines.join('\n') + '\n';
    };
    // Interleavings: does some / every final state satisfy the condition?
    const sc = (threads: ScThread[], cond: Atom[]): { some: boolean; every: boolean; any: boolean } => {
      const prog = threads.map(steps);
      let some = false;
      let every = true;
      let any = false;
      const seen = new Set<string>();
      const go = (pcs: number[], regs: number[][], mem: number[], holder: number): void => {
        const key = JSON.stringify([pcs, regs, mem, holder]);
        if (seen.has(key)) return;
        seen.add(key);
        let moved = false;
        for (let t = 0; t < prog.length; t++) {
          const st = prog[t]![pcs[t]!];
          if (!st) continue;
          if (st.k === 'lock' && holder !== -1) continue;
          moved = true;
          const p2 = pcs.slice();
          p2[t]!++;
          const r2 = regs.map((r) => r.slice());
          const m2 = mem.slice();
          let h2 = holder;
          if (st.k === 'lock') h2 = t;
          else if (st.k === 'unlock') h2 = -1;
          else if (st.k === 'w') m2[st.loc] = st.v;
          else if (st.k === 'r') r2[t]![st.reg] = mem[st.loc]!;
          else if (st.k === 'xchg') {
            r2[t]![st.reg] = mem[st.loc]!;
            m2[st.loc] = st.v;
          } else if (st.k === 'cmpxchg') {
            r2[t]![st.reg] = mem[st.loc]!;
            if (mem[st.loc] === st.old) m2[st.loc] = st.v;
          } else if (st.k === 'inc') m2[st.loc] = mem[st.loc]! + 1;
          else if (st.k === 'addret') {
            m2[st.loc] = mem[st.loc]! + st.v;
            r2[t]![st.reg] = m2[st.loc]!;
          } else if (regs[t]![st.reg] !== 0) m2[st.loc] = st.v;
          go(p2, r2, m2, h2);
        }
        if (!moved && pcs.every((pc, t) => pc >= prog[t]!.length)) {
          any = true;
          const ok = cond.every((a) => ('t' in a ? regs[Math.min(a.t, threads.length - 1)]![a.reg] === a.v : mem[a.loc] === a.v));
          if (ok) some = true;
          else every = false;
        }
      };
      go(
        prog.map(() => 0),
        prog.map(() => [0, 0, 0]),
        [0, 0, 0],
        -1,
      );
      return { some, every, any };
    };
    let checked = 0;
    fc.assert(
      fc.property(fc.array(scThread, { minLength: 2, maxLength: 3 }), condArb, (threads, cond) => {
        const text = litmus(threads, cond);
        const r = runLitmus(text, { maxStates: 5_000 });
        if (r.verdict === 'too large') return;
        checked++;
        const want = sc(threads, cond);
        expect(want.any, text).toBe(true);
        expect(r.deadlock, text).toBe(false);
        expect(r.verdict, text).toBe(!want.some ? 'Never' : want.every ? 'Always' : 'Sometimes');
      }),
      { numRuns: 300, seed: 20261208 },
    );
    expect(checked).toBeGreaterThan(200);
  });
});
