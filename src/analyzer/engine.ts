/**
 * The dataflow engine: walks a lowered function's CFG with a bounded set of
 * states per node, applies the modelled effects of every op (the trackers
 * below), refines states on branch edges, and tells subscribers about every
 * op, edge and exit. Exit states of each return stay unmerged.
 */
import type { PathStep } from '../types.js';
import type { Model } from '../model/index.js';
import { type EffectResolver, type Resolved, canonicalLock } from './effects.js';
import type { CallOp, CfgNode, Edge, LoweredFunction, Op } from './ir.js';
import type { EdgeEvent, ExitEvent, OpEvent, RuleHandlers } from './rule-api.js';
import { mentionsWord, wordRe } from './text.js';
import {
  type Fact, type Site, type State, MAX_SRCU_DEPTH, MAX_STATES_PER_NODE, dedupeStores, join, stateKey,
} from './state.js';

export interface EngineOptions {
  model: Model;
  resolver: EffectResolver;
  /** Upper bound on (node, state) visits per function. */
  maxVisits?: number;
}

export interface WalkResult {
  /** States reaching each return/end, unmerged. */
  exits: { node: CfgNode; state: State; how: 'return' | 'end' }[];
  /** Whether the visit budget was exhausted (results are partial). */
  truncated: boolean;
  visits: number;
}

interface Visit {
  state: State;
  key: string;
  predNode: number;
  predKey: string;
}


function site(op: { line: number; col: number; text?: string }): Site {
  return { line: op.line, col: op.col, text: op.text ?? '' };
}

function opText(op: Op): string {
  return op.k === 'assign' ? op.rhs : op.text;
}

export function walk(fn: LoweredFunction, entryStates: State[], handlers: RuleHandlers[], opts: EngineOptions): WalkResult {
  const maxVisits = opts.maxVisits ?? 200_000;
  const visited: Map<string, Visit>[] = fn.nodes.map(() => new Map());
  const overflow: (State | undefined)[] = fn.nodes.map(() => undefined);
  const work: { node: number; key: string }[] = [];
  const exits: WalkResult['exits'] = [];
  let visits = 0;
  let truncated = false;
  const callEffects = new Map<number, readonly Resolved[]>();

  const pathTo = (nodeId: number, key: string): PathStep[] => {
    const steps: PathStep[] = [];
    let n = nodeId;
    let k = key;
    let guard = 0;
    while (n >= 0 && guard++ < 10_000) {
      const v = visited[n].get(k);
      const node = fn.nodes[n];
      if (node.kind === 'stmt' || node.kind === 'branch' || node.kind === 'iter' || node.kind === 'return' || node.kind === 'cleanup') {
        if (steps.length === 0 || steps[0].line !== node.line) steps.unshift({ line: node.line, text: node.text });
      }
      if (!v) break;
      n = v.predNode;
      k = v.predKey;
    }
    return steps.length > 40 ? [...steps.slice(0, 5), { line: 0, text: '...' }, ...steps.slice(-34)] : steps;
  };

  const push = (nodeId: number, state: State, predNode: number, predKey: string): void => {
    const key = stateKey(state);
    const seen = visited[nodeId];
    if (seen.has(key)) return;
    if (seen.size >= MAX_STATES_PER_NODE) {
      const prev = overflow[nodeId];
      const merged = prev ? join(prev, state) : state;
      const mk = stateKey(merged);
      if (prev && stateKey(prev) === mk) return;
      overflow[nodeId] = merged;
      if (seen.has(mk)) return;
      seen.set(mk, { state: merged, key: mk, predNode, predKey });
      work.push({ node: nodeId, key: mk });
      return;
    }
    seen.set(key, { state, key, predNode, predKey });
    work.push({ node: nodeId, key });
  };

  for (const s of entryStates) push(fn.entry, s, -1, '');

  while (work.length) {
    if (visits++ >= maxVisits) {
      truncated = true;
      break;
    }
    // Depth-first order keeps paths short and memory low; the result does not depend on order.
    const item = work.pop()!;
    const node = fn.nodes[item.node];
    const visit = visited[item.node].get(item.key)!;
    let state = visit.state;
    const path = (): PathStep[] => pathTo(item.node, item.key);

    for (const op of node.ops) {
      const effects = op.k === 'call' ? opts.resolver.forCall(op) : op.k === 'guard' ? opts.resolver.forGuard(op) : [];
      if (op.k === 'call') callEffects.set(op.id, effects);
      const post = transferOp(state, op, effects, opts.model);
      if (handlers.length) {
        const ev: OpEvent = { node, op, effects, pre: state, post, path };
        for (const h of handlers) h.op?.(ev);
      }
      state = post;
    }

    if (node.kind === 'return') state = { ...state, ret: node.id };
    if (node.kind === 'exit') {
      // Exit states are per return statement (state.ret), after guard cleanups ran.
      const retNode = state.ret !== undefined ? fn.nodes[state.ret] : node;
      const how = state.ret !== undefined ? 'return' : 'end';
      exits.push({ node: retNode, state, how });
      const ev: ExitEvent = { node: retNode, state, how, path };
      for (const h of handlers) h.exit?.(ev);
    }

    for (const edge of node.succs) {
      let next = refine(state, node, edge, callEffects, opts.model);
      if (next === null) continue;
      next = leaveLoops(next, node, fn.nodes[edge.to]);
      if (handlers.length) {
        const ev: EdgeEvent = { node, edge, pre: state, post: next, path };
        for (const h of handlers) h.edge?.(ev);
      }
      push(edge.to, next, item.node, item.key);
    }
  }
  return { exits, truncated, visits };
}

