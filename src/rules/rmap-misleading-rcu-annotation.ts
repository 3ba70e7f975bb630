/**
 * rmap-misleading-rcu-annotation — RCU/SRCU annotations on the rmap arrays that
 * no grace period backs (seed 000 review, severity note).
 *
 * The rmap pointers of a memslot never change while the memslot is live: they
 * are allocated before the memslot (or before kvm->arch.shadow_root_allocated) is
 * published and freed with the memslot. rcu_assign_pointer()/srcu_dereference()
 * on them implies they can change independently of the memslot, which is not
 * true, and gives no protection anyway:
 *  - assign: rcu_assign_pointer() on an rmap pointer with no synchronize_srcu()
 *    after it on some path (and the visibility that matters is the rmap flag's
 *    release/acquire, not the pointer's);
 *  - deref: srcu_dereference()/rcu_dereference*() of an rmap pointer when nothing
 *    in view publishes rmaps with rcu_assign_pointer() followed by a grace period;
 *  - free: an rmap array freed with a plain store next to such annotations: to
 *    honour them, deletion would need rcu_assign_pointer(NULL) + synchronize_srcu().
 *
 * Confidence: medium. Known false-positive causes: a writer with a grace period
 * in another file.
 */
import type { CfgNode, LoweredFunction, Op } from '../analyzer/ir.js';
import type { Rule, UnitView } from '../analyzer/rule-api.js';
import { mustFollow } from '../analyzer/cfg-query.js';
import type { Model } from '../model/index.js';

const WHY =
  'it implies the rmap pointer can change independently of its memslot, which it cannot (rmaps are allocated before the memslot or the rmap flag is published, and freed with the memslot); readers are ordered by the acquire in kvm_memslots_have_rmaps(), not by this annotation';

export const rule: Rule = {
  meta: {
    id: 'rmap-misleading-rcu-annotation',
    severity: 'note',
    confidence: 'medium',
    summary: 'rcu_assign_pointer()/srcu_dereference() on rmap arrays with no grace period that would make them meaningful',
    docs: 'docs/rules/rmap-misleading-rcu-annotation.md',
    seeds: ['Re: [PATCH v3 7/8] KVM: x86/mmu: Protect rmaps independently with SRCU'],
    falsePositives: ['a writer that waits for a grace period after assigning rmaps, in a file not in view'],
    messages: {
      assign:
        'rcu_assign_pointer() on rmap pointer {target} is misleading: {why}; and no synchronize_srcu(&kvm->srcu) follows it on some path, so it protects nothing (an rmap array can even be freed again if allocation for another memslot fails)',
      deref:
        '{what} on rmap pointer {target} is misleading: {why}; nothing in view assigns rmaps with rcu_assign_pointer() followed by synchronize_srcu(), so the annotation orders nothing',
      free:
        'rmap array {target} freed with {what} while the rmaps are annotated as RCU-protected (line {annotLine}): honouring the annotation would need rcu_assign_pointer(..., NULL) and synchronize_srcu() before the free; drop the annotation instead (rmaps live and die with their memslot)',
    },
  },
  create(ctx) {
    const model = ctx.model;
    const writers = rcuWriters(ctx.unit, model);
    return {
      op(ev) {
        const op = ev.op;
        if (op.k !== 'call') return;
        for (const e of ev.effects) {
          if (e.kind === 'rcu-assign' && e.target.chain && model.isRmapChain(e.target.chain)) {
            if (!mustFollowSync(ctx.fn, ev.node, op, ctx.unit, model)) {
              ctx.report({
                line: op.line, col: op.col, messageId: 'assign',
                data: { target: e.target.text, why: WHY },
                key: `assign|${e.target.chain}`,
              });
            }
          }
          if (e.kind === 'rcu-deref' && e.arg.chain && model.isRmapChain(e.arg.chain) && !writers.synced) {
            ctx.report({
              line: op.line, col: op.col, messageId: 'deref',
              data: { what: `${op.name}()`, target: e.arg.text, why: WHY },
              key: `deref|${op.name}|${e.arg.chain}`,
            });
          }
          if (e.kind === 'free' && e.arg.chain && model.isRmapChain(e.arg.chain) && writers.annotated && !writers.synced) {
            ctx.report({
              line: op.line, col: op.col, messageId: 'free',
              data: { target: e.arg.text, what: `${op.name}()`, annotLine: writers.annotated },
              key: `free|${op.name}|${e.arg.chain}`,
            });
          }
        }
      },
    };
  },
};


/** Whether the unit annotates rmaps with RCU at all, and whether some rmap assignment is followed by a grace period. */
function rcuWriters(unit: UnitView, model: Model): { annotated?: number; synced: boolean } {
  return unit.memo('rmap-rcu-writers', () => computeRcuWriters(unit, model));
}

function computeRcuWriters(unit: UnitView, model: Model): { annotated?: number; synced: boolean } {
  const out: { annotated?: number; synced: boolean } = { synced: false };
  // Only functions naming an rmap can assign or dereference one.
  for (const f of unit.functionsMentioning('rmap')) {
    for (const n of f.nodes) {
      for (const op of n.ops) {
        if (op.k !== 'call') continue;
        const effs = unit.effectsOf(op.name);
        const assign = effs.find((e) => e.kind === 'rcu-assign');
        const deref = effs.find((e) => e.kind === 'rcu-deref');
        const argOf = (i: number | undefined) => (i === undefined ? undefined : op.args[i]?.chain);
        const tChain = assign && assign.kind === 'rcu-assign' ? argOf(assign.target.arg) : undefined;
        const dChain = deref && deref.kind === 'rcu-deref' ? argOf(deref.arg) : undefined;
        if ((tChain && model.isRmapChain(tChain)) || (dChain && model.isRmapChain(dChain))) out.annotated ??= op.line;
        if (tChain && model.isRmapChain(tChain) && mustFollowSync(f, n, op, unit, model)) out.synced = true;
      }
    }
  }
  return out;
}

/** Does every path from `op` to the exit pass a grace period on the memslots domain? */
function mustFollowSync(fn: LoweredFunction, node: CfgNode, op: Op, unit: UnitView, model: Model): boolean {
  const isSync = (o: Op): boolean =>
    o.k === 'call' && unit.effectsOf(o.name).some((e) => e.kind === 'sync' && ('fixed' in e.domain ? e.domain.fixed === model.memslotsDomain : canon(o.args[e.domain.arg]) === model.memslotsDomain));
  return mustFollow(fn, node, op, isSync);
}

function canon(a: { base?: string; chain?: string; text: string } | undefined): string {
  if (!a) return '?';
  return a.base && a.chain ? `${a.base}.${a.chain}` : a.text.replace(/\s+/g, '');
}
