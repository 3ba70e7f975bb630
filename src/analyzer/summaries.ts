/**
 * Interprocedural summaries for functions defined in view.
 *
 * Bottom-up, each function is walked once with a default entry state and its
 * effects as seen by a caller are expressed in the model's own vocabulary
 * (arguments refer to the callee's parameters), so the engine applies a
 * summarised helper exactly like a modelled kernel API:
 *  - may-effects (some path): memslot snapshots, yields of a held lock, gfn-range
 *    zaps not covered by the helper's own invalidation, unguarded rmap access,
 *    memslots publish, frees of a parameter;
 *  - must-effects (every exit): locks left held / released, SRCU entered or
 *    left, grace periods, full barriers, invalidation begun or ended.
 * Top-down, a function's entry context (SRCU section, locks) is what all of its
 * call sites in view agree on (static functions only: others have callers we
 * cannot see).
 */
import type { Effect } from '../model/index.js';
import type { Model } from '../model/index.js';
import type { Resolved } from './effects.js';
import type { CallOp, LoweredFunction } from './ir.js';
import type { EdgeEvent, OpEvent, RuleHandlers, ExitEvent } from './rule-api.js';
import type { LockState, State } from './state.js';
import { srcuKnownHeld } from './state.js';
import { readDecision } from './protocol.js';
import { mentionsWord } from './text.js';

export interface Summary {
  name: string;
  effects: Effect[];
  /** Human-readable reasons per effect kind, for explanations ("takes a snapshot via kvm_memslots() at line 12"). */
  reasons: Record<string, string>;
  /** Lockless reads of protocol variables whose value decides something (barrier rules). */
  protocolReads?: SummaryRead[];
}

/** A lockless read of a protocol variable, as a caller sees it. */
export interface SummaryRead {
  /** The protocol variable's chain (model spelling). */
  chain: string;
  /** Where the read itself is (innermost function in view) and its text. */
  fn: string;
  line: number;
  text: string;
  /** A full barrier precedes the read on every path from this function's entry. */
  ordered: boolean;
  /** That barrier, when ordered. */
  barrier?: { fn: string; line: number; text: string };
  /** The value is returned (the caller decides); otherwise the function itself branches on it. */
  returned: boolean;
}


export interface CallSiteContext {
  /** SRCU read side known held at the call. */
  srcuHeld: boolean;
  /** SRCU read side known not held at the call. */
  srcuNotHeld: boolean;
  locks: Record<string, LockState['mode']>;
}

export interface EntryContext {
  srcu: State['srcu']['entry'];
  locks: Record<string, LockState>;
  /** Number of call sites in view the context was derived from. */
  callSites: number;
}

/** Collects a function's summary while the engine walks it. */
export class SummaryCollector implements RuleHandlers {
  private readonly may = new Map<string, Effect>();
  private readonly reasons: Record<string, string> = {};
  private readonly exitStates: State[] = [];
  private entryLocks: Record<string, LockState> = {};
  private entryInval = 0;
  /** Locks the function asserts (lockdep) before taking them: held by the caller at entry. */
  private readonly assertedAtEntry = new Set<string>();
  private readonly mustBarrierExits: boolean[] = [];
  /** Protocol reads by line+chain (the walk visits an op once per state). */
  private readonly reads = new Map<string, SummaryRead>();
  /** Stores to shared memory still pending (no full barrier after them) at some exit. */
  private readonly exitStores = new Map<string, Effect>();
  private readonly sharedBases: ReadonlySet<string>;
  /** Address spaces whose snapshot-derived state the function returns. */
  private readonly returnedSnapshots = new Set<string>();
  /** Snapshot keys taken on some path outside the function's own SRCU section and slots_lock. */
  private readonly uncovered = new Set<string>();

  constructor(
    private readonly fn: LoweredFunction,
    private readonly model: Model,
    entry: State,
    /** Summaries of callees in view (for protocol reads made inside them). */
    private readonly lookup: (name: string) => Summary | undefined = () => undefined,
  ) {
    this.sharedBases = new Set([...model.canonicalOwners.map((o) => o.name), 'guest']);
    this.entryLocks = entry.locks;
    this.entryInval = entry.inval;
  }

  private paramIndex(text: string | undefined): number {
    if (!text) return -1;
    return this.fn.params.indexOf(text.replace(/^&/, '').trim());
  }

