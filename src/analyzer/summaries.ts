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

export interface Summary {
  name: string;
  effects: Effect[];
  /** Human-readable reasons per effect kind, for explanations ("takes a snapshot via kvm_memslots() at line 12"). */
  reasons: Record<string, string>;
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
  private readonly returnedReads: string[] = [];
  /** Address spaces whose snapshot-derived state the function returns. */
  private readonly returnedSnapshots = new Set<string>();
  /** Snapshot keys taken on some path outside the function's own SRCU section and slots_lock. */
  private readonly uncovered = new Set<string>();

  constructor(
    private readonly fn: LoweredFunction,
    private readonly model: Model,
    entry: State,
  ) {
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
    if (op.k === 'read' && ev.node.kind === 'return' && this.model.protocolVariables.some((p) => op.chain.endsWith(p.chain))) {
      this.returnedReads.push(op.chain);
    }
    if ((op.k === 'read' || op.k === 'write') && !pre.rmapGuard && this.model.isRmapElementChain(op.chain)) {
      this.addMay('rmap-access', { kind: 'rmap-access' }, `indexes rmap array ${op.text} at line ${op.line}`);
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
        if (pre.locks[e.lock]?.assumed || (e.lock in this.entryLocks)) {
          this.addMay(`yield:${e.lock}`, { kind: 'yield', lock: { fixed: e.lock } }, `drops ${e.lock} at line ${op.line}`);
        }
        break;
      case 'zap-range':
        if (pre.inval === 0) this.addMay('zap-range', { kind: 'zap-range' }, `zaps a gfn range via ${where}`);
        break;
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
      if (!snap.access && snap.holders?.some((h) => new RegExp(`\\b${h}\\b`).test(ret))) this.returnedSnapshots.add(as);
    }
    this.mustBarrierExits.push(ev.state.mem.lastFull !== undefined && ev.state.mem.pendingStores.length === 0);
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
      if (this.mustBarrierExits.every(Boolean)) {
        effects.push({ kind: 'barrier', barrier: 'mb' });
        reasons.barrier = `executes ${exits[0].mem.lastFull!.barrier === 'rmw' ? 'a fully ordered atomic' : `smp_${exits[0].mem.lastFull!.barrier}()`} at line ${exits[0].mem.lastFull!.line}`;
      }
      for (const chain of [...new Set(this.returnedReads)]) {
        effects.push({ kind: 'access', access: 'read', order: 'plain', arg: -1, fixed: { base: 'kvm', chain } });
        reasons[`read:${chain}`] = `returns the value of ${chain}`;
      }
    }
    return { name: this.fn.name, effects, reasons };
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
export function entryContext(fn: LoweredFunction, sites: CallSiteContext[] | undefined): EntryContext {
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

/** Functions in bottom-up order (callees before callers); cycles broken arbitrarily but deterministically. */
export function bottomUpOrder(fns: readonly LoweredFunction[]): LoweredFunction[] {
  const byName = new Map<string, LoweredFunction>();
  for (const f of fns) if (!byName.has(f.name)) byName.set(f.name, f);
  const order: LoweredFunction[] = [];
  const state = new Map<string, 1 | 2>();
  const visit = (f: LoweredFunction): void => {
    if (state.has(f.name)) return;
    state.set(f.name, 1);
    for (const c of f.callees) {
      const g = byName.get(c);
      if (g && g !== f) visit(g);
    }
    state.set(f.name, 2);
    order.push(f);
  };
  for (const f of fns) visit(f);
  // Duplicate names (e.g. #ifdef'd alternatives) keep their own entries.
  for (const f of fns) if (!order.includes(f)) order.push(f);
  return order;
}
