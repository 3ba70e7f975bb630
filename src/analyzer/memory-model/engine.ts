/**
 * Candidate-execution enumeration and verdicts.
 *
 * 1. Each thread is compiled to a flat IR and its traces are enumerated
 *    (control paths + concrete read values). Read values come from a
 *    per-location value domain computed by a bounded fixpoint (initial values
 *    plus every value some trace may write).
 * 2. Thread traces are combined (pruning combinations in which some read
 *    value cannot be supplied by any write).
 * 3. Per location, coherence orders (co) and reads-from (rf) choices are
 *    enumerated together, keeping only those that satisfy sc-per-location and
 *    RMW atomicity, so that whole-execution checks only see coherent
 *    candidates.
 * 4. Each candidate (product over locations, explored depth first with the
 *    monotone axioms checked on each partial rf/co to cut forbidden
 *    subtrees) is checked against the LKMM axioms; allowed ones are counted
 *    as positive/negative for the final condition, herd7-style.
 * 5. When counting exceeds the state budget and no unvisited execution
 *    could carry a race or an rf-dependent flag, a decide pass looks only
 *    for what settles the verdict (counts then are lower bounds).
 */
import { T, fmtVal, type TEvent, type Trace } from './events.js';
import { buildStatic, checkExecution, staticHbPart, type GEvent, type StaticModel } from './lkmm.js';
import { Rel } from './relation.js';
import { SYM, TooLarge, compileThread, enumerateTraces, storeSeeds, type ThreadProgram } from './thread.js';
import { UnsupportedError, type Cond, type CondAtom, type LitmusResult, type LitmusTest, type Val } from './types.js';

export interface RunOptions {
  /** Maximum number of candidate executions examined. */
  maxStates?: number;
  /** Maximum number of traces per thread. */
  maxTraces?: number;
  /**
   * Skip rf/co subtrees that the monotone axioms already forbid (default
   * true). Turning it off changes nothing but the time and the budget
   * accounting; the differential tests check exactly that.
   */
  prune?: boolean;
  /** Budget of the decide pass that follows a count over budget (default: maxStates). */
  decideStates?: number;
}

export const DEFAULT_MAX_STATES = 300_000;

interface LocOption {
  co: number[]; // write ids in coherence order (initial write first)
  rf: [number, number][]; // [read, write]
}

function key(loc: string, v: Val): string {
  return `${loc}=${typeof v === 'number' ? v : '&' + v}`;
}