// ------------------------------------------------------------------ transfer

function withFacts(s: State, facts: Record<string, Fact>): State {
  return { ...s, facts };
}

/** Apply one op's effects. Pure: returns a new state. */
export function transferOp(s0: State, op: Op, effects: readonly Resolved[], model: Model): State {
  let s = s0;
  if (op.k === 'assign') {
    s = assignVar(s, op.target, op.line, op.rhs);
    if (op.fromCall !== undefined) {
      s = withFacts(s, { ...s.facts, [op.target]: { call: op.fromCall, callId: op.fromCallId } });
    } else if (op.fromVar !== undefined && s.facts[op.fromVar]) {
      s = withFacts(s, { ...s.facts, [op.target]: s.facts[op.fromVar] });
    } else if (op.fromChain) {
      s = withFacts(s, { ...s.facts, [op.target]: { chain: op.fromChain.chain } });
    } else if (op.target in s.facts) {
      // Any other value (constant, arithmetic, a variable with no fact): what it held is gone.
      const facts = { ...s.facts };
      delete facts[op.target];
      s = withFacts(s, facts);
    }
    return s;
  }
  if (op.k === 'write') {
    // Storing a referenced root (or something derived from it) into memory hands the reference over.
    if (op.value !== undefined) s = handOverRefs(s, op.value);
    return recordStore(s, op.chain, 'plain', op, op.base);
  }
  if (op.k === 'read') return s;
  const callLike = op as CallOp | import('./ir.js').GuardOp;
  for (const e of effects) s = applyEffect(s, e, callLike, model);
  return s;
}

/**
 * Does a stored value carry the root in `v` (the pointer itself, or something computed from it
 * by a call such as `__pa(root->spt)`), rather than a plain field value read from it?
 */
export function carriesRoot(value: string, v: string): boolean {
  const w = v.replace(/\W/g, '');
  if (!w) return false;
  return new RegExp(`\\b${w}\\b(?!\\s*(->|\\.))`).test(value) || new RegExp(`\\w\\s*\\([^;]*\\b${w}\\b`).test(value);
}

function handOverRefs(s: State, value: string): State {
  const held = Object.keys(s.refs).filter((v) => s.refs[v].kind !== 'put' && carriesRoot(value, v));
  if (held.length === 0) return s;
  const refs = { ...s.refs };
  for (const v of held) delete refs[v];
  return { ...s, refs };
}

const MAX_HOLDERS = 6;

