/**
 * The Linux-kernel memory model's consistency check for one candidate
 * execution, implemented relation by relation after
 * tools/memory-model/{linux-kernel.bell,linux-kernel.cat,lock.cat}.
 *
 * Relations that only depend on the threads' events (po, dependencies,
 * fences) are computed once per combination of thread traces (`StaticModel`);
 * the rest is computed per rf/co choice in `checkExecution`.
 */
import { T, type TEvent } from './events.js';
import { EvSet, Rel } from './relation.js';

export interface GEvent extends TEvent {
  id: number;
  /** -1 for initial writes. */
  thread: number;
  /** Position in its thread's program order. */
  po: number;
}

export interface StaticModel {
  n: number;
  ev: GEvent[];
  // event sets
  R: EvSet;
  W: EvSet;
  M: EvSet;
  IW: EvSet;
  Marked: EvSet;
  Plain: EvSet;
  LKR: EvSet;
  R4rmb: EvSet;
  notSrcuUnlock: EvSet;
  SrcuLock: EvSet;
  SrcuUnlock: EvSet;
  notNoreturn: EvSet;
  hasRcu: boolean;
  hasPlain: boolean;
  hasUnlockLockFence: boolean;
  // relations
  po: Rel;
  poLoc: Rel;
  loc: Rel;
  int: Rel;
  ext: Rel;
  addr0: Rel;
  data0: Rel;
  ctrl0: Rel;
  rmw: Rel;
  acqPo: Rel;
  poRel: Rel;
  rmb: Rel;
  wmb: Rel;
  mbStatic: Rel;
  gp: Rel;
  barrier: Rel;
  rmbFenceRel: Rel;
  poULpo: Rel; // po ; [UL]
  LKRpo: Rel; // [LKR] ; po
  afterUL: Rel; // [After-unlock-lock] ; po ; [M]
  rcuRscs: Rel;
  syncRcu: EvSet;
  syncSrcu: EvSet;
  preRace: Rel;
  /**
   * herd7 flags that depend only on the events (linux-kernel.bell,
   * linux-kernel.cat's mixed-accesses, lock.cat); reported for a test when an
   * allowed execution raises them.
   */
  staticFlags: string[];
}

function setOf(ev: GEvent[], pred: (e: GEvent) => boolean): EvSet {
  const s = new EvSet(ev.length);
  for (const e of ev) if (pred(e)) s.add(e.id);
  return s;
}

