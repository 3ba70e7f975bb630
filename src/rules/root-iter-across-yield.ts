/**
 * root-iter-across-yield — a loop over the TDP MMU roots that holds no
 * reference on its cursor (for_each_tdp_mmu_root(), for_each_valid_tdp_mmu_root(),
 * or list_for_each_entry*() over kvm->arch.tdp_mmu_roots) whose body can drop
 * mmu_lock (unlock, cond_resched_rwlock_*(), tdp_mmu_iter_cond_resched(), or a
 * helper that does so per its summary) and then go on iterating (seed 004:
 * "reproducible BUG() in kvm_mmu_get_root() in TDP MMU"). While the lock is
 * dropped the current root and the next one can be freed, so advancing reads
 * freed memory. list_for_each_entry_safe() is no fix: it caches a next entry
 * that can be deleted while the lock is dropped.
 *
 * Confidence: high when the yield is in the loop body; medium when it comes
 * from a helper's summary. Known false-positive causes: a body that holds its
 * own reference on both the current and the next root (not a kernel idiom), or
 * a lock drop whose path never returns to the loop head through an edge the CFG
 * cannot rule out (e.g. after a call that does not return but is not modelled).
 */
import type { Rule } from '../analyzer/rule-api.js';
import type { LoopInfo } from '../analyzer/ir.js';

export const rule: Rule = {
  meta: {
    id: 'root-iter-across-yield',
    severity: 'error',
    confidence: 'high',
    summary: 'Non-yield-safe iteration over TDP MMU roots across a drop of mmu_lock',
    docs: 'docs/rules/root-iter-across-yield.md',
    seeds: ['Re: reproducible BUG() in kvm_mmu_get_root() in TDP MMU'],
    falsePositives: [
      'the body keeps its own references on the current and the next root across the drop',
    ],
    messages: {
      yield:
        '{what} can drop {lock} inside {macro}(), which holds no reference across iterations: while the lock is dropped the current or next root can be freed and the loop then advances through freed memory; use for_each_tdp_mmu_root_yield_safe()/for_each_valid_tdp_mmu_root_yield_safe(), which hold a reference on the root across the yield',
      yieldSafeList:
        '{what} can drop {lock} inside {macro}() over the roots list: list_for_each_entry_safe() is no fix, the next entry it cached can be deleted and freed while the lock is dropped; use for_each_tdp_mmu_root_yield_safe()/for_each_valid_tdp_mmu_root_yield_safe(), which hold a reference on the root across the yield',
    },
  },
  create(ctx) {
    const { fn, model } = ctx;
    const mmuLock = model.mmuLock;
    /** Loops over roots that do not tolerate a lock drop, by loop id. */
    const rootLoops = new Map<number, { loop: LoopInfo; safeList: boolean }>();
    for (const l of fn.loops) {
      if (l.kind !== 'iter' || !l.macro) continue;
      const m = model.iterator(l.macro);
      if (m.yieldSafe) continue;
      if (m.kind === 'tdp-root') {
        rootLoops.set(l.id, { loop: l, safeList: false });
      } else if ((m.kind === 'list' || m.kind === 'list-safe') && m.headArg !== undefined) {
        const head = l.args?.[m.headArg];
        if (head?.chain && model.isRootList(head.chain)) rootLoops.set(l.id, { loop: l, safeList: m.kind === 'list-safe' });
      }
    }
    const headOf = new Map<number, number>();
    for (const n of fn.nodes) if (n.iter) headOf.set(n.iter.loopId, n.id);
    /** Can the loop head be reached again from `start` without leaving the loop? */
    const reachesHead = (start: number, loopId: number): boolean => {
      const head = headOf.get(loopId);
      if (head === undefined) return false;
      const seen = new Set<number>();
      const todo = [start];
      while (todo.length) {
        const id = todo.pop()!;
        if (id === head) return true;
        if (seen.has(id)) continue;
        seen.add(id);
        const n = fn.nodes[id];
        if (id !== start && !n.loops.includes(loopId)) continue;
        for (const e of n.succs) todo.push(e.to);
      }
      return false;
    };
    return {
      op(ev) {
        if (rootLoops.size === 0 || ev.op.k !== 'call') return;
        const op = ev.op;
        const drops = ev.effects.some(
          (e) => (e.kind === 'yield' && e.lock === mmuLock) || (e.kind === 'unlock' && e.lock === mmuLock),
        );
        if (!drops) return;
        for (const id of ev.node.loops) {
          const r = rootLoops.get(id);
          if (!r || !reachesHead(ev.node.id, id)) continue;
          const modelled = ctx.model.api(op.name) !== undefined;
          const reason = modelled ? '' : ctx.unit.summary(op.name)?.reasons[`yield:${mmuLock}`];
          const what = `${op.name}()${reason ? ` (it ${reason})` : ''}`;
          ctx.report({
            line: op.line, col: op.col, messageId: r.safeList ? 'yieldSafeList' : 'yield',
            data: { what, lock: mmuLock.replace(/^kvm\./, 'kvm->'), macro: r.loop.macro! },
            related: [{ line: r.loop.line, message: `${r.loop.macro}() loop over the roots` }],
            key: `${r.loop.macro}|${op.name}`,
            confidence: modelled ? 'high' : 'medium',
            path: ev.path(),
          });
        }
      },
    };
  },
};
