/**
 * Lockless protocols seen from both sides, for the barrier rules (and for the
 * rmap / memslot publish rules that need the same glue).
 *
 * A protocol is a shared variable of the model (`ProtocolVariable`) written under
 * a lock by some functions and read without it by others. This module finds, in
 * the functions in view:
 *  - the writes of the variable and what follows them on their path (a full
 *    barrier on every path to the function's exit? one just before?),
 *  - the lockless reads of the variable and whether a full barrier precedes them,
 * using path-insensitive must-analyses on the lowered CFG (no engine walk, so
 * functions outside the walked set in patch mode work too).
 *
 * Then it turns the two sides into an LKMM litmus program (store buffering:
 * each side stores, then loads what the other side stored) and runs it with
 * the memory-model engine, so a barrier finding comes with a concrete
 * execution the LKMM allows, or is not reported.
 */
import type { Effect, Model, ProtocolVariable } from '../model/index.js';
import { FULL_BARRIERS } from '../model/kvm.js';
import { canonicalLock } from './effects.js';
import type { ArgInfo, CallOp, CfgNode, GuardOp, LoweredFunction, Op } from './ir.js';
import { buildLitmus, runLitmus, type AbstractAccess, type AbstractThread, type Verdict } from './memory-model/index.js';
import type { UnitView } from './rule-api.js';
import type { State, StoreRecord } from './state.js';
import { wordRe } from './text.js';

// ------------------------------------------------------------------ barriers


export type BarrierClass = 'full' | 'rmb' | 'wmb' | 'acquire' | 'release';

/** The ordering an effect gives, if any (a full barrier, a one-way barrier, an acquire/release access). */
export function barrierClass(e: Effect): BarrierClass | undefined {
  if (e.kind === 'barrier') {
    if (FULL_BARRIERS.includes(e.barrier)) return 'full';
    if (e.barrier === 'rmb' || e.barrier === 'wmb') return e.barrier;
    return undefined;
  }
  if (e.kind === 'access') {
    if (e.order === 'mb' && e.access !== 'read') return 'full';
    if (e.order === 'acquire') return 'acquire';
    if (e.order === 'release') return 'release';
  }
  return undefined;
}

/** Effects of a call as the unit knows them (model table, else summary in view). */
function effectsOf(unit: UnitView, op: CallOp): readonly Effect[] {
  return unit.effectsOf(op.name);
}

/** A full barrier executed by this op (directly or inside a summarised callee on every path). */
export function fullBarrierOf(unit: UnitView, op: Op): boolean {
  if (op.k !== 'call') return false;
  return effectsOf(unit, op).some((e) => barrierClass(e) === 'full');
}

// ------------------------------------------------------------------ CFG must-analyses

export interface Site {
  line: number;
  col: number;
  text: string;
}

interface FnFlow {
  /** Full barrier on every path from entry to the start of each node (the latest one on the path if unique). */
  barrierIn: (Site | null | undefined)[];
  /** Full barrier on every path from the end of each node to the exit. */
  barrierOut: (Site | null | undefined)[];
  /** Locks held on every path at the start of each node. */
  locksIn: (Set<string> | undefined)[];
}

function opSite(op: Op): Site {
  return { line: op.line, col: op.col, text: accessText(op) };
}

/** Source-like text of an op: `kvm->arch.x++`, `kvm->arch.x = 0`, `smp_mb()`. */
export function accessText(op: Op): string {
  if (op.k === 'assign') return op.rhs;
  if (op.k === 'write' && op.operator) {
    if (op.operator === '++' || op.operator === '--') return `${op.text}${op.operator}`;
    return op.value !== undefined ? `${op.text} ${op.operator} ${op.value}` : op.text;
  }
  return op.text;
}

function lockDelta(op: Op, unit: UnitView, model: Model): { take: string[]; drop: string[] } {
  const take: string[] = [];
  const drop: string[] = [];
  let effects: readonly Effect[] = [];
  let args: ArgInfo[] = [];
  if (op.k === 'call') {
    effects = effectsOf(unit, op);
    args = op.args;
  } else if (op.k === 'guard') {
    const g = model.guardClass(op.cls);
    effects = g ? (op.phase === 'acquire' ? g.acquire : g.release) : [];
    args = op.args;
  }
  for (const e of effects) {
    if (e.kind !== 'lock' && e.kind !== 'unlock' && e.kind !== 'assert-held') continue;
    if (e.kind === 'lock' && e.cond) continue;
    const id = 'fixed' in e.lock ? e.lock.fixed : canonicalLock(args[e.lock.arg]);
    (e.kind === 'unlock' ? drop : take).push(id);
  }
  return { take, drop };
}


/**
 * Path-insensitive must-facts of a function (cached per function and unit),
 * greatest fixpoints by round-robin iteration: undefined = not constrained yet
 * (top), null = no barrier on some path, a site = a full barrier on every path.
 */
