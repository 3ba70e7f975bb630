/**
 * The engine's abstract state at a program point, and its lattice operations.
 *
 * A state is immutable plain data. The engine keeps a bounded *set* of states
 * per CFG node (disjunctive, path-sensitive like smatch); only when a node has
 * more than `MAX_STATES_PER_NODE` distinct states are new ones joined into an
 * existing one with `join`, whose per-field semantics are documented there.
 */

export interface Site {
  line: number;
  col: number;
  text: string;
}

export interface SrcuState {
  /** Depth of read-side sections opened explicitly in this function on this path. */
  depth: number;
  /** What holds at function entry: a caller's section ('held', from summaries or assertions), unknown, or none. */
  entry: 'held' | 'unknown' | 'none';
  /** Identity of the current section: 'entry' or the site of the outermost explicit lock. */
  section: string;
  /** Where the outermost explicit section was opened. */
  openedAt?: Site;
  /** Where this function last closed a section, its own or the caller's (cleared when one is reopened). */
  closedAt?: Site;
}

export interface LockState {
  mode: 'write' | 'read' | 'excl';
  /** Acquired here, or assumed (lockdep assertion / caller). */
  at?: Site;
  assumed?: boolean;
}

export interface SnapshotState extends Site {
  section: string;
  via?: string;
  /** Self-contained guest access: nothing derived from it outlives the call. */
  access?: boolean;
  /** Variables holding the snapshot's result or values derived from it (memslot, slots, hva, generation...). */
  holders?: string[];
  /** A branch on this path tested snapshot-derived state (a decision was taken on this snapshot). */
  decided?: boolean;
}

export interface RefState extends Site {
  /**
   * 'iter': held by a yield-safe root iterator; 'get': explicit get;
   * 'put': the variable's reference was put (or the root freed) here: it may be dangling.
   */
  kind: 'iter' | 'get' | 'put';
  loopId?: number;
  /** An 'iter' reference whose loop was left early (break/goto/return) at this jump. */
  left?: Site;
}

/** What a local variable is known to hold. */
export interface Fact {
  /** Name of the call whose result it holds. */
  call?: string;
  callId?: number;
  /** For reads: the member chain whose value it holds. */
  chain?: string;
}

export interface StoreRecord extends Site {
  chain: string;
  order: string;
  /** Canonical owner of the stored member (`kvm`, `vcpu`, `guest` for guest memory), when known. */
  base?: string;
}

export interface MemState {
  /** Stores on this path not yet followed by a full barrier (most recent last, bounded). */
  pendingStores: StoreRecord[];
  /** Last full barrier on the path. */
  lastFull?: Site & { barrier: string };
}

export interface State {
  srcu: SrcuState;
  /** Canonical lock id -> held. */
  locks: Record<string, LockState>;
  /** Address space key -> first snapshot in the current section. */
  snaps: Record<string, SnapshotState>;
  /** mmu_invalidate_in_progress elevated by this function (depth). */
  inval: number;
  invalAt?: Site;
  /** Last synchronize_srcu(&kvm->srcu) on this path. */
  synced?: Site;
  /** A memslots publish not yet followed by a grace period. */
  published?: Site & { value: string; object: string };
  /** TDP MMU root references held, by variable. */
  refs: Record<string, RefState>;
  /** A true rmap-guard test dominates this point. */
  rmapGuard?: Site;
  /** Variables known to hold call results or member values. */
  facts: Record<string, Fact>;
  mem: MemState;
  /** Id of the return statement this path left through (keeps exit states per return unmerged). */
  ret?: number;
}

export const MAX_STATES_PER_NODE = 24;
export const MAX_SRCU_DEPTH = 3;
export const MAX_PENDING_STORES = 4;

export function initialState(entry: SrcuState['entry'], locks: Record<string, LockState> = {}): State {
  return {
    srcu: { depth: 0, entry, section: 'entry' },
    locks,
    snaps: {},
    inval: 0,
    refs: {},
    facts: {},
    mem: { pendingStores: [] },
  };
}

/** True when the memslots domain may be held (explicitly or by a caller). */
export function inSrcuSection(s: State): boolean {
  return s.srcu.depth > 0 || s.srcu.entry !== 'none';
}

/** True when a read-side section is known to be held (explicitly, or asserted/summarised at entry). */
export function srcuKnownHeld(s: State): boolean {
  return s.srcu.depth > 0 || s.srcu.entry === 'held';
}