export function runTest(test: LitmusTest, opts: RunOptions = {}): LitmusResult {
  const maxStates = opts.maxStates ?? DEFAULT_MAX_STATES;
  const decideStates = opts.decideStates ?? maxStates;
  const maxTraces = opts.maxTraces ?? 50_000;
  const prune = opts.prune ?? true;
  const base: LitmusResult = {
    name: test.name,
    verdict: 'error',
    positive: 0,
    negative: 0,
    datarace: false,
    expected: test.expected,
  };

  // ---- initial state ----
  const initVal = new Map<string, Val>();
  const regInits = new Map<number, Map<string, Val>>();
  for (const e of test.init) {
    const v: Val = e.value.k === 'num' ? e.value.v : e.value.k === 'ptr' ? e.value.loc : NaN;
    if (e.value.k === 'list') throw new UnsupportedError('array');
    if (e.thread !== undefined) {
      if (!regInits.has(e.thread)) regInits.set(e.thread, new Map());
      regInits.get(e.thread)!.set(e.name, v);
    } else initVal.set(e.name, v);
  }
  const progs: ThreadProgram[] = test.threads
    .slice()
    .sort((a, b) => a.index - b.index)
    .map((t) => compileThread(t, regInits.get(t.index) ?? new Map()));
  const locations = new Set<string>(initVal.keys());
  for (const p of progs) for (const q of p.params) locations.add(q);
  // Pointer values in the initial state name locations too.
  for (const v of initVal.values()) if (typeof v === 'string') locations.add(v);

  // ---- value domains (bounded fixpoint) ----
  const domains = new Map<string, Val[]>();
  const initOf = (loc: string): Val => initVal.get(loc) ?? 0;
  for (const l of locations) domains.set(l, [initOf(l)]);
  // Seed the domains with what stores may write on any path (herd7 explores
  // every control path, even those whose condition no value yet satisfies).
  const seeds = storeSeeds(progs);
  // herd7 never invents a value: a read's value is the value of the write
  // it reads from, and a write's value is computed from reads already
  // determined. The final condition's constants are *not* values (a
  // thin-air "42" is unreachable); values fixed only by an rf cycle of
  // plain copies are herd7's symbolic value (SYM), other cyclic values are
  // rejected per candidate (see `wellFounded`).
  const seedLoc = (l: string, s: { values: Set<Val>; computed: boolean; copies: boolean }): void => {
    const d = domains.get(l)!;
    const add = (v: Val): void => {
      if (!d.includes(v)) d.push(v);
    };
    s.values.forEach(add);
    if (s.computed) seeds.literals.forEach(add);
    if (s.copies) add(SYM);
  };
  for (const [l, s] of seeds.byLoc) {
    if (l === '*') for (const l2 of locations) seedLoc(l2, s);
    else if (domains.has(l)) seedLoc(l, s);
  }
  const dom = (loc: string): readonly Val[] => {
    let d = domains.get(loc);
    if (!d) {
      d = [initOf(loc)];
      domains.set(loc, d);
    }
    return d;
  };
  let traces: Trace[][] = [];
  const limits = { maxTraces, maxSteps: 10_000 };
  let maxIter = 2;
  for (let iter = 0; ; iter++) {
    const runs = progs.map((p) => enumerateTraces(p, dom, limits));
    traces = runs.map((r) => r.traces);
    let writes = 0;
    let changed = false;
    for (const r of runs) {
      for (const [loc, v] of r.writes) {
        const d = dom(loc) as Val[];
        if (!d.includes(v)) {
          d.push(v);
          changed = true;
        }
      }
    }
    for (const ts of traces) {
      let mw = 0;
      for (const tr of ts) {
        let w = 0;
        for (const e of tr.events) {
          if (e.kind !== 'W' || e.loc === undefined) continue;
          w++;
        }
        mw = Math.max(mw, w);
      }
      writes += mw;
    }
    maxIter = Math.max(maxIter, writes + 1);
    for (const d of domains.values()) {
      if (d.length > 24) throw new TooLarge('value domain too large');
    }
    if (!changed) break;
    if (iter >= maxIter) break;
  }
  for (const d of domains.values())
    d.sort((a, b) => (typeof a === typeof b ? (a < b ? -1 : a > b ? 1 : 0) : typeof a === 'number' ? -1 : 1));
  // Final trace enumeration with the final domains.
  traces = progs.map((p) => enumerateTraces(p, dom, limits).traces);

  // ---- combine traces ----
  const nThreads = progs.length;
  const mayWrite: Set<string>[] = traces.map((ts) => {
    const s = new Set<string>();
    for (const tr of ts) for (const e of tr.events) if (e.kind === 'W') s.add(key(e.loc!, e.val!));
    return s;
  });
  const initKeys = new Set<string>();
  for (const l of locations) initKeys.add(key(l, initOf(l)));

  // Choose threads in an order that lets locations be closed early: writers
  // first (fewest traces first), pure readers last.
  const writesAny = traces.map((ts) => ts.some((tr) => tr.events.some((e) => e.kind === 'W')));
  const order = progs.map((_, i) => i).sort((a, b) => {
    if (writesAny[a] !== writesAny[b]) return writesAny[a] ? -1 : 1;
    return traces[a]!.length - traces[b]!.length || a - b;
  });
  const mayWriteLoc: Set<string>[] = traces.map((ts) => {
    const s = new Set<string>();
    for (const tr of ts) for (const e of tr.events) if (e.kind === 'W') s.add(e.loc!);
    return s;
  });
  // Locations whose writers are all among the first k+1 threads of `order`.
  const closedAt: string[][] = order.map((_, k) => {
    const out: string[] = [];
    for (const l of locations) {
      let closed = true;
      for (let j = k + 1; j < nThreads && closed; j++) if (mayWriteLoc[order[j]!]!.has(l)) closed = false;
      let wasClosed = k > 0;
      for (let j = k; j < nThreads && wasClosed; j++) if (mayWriteLoc[order[j]!]!.has(l)) wasClosed = false;
      if (closed && (!wasClosed || k === 0)) out.push(l);
    }
    return out;
  });
  // Decide mode is exact only where every execution's race and flag status
  // is known without visiting it: no plain accesses (data races) and no SRCU
  // (the bell's matching flags depend on rf).
  const decidable = traces.every((ts) =>
    ts.every((tr) => tr.events.every((e) => (e.kind !== 'R' && e.kind !== 'W') || isMarkedEvent(e))),
  );
  // Events that can raise a static flag (RCU nesting, sleeping in RCU, lock.cat).
  const FLAG_TAGS = T.RCU_LOCK | T.RCU_UNLOCK | T.SYNC_SRCU | T.LKR | T.LKW | T.UL | T.LF | T.RL | T.RU;
  const flagEvents = traces.some((ts) => ts.some((tr) => tr.events.some((e) => (e.tags & FLAG_TAGS) !== 0)));
  interface SearchOut {
    counter: { states: number; positive: number; negative: number; datarace: boolean };
    flags: Set<string>;
    witness: string | undefined;
  }
  /**
   * Explores the executions. Count mode visits every one (herd7's counts);
   * decide mode (used when count mode runs out of budget) only looks for the
   * executions that settle the verdict: a positive one, a negative one, and
   * one per static flag, skipping whole thread-trace combinations whose
   * registers already decide the condition one way that has been seen.
   */
  const search = (decide: boolean): SearchOut => {
    const limit = decide ? decideStates : maxStates;
    const counter = { states: 0, positive: 0, negative: 0, datarace: false };
    const flags = new Set<string>();
    let witness: string | undefined;
    const wantPositive = test.quantifier !== 'forall';
    const tick = (): void => {
      if (++counter.states > limit) throw new TooLarge(`more than ${limit} candidate executions`);
    };

    // chosen[i] is the trace of thread progs[i] (indexed by program position).
    const chosen: (Trace | undefined)[] = new Array<Trace | undefined>(nThreads).fill(undefined);

    const readable = (k: number): boolean => {
      // Every read of the chosen traces must be suppliable.
      const avail = new Set<string>(initKeys);
      for (let i = 0; i <= k; i++) for (const e of chosen[order[i]!]!.events) if (e.kind === 'W') avail.add(key(e.loc!, e.val!));
      for (let i = 0; i <= k; i++)
        for (const e of chosen[order[i]!]!.events) {
          if (e.kind !== 'R') continue;
          const kk = key(e.loc!, e.val!);
          if (avail.has(kk)) continue;
          let ok = false;
          for (let j = k + 1; j < nThreads && !ok; j++) ok = mayWrite[order[j]!]!.has(kk);
          if (!ok) return false;
        }
      // Locations all of whose writers are chosen must have a coherent rf/co
      // for the reads chosen so far (dropping reads preserves coherence).
      const locs = new Set<string>();
      for (let i = 0; i <= k; i++) for (const l of closedAt[i]!) locs.add(l);
      if (locs.size === 0) return true;
      const ev = buildEvents([...locs].sort(), true);
      for (const l of [...locs].sort()) {
        const ws = ev.filter((e) => e.loc === l && e.kind === 'W');
        const rs = ev.filter((e) => e.loc === l && e.kind === 'R');
        if (rs.length === 0 && ws.length <= 2) continue;
        if (locationOptions(ev, ws, rs, true).length === 0) return false;
      }
      return true;
    };

    const buildEvents = (locList: string[], partial: boolean): GEvent[] => {
      const ev: GEvent[] = [];
      for (const l of locList) {
        ev.push({
          id: ev.length,
          thread: -1,
          po: 0,
          kind: 'W',
          loc: l,
          val: initOf(l),
          tags: T.INIT,
          addr: [],
          data: [],
          ctrl: [],
          line: 0,
          text: `init ${l}=${fmtVal(initOf(l))}`,
        });
      }
      chosen.forEach((tr, ti) => {
        if (!tr) {
          if (!partial) throw new Error('internal: missing trace');
          return;
        }
        tr.events.forEach((e: TEvent, i) => {
          if (partial && !locList.includes(e.loc ?? '')) return;
          ev.push({ ...e, id: ev.length, thread: progs[ti]!.index, po: i });
        });
      });
      return ev;
    };

    const visitCombination = (): void => {
      const usedLocs = new Set<string>(locations);
      for (const tr of chosen) for (const e of tr!.events) if (e.loc !== undefined) usedLocs.add(e.loc);
      const locList = [...usedLocs].sort();
      const ev = buildEvents(locList, false);
      const full = chosen as Trace[];
      // Per-location options.
      const perLoc: LocOption[][] = [];
      for (const l of locList) {
        const ws = ev.filter((e) => e.loc === l && e.kind === 'W');
        const rs = ev.filter((e) => e.loc === l && e.kind === 'R');
        if (rs.length === 0 && ws.length === 1) continue;
        const opts = locationOptions(ev, ws, rs, false);
        if (opts.length === 0) return;
        perLoc.push(opts);
      }
      const sm = buildStatic(ev);
      // Decide mode: this combination is searched only while it can still
      // show something not yet seen (a positive or a negative execution, or a
      // static flag), and only until it has shown it.
      let stopCombo = false;
      const condTri = decide ? evalCond3(test.condition, { traces: full, progs }) : undefined;
      const needed = (): boolean =>
        (condTri !== false && counter.positive === 0) ||
        (condTri !== true && counter.negative === 0) ||
        sm.staticFlags.some((f) => !flags.has(f));
      if (decide) {
        if (test.filter && evalCond3(test.filter, { traces: full, progs }) === false) return;
        if (!needed()) return;
      }
      const n = ev.length;
      const wf = valueDeps(ev);
      const idx = new Array<number>(perLoc.length).fill(0);
      const finalOf = new Map<string, Val>();
      const leaf = (): void => {
        tick();
        const rf = new Rel(n);
        const co = new Rel(n);
        finalOf.clear();
        for (const l of locList) finalOf.set(l, initOf(l));
        perLoc.forEach((opts, li) => {
          const o = opts[idx[li]!]!;
          for (const [r, w] of o.rf) rf.add(w, r);
          for (let a = 0; a < o.co.length; a++) for (let b = a + 1; b < o.co.length; b++) co.add(o.co[a]!, o.co[b]!);
          const last = ev[o.co[o.co.length - 1]!]!;
          finalOf.set(last.loc!, last.val!);
        });
        const res = wf && !wellFounded(ev, wf, perLoc, idx) ? { allowed: false, datarace: false, hb: undefined } : checkExecution(sm, rf, co, true);
        if (res.allowed) {
          const env: Env = { traces: full, progs, finalOf, locations: usedLocs };
          if (!test.filter || evalCond(test.filter, env)) {
            if (res.datarace) counter.datarace = true;
            for (const f of res.flags ?? []) flags.add(f);
            const pos = evalCond(test.condition, env);
            if (pos) counter.positive++;
            else counter.negative++;
            if (witness === undefined && pos === wantPositive) witness = formatWitness(sm, rf, co, res.hb!, env);
            if (decide && !needed()) stopCombo = true;
          }
        }
      };
      // The (rf, co) choices of the locations, depth-first, the location with
      // the most choices outermost (ties by name: the order of the executions,
      // hence the witness, is deterministic). After each location's choice the
      // monotone axioms (happens-before, propagation, rcu) are checked on the
      // rf/co chosen so far: a cycle there is in every completion, so the
      // subtree is skipped with one tick instead of one per execution, which is
      // what keeps lock-heavy tests in budget. A cheap pre-check adds only the
      // rfe edges to hb's static part.
      const seq = perLoc.map((_, i) => i).sort((x, y) => perLoc[y]!.length - perLoc[x]!.length || x - y);
      // below[d]: the number of completions under one choice at depth d; the
      // partial check costs about one execution check, so it is only worth it
      // over a few completions.
      const below = seq.map((_, d) => seq.slice(d + 1).reduce((p, li) => p * perLoc[li]!.length, 1));
      const marked = sm.Marked;
      const pick = (d: number, hbPart: Rel, rfP: Rel, coP: Rel): void => {
        if (d === seq.length) {
          leaf();
          return;
        }
        const li = seq[d]!;
        const opts = perLoc[li]!;
        for (let k = 0; k < opts.length && !stopCombo; k++) {
          idx[li] = k;
          const o = opts[k]!;
          let next = hbPart;
          for (const [r, w] of o.rf) {
            if (ev[r]!.thread === ev[w]!.thread || !marked.has(r) || !marked.has(w)) continue;
            if (next === hbPart) next = hbPart.clone();
            next.add(w, r);
          }
          if (prune && next !== hbPart && !next.acyclic()) {
            tick();
            continue;
          }
          if (d === seq.length - 1) {
            leaf();
            continue;
          }
          // `below` only shrinks with depth: once under the threshold no
          // deeper level checks either, so the partial rf/co is not kept up.
          if (!prune || below[d]! < PARTIAL_CHECK_MIN) {
            pick(d + 1, next, rfP, coP);
            continue;
          }
          const rf2 = rfP.clone();
          const co2 = coP.clone();
          for (const [r, w] of o.rf) rf2.add(w, r);
          for (let a = 0; a < o.co.length; a++) for (let b = a + 1; b < o.co.length; b++) co2.add(o.co[a]!, o.co[b]!);
          if (!checkExecution(sm, rf2, co2, true, true).allowed) {
            tick();
            continue;
          }
          pick(d + 1, next, rf2, co2);
        }
        idx[li] = 0;
      };
      pick(0, staticHbPart(sm), new Rel(n), new Rel(n));
    };

    // Decide mode without flag-capable events: a partial choice of traces
    // whose registers already decide the condition one way that has been
    // seen can be dropped whole, and the search ends once both were seen.
    const skipDecided = decide && !flagEvents;
    const choose = (k: number): void => {
      if (k === nThreads) {
        visitCombination();
        return;
      }
      const ti = order[k]!;
      for (const tr of traces[ti]!) {
        if (skipDecided && counter.positive > 0 && counter.negative > 0) throw new Settled();
        tick();
        chosen[ti] = tr;
        if (!readable(k)) continue;
        if (skipDecided && k < nThreads - 1) {
          const tri = evalCond3(test.condition, { traces: chosen, progs });
          if ((tri === true && counter.positive > 0) || (tri === false && counter.negative > 0)) continue;
        }
        choose(k + 1);
      }
      chosen[ti] = undefined;
    };
    try {
      choose(0);
    } catch (e) {
      if (!(e instanceof Settled)) throw e;
    }
    return { counter, flags, witness };
  };

  let out: SearchOut;
  let bounded: string | undefined;
  try {
    out = search(false);
  } catch (e) {
    if (!(e instanceof TooLarge) || !decidable) throw e;
    bounded = e.message;
    out = search(true);
  }
  const { counter, flags, witness } = out;

  const { positive, negative } = counter;
  const verdict = positive === 0 ? 'Never' : negative === 0 ? 'Always' : 'Sometimes';
  return {
    ...base,
    verdict,
    positive,
    negative,
    datarace: counter.datarace,
    flags: [...flags].sort(),
    // herd7 reports no states at all when every candidate is forbidden (e.g.
    // by lock.cat's lock-nest axiom) or filtered out: the corpus calls it DEADLOCK.
    deadlock: positive + negative === 0,
    witness,
    ...(bounded ? { countsBounded: bounded } : {}),
  };
}