export function flowOf(fn: LoweredFunction, unit: UnitView, model: Model): FnFlow {
  return unit.memo(`flow:${fn.name}@${fn.startLine}:${fn.hash}`, () => computeFlow(fn, unit, model));
}

function computeFlow(fn: LoweredFunction, unit: UnitView, model: Model): FnFlow {
  const n = fn.nodes.length;
  const preds: number[][] = fn.nodes.map(() => []);
  for (const node of fn.nodes) for (const e of node.succs) preds[e.to].push(node.id);
  const meetB = (a: Site | null | undefined, b: Site | null | undefined): Site | null | undefined =>
    a === undefined ? b : b === undefined ? a : a === null || b === null ? null : a.line >= b.line ? a : b;
  const sameB = (a: Site | null | undefined, b: Site | null | undefined): boolean =>
    a === b || (!!a && !!b && a.line === b.line && a.col === b.col);
  const nodeBarrierLast = fn.nodes.map((node) => {
    let b: Site | undefined;
    for (const op of node.ops) if (fullBarrierOf(unit, op)) b = opSite(op);
    return b;
  });
  const nodeBarrierFirst = fn.nodes.map((node) => {
    const op = node.ops.find((o) => fullBarrierOf(unit, o));
    return op ? opSite(op) : undefined;
  });
  const deltas = fn.nodes.map((node) => node.ops.map((op) => lockDelta(op, unit, model)));

  const barrierIn: (Site | null | undefined)[] = new Array(n).fill(undefined);
  const locksIn: (Set<string> | undefined)[] = new Array(n).fill(undefined);
  const barrierOut: (Site | null | undefined)[] = new Array(n).fill(undefined);
  barrierIn[fn.entry] = null;
  locksIn[fn.entry] = new Set();
  const outB = (id: number): Site | null | undefined => nodeBarrierLast[id] ?? barrierIn[id];
  const outL = (id: number): Set<string> | undefined => {
    const l = locksIn[id];
    if (!l) return undefined;
    const out = new Set(l);
    for (const d of deltas[id]) {
      for (const x of d.drop) out.delete(x);
      for (const x of d.take) out.add(x);
    }
    return out;
  };
  const fromStart = (id: number): Site | null | undefined => nodeBarrierFirst[id] ?? barrierOut[id];
  for (let round = 0, changed = true; changed && round < n + 5; round++) {
    changed = false;
    for (let id = 0; id < n; id++) {
      if (id !== fn.entry) {
        let b: Site | null | undefined;
        let l: Set<string> | undefined;
        for (const p of preds[id]) {
          b = meetB(b, outB(p));
          const pl = outL(p);
          if (pl) l = l ? new Set([...l].filter((x) => pl.has(x))) : pl;
        }
        if (!sameB(b, barrierIn[id])) {
          barrierIn[id] = b;
          changed = true;
        }
        if (l && (!locksIn[id] || locksIn[id]!.size !== l.size)) {
          locksIn[id] = l;
          changed = true;
        }
      }
      const succs = fn.nodes[id].succs;
      let o: Site | null | undefined = succs.length === 0 ? null : undefined;
      for (const e of succs) {
        const f = fromStart(e.to);
        o = o === undefined ? f : f === undefined ? o : o === null || f === null ? null : o.line <= f.line ? o : f;
      }
      if (!sameB(o, barrierOut[id])) {
        barrierOut[id] = o;
        changed = true;
      }
    }
  }
  return { barrierIn, barrierOut, locksIn };
}

/** Barrier state right before op #idx of a node: the last full barrier on every path, or null. */
export function barrierBeforeOp(flow: FnFlow, fn: LoweredFunction, node: CfgNode, idx: number, unit: UnitView): Site | null {
  let b = flow.barrierIn[node.id] ?? null;
  for (let i = 0; i < idx; i++) if (fullBarrierOf(unit, node.ops[i])) b = opSite(node.ops[i]);
  return b;
}

/** A full barrier on every path from just after op #idx to the exit (the nearest one), or null. */
export function barrierAfterOp(flow: FnFlow, node: CfgNode, idx: number, unit: UnitView): Site | null {
  for (let i = idx + 1; i < node.ops.length; i++) if (fullBarrierOf(unit, node.ops[i])) return opSite(node.ops[i]);
  return flow.barrierOut[node.id] ?? null;
}

/** Locks held on every path right before op #idx of a node. */
export function locksBeforeOp(flow: FnFlow, node: CfgNode, idx: number, unit: UnitView, model: Model): Set<string> {
  const out = new Set(flow.locksIn[node.id] ?? []);
  for (let i = 0; i < idx; i++) {
    const d = lockDelta(node.ops[i], unit, model);
    for (const x of d.drop) out.delete(x);
    for (const x of d.take) out.add(x);
  }
  return out;
}