  private addMay(key: string, e: Effect, reason: string): void {
    if (!this.may.has(key)) {
      this.may.set(key, e);
      this.reasons[key] = reason;
    }
  }

  op(ev: OpEvent): void {
    const { op, pre } = ev;
    for (const e of ev.effects) {
      this.onEffect(e, op as CallOp, pre);
      if (e.kind === 'snapshot' && !e.access && ev.node.kind === 'return') {
        this.returnedSnapshots.add(e.as);
      }
    }
    this.protocolRead(ev);
    if ((op.k === 'read' || op.k === 'write') && !pre.rmapGuard && this.model.isRmapElementChain(op.chain)) {
      this.addMay('rmap-access', { kind: 'rmap-access' }, `indexes rmap array ${op.text} at line ${op.line}`);
    }
  }

  /** Record a lockless read of a protocol variable that decides an early exit or is returned. */
  private protocolRead(ev: OpEvent): void {
    const { op, pre, node } = ev;
    if (op.k !== 'read' && op.k !== 'call') return;
    const idx = node.ops.indexOf(op);
    const add = (chain: string, r: Omit<SummaryRead, 'chain'>): void => {
      const pv = this.model.protocolVariable(chain);
      if (!pv || (pv.writersHold && pv.writersHold in pre.locks)) return;
      const key = `${r.line}|${r.fn}|${pv.chain}`;
      const prev = this.reads.get(key);
      if (prev) {
        if (!r.ordered) {
          prev.ordered = false;
          delete prev.barrier;
        }
        return;
      }
      this.reads.set(key, { chain: pv.chain, ...r });
    };
    const here = pre.mem.lastFull ? { fn: this.fn.name, line: pre.mem.lastFull.line, text: pre.mem.lastFull.text } : undefined;
    const ordered = (r: Omit<SummaryRead, 'chain' | 'ordered' | 'barrier'>, inner?: SummaryRead['barrier']): Omit<SummaryRead, 'chain'> => {
      const b = here ?? inner;
      return b ? { ...r, ordered: true, barrier: b } : { ...r, ordered: false };
    };
    if (op.k === 'read') {
      if (!this.model.protocolVariable(op.chain)) return;
      const d = readDecision(this.fn, node, idx);
      if (d) add(op.chain, ordered({ fn: this.fn.name, line: op.line, text: op.text, returned: d.how === 'return' }));
      return;
    }
    if (op.k !== 'call') return;
    const callee = this.lookup(op.name);
    if (callee?.protocolReads?.length) {
      const d = readDecision(this.fn, node, idx);
      for (const r of callee.protocolReads) {
        if (r.returned && !d) continue;
        add(r.chain, ordered({ fn: r.fn, line: r.line, text: r.text, returned: r.returned && d?.how === 'return' }, r.ordered ? r.barrier : undefined));
      }
      return;
    }
    // Marked reads through modelled macros whose argument is an address (smp_load_acquire(&x), atomic_read(&x)).
    let fenced = false;
    for (const e of ev.effects) {
      if (e.kind === 'barrier' && this.model.isFullBarrier(e.barrier)) fenced = true;
      if (e.kind !== 'access' || e.access !== 'read' || !e.chain) continue;
      if (node.ops.some((o) => o.k === 'read' && o.line === op.line && o.chain === e.chain)) continue;
      const d = readDecision(this.fn, node, idx);
      if (!d) continue;
      const r = ordered({ fn: this.fn.name, line: op.line, text: op.text, returned: d.how === 'return' });
      add(e.chain, (fenced || e.order === 'mb') && !r.ordered ? { ...r, ordered: true, barrier: { fn: this.fn.name, line: op.line, text: op.text } } : r);
    }
  }

  edge(ev: EdgeEvent): void {
    const it = ev.node.iter;
    if (!it || ev.edge.label !== 'enter' || ev.pre.rmapGuard || !this.model.iterator(it.macro).accessesRmaps) return;
    this.addMay('rmap-access', { kind: 'rmap-access' }, `walks rmap arrays with ${it.macro}() at line ${ev.node.line}`);
  }