/**
 * All coherent (co, rf) choices for one location: co respects program
 * order among a thread's writes; an RMW's read takes its value from the
 * immediate co-predecessor of its write (atomicity); plain reads choose any
 * write with the value they read such that CoRR/CoRW/CoWR hold.
 */
const PARTIAL_CHECK_MIN = 8;

function locationOptions(ev: GEvent[], ws: GEvent[], rs: GEvent[], firstOnly: boolean): LocOption[] {
  const out: LocOption[] = [];
  const init = ws[0]!;
  const rest = ws.slice(1);
  const rmwReadOf = new Map<number, number>(); // write id -> read id
  for (const w of rest) {
    if (w.rmwWith !== undefined) {
      const r = rs.find((x) => x.thread === w.thread && x.po === w.rmwWith);
      if (r) rmwReadOf.set(w.id, r.id);
    }
  }
  const rmwReads = new Set(rmwReadOf.values());
  const order: number[] = [init.id];
  const placed = new Set<number>([init.id]);
  const rank = new Map<number, number>();
  const byId = (id: number): GEvent => ev[id]!;

  const assignReads = (): void => {
    rank.clear();
    order.forEach((id, i) => rank.set(id, i));
    const src = new Map<number, number>();
    // RMW reads are fixed.
    for (let i = 1; i < order.length; i++) {
      const r = rmwReadOf.get(order[i]!);
      if (r !== undefined) src.set(r, order[i - 1]!);
    }
    const sorted = rs.slice().sort((a, b) => a.thread - b.thread || a.po - b.po);
    const ok = (r: GEvent, s: number): boolean => {
      const rk = rank.get(s)!;
      for (const w of ws) {
        if (w.thread !== r.thread) continue;
        if (w.po < r.po && rank.get(w.id)! > rk) return false;
        if (w.po > r.po && rank.get(w.id)! <= rk) return false;
      }
      for (const [r2, s2] of src) {
        const e2 = byId(r2);
        if (r2 === r.id || e2.thread !== r.thread) continue;
        const rk2 = rank.get(s2)!;
        if (e2.po < r.po && rk2 > rk) return false;
        // CoRR: a po-later read may not read a co-earlier write.
        if (e2.po > r.po && rk2 < rk) return false;
      }
      return true;
    };
    // First validate fixed (RMW) reads against each other.
    const fixed = [...src.entries()];
    for (const [r, s] of fixed) {
      src.delete(r);
      if (!ok(byId(r), s)) return;
      src.set(r, s);
    }
    const free = sorted.filter((r) => !rmwReads.has(r.id));
    const go = (i: number): void => {
      if (i === free.length) {
        out.push({ co: order.slice(), rf: [...src.entries()] });
        return;
      }
      if (firstOnly && out.length) return;
      const r = free[i]!;
      for (const w of ws) {
        if (w.val !== r.val) continue;
        if (!ok(r, w.id)) continue;
        src.set(r.id, w.id);
        go(i + 1);
        src.delete(r.id);
      }
    };
    go(0);
  };

  const dfs = (): void => {
    if (firstOnly && out.length) return;
    if (order.length === ws.length) {
      assignReads();
      return;
    }
    const last = byId(order[order.length - 1]!);
    for (const w of rest) {
      if (placed.has(w.id)) continue;
      // po-earlier writes of the same thread must be placed first.
      let blocked = false;
      for (const w2 of rest) if (w2.thread === w.thread && w2.po < w.po && !placed.has(w2.id)) blocked = true;
      if (blocked) continue;
      const r = rmwReadOf.get(w.id);
      if (r !== undefined && byId(r).val !== last.val) continue;
      placed.add(w.id);
      order.push(w.id);
      dfs();
      order.pop();
      placed.delete(w.id);
    }
  };
  // Reads of a location with no RMW partner written (e.g. failed RMWs) are handled as free reads.
  dfs();
  return out;
}