function assignVar(s: State, v: string, line: number, rhs = ''): State {
  let out = s;
  // Track which variables hold snapshot-derived state: v loses what it held
  // (unless this is the assignment that stored it) and gains what its rhs derives from.
  let snaps: State['snaps'] | undefined;
  for (const [k, snap] of Object.entries(out.snaps)) {
    const holders = snap.holders ?? [];
    const had = holders.includes(v);
    const keep = had && snap.line === line;
    const derives = !had && holders.some((h) => mentionsWord(rhs, h));
    if ((had && !keep) || derives) {
      snaps ??= { ...out.snaps };
      const next = holders.filter((h) => h !== v || keep);
      if (derives && next.length < MAX_HOLDERS) next.push(v);
      snaps[k] = { ...snap, holders: next };
    }
  }
  if (snaps) out = { ...out, snaps };
  // A snapshot keyed by an expression that uses v (e.g. __kvm_memslots(kvm, i)) is of another address space now.
  const re = wordRe(v);
  const stale = Object.keys(out.snaps).filter((k) => re.test(k));
  if (stale.length) {
    const snaps = { ...out.snaps };
    for (const k of stale) delete snaps[k];
    out = { ...out, snaps };
  }
  return out;
}

function recordStore(s: State, chain: string, order: string, at: { line: number; col: number; text?: string }, base?: string): State {
  const rec: import('./state.js').StoreRecord = { ...site(at), chain, order };
  if (base) rec.base = base;
  const pendingStores = dedupeStores([...s.mem.pendingStores, rec]);
  return { ...s, mem: { ...s.mem, pendingStores } };
}

function fullBarrier(s: State, barrier: string, at: Op): State {
  return { ...s, mem: { pendingStores: [], lastFull: { ...site({ line: at.line, col: at.col, text: opText(at) }), barrier } } };
}