export function buildStatic(ev: GEvent[]): StaticModel {
  const n = ev.length;
  const has = (e: GEvent, t: number): boolean => (e.tags & t) !== 0;
  const R = setOf(ev, (e) => e.kind === 'R');
  const W = setOf(ev, (e) => e.kind === 'W');
  const M = R.union(W);
  const IW = setOf(ev, (e) => has(e, T.INIT));
  const fenceSet = (t: number): EvSet => setOf(ev, (e) => e.kind === 'F' && has(e, t));
  const Acquire = setOf(ev, (e) => has(e, T.ACQUIRE | T.LKR));
  const Release = setOf(ev, (e) => has(e, T.RELEASE | T.UL));
  const Noreturn = setOf(ev, (e) => has(e, T.NORETURN));
  const RMWset = setOf(ev, (e) => has(e, T.RMW));
  const LKR = setOf(ev, (e) => has(e, T.LKR));
  const LKW = setOf(ev, (e) => has(e, T.LKW));
  const SrcuLock = setOf(ev, (e) => has(e, T.SRCU_LOCK));
  const SrcuUnlock = setOf(ev, (e) => has(e, T.SRCU_UNLOCK));

  const po = new Rel(n);
  const loc = new Rel(n);
  const int = new Rel(n);
  const addr0 = new Rel(n);
  const data0 = new Rel(n);
  const ctrl0 = new Rel(n);
  const rmw = new Rel(n);
  // Base index of each thread's events, to map local dependency indices.
  const base = new Map<number, number>();
  for (const e of ev) if (e.thread >= 0 && !base.has(e.thread)) base.set(e.thread, e.id);
  for (const a of ev) {
    for (const b of ev) {
      if (a.thread >= 0 && a.thread === b.thread && a.po < b.po) po.add(a.id, b.id);
      if (a.thread === b.thread && (a.thread >= 0 || a.id === b.id)) int.add(a.id, b.id);
      if (a.loc !== undefined && a.loc === b.loc) loc.add(a.id, b.id);
    }
    if (a.thread >= 0) {
      const b0 = base.get(a.thread)!;
      for (const d of a.addr) addr0.add(b0 + d, a.id);
      for (const d of a.data) data0.add(b0 + d, a.id);
      for (const d of a.ctrl) ctrl0.add(b0 + d, a.id);
      if (a.rmwWith !== undefined) rmw.add(b0 + a.rmwWith, a.id);
    }
  }
  const ext = new Rel(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (!int.has(i, j)) ext.add(i, j);
  const poLoc = po.inter(loc);

  const Marked = M.complement()
    .union(IW)
    .union(setOf(ev, (e) => has(e, T.ONCE | T.RELEASE | T.ACQUIRE)))
    .union(rmw.domainSet())
    .union(rmw.rangeSet())
    .union(setOf(ev, (e) => has(e, T.LKR | T.LKW | T.UL | T.LF | T.RL | T.RU | T.SRCU_LOCK | T.SRCU_UNLOCK)));
  const Plain = M.minus(Marked);

  const fencerel = (s: EvSet): Rel => po.rng(s).seq(po);
  const R4rmb = R.minus(Noreturn);
  const acqPo = po.restrict(Acquire, M);
  const poRel = po.restrict(M, Release);
  const rmbFenceRel = fencerel(fenceSet(T.RMB));
  const rmb = rmbFenceRel.restrict(R4rmb, R4rmb);
  const wmb = fencerel(fenceSet(T.WMB)).restrict(W, W);
  const poOpt = po.withId();
  const mbStatic = fencerel(fenceSet(T.MB))
    .restrict(M, M)
    .union(fencerel(fenceSet(T.BEFORE_ATOMIC)).rng(RMWset).seq(poOpt).restrict(M, M))
    .union(poOpt.rng(RMWset).seq(fencerel(fenceSet(T.AFTER_ATOMIC))).restrict(M, M))
    .union(poOpt.rng(LKW).seq(fencerel(fenceSet(T.AFTER_SPINLOCK))).restrict(M, M))
    .union(poOpt.rng(SrcuUnlock).seq(fencerel(fenceSet(T.AFTER_SRCU_UNLOCK))).restrict(M, M));
  const syncRcu = fenceSet(T.SYNC_RCU);
  const syncSrcu = setOf(ev, (e) => has(e, T.SYNC_SRCU));
  const gp = po.rng(syncRcu.union(syncSrcu)).seq(poOpt);
  const barrier = fencerel(
    setOf(
      ev,
      (e) =>
        (e.kind === 'F' &&
          has(e, T.BARRIER | T.RMB | T.WMB | T.MB | T.SYNC_RCU | T.BEFORE_ATOMIC | T.AFTER_ATOMIC | T.RCU_LOCK | T.RCU_UNLOCK)) ||
        has(e, T.SYNC_SRCU | T.ACQUIRE | T.LKR | T.RELEASE | T.UL | T.SRCU_LOCK | T.SRCU_UNLOCK),
    ),
  )
    .union(po.rng(Release))
    .union(po.dom(Acquire));
  const UL = setOf(ev, (e) => has(e, T.UL));
  const AUL = fenceSet(T.AFTER_UNLOCK_LOCK);

  // RCU read-side critical sections: properly nested lock/unlock per thread
  // (the bell's recursive innermost-first matching is stack matching).
  const rcuRscs = new Rel(n);
  let unmatchedRcuLock = false;
  let unmatchedRcuUnlock = false;
  const threads = [...new Set(ev.filter((e) => e.thread >= 0).map((e) => e.thread))];
  for (const t of threads) {
    const stack: number[] = [];
    for (const e of ev) {
      if (e.thread !== t || e.kind !== 'F') continue;
      if (has(e, T.RCU_LOCK)) stack.push(e.id);
      else if (has(e, T.RCU_UNLOCK)) {
        const l = stack.pop();
        if (l !== undefined) rcuRscs.add(l, e.id);
        else unmatchedRcuUnlock = true;
      }
    }
    if (stack.length > 0) unmatchedRcuLock = true;
  }
  const staticFlags: string[] = [];
  if (unmatchedRcuLock) staticFlags.push('unmatched-rcu-lock');
  if (unmatchedRcuUnlock) staticFlags.push('unmatched-rcu-unlock');
  // invalid-sleep: rcu-rscs & (po ; [Sync-srcu] ; po)
  const syncSrcuAll = setOf(ev, (e) => has(e, T.SYNC_SRCU));
  if (!rcuRscs.inter(po.rng(syncSrcuAll).seq(po)).isEmpty()) staticFlags.push('invalid-sleep');
  // mixed-accesses: ([Plain & W] ; (po-loc \ barrier) ; [Marked]) | ([Marked] ; (po-loc \ barrier) ; [Plain & W])
  {
    const plainW = Plain.inter(W);
    const pl = poLoc.minus(barrier);
    if (!pl.restrict(plainW, Marked).isEmpty() || !pl.restrict(Marked, plainW).isEmpty()) staticFlags.push('mixed-accesses');
  }
  // lock.cat: no ordinary accesses to lock (or SRCU) locations.
  const ALL_LOCKS = T.LKR | T.LKW | T.UL | T.LF | T.RL | T.RU | T.SRCU_LOCK | T.SRCU_UNLOCK | T.SYNC_SRCU;
  const allLocks = setOf(ev, (e) => has(e, ALL_LOCKS));
  const ordinary = M.minus(IW).minus(allLocks);
  if (!loc.restrict(ordinary, allLocks).isEmpty()) staticFlags.push('mixed-lock-accesses');
  // unmatched-unlock: UL \ range(critical), critical = ([LKW] ; po-loc ; [UL]) \ (po-loc ; [LKW | UL] ; po-loc)
  {
    const ULs = setOf(ev, (e) => has(e, T.UL));
    const lkwOrUl = LKW.union(ULs);
    const critical = poLoc.restrict(LKW, ULs).minus(poLoc.rng(lkwOrUl).seq(poLoc));
    if (!ULs.minus(critical.rangeSet()).isEmpty()) staticFlags.push('unmatched-unlock');
  }
  const hasRcu = !syncRcu.isEmpty() || !syncSrcu.isEmpty();
  const notIW = M.minus(IW);
  const preRace = ext.inter(Rel.cross(Plain, M).union(Rel.cross(notIW, Plain)));

  return {
    n,
    ev,
    R,
    W,
    M,
    IW,
    Marked,
    Plain,
    LKR,
    R4rmb,
    notSrcuUnlock: SrcuUnlock.complement(),
    SrcuLock,
    SrcuUnlock,
    notNoreturn: Noreturn.complement(),
    hasRcu,
    hasPlain: !Plain.isEmpty(),
    hasUnlockLockFence: !AUL.isEmpty(),
    po,
    poLoc,
    loc,
    int,
    ext,
    addr0,
    data0,
    ctrl0,
    rmw,
    acqPo,
    poRel,
    rmb,
    wmb,
    mbStatic,
    gp,
    barrier,
    rmbFenceRel,
    poULpo: po.rng(UL),
    LKRpo: po.dom(LKR),
    afterUL: po.dom(AUL).rng(M),
    rcuRscs,
    syncRcu,
    syncSrcu,
    preRace,
    staticFlags,
  };
}

/**
 * The part of `hb` that needs no rf/co choice: ppo's fences and
 * dependencies, and `po-loc ; [W]` (which coherence makes `overwrite & int`),
 * on Marked events. With any `rfe` edges added, a cycle in it is a cycle in
 * `hb`: the engine uses it to drop whole subtrees of rf/co choices early.
 */
export function staticHbPart(sm: StaticModel): Rel {
  const fences = sm.mbStatic.union(sm.gp, sm.poRel, sm.acqPo, sm.wmb, sm.rmb).inter(sm.int);
  const deps = sm.addr0.union(sm.data0.rng(sm.W), sm.ctrl0.rng(sm.W), sm.poLoc.rng(sm.W));
  return fences.union(deps).restrict(sm.Marked, sm.Marked);
}

export interface CheckResult {
  allowed: boolean;
  /** The axiom that failed, when not allowed. */
  failed?: string;
  datarace: boolean;
  hb?: Rel;
  /** herd7 flags raised by this (allowed) execution, data-race included. */
  flags?: string[];
}

/** srcu-rscs = ([Srcu-lock] ; carry-srcu-data ; data ; [Srcu-unlock]) & loc */
function srcuRscsOf(sm: StaticModel, rf: Rel): Rel {
  const carrySrcu = sm.data0.rng(sm.notSrcuUnlock).seq(rf).star();
  return carrySrcu.dom(sm.SrcuLock).seq(sm.data0).rng(sm.SrcuUnlock).inter(sm.loc);
}

/** The flags of an allowed execution: the static ones plus the bell's SRCU matching checks. */
function flagsOf(sm: StaticModel, rf: Rel, datarace: boolean): string[] {
  const flags = [...sm.staticFlags];
  if (datarace) flags.push('data-race');
  if (!sm.SrcuLock.isEmpty() || !sm.SrcuUnlock.isEmpty()) {
    const srcuRscs = srcuRscsOf(sm, rf);
    if (!sm.SrcuLock.minus(srcuRscs.domainSet()).isEmpty()) flags.push('unmatched-srcu-lock');
    if (!sm.SrcuUnlock.minus(srcuRscs.rangeSet()).isEmpty()) flags.push('unmatched-srcu-unlock');
    if (!srcuRscs.inv().seq(srcuRscs).withoutId().isEmpty()) flags.push('multiple-srcu-matches');
    let bad = false;
    for (const l of sm.SrcuLock.members()) for (const u of sm.SrcuUnlock.members()) if (srcuRscs.has(l, u) && sm.ev[l]!.val !== sm.ev[u]!.val) bad = true;
    if (bad) flags.push('srcu-bad-value-match');
  }
  return flags.sort();
}

/**
 * Checks the LKMM axioms for one execution. `rf` maps each read to its write;
 * `co` is the (transitive) coherence order, initial writes first. With
 * `orderingOnly`, only happens-before, propagation and rcu are checked (the
 * monotone axioms), which is sound on a partial rf/co.
 */
export function checkExecution(sm: StaticModel, rf: Rel, co: Rel, skipCoherence = false, orderingOnly = false): CheckResult {
  const { Marked, int, ext, po } = sm;
  const fr = rf.inv().seq(co);
  if (!skipCoherence) {
    const com = rf.union(co, fr);
    if (!sm.poLoc.union(com).acyclic()) return { allowed: false, failed: 'coherence', datarace: false };
    if (!sm.rmw.inter(fr.inter(ext).seq(co.inter(ext))).isEmpty()) return { allowed: false, failed: 'atomic', datarace: false };
  }
  const rfi = rf.inter(int);
  const rfe = rf.inter(ext);
  // Dependencies carried through plain (or any) rfi.
  const carryDep = sm.data0.rng(sm.notSrcuUnlock).seq(rfi).star();
  const addr = carryDep.seq(sm.addr0);
  const data = carryDep.seq(sm.data0);
  const ctrl = carryDep.seq(sm.ctrl0);

  // lock handover: po ; [UL] ; (po|rf) ; [LKR] ; po
  const pullp = sm.poULpo.seq(po.union(rf)).seq(sm.LKRpo);
  let mb = sm.mbStatic;
  if (sm.hasUnlockLockFence) mb = mb.union(pullp.seq(sm.afterUL).dom(sm.M));
  const strongFence0 = mb.union(sm.gp);
  const nonrwFence = strongFence0.union(sm.poRel, sm.acqPo);
  const fence0 = nonrwFence.union(sm.wmb, sm.rmb);

  const overwrite = co.union(fr);
  const dep = addr.union(data);
  const rwdep = dep.union(ctrl).rng(sm.W);
  const toW = rwdep.union(overwrite.inter(int), addr.rng(sm.Plain).seq(sm.wmb));
  const toR = addr.rng(sm.R).union(dep.rng(Marked).seq(rfi));
  const ppo = toR.union(toW, fence0.inter(int), pullp.inter(int));

  const rfeM = rfe.rng(Marked).withId();
  const rmwSeq = rf.seq(sm.rmw).star();
  const cumulFence = rfeM
    .seq(strongFence0.union(sm.poRel))
    .union(sm.wmb, pullp)
    .restrict(Marked, Marked)
    .seq(rmwSeq);
  const cumulStar = cumulFence.star();
  const prop = overwrite.inter(ext).withId().dom(Marked).seq(cumulStar).rng(Marked).seq(rfe.withId().rng(Marked));
  const hb = ppo.union(rfe, prop.withoutId().inter(int)).restrict(Marked, Marked);
  if (!hb.acyclic()) return { allowed: false, failed: 'happens-before', datarace: false };
  const hbStar = hb.star();
  const pb = prop.seq(strongFence0).seq(hbStar).rng(Marked);
  if (!pb.acyclic()) return { allowed: false, failed: 'propagation', datarace: false };

  let strongFence = strongFence0;
  let fence = fence0;
  let rb: Rel | undefined;
  if (sm.hasRcu) {
    const pbStar = pb.star();
    const rcuLink = po.withId().seq(hbStar).seq(pbStar).seq(prop).seq(po);
    const rcuGp = Rel.id(sm.syncRcu);
    const srcuGp = Rel.id(sm.syncSrcu);
    const rcuRscsi = sm.rcuRscs.inv();
    // srcu-rscs = ([Srcu-lock] ; carry-srcu-data ; data ; [Srcu-unlock]) & loc
    const srcuRscs = srcuRscsOf(sm, rf);
    const srcuRscsi = srcuRscs.inv();
    const gpL_r = rcuGp.seq(rcuLink);
    const sgpL = srcuGp.seq(rcuLink);
    const rL = rcuRscsi.seq(rcuLink);
    const srL = srcuRscsi.seq(rcuLink);
    let order = rcuGp.union(
      srcuGp,
      gpL_r.seq(rcuRscsi),
      sgpL.seq(srcuRscsi).inter(sm.loc),
      rL.seq(rcuGp),
      srL.seq(srcuGp).inter(sm.loc),
    );
    for (let iter = 0; iter < 64; iter++) {
      const oL = order.seq(rcuLink);
      const next = order.union(
        gpL_r.seq(oL).seq(rcuRscsi),
        sgpL.seq(oL).seq(srcuRscsi).inter(sm.loc),
        rL.seq(oL).seq(rcuGp),
        srL.seq(oL).seq(srcuGp).inter(sm.loc),
        oL.seq(order),
      );
      if (next.equals(order)) break;
      order = next;
    }
    const rcuFence = po.seq(order).seq(po.withId());
    fence = fence0.union(rcuFence);
    strongFence = strongFence0.union(rcuFence);
    rb = prop.seq(rcuFence).seq(hbStar).seq(pbStar).rng(Marked);
    if (!rb.irreflexive()) return { allowed: false, failed: 'rcu', datarace: false };
  }

  // hb, pb and rb only grow with rf and co (no negation of either above), so
  // a cycle found with a part of rf/co is a cycle in every completion: the
  // engine calls this with the locations chosen so far to cut subtrees.
  if (orderingOnly) return { allowed: true, datarace: false, hb };
  if (!sm.hasPlain) return { allowed: true, datarace: false, hb, flags: flagsOf(sm, rf, false) };

  // Plain accesses.
  const xb = rb ? hb.union(pb, rb) : hb.union(pb);
  const xbstar = xb.star();
  const vis = cumulStar
    .seq(rfe.withId())
    .rng(Marked)
    .seq(strongFence.rng(Marked).seq(xbstar).union(xbstar.inter(int)));
  const wPreBounded = addr.union(fence).withId().dom(Marked);
  const rPreBounded = addr.union(nonrwFence, sm.rmbFenceRel.restrict(sm.R4rmb, sm.notNoreturn)).withId().dom(Marked);
  const wPostBounded = fence.withId().rng(Marked).seq(rmwSeq);
  const rPostBounded = nonrwFence.union(sm.rmbFenceRel.restrict(sm.notNoreturn, sm.R4rmb)).withId().rng(Marked);
  const sfx = strongFence.seq(xbstar);
  const wpv = wPostBounded.seq(vis);
  const wwVis = fence.union(sfx.seq(wPreBounded), wpv.seq(wPreBounded));
  const wrVis = fence.union(sfx.seq(rPreBounded), wpv.seq(rPreBounded));
  const rwXbstar = fence.union(rPostBounded.seq(xbstar).seq(wPreBounded));
  const pre = sm.preRace;
  const wrIncoh = pre.inter(rf).inter(rwXbstar.inv());
  const rwIncoh = pre.inter(fr).inter(wrVis.inv());
  const wwIncoh = pre.inter(co).inter(wwVis.inv());
  if (!wrIncoh.isEmpty() || !rwIncoh.isEmpty() || !wwIncoh.isEmpty()) {
    return { allowed: false, failed: 'plain-coherence', datarace: false };
  }
  const markedW = Rel.cross(Marked, sm.W);
  const wMarked = Rel.cross(sm.W, Marked);
  const wwNonrace = wwVis.inter(markedW.union(rwXbstar)).inter(wMarked.union(wrVis));
  const wwRace = pre.inter(co).minus(wwNonrace);
  const wrRace = pre.inter(co.withId().seq(rf)).minus(wrVis).minus(rwXbstar.inv());
  const rwRace = pre.inter(fr).minus(rwXbstar);
  const datarace = !wwRace.isEmpty() || !wrRace.isEmpty() || !rwRace.isEmpty();
  return { allowed: true, datarace, hb, flags: flagsOf(sm, rf, datarace) };
}