// ------------------------------------------------------ value solving ---

/**
 * Per event, the events whose values it needs (global ids): for a write, the
 * reads its value and address depend on; for a read, the reads its address
 * depends on. undefined when no write depends on a read (no value cycle is
 * possible, every candidate is well founded).
 */
function valueDeps(ev: GEvent[]): number[][] | undefined {
  const base = new Map<number, number>();
  for (const e of ev) if (e.thread >= 0 && !base.has(e.thread)) base.set(e.thread, e.id);
  let any = false;
  const deps = ev.map((e) => {
    if (e.thread < 0) return [];
    const b0 = base.get(e.thread)!;
    if (e.kind === 'W' && e.data.length) any = true;
    const ids = e.addr.map((d) => b0 + d);
    if (e.kind === 'W') for (const d of e.data) ids.push(b0 + d);
    return ids;
  });
  return any ? deps : undefined;
}

/**
 * herd7's equation solving for one candidate: every read with a concrete
 * value must get it from a write whose value (and address) is computed from
 * reads that are themselves determined, without going round an rf cycle.
 * Reads of the symbolic value are the free `var = var` classes herd7 keeps
 * (computations on them were already discarded per path). Executions whose
 * concrete values only hold up by circular justification (thin air) have
 * no herd7 counterpart: herd7 represents them once, symbolically.
 */
