/**
 * memslots-generation-order — the memslot generation is not split around the
 * publish and the SRCU synchronisation, or a cache is validated with a
 * generation read from another snapshot than its data (seed 002).
 *
 * Writer side, for a function that replaces the live memslots array (it looked at
 * the current one first) by publishing V with rcu_assign_pointer(kvm->memslots[...], V):
 *  - noMark: some path reaches the publish without first storing an in-progress
 *    generation into V (a computed value such as `gen | KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS`
 *    or `old + 1`; a plain copy of the old generation is not a mark);
 *  - early: V's generation is stored between the publish and the grace period
 *    (this check moved here from memslots-publish-without-sync);
 *  - noFinal: after synchronize_srcu(&kvm->srcu) some path returns without storing
 *    the final generation into V.
 * kvm_swap_active_memslots() (mark, publish, synchronize_srcu_expedited(), final
 * value) is the correct shape.
 *
 * Reader side (crossSection): a cache stores a generation taken from a memslots
 * snapshot of another SRCU read-side section than the snapshot its other fields
 * were derived from. (Two snapshots in one section are memslots-double-snapshot's.)
 *
 * Confidence: high for the writer side (path-insensitive over the CFG; the
 * published variable is matched by name); medium for the reader side.
 * Known false-positive causes: the generation stored by a helper the analysis
 * does not see into; a publish whose grace period and final store are in a caller.
 */
import type { AccessOp, CallOp, CfgNode, LoweredFunction, Op } from '../analyzer/ir.js';
import type { Rule } from '../analyzer/rule-api.js';
import { mustFollow, mustPrecede } from '../analyzer/cfg-query.js';
import type { State } from '../analyzer/state.js';