  private onEffect(e: Resolved, op: CallOp, pre: State): void {
    const where = `${op.name}() at line ${op.line}`;
    switch (e.kind) {
      case 'snapshot': {
        const idx = this.paramIndex(e.as);
        const as = idx >= 0 ? { arg: idx } : { fixed: e.as };
        const eff: Effect = { kind: 'snapshot', as, via: e.via ?? op.name };
        if (e.access) eff.access = true;
        // A state-returning snapshot wins over an access for the same address space.
        const key = `snapshot:${e.as}`;
        const prev = this.may.get(key);
        if (prev && prev.kind === 'snapshot' && prev.access && !e.access) this.may.delete(key);
        this.addMay(key, eff, `takes a memslots snapshot via ${where}`);
        // Covered: inside the helper's own section or under slots_lock (not merely asserted).
        const own = pre.locks[this.model.memslotsWriterLock];
        if (!e.covered && pre.srcu.depth === 0 && !(own && !own.assumed)) this.uncovered.add(key);
        break;
      }
      case 'lock':
      case 'inner-lock':
        if (e.kind === 'lock' && e.cond) break;
        if (inCallersContext(pre)) {
          const eff: Effect = e.mode ? { kind: 'inner-lock', lock: { fixed: e.lock }, mode: e.mode } : { kind: 'inner-lock', lock: { fixed: e.lock } };
          this.addMay(`inner-lock:${e.lock}`, eff, `takes ${e.lock} via ${where}`);
        }
        break;
      case 'sync':
      case 'inner-sync':
        if (inCallersContext(pre)) {
          this.addMay(`inner-sync:${e.domain}`, { kind: 'inner-sync', domain: { fixed: e.domain } }, `waits for an SRCU grace period on ${e.domain} via ${where}`);
        }
        break;
      case 'yield':
        this.addMay(`yield:${e.lock}`, { kind: 'yield', lock: { fixed: e.lock } }, `may drop ${e.lock} via ${where}`);
        break;
      case 'assert-held':
        if (!(e.lock in pre.locks)) this.assertedAtEntry.add(e.lock);
        break;
      case 'unlock':
        // Releasing a lock this path did not acquire drops the caller's lock.
        if (!(e.lock in pre.locks) || pre.locks[e.lock].assumed || (e.lock in this.entryLocks)) {
          this.addMay(`yield:${e.lock}`, { kind: 'yield', lock: { fixed: e.lock } }, `drops ${e.lock} at line ${op.line}`);
        }
        break;
      case 'zap-range': {
        // Memslot deletion (slots_lock held after a grace period) needs no invalidation; a zap after
        // this function's own grace period leaves only slots_lock to its caller.
        if (pre.inval > 0) break;
        const afterSync = !!pre.synced || e.afterSync;
        if (afterSync && this.model.memslotsWriterLock in pre.locks) break;
        const prev = this.may.get('zap-range');
        if (prev && prev.kind === 'zap-range' && !prev.afterSync) break;
        if (prev) this.may.delete('zap-range');
        this.addMay('zap-range', afterSync ? { kind: 'zap-range', afterSync: true } : { kind: 'zap-range' }, `zaps a gfn range via ${where}${afterSync ? ' after an SRCU grace period' : ''}`);
        break;
      }
      case 'rmap-access':
        if (!pre.rmapGuard) this.addMay('rmap-access', { kind: 'rmap-access' }, `accesses rmaps via ${where}`);
        break;
      case 'rmap-alloc':
        this.addMay('rmap-alloc', { kind: 'rmap-alloc' }, `allocates rmap arrays via ${where}`);
        break;
      case 'rcu-assign':
        if (e.publishes) {
          const t = this.paramIndex(e.target.base === undefined ? e.target.text : undefined);
          void t;
        }
        break;
      case 'free': {
        const idx = this.paramIndex(e.arg.ident ?? e.arg.text);
        if (idx >= 0) this.addMay(`free:${idx}`, { kind: 'free', arg: idx }, `frees its argument via ${where}`);
        break;
      }
      case 'root-put': {
        const idx = this.paramIndex(e.arg.ident);
        if (idx >= 0) this.addMay(`root-put:${idx}`, { kind: 'root-put', arg: idx, returnsLast: e.returnsLast }, `puts the root via ${where}`);
        break;
      }
      default:
        break;
    }
  }