/** The first full barrier reachable after op #idx (any path), within `maxLines` lines. */
export function nextBarrierOnSomePath(fn: LoweredFunction, node: CfgNode, idx: number, unit: UnitView, maxLines = 8): Site | null {
  const limit = (node.ops[idx]?.line ?? node.line) + maxLines;
  for (let i = idx + 1; i < node.ops.length; i++) if (fullBarrierOf(unit, node.ops[i])) return opSite(node.ops[i]);
  const seen = new Set<number>([node.id]);
  const queue = node.succs.map((e) => e.to);
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = fn.nodes[id];
    if (n.line > limit || n.kind === 'return' || n.kind === 'exit') continue;
    const b = n.ops.find((o) => fullBarrierOf(unit, o));
    if (b) return opSite(b);
    for (const e of n.succs) queue.push(e.to);
  }
  return null;
}

// ------------------------------------------------------------------ decisions

/** Does a path from `from` reach a return (or the exit) within a few straight-line nodes? */
export function leadsToExit(fn: LoweredFunction, from: number, hops = 4): boolean {
  let id = from;
  for (let i = 0; i <= hops; i++) {
    const n = fn.nodes[id];
    if (n.kind === 'return' || n.kind === 'exit') return true;
    if (n.succs.length !== 1) return false;
    if (n.ops.some((o) => o.k === 'call' || o.k === 'write')) return false;
    id = n.succs[0].to;
  }
  return false;
}

/** A branch node one of whose edges leaves the function early. */
export function isEarlyExitBranch(fn: LoweredFunction, node: CfgNode): boolean {
  return node.kind === 'branch' && node.succs.some((e) => leadsToExit(fn, e.to));
}

export type Decision = { how: 'branch' | 'var'; at: CfgNode } | { how: 'return'; at: CfgNode };

/**
 * How the value read by op #idx of `node` is used: in an early-exit branch
 * condition, returned to the caller, or assigned to a local that a later
 * early-exit branch tests.
 */
export function readDecision(fn: LoweredFunction, node: CfgNode, idx: number): Decision | undefined {
  if (node.kind === 'return') return { how: 'return', at: node };
  if (node.kind === 'branch') return isEarlyExitBranch(fn, node) ? { how: 'branch', at: node } : undefined;
  const assign = node.ops.slice(idx + 1).find((o) => o.k === 'assign');
  if (!assign || assign.k !== 'assign') return undefined;
  const v = assign.target;
  const re = wordRe(v);
  const seen = new Set<number>([node.id]);
  const queue = node.succs.map((e) => e.to);
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = fn.nodes[id];
    if (n.kind === 'branch' && n.test && (n.test.var === v || re.test(n.test.text))) {
      return isEarlyExitBranch(fn, n) ? { how: 'var', at: n } : undefined;
    }
    if (n.kind === 'return' && n.ret && re.test(n.ret)) return { how: 'return', at: n };
    if (n.ops.some((o) => o.k === 'assign' && o.target === v)) continue;
    for (const e of n.succs) queue.push(e.to);
  }
  return undefined;
}

// ------------------------------------------------------------------ accesses of a protocol variable

export interface ProtocolAccessSite extends Site {
  fn: LoweredFunction;
  node: CfgNode;
  /** Index of the op in its node. */
  idx: number;
  chain: string;
}

export interface ProtocolWrite extends ProtocolAccessSite {
  /** Can move the variable away from zero (0 -> 1): `++`, `+=`, `= x` with x not 0/false/NULL. */
  raises: boolean;
  /** Full barrier on every path before the write (since function entry). */
  barrierBefore: Site | null;
  /** Full barrier on every path from the write to the function's exit. */
  barrierAfter: Site | null;
}

export interface ProtocolRead extends ProtocolAccessSite {
  lockless: boolean;
  /** Full barrier on every path from function entry to the read. */
  barrierBefore: Site | null;
  decision?: Decision;
}

const ZERO = /^\s*(0+[uUlL]*|0x0+|false|NULL)\s*$/;

/** Accesses of member chains by an op: plain reads/writes, and marked accesses through modelled macros. */
export function opAccesses(unit: UnitView, op: Op): { access: 'read' | 'write' | 'rmw'; chain: string; base?: string; raises: boolean; order: string }[] {
  if (op.k === 'read') return [{ access: 'read', chain: op.chain, base: op.base, raises: false, order: 'plain' }];
  if (op.k === 'write') {
    const lowers = op.operator === '--' || op.operator === '-=' || op.operator === '&=' || (op.operator === '=' && op.value !== undefined && ZERO.test(op.value));
    return [{ access: op.rmw ? 'rmw' : 'write', chain: op.chain, base: op.base, raises: !lowers, order: 'plain' }];
  }
  if (op.k !== 'call') return [];
  const out: ReturnType<typeof opAccesses> = [];
  for (const e of effectsOf(unit, op)) {
    if (e.kind !== 'access') continue;
    const a = e.fixed ? { base: e.fixed.base, chain: e.fixed.chain } : op.args[e.arg];
    if (!a || !a.chain) continue;
    const val = e.valueArg !== undefined ? op.args[e.valueArg]?.text : undefined;
    const raises = e.access !== 'read' && !e.lowers && !(val !== undefined && ZERO.test(val));
    out.push({ access: e.access, chain: a.chain, base: a.base, raises, order: e.order });
  }
  return out;
}