export const rule: Rule = {
  meta: {
    id: 'memslots-generation-order',
    severity: 'error',
    confidence: 'high',
    summary: 'Memslot generation not marked in progress before the publish and finalised after synchronize_srcu()',
    docs: 'docs/rules/memslots-generation-order.md',
    seeds: ['Re: [PATCH 1/2] KVM: fix cache stale memslot info with correct mmio generation number'],
    falsePositives: [
      'the generation is stored by a helper called with the new array',
      'the grace period and the final generation store happen in a caller',
    ],
    messages: {
      noMark:
        'new memslots {value} published ({publish}) without first marking its generation as update-in-progress: a fault that races with the update caches memslot info (MMIO SPTEs, gfn_to_hva caches) under a generation that is still valid afterwards; store e.g. `gen | KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS` into {value}->generation before rcu_assign_pointer()',
      early:
        'memslot generation finalised ({what}) after the publish at line {line} but before synchronize_srcu(&kvm->srcu): a fault that raced with the update can cache stale memslot info under the new, final generation; store the final value after the grace period',
      noFinal:
        'after the grace period at line {syncLine} the generation of {value} is never finalised on some path: it stays marked update-in-progress (or at the pre-publish value), so caches never become valid again, or a racing fault\'s cache stays valid; store the final generation after synchronize_srcu()',
      crossSection:
        '{cache} stores a memslot generation from {genSnap} (line {genLine}) but its other fields come from {dataSnap} (line {dataLine}) in another SRCU read-side section: the generation does not describe the data it validates; take both from one snapshot',
    },
  },
  create(ctx) {
    const model = ctx.model;
    const fn = ctx.fn;
    /** Snapshot call id -> section and site. */
    const snapCalls = new Map<number, { section: string; line: number; name: string }>();
    const genWrites: { base: string; snap: number; op: AccessOp }[] = [];
    const dataWrites: { base: string; snap: number; op: AccessOp }[] = [];
    /** Publishes (by line) whose generation was stored before the grace period. */
    const earlyFor = new Set<number>();

    const isGenWriteOf = (o: Op, value: string): boolean => o.k === 'write' && model.isGenerationChain(o.chain) && o.base === value;

    /** The snapshot a stored value derives from: a snapshot call, or a variable holding its result. */
    const sourceSnapshot = (op: AccessOp, node: CfgNode, s: State): number | undefined => {
      const r = op.rhs;
      if (!r) return undefined;
      const viaVar = (v: string | undefined): number | undefined => {
        const f = v ? s.facts[v] : undefined;
        return f?.callId !== undefined && snapCalls.has(f.callId) ? f.callId : undefined;
      };
      if (r.callId !== undefined) {
        if (snapCalls.has(r.callId)) return r.callId;
        const call = node.ops.find((o): o is CallOp => o.k === 'call' && o.id === r.callId);
        for (const a of call?.args ?? []) {
          const id = viaVar(a.ident);
          if (id !== undefined) return id;
        }
        return undefined;
      }
      return viaVar(r.ident) ?? viaVar(r.chain?.base);
    };

    return {
      op(ev) {
        const { op, pre, post } = ev;
        if (op.k === 'call') {
          for (const e of ev.effects) {
            if (e.kind === 'snapshot' && !e.access) snapCalls.set(op.id, { section: post.srcu.section, line: op.line, name: op.name });
            // Publish: the in-progress mark must precede it on every path.
            // Only a replacement of a live array (the current one was looked at first) races with
            // readers; the first install at VM creation has no readers and no old generation.
            const replacing = Object.keys(pre.snaps).length > 0 || Object.values(pre.facts).some((f) => !!f.chain && !!model.isPublishTarget(f.chain));
            if (e.kind === 'rcu-assign' && e.publishes && replacing) {
              const value = e.value.ident ?? e.value.text;
              if (!mustPrecede(fn, ev.node, op, (o) => isGenWriteOf(o, value) && isMark(o as AccessOp))) {
                ctx.report({
                  line: op.line, col: op.col, messageId: 'noMark',
                  data: { value, publish: op.text },
                  key: `noMark|${value}`,
                  path: ev.path(),
                });
              }
            }
            // Grace period after a publish: the final store must follow on every path.
            if (e.kind === 'sync' && e.domain === model.memslotsDomain && pre.published && !earlyFor.has(pre.published.line)) {
              const value = pre.published.value;
              if (!mustFollow(fn, ev.node, op, (o) => isGenWriteOf(o, value))) {
                ctx.report({
                  line: op.line, col: op.col, messageId: 'noFinal',
                  data: { value, syncLine: op.line },
                  related: [{ line: pre.published.line, message: 'new memslots published here' }],
                  key: `noFinal|${value}`,
                  path: ev.path(),
                });
              }
            }
          }
          return;
        }
        if (op.k !== 'write') return;
        if (pre.published && model.isGenerationChain(op.chain) && op.base === pre.published.value) {
          // One finding per mistake: the early store is the one to move, not also a missing final store.
          earlyFor.add(pre.published.line);
          ctx.report({
            line: op.line, col: op.col, messageId: 'early',
            data: { what: op.text, line: pre.published.line },
            related: [{ line: pre.published.line, message: 'new memslots published here' }],
            key: `early|${op.text}|${pre.published.text}`,
            path: ev.path(),
          });
          return;
        }
        const snap = sourceSnapshot(op, ev.node, pre);
        if (snap === undefined) return;
        (model.isGenerationChain(op.chain) ? genWrites : dataWrites).push({ base: op.base, snap, op });
      },
      functionEnd() {
        for (const g of genWrites) {
          const gs = snapCalls.get(g.snap)!;
          const d = dataWrites.find((w) => w.base === g.base && w.snap !== g.snap && snapCalls.get(w.snap)!.section !== gs.section);
          if (!d || dataWrites.some((w) => w.base === g.base && w.snap === g.snap)) continue;
          const ds = snapCalls.get(d.snap)!;
          ctx.report({
            line: g.op.line, col: g.op.col, messageId: 'crossSection', confidence: 'medium',
            data: { cache: g.base, genSnap: `${gs.name}()`, genLine: gs.line, dataSnap: `${ds.name}()`, dataLine: ds.line },
            related: [{ line: d.op.line, col: d.op.col, message: 'cached data derived from the other snapshot' }],
            key: `cross|${g.base}|${gs.name}|${ds.name}`,
          });
        }
      },
    };
  },
};

/** A computed generation (`gen | IN_PROGRESS`, `old + 1`), not a plain copy of another value. */
function isMark(op: AccessOp): boolean {
  if (op.operator && op.operator !== '=') return true; // ++, +=
  const r = op.rhs;
  return !(r && (r.ident !== undefined || (r.chain !== undefined && r.callId === undefined)));
}