  exit(ev: ExitEvent): void {
    this.exitStates.push(ev.state);
    const ret = ev.node.ret ?? '';
    for (const [as, snap] of Object.entries(ev.state.snaps)) {
      if (!snap.access && snap.holders?.some((h) => mentionsWord(ret, h))) this.returnedSnapshots.add(as);
    }
    // A full barrier on every path orders the caller's earlier stores; stores after it are exported below.
    this.mustBarrierExits.push(ev.state.mem.lastFull !== undefined);
    for (const st of ev.state.mem.pendingStores) {
      // Updates of protocol variables are found where they are written (protocol.ts), with their direction.
      if (!st.base || !this.sharedBases.has(st.base) || this.model.protocolVariable(st.chain)) continue;
      const key = `${st.base}.${st.chain}`;
      if (this.exitStores.has(key)) continue;
      this.exitStores.set(key, { kind: 'access', access: 'write', order: st.order === 'release' ? 'release' : 'once', arg: -1, fixed: { base: st.base, chain: st.chain } });
      this.reasons[`store:${key}`] = `stores ${st.text} at line ${st.line} with no full barrier after it`;
    }
  }

  summary(): Summary {
    // A helper's snapshot is memslot state for its caller only if the helper returns it.
    const effects: Effect[] = [...this.may.entries()].map(([k, e]) => {
      if (e.kind !== 'snapshot') return e;
      const out: Effect = this.uncovered.has(k) ? e : { ...e, covered: true };
      if (e.access) return out;
      const as = k.slice('snapshot:'.length);
      return this.returnedSnapshots.has(as) ? out : { ...out, access: true };
    });
    const reasons = { ...this.reasons };
    const exits = this.exitStates;
    const reads = [...this.reads.values()];
    if (exits.length) {
      // Locks held at every exit that were not held at entry.
      const lockIds = new Set(exits.flatMap((s) => Object.keys(s.locks)));
      for (const id of [...lockIds].sort()) {
        // A lock asserted held before it was taken is the caller's: dropping and re-taking it is a yield.
        if (id in this.entryLocks || this.assertedAtEntry.has(id)) continue;
        if (exits.every((s) => id in s.locks && !s.locks[id].assumed)) {
          effects.push({ kind: 'lock', lock: { fixed: id }, mode: exits[0].locks[id].mode });
          reasons[`lock:${id}`] = `returns with ${id} held`;
        }
      }
      for (const id of Object.keys(this.entryLocks).sort()) {
        if (exits.every((s) => !(id in s.locks))) {
          effects.push({ kind: 'unlock', lock: { fixed: id } });
          reasons[`unlock:${id}`] = `returns with ${id} released`;
        }
      }
      const dom = { fixed: this.model.memslotsDomain };
      if (exits.every((s) => s.srcu.depth > 0)) {
        effects.push({ kind: 'srcu-lock', domain: dom });
        reasons['srcu-lock'] = 'returns inside an SRCU read-side section';
      } else if (exits.every((s) => s.srcu.entry === 'none' && s.srcu.depth === 0)) {
        effects.push({ kind: 'srcu-unlock', domain: dom });
        reasons['srcu-unlock'] = 'leaves the caller\'s SRCU read-side section';
      } else if (exits.every((s) => s.srcu.section !== 'entry' && s.srcu.section !== 'closed') && exits.some((s) => s.srcu.entry === 'none')) {
        // Dropped the caller's section and re-entered a new one: the caller's snapshots are stale.
        effects.push({ kind: 'srcu-unlock', domain: dom }, { kind: 'srcu-lock', domain: dom });
        reasons['srcu-unlock'] = 'drops and re-takes the SRCU read-side section';
      }
      if (exits.every((s) => s.synced)) {
        effects.push({ kind: 'sync', domain: dom });
        reasons.sync = `waits for an SRCU grace period (line ${exits[0].synced!.line})`;
      }
      if (exits.every((s) => s.inval > this.entryInval)) effects.push({ kind: 'invalidate-begin' });
      if (exits.every((s) => s.inval < this.entryInval)) effects.push({ kind: 'invalidate-end' });
      // Order matters to callers: reads not ordered by a barrier, the barrier, ordered reads, then stores left pending.
      for (const r of reads.filter((x) => !x.ordered)) {
        effects.push({ kind: 'access', access: 'read', order: 'once', arg: -1, fixed: { base: 'kvm', chain: r.chain } });
        reasons[`read:${r.chain}`] = `${r.returned ? 'returns' : 'tests'} ${r.text} (line ${r.line}) without the lock`;
      }
      if (this.mustBarrierExits.every(Boolean)) {
        effects.push({ kind: 'barrier', barrier: 'mb' });
        reasons.barrier = `executes ${exits[0].mem.lastFull!.barrier === 'rmw' ? 'a fully ordered atomic' : `smp_${exits[0].mem.lastFull!.barrier}()`} at line ${exits[0].mem.lastFull!.line}`;
      }
      for (const r of reads.filter((x) => x.ordered)) {
        effects.push({ kind: 'access', access: 'read', order: 'mb', arg: -1, fixed: { base: 'kvm', chain: r.chain } });
        reasons[`read:${r.chain}`] = `${r.returned ? 'returns' : 'tests'} ${r.text} (line ${r.line}) after a full barrier`;
      }
      effects.push(...this.exitStores.values());
    }
    const out: Summary = { name: this.fn.name, effects, reasons };
    if (reads.length) out.protocolReads = reads;
    return out;
  }
}

