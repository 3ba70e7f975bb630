/**
 * memslots-publish-without-sync — a new memslots array is published with
 * rcu_assign_pointer(kvm->memslots[...], ...) and then, before an SRCU grace
 * period on kvm->srcu, the old array is freed, reused (written), returned to the
 * caller (seeds 002, 001). The generation finalised too early is reported by
 * memslots-generation-order.
 *
 * Confidence: high. Known false-positive causes: an "old" pointer that the
 * analysis cannot tell apart from another memslots array (it follows local
 * variables assigned from a memslots snapshot or from kvm->memslots[]);
 * a grace period waited for in a caller not in view when the old array is
 * returned (the finding says so).
 */
import type { Rule } from '../analyzer/rule-api.js';
import type { Fact, State } from '../analyzer/state.js';
import { checkSrcuPublishFree } from '../analyzer/protocol.js';

export const rule: Rule = {
  meta: {
    id: 'memslots-publish-without-sync',
    severity: 'error',
    confidence: 'high',
    summary: 'Old memslots freed, reused or returned before synchronize_srcu() after a publish',
    docs: 'docs/rules/memslots-publish-without-sync.md',
    seeds: [
      'Re: [PATCH 1/2] KVM: fix cache stale memslot info with correct mmio generation number',
      'Re: [PATCH 2/3] KVM: x86/mmu: Add lockdep assert to enforce safe usage of kvm_unmap_gfn_range()',
    ],
    falsePositives: [
      'the freed or reused pointer is not the array that was replaced (the rule follows variables assigned from snapshots or kvm->memslots[])',
    ],
    messages: {
      free: '{what} frees the old memslots array {old} while SRCU readers may still use it: it was replaced at line {line} ({publish}) with no synchronize_srcu(&kvm->srcu) in between',
      reuse: '{what} writes into the old memslots array {old} while SRCU readers may still use it: it was replaced at line {line} ({publish}) with no synchronize_srcu(&kvm->srcu) in between',
      ret: 'returns the old memslots array {old} before an SRCU grace period: it was replaced at line {line} ({publish}); the caller can free or reuse it while readers still hold it',
    },
  },
  create(ctx) {
    const isOldMemslots = (fact: Fact | undefined): boolean => {
      if (!fact) return false;
      if (fact.chain && ctx.model.isPublishTarget(fact.chain)) return true;
      if (fact.call) return ctx.unit.effectsOf(fact.call).some((e) => e.kind === 'snapshot');
      return false;
    };
    const oldVar = (s: State, ident: string | undefined): boolean =>
      !!ident && !!s.published && ident !== s.published.value && isOldMemslots(s.facts[ident]);
    const publishData = (s: State): { line: number; publish: string } => ({ line: s.published!.line, publish: s.published!.text });
    /**
     * The execution that makes it a bug, from the LKMM: a reader that got the old
     * array sees it freed. Reported only when the model allows it.
     */
    const litmusFor = (s: State, what: string, line: number): { litmus: string; witness?: string } | null => {
      const check = checkSrcuPublishFree(ctx.fn.name, { text: s.published!.text, line: s.published!.line }, { text: what, line }, false, (k, c) => ctx.unit.sharedMemo(k, c));
      if (!check.allowed) return null;
      return check.witness ? { litmus: check.litmus, witness: check.witness } : { litmus: check.litmus };
    };
    return {
      op(ev) {
        const s = ev.pre;
        if (!s.published) return;
        const op = ev.op;
        if (op.k === 'write') {
          // A generation store on the new array before the grace period is memslots-generation-order's.
          if (oldVar(s, op.base)) {
            const lit = litmusFor(s, op.text, op.line);
            if (!lit) return;
            ctx.report({
              ...lit,
              line: op.line, col: op.col, messageId: 'reuse',
              data: { what: op.text, old: op.base, ...publishData(s) },
              related: [{ line: s.published.line, message: 'new memslots published here' }],
              key: `reuse|${op.base}|${s.published.text}`,
              path: ev.path(),
            });
          }
          return;
        }
        if (op.k !== 'call') return;
        for (const e of ev.effects) {
          if (e.kind !== 'free') continue;
          const ident = e.arg.ident;
          if (!oldVar(s, ident)) continue;
          const lit = litmusFor(s, op.text, op.line);
          if (!lit) continue;
          ctx.report({
            ...lit,
            line: op.line, col: op.col, messageId: 'free',
            data: { what: `${op.name}()`, old: ident!, ...publishData(s) },
            related: [{ line: s.published.line, message: 'new memslots published here' }],
            key: `free|${op.name}|${ident}|${s.published.text}`,
            path: ev.path(),
          });
        }
      },
      exit(ev) {
        const s = ev.state;
        if (!s.published || ev.how !== 'return') return;
        const ret = (ev.node.ret ?? '').trim();
        if (!/^\w+$/.test(ret) || !oldVar(s, ret)) return;
        ctx.report({
          line: ev.node.line, col: 1, messageId: 'ret',
          data: { old: ret, ...publishData(s) },
          related: [{ line: s.published.line, message: 'new memslots published here' }],
          key: `ret|${ret}|${s.published.text}`,
          path: ev.path(),
        });
      },
    };
  },
};