/** All reads and writes of a protocol variable in the functions in view. */
export function protocolSites(unit: UnitView, model: Model, pv: ProtocolVariable): { reads: ProtocolRead[]; writes: ProtocolWrite[] } {
  return unit.memo(`protocolSites:${pv.chain}`, () => computeSites(unit, model, pv));
}

function computeSites(unit: UnitView, model: Model, pv: ProtocolVariable): { reads: ProtocolRead[]; writes: ProtocolWrite[] } {
  const reads: ProtocolRead[] = [];
  const writes: ProtocolWrite[] = [];
  // Only functions whose text names the variable, or that call (transitively) one that does, can access it.
  const member = pv.chain.split('.').pop()!;
  const direct = unit.functionsMentioning(member);
  const names = new Set(direct.map((f) => f.name));
  for (let changed = true; changed; ) {
    changed = false;
    for (const sp of unit.spans) {
      if (!names.has(sp.name) && sp.calls.some((c) => names.has(c))) {
        names.add(sp.name);
        changed = true;
      }
    }
  }
  const fns = [...direct, ...[...names].filter((n) => !direct.some((f) => f.name === n)).map((n) => unit.function(n)).filter((f): f is LoweredFunction => !!f)];
  for (const fn of fns) {
    let flow: FnFlow | undefined;
    for (const node of fn.nodes) {
      node.ops.forEach((op, idx) => {
        for (const a of opAccesses(unit, op)) {
          if (model.protocolVariable(a.chain) !== pv) continue;
          flow ??= flowOf(fn, unit, model);
          const base = { ...opSite(op), fn, node, idx, chain: a.chain };
          if (a.access === 'read') {
            // READ_ONCE(x) shows up as the read op of its argument and as the call: keep one.
            if (op.k === 'call' && reads.some((r) => r.fn === fn && r.node === node && r.chain === a.chain && r.line === op.line)) continue;
            const locks = locksBeforeOp(flow, node, idx, unit, model);
            const r: ProtocolRead = {
              ...base,
              lockless: !pv.writersHold || !locks.has(pv.writersHold),
              barrierBefore: barrierBeforeOp(flow, fn, node, idx, unit),
            };
            const d = readDecision(fn, node, idx);
            if (d) r.decision = d;
            reads.push(r);
          } else {
            writes.push({
              ...base,
              raises: a.raises,
              barrierBefore: barrierBeforeOp(flow, fn, node, idx, unit),
              barrierAfter: barrierAfterOp(flow, node, idx, unit),
            });
          }
        }
      });
    }
  }
  return { reads, writes };
}

/**
 * Member chains (of a canonical owner: kvm, vcpu, guest memory) that a writer
 * loads after its write of the protocol variable, in its own function.
 */
export function loadsAfterWrite(unit: UnitView, w: ProtocolWrite, owners: ReadonlySet<string>): { chain: string; base: string; line: number }[] {
  const out: { chain: string; base: string; line: number }[] = [];
  const visit = (node: CfgNode, from: number): void => {
    node.ops.slice(from).forEach((op) => {
      for (const a of opAccesses(unit, op)) {
        if (a.access === 'write' || !a.base || !owners.has(a.base) || a.chain === w.chain) continue;
        out.push({ chain: a.chain, base: a.base, line: op.line });
      }
    });
  };
  visit(w.node, w.idx + 1);
  const seen = new Set<number>([w.node.id]);
  const queue = w.node.succs.map((e) => e.to);
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    visit(w.fn.nodes[id], 0);
    for (const e of w.fn.nodes[id].succs) queue.push(e.to);
  }
  return out;
}

// ------------------------------------------------------------------ litmus

export interface SbSide {
  /** Function and line, for the litmus comment and messages. */
  fn: string;
  /** The side's store (of the other side's load location). */
  store: { loc: string; text: string; line: number };
  /** The side's load (of the other side's store location). */
  load: { loc: string; text: string; line: number };
  /** A full barrier and where it sits relative to the store and the load; none when absent. */
  fence?: { position: 'between' | 'before-store' | 'after-load'; text: string; line: number };
  /** Not in view: assumed the most favourable shape (a full barrier between store and load). */
  assumed?: boolean;
}

export interface LitmusCheck {
  verdict: Verdict;
  /** The bad outcome (both sides read the old values) is allowed by the LKMM. */
  allowed: boolean;
  litmus: string;
  witness?: string;
}

/** herd7 variable name for a location (`arch.indirect_shadow_pages` -> `indirect_shadow_pages`). */
export function litmusVar(loc: string): string {
  const last = loc.split('.').pop() ?? loc;
  const v = last.replace(/\[\]/g, '').replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(v) ? v : `v_${v}`;
}