/**
 * The helper still runs in its caller's SRCU context: it neither dropped the caller's section
 * nor opened one of its own (blocking there is the helper's own business).
 */
function inCallersContext(s: State): boolean {
  return s.srcu.depth === 0 && s.srcu.entry !== 'none';
}

/** Records the context of every call to a function in view. */
export class CallSiteCollector implements RuleHandlers {
  constructor(
    private readonly inView: ReadonlySet<string>,
    private readonly sites: Map<string, CallSiteContext[]>,
  ) {}

  op(ev: OpEvent): void {
    if (ev.op.k !== 'call' || !this.inView.has(ev.op.name)) return;
    const s = ev.pre;
    const locks: Record<string, LockState['mode']> = {};
    for (const [k, v] of Object.entries(s.locks)) locks[k] = v.mode;
    const ctx: CallSiteContext = {
      srcuHeld: srcuKnownHeld(s),
      srcuNotHeld: s.srcu.depth === 0 && s.srcu.entry === 'none',
      locks,
    };
    const list = this.sites.get(ev.op.name);
    if (list) list.push(ctx);
    else this.sites.set(ev.op.name, [ctx]);
  }
}

/**
 * Entry context of a function from its call sites in view. SRCU facts only for
 * static functions (others may have callers we cannot see); locks held at every
 * call site in view are assumed held for any function, which can only make
 * rules quieter (assumed locks are never the reason for a finding).
 */
export function entryContext(fn: { isStatic: boolean }, sites: CallSiteContext[] | undefined): EntryContext {
  if (!sites || sites.length === 0) return { srcu: 'unknown', locks: {}, callSites: 0 };
  const srcu: EntryContext['srcu'] = !fn.isStatic
    ? 'unknown'
    : sites.every((c) => c.srcuHeld) ? 'held' : sites.every((c) => c.srcuNotHeld) ? 'none' : 'unknown';
  const locks: Record<string, LockState> = {};
  const first = sites[0].locks;
  for (const id of Object.keys(first).sort()) {
    if (sites.every((c) => id in c.locks)) locks[id] = { mode: first[id], assumed: true };
  }
  return { srcu, locks, callSites: sites.length };
}

/**
 * The entry state implied by a function's documented contract (model data), on top of
 * what its callers in view say: locks assumed held, a completed grace period, an
 * invalidation in progress.
 */
export function withEntryContract(s: State, fnName: string, startLine: number, model: Model): State {
  const c = model.entryContract(fnName);
  if (!c) return s;
  const at = { line: startLine, col: 1, text: `entry contract of ${fnName}(): ${c.note}` };
  const out: State = { ...s, locks: { ...s.locks } };
  for (const l of c.locks ?? []) if (!(l in out.locks)) out.locks[l] = { mode: l === model.mmuLock ? 'write' : 'excl', assumed: true, at };
  if (c.synced) out.synced = at;
  if (c.invalidating) {
    out.inval = Math.max(1, out.inval);
    out.invalAt = at;
  }
  return out;
}

/**
 * Items in bottom-up call order (callees before callers), by name and callee
 * names; cycles are broken deterministically, and only items in the list count.
 */
export function bottomUp<T extends { name: string }>(items: readonly T[], callees: (t: T) => readonly string[]): T[] {
  const byName = new Map<string, T>();
  for (const t of items) if (!byName.has(t.name)) byName.set(t.name, t);
  const order: T[] = [];
  const seen = new Set<T>();
  const visit = (t: T): void => {
    if (seen.has(t)) return;
    seen.add(t);
    for (const c of callees(t)) {
      const g = byName.get(c);
      if (g && g !== t) visit(g);
    }
    order.push(t);
  };
  // Duplicate names (e.g. #ifdef'd alternatives) keep their own entries.
  for (const t of items) visit(t);
  return order;
}