function wellFounded(ev: GEvent[], deps: number[][], perLoc: LocOption[][], idx: number[]): boolean {
  const src = new Map<number, number>();
  perLoc.forEach((opts, li) => {
    for (const [r, w] of opts[idx[li]!]!.rf) src.set(r, w);
  });
  const n = ev.length;
  const det = new Uint8Array(n);
  let pending = 0;
  for (const e of ev) {
    if (e.thread < 0 || (e.kind !== 'R' && e.kind !== 'W') || e.val === SYM) det[e.id] = 1;
    else pending++;
  }
  for (let changed = true; changed && pending > 0; ) {
    changed = false;
    for (const e of ev) {
      if (det[e.id]) continue;
      if (e.kind === 'R') {
        const w = src.get(e.id);
        if (w !== undefined && !det[w]) continue;
      }
      let ok = true;
      for (const d of deps[e.id]!) if (!det[d]) ok = false;
      if (!ok) continue;
      det[e.id] = 1;
      pending--;
      changed = true;
    }
  }
  if (pending === 0) return true;
  // Writes left undetermined are harmless only if nothing reads them and
  // they are not computed from undetermined reads (impossible: a write is
  // undetermined only through an undetermined read), so any leftover fails.
  return false;
}

// ------------------------------------------------------------ condition ---