function sideThread(s: SbSide, storeVar: string, loadVar: string): AbstractThread {
  const st: AbstractAccess = { kind: 'store', variable: storeVar, value: 1, order: 'once' };
  const ld: AbstractAccess = { kind: 'load', variable: loadVar, order: 'once', register: 'r0' };
  const f: AbstractAccess = { kind: 'fence', order: 'mb' };
  const pos = s.fence?.position;
  const accesses = pos === 'between' ? [st, f, ld] : pos === 'before-store' ? [f, st, ld] : pos === 'after-load' ? [st, ld, f] : [st, ld];
  const where = s.assumed ? `${s.fn} (not in view; assumed)` : s.fn;
  const at = (x: { text: string; line: number }): string => (x.line > 0 ? `${x.text} (line ${x.line})` : x.text);
  return { name: `${where}: ${at(s.store)} ... ${at(s.load)}${s.fence ? `, ${at(s.fence)}` : ''}`, accesses };
}

/** Memoisation hook for litmus verdicts (pure in the litmus text): `UnitView.sharedMemo`. */
export type LitmusMemo = (key: string, compute: () => LitmusCheck) => LitmusCheck;

function runChecked(text: string, memo: LitmusMemo | undefined): LitmusCheck {
  const compute = (): LitmusCheck => {
    const r = runLitmus(text);
    const out: LitmusCheck = { verdict: r.verdict, allowed: r.verdict === 'Sometimes' || r.verdict === 'Always', litmus: text };
    if (r.witness) out.witness = r.witness;
    return out;
  };
  return memo ? memo(`litmus:${text}`, compute) : compute();
}

/**
 * Store buffering between a lockless reader (stores A, then loads V) and a
 * writer (stores V, then loads A). Runs the LKMM and says whether both loads
 * may return the initial values.
 */
export function checkStoreBuffering(name: string, reader: SbSide, writer: SbSide, memo?: LitmusMemo): LitmusCheck {
  let a = litmusVar(reader.store.loc);
  const v = litmusVar(reader.load.loc);
  if (a === v) a = `${a}_data`;
  const comment = [
    `kvmlint: store buffering between a lockless reader and a writer of ${v}.`,
    `P0 = reader ${reader.fn}(): stores ${a} (${reader.store.text}), then reads ${v} (${reader.load.text}).`,
    `P1 = writer ${writer.fn}()${writer.assumed ? ' (not in view, assumed to use smp_mb())' : ''}: updates ${v} (${writer.store.text}), then reads ${a}.`,
    'exists: both read the old values, i.e. the reader skips the update and the writer misses the store.',
  ].join('\n');
  const text = buildLitmus(name, [sideThread(reader, a, v), sideThread(writer, v, a)], `0:r0=0 /\\ 1:r0=0`, comment);
  return runChecked(text, memo);
}

// ------------------------------------------------------------------ misc

/** Canonical owners whose members are shared between threads (kvm, vcpu) plus guest memory. */
export function sharedBases(model: Model): Set<string> {
  return new Set([...model.canonicalOwners.map((o) => o.name), 'guest']);
}

export function isGuardOp(op: Op): op is GuardOp {
  return op.k === 'guard';
}

// ------------------------------------------------------------------ both sides of a store-buffering protocol

/** A side as found in view (function, line) for messages. */
export interface SideSite {
  fn: string;
  line: number;
  text: string;
}

export interface ReaderSideFinding {
  /** 'missing': no full barrier between the store and the read; 'misplaced': one, on the wrong side. */
  kind: 'missing' | 'misplaced';
  pv: ProtocolVariable;
  /** The op in the walked function that performs (or calls the function that performs) the read. */
  at: { line: number; col: number; text: string };
  /** The read itself (in a callee when reached through one). */
  read: SideSite;
  store: SideSite & { chain: string };
  fence?: SideSite & { position: 'before-store' | 'after-load' };
  writer: SideSite & { assumed: boolean; barrier?: SideSite };
  check: LitmusCheck;
}

export interface WriterSideFinding {
  kind: 'missing' | 'misplaced';
  pv: ProtocolVariable;
  write: SideSite & { col: number };
  /** The barrier placed before the write (misplaced). */
  fence?: SideSite;
  reader: SideSite & { assumed: boolean; barrier?: SideSite };
  partner: string;
  check: LitmusCheck;
}

/** How close (in lines) a barrier must be to the access to count as meant for it. */
const NEAR = 6;

function raisingWriters(unit: UnitView, model: Model, pv: ProtocolVariable): ProtocolWrite[] {
  return protocolSites(unit, model, pv).writes.filter((w) => w.raises);
}