function applyEffect(s: State, e: Resolved, op: CallOp | import('./ir.js').GuardOp, model: Model): State {
  const at = site({ line: op.line, col: op.col, text: op.text });
  switch (e.kind) {
    case 'srcu-lock': {
      if (e.domain !== model.memslotsDomain) return s;
      if (s.srcu.depth === 0) {
        const { closedAt: _c, ...rest } = s.srcu;
        return { ...s, srcu: { ...rest, depth: 1, section: `${op.line}:${op.col}`, openedAt: at } };
      }
      return { ...s, srcu: { ...s.srcu, depth: Math.min(MAX_SRCU_DEPTH, s.srcu.depth + 1) } };
    }
    case 'srcu-unlock': {
      if (e.domain !== model.memslotsDomain) return s;
      if (s.srcu.depth > 1) return { ...s, srcu: { ...s.srcu, depth: s.srcu.depth - 1 } };
      // Closing the outermost section (explicit, or the caller's): snapshots are stale now.
      const srcu = s.srcu.depth === 1 ? { depth: 0, entry: s.srcu.entry, section: 'entry', closedAt: at } : { depth: 0, entry: 'none' as const, section: 'closed', closedAt: at };
      return { ...s, srcu, snaps: {} };
    }
    case 'assert-srcu':
      if (e.domain === model.memslotsDomain && s.srcu.depth === 0 && s.srcu.entry === 'unknown') {
        return { ...s, srcu: { ...s.srcu, entry: 'held' } };
      }
      return s;
    case 'lock': {
      if (e.cond) {
        if (op.k === 'call' && op.use === 'ignored') return s;
        return s; // acquired on the true edge (see refine)
      }
      return { ...s, locks: { ...s.locks, [e.lock]: { mode: e.mode, at } } };
    }
    case 'unlock': {
      if (!(e.lock in s.locks)) return s;
      const locks = { ...s.locks };
      delete locks[e.lock];
      return { ...s, locks };
    }
    case 'assert-held':
      if (e.lock in s.locks) return s;
      return { ...s, locks: { ...s.locks, [e.lock]: { mode: e.mode ?? 'excl', assumed: true, at } } };
    case 'snapshot': {
      const prev = s.snaps[e.as];
      // Keep the first state-returning snapshot; a later one replaces a mere access.
      if (prev && (!prev.access || e.access)) return s;
      const snap: import('./state.js').SnapshotState = { ...at, section: s.srcu.section };
      if (e.via) snap.via = e.via;
      if (e.access) snap.access = true;
      if (op.k === 'call' && op.resultVar) snap.holders = [op.resultVar];
      return { ...s, snaps: { ...s.snaps, [e.as]: snap } };
    }
    case 'rcu-assign':
      if (e.publishes) return { ...s, published: { ...at, value: e.value.text, object: e.publishes } };
      return s;
    case 'sync':
      if (e.domain !== model.memslotsDomain) return s;
      {
        const out: State = { ...s, synced: at };
        delete out.published;
        return out;
      }
    case 'deferred-free':
      if (e.domain !== model.memslotsDomain) return s;
      {
        const out: State = { ...s };
        delete out.published;
        return out;
      }
    case 'invalidate-begin':
      return { ...s, inval: Math.min(2, s.inval + 1), invalAt: s.invalAt ?? at };
    case 'invalidate-end': {
      const out: State = { ...s, inval: Math.max(0, s.inval - 1) };
      if (out.inval === 0) delete out.invalAt;
      return out;
    }
    case 'root-get': {
      const v = e.arg.ident;
      if (!v) return s;
      if (op.k === 'call' && (op.use === 'cond' || op.use === 'assigned')) return s; // refined on the branch
      return { ...s, refs: { ...s.refs, [v]: { ...at, kind: 'get' } } };
    }
    case 'root-put':
    case 'root-free': {
      const v = e.arg.ident;
      if (!v || (e.kind === 'root-free' && s.refs[v]?.kind === 'put')) return s;
      if (e.kind === 'root-put' && e.returnsLast) {
        // 5.10 API: the put never frees; the caller frees on the last reference (root-free).
        if (!(v in s.refs) || s.refs[v].kind === 'put') return s;
        const refs = { ...s.refs };
        delete refs[v];
        return { ...s, refs };
      }
      // The reference is gone (the put may have freed the root): mark the variable dangling.
      return { ...s, refs: { ...s.refs, [v]: { ...at, kind: 'put' } } };
    }
    case 'barrier':
      if (model.isFullBarrier(e.barrier)) return fullBarrier(s, e.barrier, op as Op);
      return s;
    case 'access':
      if (e.access === 'write' || e.access === 'rmw') {
        const s2 = recordStore(s, e.chain ?? canonicalLock(e.arg), e.order, op, e.base);
        return e.order === 'mb' ? fullBarrier(s2, 'rmw', op as Op) : s2;
      }
      return s;
    default:
      return s;
  }
}

// ------------------------------------------------------------------ edges

/** An iterator reference still held when its loop is left other than by the iterator's own exit records where. */
function leaveLoops(s: State, from: CfgNode, to: CfgNode): State {
  if (from.kind === 'iter' || from.loops.length === 0) return s;
  const left = from.loops.filter((l) => !to.loops.includes(l));
  if (left.length === 0) return s;
  let refs: State['refs'] | undefined;
  for (const [v, r] of Object.entries(s.refs)) {
    if (r.kind !== 'iter' || r.left || r.loopId === undefined || !left.includes(r.loopId)) continue;
    refs ??= { ...s.refs };
    refs[v] = { ...r, left: { line: from.line, col: 1, text: from.text } };
  }
  return refs ? { ...s, refs } : s;
}