interface Env {
  traces: Trace[];
  progs: ThreadProgram[];
  finalOf: Map<string, Val>;
  locations: Set<string>;
}

function atomValue(a: CondAtom, env: Env, isLhs: boolean): Val {
  switch (a.k) {
    case 'num':
      return a.v;
    case 'reg': {
      const ti = env.progs.findIndex((p) => p.index === a.thread);
      if (ti < 0) throw new UnsupportedError(`condition on unknown thread ${a.thread}`);
      return env.traces[ti]!.regs.get(a.reg) ?? env.progs[ti]!.regInit.get(a.reg) ?? 0;
    }
    case 'mem':
      return env.finalOf.get(a.loc) ?? 0;
    case 'sym':
      if (isLhs) return env.finalOf.get(a.name) ?? 0;
      return a.name;
  }
}

/** Thrown to end a decide-mode search once the verdict is settled. */
class Settled extends Error {}

/** Marked (or non-memory) as far as a trace event shows: not plain, not SRCU. */
function isMarkedEvent(e: TEvent): boolean {
  if (e.tags & (T.SRCU_LOCK | T.SRCU_UNLOCK)) return false;
  if (e.rmwWith !== undefined) return true;
  return (e.tags & (T.ONCE | T.RELEASE | T.ACQUIRE | T.RMW | T.LKR | T.LKW | T.UL | T.LF | T.RL | T.RU)) !== 0;
}