/** Writer side for a litmus: the worst raising writer in view, or an assumed well-behaved one. */
function writerSide(unit: UnitView, model: Model, pv: ProtocolVariable, partner: string): { side: SbSide; site: ReaderSideFinding['writer'] } {
  const writers = raisingWriters(unit, model, pv);
  const w = writers.find((x) => !x.barrierAfter) ?? writers[0];
  const partnerText = partner === model.guestMemory ? 'guest memory (e.g. guest PTEs)' : partner;
  if (!w) {
    return {
      side: {
        fn: 'writer', assumed: true,
        store: { loc: pv.chain, text: `${pv.chain} update`, line: 0 },
        load: { loc: partner, text: `read of ${partnerText}`, line: 0 },
        fence: { position: 'between', text: 'smp_mb()', line: 0 },
      },
      site: { fn: '', line: 0, text: '', assumed: true },
    };
  }
  const loads = loadsAfterWrite(unit, w, sharedBases(model)).filter((l) => l.chain === partner);
  const fence = w.barrierAfter
    ? { position: 'between' as const, text: w.barrierAfter.text, line: w.barrierAfter.line }
    : w.barrierBefore && w.line - w.barrierBefore.line <= NEAR
      ? { position: 'before-store' as const, text: w.barrierBefore.text, line: w.barrierBefore.line }
      : undefined;
  const side: SbSide = {
    fn: w.fn.name,
    store: { loc: pv.chain, text: w.text, line: w.line },
    load: { loc: partner, text: loads[0] ? `read of ${partnerText}` : `later read of ${partnerText}`, line: loads[0]?.line ?? 0 },
  };
  if (fence) side.fence = fence;
  const site: ReaderSideFinding['writer'] = { fn: w.fn.name, line: w.line, text: w.text, assumed: false };
  if (w.barrierAfter) site.barrier = { fn: w.fn.name, line: w.barrierAfter.line, text: w.barrierAfter.text };
  return { side, site };
}

/** Pending stores that the protocol's writer side re-reads after its update. */
function partnerStores(unit: UnitView, model: Model, pv: ProtocolVariable, pending: readonly StoreRecord[]): StoreRecord[] {
  const partners = new Set(pv.sbPartners ?? []);
  let reRead: Set<string> | undefined;
  return pending.filter((st) => {
    if (partners.has(st.chain)) return true;
    if (!st.base || !sharedBases(model).has(st.base) || st.base === 'guest') return false;
    reRead ??= new Set(raisingWriters(unit, model, pv).flatMap((w) => loadsAfterWrite(unit, w, sharedBases(model)).map((l) => `${l.base}.${l.chain}`)));
    return reRead.has(`${st.base}.${st.chain}`);
  });
}

/**
 * Reader side, at an op of the walked function: a lockless read of a protocol
 * variable deciding an early exit (here or inside a callee) while a store to
 * the protocol's partner location is still pending on the path.
 */
export function readerSideFindings(unit: UnitView, model: Model, fn: LoweredFunction, ev: { node: CfgNode; op: Op; pre: State }): ReaderSideFinding[] {
  const { node, op, pre } = ev;
  if (pre.mem.pendingStores.length === 0) return [];
  const idx = node.ops.indexOf(op);
  const reads: { pv: ProtocolVariable; read: SideSite; ordered: boolean }[] = [];
  if (op.k === 'read') {
    const pv = model.protocolVariable(op.chain);
    const d = pv && readDecision(fn, node, idx);
    if (pv && d && d.how !== 'return') reads.push({ pv, read: { fn: fn.name, line: op.line, text: op.text }, ordered: false });
  } else if (op.k === 'call') {
    const sum = unit.summary(op.name);
    if (sum?.protocolReads?.length) {
      const d = readDecision(fn, node, idx);
      for (const r of sum.protocolReads) {
        const pv = model.protocolVariable(r.chain);
        if (!pv || (r.returned && (!d || d.how === 'return'))) continue;
        reads.push({ pv, read: { fn: r.fn, line: r.line, text: r.text }, ordered: r.ordered });
      }
    } else if (!unit.function(op.name)) {
      // Modelled macros taking an address (smp_load_acquire(&x), atomic_read(&x)) and modelled helpers.
      let fenced = false;
      for (const e of unit.effectsOf(op.name)) {
        if (barrierClass(e) === 'full' && e.kind === 'barrier') fenced = true;
        if (e.kind !== 'access' || e.access !== 'read') continue;
        const chain = e.fixed?.chain ?? op.args[e.arg]?.chain;
        const pv = chain ? model.protocolVariable(chain) : undefined;
        if (!pv || node.ops.some((o) => o.k === 'read' && o.line === op.line && o.chain === chain)) continue;
        const d = readDecision(fn, node, idx);
        if (!d || d.how === 'return') continue;
        reads.push({ pv, read: { fn: fn.name, line: op.line, text: op.text }, ordered: fenced || e.order === 'mb' });
      }
    }
  }
  const out: ReaderSideFinding[] = [];
  for (const r of reads) {
    if (r.ordered) continue;
    if (r.pv.writersHold && r.pv.writersHold in pre.locks) continue;
    const stores = partnerStores(unit, model, r.pv, pre.mem.pendingStores);
    const st = stores[stores.length - 1];
    if (!st) continue;
    let fence: ReaderSideFinding['fence'];
    const before = pre.mem.lastFull;
    if (before && st.line - before.line <= NEAR && st.line >= before.line) {
      fence = { fn: fn.name, line: before.line, text: before.text, position: 'before-store' };
    } else {
      const after = nextBarrierOnSomePath(fn, node, idx, unit, NEAR);
      if (after) fence = { fn: fn.name, line: after.line, text: after.text, position: 'after-load' };
    }
    const partner = st.chain;
    const w = writerSide(unit, model, r.pv, partner);
    const reader: SbSide = {
      fn: fn.name,
      store: { loc: partner, text: st.text, line: st.line },
      load: { loc: r.pv.chain, text: r.read.fn === fn.name ? r.read.text : `${r.read.text} in ${r.read.fn}()`, line: r.read.line },
    };
    if (fence) reader.fence = { position: fence.position, text: fence.text, line: fence.line };
    const check = checkStoreBuffering(`kvmlint-sb-${litmusVar(r.pv.chain)}`, reader, w.side, (k, c) => unit.sharedMemo(k, c));
    if (!check.allowed) continue;
    const f: ReaderSideFinding = {
      kind: fence ? 'misplaced' : 'missing',
      pv: r.pv,
      at: { line: op.line, col: op.col, text: op.k === 'assign' ? op.rhs : op.text },
      read: r.read,
      store: { fn: fn.name, line: st.line, text: st.text, chain: st.chain },
      writer: w.site,
      check,
    };
    if (fence) f.fence = fence;
    out.push(f);
  }
  return out;
}