/** State on `edge` out of `node`; null if the edge is infeasible. */
function refine(s: State, node: CfgNode, edge: Edge, callEffects: Map<number, readonly Resolved[]>, model: Model): State | null {
  if (node.kind === 'iter') return iterEdge(s, node, edge, model);
  if (node.kind !== 'branch' || !node.test || (edge.label !== 'true' && edge.label !== 'false')) return s;
  s = markDecisions(s, node.test.text);
  const value = edge.label === 'true';
  const test = node.test;
  if (!value && test.var && s.refs[test.var] && s.refs[test.var].kind !== 'put') {
    // A NULL root holds no reference (e.g. `if (root) put(root)` after a loop that may have ended).
    const refs = { ...s.refs };
    delete refs[test.var];
    s = { ...s, refs };
  }
  let effects: readonly Resolved[] | undefined;
  let callOp: CallOp | undefined;
  if (test.callId !== undefined) {
    effects = callEffects.get(test.callId);
    callOp = node.ops.find((o): o is CallOp => o.k === 'call' && o.id === test.callId);
  } else if (test.var && s.facts[test.var]?.callId !== undefined) {
    effects = callEffects.get(s.facts[test.var].callId!);
  }
  if (test.var && s.facts[test.var]?.chain && model.isRmapFlag(s.facts[test.var].chain!) && value) {
    return { ...s, rmapGuard: { line: node.line, col: 1, text: node.text } };
  }
  // `if (tdp_mmu_enabled)`: on the edge where the TDP MMU is off, every memslot has rmaps.
  if (test.var && !(test.var in s.facts) && model.rmapImpliedWhen(test.var) === value) {
    return s.rmapGuard ? s : { ...s, rmapGuard: { line: node.line, col: 1, text: node.text } };
  }
  if (!effects) {
    // A marked read of the rmap flag in the condition itself.
    const acq = node.ops.find((o) => o.k === 'call' && callEffects.get(o.id)?.some((e) => e.kind === 'access' && e.order === 'acquire' && e.chain && model.isRmapFlag(e.chain)));
    if (acq && value && node.ops.length === 1) return { ...s, rmapGuard: { line: node.line, col: 1, text: node.text } };
    return s;
  }
  let out = s;
  const at: Site = { line: node.line, col: callOp?.col ?? 1, text: node.text };
  for (const e of effects) {
    if (e.kind === 'rmap-guard' && value === e.when) out = { ...out, rmapGuard: at };
    if (e.kind === 'lock' && e.cond && value) out = { ...out, locks: { ...out.locks, [e.lock]: { mode: e.mode, at } } };
    if (e.kind === 'root-get' && value && e.arg.ident) out = { ...out, refs: { ...out.refs, [e.arg.ident]: { ...at, kind: 'get' } } };
    if (e.kind === 'access' && e.order === 'acquire' && e.chain && model.isRmapFlag(e.chain) && value) out = { ...out, rmapGuard: at };
  }
  return out;
}

/** A branch that tests snapshot-derived state marks that snapshot as decided on. */
function markDecisions(s: State, test: string): State {
  let snaps: State['snaps'] | undefined;
  for (const [k, snap] of Object.entries(s.snaps)) {
    if (snap.decided || snap.access || !snap.holders?.some((h) => mentionsWord(test, h))) continue;
    snaps ??= { ...s.snaps };
    snaps[k] = { ...snap, decided: true };
  }
  return snaps ? { ...s, snaps } : s;
}

function iterEdge(s: State, node: CfgNode, edge: Edge, model: Model): State {
  const it = node.iter!;
  const m = model.iterator(it.macro);
  if (edge.label === 'enter' && !s.rmapGuard && model.visitsShadowPages(m, it.args)) {
    // A shadow-MMU page exists: the rmaps were allocated before it.
    s = { ...s, rmapGuard: { line: node.line, col: 1, text: node.text } };
  }
  const cursor = it.args[m.cursorArg]?.ident;
  if (!cursor) return s;
  if (!m.holdsRef) {
    // The cursor names the next entry now.
    if (s.refs[cursor]?.kind !== 'put') return s;
    const refs = { ...s.refs };
    delete refs[cursor];
    return { ...s, refs };
  }
  // Advancing (or finishing) puts the reference held on the previous root.
  const refs = { ...s.refs };
  if (refs[cursor]?.kind === 'iter' || refs[cursor]?.kind === 'put') delete refs[cursor];
  if (edge.label === 'enter') refs[cursor] = { line: node.line, col: 1, text: node.text, kind: 'iter', loopId: it.loopId };
  return { ...s, refs };
}