/**
 * The condition on a combination of thread traces, before any rf/co choice:
 * register atoms are known, final-memory atoms are not (Kleene logic;
 * undefined = not decided yet).
 */
function evalCond3(c: Cond, env: { traces: readonly (Trace | undefined)[]; progs: ThreadProgram[] }): boolean | undefined {
  const regEnv: Env = { traces: env.traces as Trace[], progs: env.progs, finalOf: new Map(), locations: new Set() };
  const chosen = (a: CondAtom): boolean => {
    if (a.k !== 'reg') return true;
    const ti = env.progs.findIndex((p) => p.index === a.thread);
    return ti < 0 || env.traces[ti] !== undefined;
  };
  const go = (c: Cond): boolean | undefined => {
    switch (c.k) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'not': {
        const a = go(c.a);
        return a === undefined ? undefined : !a;
      }
      case 'and': {
        const a = go(c.a);
        if (a === false) return false;
        const b = go(c.b);
        if (b === false) return false;
        return a === true && b === true ? true : undefined;
      }
      case 'or': {
        const a = go(c.a);
        if (a === true) return true;
        const b = go(c.b);
        if (b === true) return true;
        return a === false && b === false ? false : undefined;
      }
      case 'implies':
        return go({ k: 'or', a: { k: 'not', a: c.a }, b: c.b });
      case 'eq':
        // Final memory is not known before rf/co, nor a thread not chosen yet.
        if (c.lhs.k === 'mem' || c.lhs.k === 'sym' || c.rhs.k === 'mem' || !chosen(c.lhs) || !chosen(c.rhs)) return undefined;
        return (atomValue(c.lhs, regEnv, true) === atomValue(c.rhs, regEnv, false)) !== c.neg;
    }
  };
  return go(c);
}

function evalCond(c: Cond, env: Env): boolean {
  switch (c.k) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'not':
      return !evalCond(c.a, env);
    case 'and':
      return evalCond(c.a, env) && evalCond(c.b, env);
    case 'or':
      return evalCond(c.a, env) || evalCond(c.b, env);
    case 'implies':
      return !evalCond(c.a, env) || evalCond(c.b, env);
    case 'eq': {
      const l = atomValue(c.lhs, env, true);
      const r = atomValue(c.rhs, env, false);
      return (l === r) !== c.neg;
    }
  }
}

// -------------------------------------------------------------- witness ---

function describe(e: GEvent): string {
  const tags: string[] = [];
  if (e.tags & T.ONCE) tags.push('once');
  if (e.tags & T.ACQUIRE) tags.push('acquire');
  if (e.tags & T.RELEASE) tags.push('release');
  if (e.tags & T.NORETURN) tags.push('noreturn');
  if (e.tags & T.LKR) tags.push('lock-read');
  if (e.tags & T.LKW) tags.push('lock-write');
  if (e.tags & T.UL) tags.push('unlock');
  if (e.tags & T.LF) tags.push('trylock-fail');
  if (e.tags & T.RL) tags.push('is-locked');
  if (e.tags & T.RU) tags.push('is-unlocked');
  if (e.tags & T.SRCU_LOCK) tags.push('srcu-lock');
  if (e.tags & T.SRCU_UNLOCK) tags.push('srcu-unlock');
  if (e.kind !== 'F' && e.kind !== 'S' && tags.length === 0) tags.push('plain');
  const t = tags.length ? `[${tags.join(',')}]` : '';
  switch (e.kind) {
    case 'R':
      return `R${t} ${e.loc}=${fmtVal(e.val)}`;
    case 'W':
      return `W${t} ${e.loc}=${fmtVal(e.val)}`;
    case 'S':
      return `F[sync-srcu] ${e.loc}`;
    case 'F': {
      const names: string[] = [];
      if (e.tags & T.MB) names.push('mb');
      if (e.tags & T.RMB) names.push('rmb');
      if (e.tags & T.WMB) names.push('wmb');
      if (e.tags & T.BARRIER) names.push('barrier');
      if (e.tags & T.RCU_LOCK) names.push('rcu-lock');
      if (e.tags & T.RCU_UNLOCK) names.push('rcu-unlock');
      if (e.tags & T.SYNC_RCU) names.push('sync-rcu');
      if (e.tags & T.BEFORE_ATOMIC) names.push('before-atomic');
      if (e.tags & T.AFTER_ATOMIC) names.push('after-atomic');
      if (e.tags & T.AFTER_SPINLOCK) names.push('after-spinlock');
      if (e.tags & T.AFTER_UNLOCK_LOCK) names.push('after-unlock-lock');
      if (e.tags & T.AFTER_SRCU_UNLOCK) names.push('after-srcu-read-unlock');
      return `F[${names.join(',')}]`;
    }
  }
}