/**
 * Writer side, at an op of the walked function: an update that raises a
 * store-buffering protocol variable with no full barrier after it on some path
 * to the exit, while a lockless reader in view relies on the pairing (or the
 * model declares the protocol and the barrier sits before the update).
 */
export function writerSideFindings(unit: UnitView, model: Model, fn: LoweredFunction, ev: { node: CfgNode; op: Op; pre: State }): WriterSideFinding[] {
  const { node, op, pre } = ev;
  const out: WriterSideFinding[] = [];
  for (const a of opAccesses(unit, op)) {
    if (a.access === 'read' || !a.raises) continue;
    const pv = model.protocolVariable(a.chain);
    const partner = pv?.sbPartners?.[0];
    if (!pv || !partner) continue;
    const flow = flowOf(fn, unit, model);
    const idx = node.ops.indexOf(op);
    if (barrierAfterOp(flow, node, idx, unit)) continue;
    const before = pre.mem.lastFull && op.line - pre.mem.lastFull.line <= NEAR && op.line >= pre.mem.lastFull.line ? pre.mem.lastFull : undefined;
    const readers = protocolSites(unit, model, pv).reads.filter((r) => r.lockless && r.decision && r.barrierBefore && r.fn !== fn);
    const rd = readers[0];
    if (!rd && !before) continue;
    const partnerText = partner === model.guestMemory ? 'guest memory' : partner;
    const reader: SbSide = rd
      ? {
        fn: rd.fn.name,
        store: { loc: partner, text: `store to ${partnerText} (by its caller)`, line: 0 },
        load: { loc: pv.chain, text: rd.text, line: rd.line },
        fence: { position: 'between', text: rd.barrierBefore!.text, line: rd.barrierBefore!.line },
      }
      : {
        fn: 'reader', assumed: true,
        store: { loc: partner, text: `store to ${partnerText}`, line: 0 },
        load: { loc: pv.chain, text: `lockless read of ${pv.chain}`, line: 0 },
        fence: { position: 'between', text: 'smp_mb()', line: 0 },
      };
    const writer: SbSide = {
      fn: fn.name,
      store: { loc: pv.chain, text: accessText(op), line: op.line },
      load: { loc: partner, text: `later read of ${partnerText}`, line: 0 },
    };
    if (before) writer.fence = { position: 'before-store', text: before.text, line: before.line };
    const check = checkStoreBuffering(`kvmlint-sb-${litmusVar(pv.chain)}`, reader, writer, (k, c) => unit.sharedMemo(k, c));
    if (!check.allowed) continue;
    const f: WriterSideFinding = {
      kind: before ? 'misplaced' : 'missing',
      pv,
      write: { fn: fn.name, line: op.line, col: op.col, text: accessText(op) },
      reader: rd
        ? { fn: rd.fn.name, line: rd.line, text: rd.text, assumed: false, barrier: { fn: rd.fn.name, line: rd.barrierBefore!.line, text: rd.barrierBefore!.text } }
        : { fn: '', line: 0, text: '', assumed: true },
      partner: partnerText,
      check,
    };
    if (before) f.fence = { fn: fn.name, line: before.line, text: before.text };
    out.push(f);
  }
  return out;
}

/** `arch.indirect_shadow_pages` -> `kvm->arch.indirect_shadow_pages`. */
export function displayVar(pv: ProtocolVariable): string {
  return `kvm->${pv.chain}`;
}