// ------------------------------------------------------------------ keys

function siteKey(s: Site | undefined): string {
  return s ? `${s.line}:${s.col}` : '-';
}

function recKey<T>(r: Record<string, T>, f: (v: T) => string): string {
  const keys = Object.keys(r).sort();
  let out = '';
  for (const k of keys) out += `${k}=${f(r[k])},`;
  return out;
}

/** Canonical key: states with equal keys are the same state. */
export function stateKey(s: State): string {
  return [
    s.srcu.depth, s.srcu.entry, s.srcu.section, siteKey(s.srcu.closedAt),
    recKey(s.locks, (l) => `${l.mode}${l.assumed ? 'a' : ''}`),
    recKey(s.snaps, (v) => `${siteKey(v)}@${v.section}${v.access ? 'A' : ''}${v.holders?.join('+') ?? ''}${v.decided ? 'D' : ''}`),
    s.inval, siteKey(s.synced),
    s.published ? siteKey(s.published) : '-',
    recKey(s.refs, (r) => `${r.kind}${siteKey(r)}${r.left ? `<${siteKey(r.left)}` : ''}`),
    siteKey(s.rmapGuard),
    recKey(s.facts, (f) => `${f.call ?? ''}#${f.callId ?? ''}#${f.chain ?? ''}`),
    s.mem.pendingStores.map((p) => `${p.chain}${siteKey(p)}`).join(';'), siteKey(s.mem.lastFull),
    s.ret ?? '-',
  ].join('|');
}

// ------------------------------------------------------------------ join

function intersect<T>(a: Record<string, T>, b: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(a)) if (k in b) out[k] = a[k];
  return out;
}

function union<T>(a: Record<string, T>, b: Record<string, T>): Record<string, T> {
  return { ...b, ...a };
}

/**
 * Join used only when a node overflows its state budget.
 *  - must facts (locks held, SRCU depth, invalidation, grace period seen, rmap guard): intersection/min;
 *  - may facts (snapshots taken, pending publish, references held, pending stores): union.
 * Reports after a join can therefore only lose must-facts (fewer "held" claims),
 * which makes rules that need a must-fact quieter, never louder.
 */
export function join(a: State, b: State): State {
  const depth = Math.min(a.srcu.depth, b.srcu.depth);
  const entry: SrcuState['entry'] = a.srcu.entry === b.srcu.entry ? a.srcu.entry : a.srcu.entry === 'none' || b.srcu.entry === 'none' ? 'unknown' : 'unknown';
  const srcu: SrcuState = { depth, entry, section: a.srcu.section === b.srcu.section ? a.srcu.section : depth > 0 ? a.srcu.section : 'entry' };
  if (a.srcu.openedAt && depth > 0) srcu.openedAt = a.srcu.openedAt;
  // Must fact (it says no section is held): both paths closed their own section.
  if (a.srcu.closedAt && b.srcu.closedAt && depth === 0) srcu.closedAt = a.srcu.closedAt;
  const out: State = {
    srcu,
    locks: intersect(a.locks, b.locks),
    snaps: union(a.snaps, b.snaps),
    inval: Math.min(a.inval, b.inval),
    refs: union(a.refs, b.refs),
    facts: intersect(a.facts, b.facts),
    mem: {
      pendingStores: dedupeStores([...a.mem.pendingStores, ...b.mem.pendingStores]),
    },
  };
  if (a.invalAt && out.inval > 0) out.invalAt = a.invalAt;
  if (a.synced && b.synced) out.synced = a.synced;
  const pub = a.published ?? b.published;
  if (pub) out.published = pub;
  if (a.rmapGuard && b.rmapGuard) out.rmapGuard = a.rmapGuard;
  if (a.mem.lastFull && b.mem.lastFull) out.mem.lastFull = a.mem.lastFull;
  if (a.ret !== undefined && a.ret === b.ret) out.ret = a.ret;
  return out;
}

export function dedupeStores(list: StoreRecord[]): StoreRecord[] {
  const seen = new Set<string>();
  const out: StoreRecord[] = [];
  for (let i = list.length - 1; i >= 0; i--) {
    const k = `${list[i].chain}@${list[i].line}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.unshift(list[i]);
  }
  return out.slice(-MAX_PENDING_STORES);
}