function label(e: GEvent): string {
  return e.thread < 0 ? `init:${e.loc}` : `P${e.thread}.e${e.po}`;
}

/**
 * Prints an execution as an ordered interleaving (a linear extension of
 * happens-before that follows program order where hb allows) plus rf/co.
 */
function formatWitness(sm: StaticModel, rf: Rel, co: Rel, hb: Rel, env: Env): string {
  const ev = sm.ev;
  const n = ev.length;
  // Order: a topological sort of hb, preferring po order, ties by thread.
  const ord = hb.union(sm.po).acyclic() ? hb.union(sm.po) : hb;
  const closure = ord.plus();
  const done = new Set<number>();
  const seq: number[] = [];
  const threadEvs = ev.filter((e) => e.thread >= 0);
  while (seq.length < threadEvs.length) {
    let pick: GEvent | undefined;
    let fallback: GEvent | undefined;
    for (const e of threadEvs) {
      if (done.has(e.id)) continue;
      let ready = true;
      for (let j = 0; j < n && ready; j++) if (!done.has(j) && ev[j]!.thread >= 0 && closure.has(j, e.id)) ready = false;
      if (!ready) continue;
      // Prefer an event whose program-order predecessors have all been shown.
      let inOrder = true;
      for (const p of threadEvs) if (p.thread === e.thread && p.po < e.po && !done.has(p.id)) inOrder = false;
      if (inOrder) {
        pick = e;
        break;
      }
      fallback ??= e;
    }
    pick ??= fallback;
    if (!pick) break;
    done.add(pick.id);
    seq.push(pick.id);
  }
  const lines: string[] = [];
  lines.push('Execution (events in a happens-before-consistent order; a thread\'s events may appear out of program order where the LKMM lets them be reordered):');
  seq.forEach((id, i) => {
    const e = ev[id]!;
    const src = e.line ? ` (line ${e.line}: ${e.text})` : e.text ? ` (${e.text})` : '';
    lines.push(`  ${String(i + 1).padStart(2)}. P${e.thread}: ${describe(e)}${src}`);
  });
  const rfs: string[] = [];
  for (const [w, r] of rf.pairs()) rfs.push(`${label(ev[w]!)} -> ${label(ev[r]!)} (${ev[r]!.loc}=${fmtVal(ev[r]!.val)})`);
  lines.push('rf:');
  for (const s of rfs) lines.push(`  ${s}`);
  const byLoc = new Map<string, number[]>();
  for (const e of ev) if (e.kind === 'W') byLoc.set(e.loc!, [...(byLoc.get(e.loc!) ?? []), e.id]);
  lines.push('co:');
  for (const [l, ids] of [...byLoc].sort()) {
    if (ids.length < 2) continue;
    const sorted = ids.slice().sort((a, b) => (co.has(a, b) ? -1 : co.has(b, a) ? 1 : 0));
    lines.push(`  ${l}: ${sorted.map((id) => `${label(ev[id]!)}(${fmtVal(ev[id]!.val)})`).join(' -> ')}`);
  }
  const finals: string[] = [];
  env.progs.forEach((p, ti) => {
    for (const [r, v] of [...env.traces[ti]!.regs].sort()) finals.push(`${p.index}:${r}=${fmtVal(v)}`);
  });
  for (const [l, v] of [...env.finalOf].sort()) finals.push(`${l}=${fmtVal(v)}`);
  lines.push(`final: ${finals.join('; ')}`);
  return lines.join('\n');
}