/** `kvm.mmu_lock` -> `kvm->mmu_lock`. */
export function displayLock(id: string | undefined): string {
  if (!id) return 'the lock';
  const i = id.indexOf('.');
  return i > 0 ? `${id.slice(0, i)}->${id.slice(i + 1)}` : id;
}

// ------------------------------------------------------------------ message passing

export interface MpSide {
  fn: string;
  /** The data the flag publishes (e.g. the rmap arrays) and the flag itself. */
  data: { loc: string; text: string; line: number };
  flag: { loc: string; text: string; line: number; order: 'plain' | 'once' | 'release' | 'acquire' };
}

/**
 * Message passing: the writer stores the data, then the flag; the reader loads
 * the flag, then the data. Runs the LKMM: may the reader see the flag set and
 * the data still initial?
 */
export function checkMessagePassing(name: string, writer: MpSide, reader: MpSide, memo?: LitmusMemo): LitmusCheck {
  let data = litmusVar(writer.data.loc);
  const flag = litmusVar(writer.flag.loc);
  if (data === flag) data = `${data}_data`;
  const at = (x: { text: string; line: number }): string => (x.line > 0 ? `${x.text} (line ${x.line})` : x.text);
  const wOrder = writer.flag.order === 'acquire' ? 'once' : writer.flag.order;
  const rOrder = reader.flag.order === 'release' ? 'once' : reader.flag.order;
  const threads: AbstractThread[] = [
    {
      name: `${writer.fn}: ${at(writer.data)} ... ${at(writer.flag)}`,
      accesses: [{ kind: 'store', variable: data, value: 1, order: 'once' }, { kind: 'store', variable: flag, value: 1, order: wOrder }],
    },
    {
      name: `${reader.fn}: ${at(reader.flag)} ... ${at(reader.data)}`,
      accesses: [{ kind: 'load', variable: flag, order: rOrder, register: 'r0' }, { kind: 'load', variable: data, order: 'once', register: 'r1' }],
    },
  ];
  const comment = [
    `kvmlint: message passing of ${data} through ${flag}.`,
    `P0 = writer ${writer.fn}(): initialises ${data}, then sets ${flag} (${writer.flag.text}).`,
    `P1 = reader ${reader.fn}(): reads ${flag} (${reader.flag.text}), then ${data}.`,
    'exists: the reader sees the flag set but the data still initial.',
  ].join('\n');
  const text = buildLitmus(name, threads, '1:r0=1 /\\ 1:r1=0', comment);
  return runChecked(text, memo);
}

/** One side's access of a publish protocol, for the litmus comment. */
export interface PublishSite {
  text: string;
  line: number;
}

/**
 * SRCU publish then free: the writer replaces `kvm->memslots` with
 * rcu_assign_pointer() and frees (or reuses) the old array, with or without
 * synchronize_srcu() in between; any reader dereferences the pointer inside an
 * SRCU read-side section and reads the array. Asks the LKMM whether a reader
 * can see the old array already freed.
 */
export function checkSrcuPublishFree(
  writerFn: string,
  publish: PublishSite,
  free: PublishSite,
  withSync: boolean,
  memo?: LitmusMemo,
): LitmusCheck {
  const text = [
    'C kvmlint-memslots-publish-free',
    '',
    '(*',
    ` * kvmlint: ${writerFn}() publishes a new memslots array (${publish.text}, line ${publish.line})`,
    ` * and then frees or reuses the old one (${free.text}, line ${free.line})${withSync ? ' after synchronize_srcu()' : ' with no synchronize_srcu() in between'}.`,
    ' * P0 = the writer; P1 = any vCPU reading kvm->memslots under kvm->srcu.',
    ' * exists: the reader got the old array and sees it already freed.',
    ' *)',
    '',
    '{',
    'int *memslots = &old_slots;',
    'int old_slots = 1;',
    'int new_slots = 1;',
    '}',
    '',
    'P0(int **memslots, int *old_slots, int *new_slots, struct srcu_struct *kvm_srcu)',
    '{',
    '\trcu_assign_pointer(*memslots, new_slots);',
    ...(withSync ? ['\tsynchronize_srcu(kvm_srcu);'] : []),
    '\tWRITE_ONCE(*old_slots, 0);',
    '}',
    '',
    'P1(int **memslots, struct srcu_struct *kvm_srcu)',
    '{',
    '\tint idx;',
    '\tint *r0;',
    '\tint r1;',
    '',
    '\tidx = srcu_read_lock(kvm_srcu);',
    '\tr0 = rcu_dereference(*memslots);',
    '\tr1 = READ_ONCE(*r0);',
    '\tsrcu_read_unlock(kvm_srcu, idx);',
    '}',
    '',
    'exists (1:r0=old_slots /\\ 1:r1=0)',
    '',
  ].join('\n');
  return runChecked(text, memo);
}
