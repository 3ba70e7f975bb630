/**
 * zap-outside-invalidation — SPTEs of a gfn range are zapped
 * (kvm_unmap_gfn_range(), kvm_tdp_mmu_unmap_gfn_range(), a helper whose summary
 * zaps) while mmu_invalidate_in_progress is not elevated, outside memslot
 * deletion (seed 001).
 *
 * The page-fault path snapshots mmu_invalidate_seq before taking mmu_lock and
 * retries only if an invalidation is in progress or completed since; a zap that
 * is not bracketed by kvm_mmu_invalidate_begin()/end() lets a racing fault
 * install an SPTE from stale data. Memslot deletion is the exception: the slot
 * was made INVALID and synchronize_srcu(&kvm->srcu) waited for every fault that
 * could still use it, all under slots_lock.
 *
 * Shapes understood:
 *  - invalidation begun on this path (kvm_mmu_invalidate_begin(), a helper that
 *    does it, kvm_zap_gfn_range() which protects itself);
 *  - helpers: a helper's unprotected zap is a `zap-range` effect of its summary,
 *    checked at each call; a function that something in view calls or uses as a
 *    value does not report itself;
 *  - dispatchers: `.handler = fn` in a kvm_mmu_notifier_range-style initializer is
 *    checked against the `.on_lock` stored next to it (the dispatcher calls it
 *    first, under mmu_lock), e.g. kvm_mmu_invalidate_begin;
 *  - memslot deletion: slots_lock held and a grace period on kvm->srcu on the path
 *    (or by the function's documented entry contract, kvm_arch_flush_shadow_memslot());
 *  - an assertion that accepts slots_lock alone as the alternative to an elevated
 *    mmu_invalidate_in_progress is reported as too loose (seed 001 review).
 *
 * Confidence: high when the function takes mmu_lock itself; medium for a root
 * whose callers are not in view. Known false-positive causes: an invalidation
 * begun by a caller in another file (the model's entry contracts cover KVM's
 * arch hooks).
 */
import type { AccessOp, CallOp, Op } from '../analyzer/ir.js';
import type { Rule } from '../analyzer/rule-api.js';
import { effectChain, usesOf } from '../analyzer/references.js';
import type { State } from '../analyzer/state.js';

const WHY =
  'a vCPU fault that snapshotted mmu_invalidate_seq before taking mmu_lock does not retry and can install an SPTE from stale data';

export const rule: Rule = {
  meta: {
    id: 'zap-outside-invalidation',
    severity: 'error',
    confidence: 'medium',
    summary: 'gfn-range SPTE zap without mmu_invalidate_in_progress elevated (and not memslot deletion after synchronize_srcu)',
    docs: 'docs/rules/zap-outside-invalidation.md',
    seeds: ['Re: [PATCH 2/3] KVM: x86/mmu: Add lockdep assert to enforce safe usage of kvm_unmap_gfn_range()'],
    falsePositives: [
      'the invalidation is begun by a caller in another file that the model has no entry contract for',
    ],
    messages: {
      noInval:
        '{what} zaps a gfn range{via} while mmu_invalidate_in_progress is not elevated (no kvm_mmu_invalidate_begin() on this path or in a caller in view): ' + WHY + '; bracket the zap with kvm_mmu_invalidate_begin()/kvm_mmu_invalidate_end() under mmu_lock, or use kvm_zap_gfn_range()',
      slotsLockNoSync:
        '{what} zaps a gfn range{via} under slots_lock without an elevated mmu_invalidate_in_progress, but there is no synchronize_srcu(&kvm->srcu) on this path since the memslot was made invalid: slots_lock alone does not stop faults that still hold the old memslot; ' + WHY,
      dispatch:
        '{handler}() zaps a gfn range but is stored as .{member} of {struct} with {before}: the dispatcher runs the handler without an elevated mmu_invalidate_in_progress, so ' + WHY + '; set .{beforeMember} = kvm_mmu_invalidate_begin',
      looseAssert:
        'assertion accepts {lock} alone as the alternative to an elevated mmu_invalidate_in_progress: holding slots_lock is safe only for memslot deletion after synchronize_srcu() retired the old memslot, so a caller that holds slots_lock without that grace period passes the check and can still race with faults',
    },
  },
  create(ctx) {
    const model = ctx.model;
    const self = ctx.fn.name;
    const slotsLock = model.memslotsWriterLock;
    const ownEffects = model.effects(self);
    // The modelled zap APIs' own bodies are the implementation: their callers carry the obligation.
    const isZapApi = ownEffects.some((e) => e.kind === 'zap-range' || e.kind === 'zap-range-self-protected');
    const covered = isZapApi || usesOf(ctx.unit, model, self).length > 0;
    const zaps = (name: string): boolean => ctx.unit.effectsOf(name).some((e) => e.kind === 'zap-range');
    const begins = (name: string): boolean => ctx.unit.effectsOf(name).some((e) => e.kind === 'invalidate-begin');

    const protectedAt = (s: State, afterSync: boolean): boolean => s.inval > 0 || ((!!s.synced || afterSync) && slotsLock in s.locks);

    return {
      op(ev) {
        const { op, pre } = ev;
        if (op.k === 'write') {
          checkDispatch(op, ev.node.ops, pre);
          return;
        }
        if (op.k !== 'call') return;
        for (const e of ev.effects) {
          if (e.kind === 'assert-cond') checkAssert(op, ev.node.ops);
          if (e.kind !== 'zap-range' || covered || protectedAt(pre, e.afterSync)) continue;
          const modelled = model.api(op.name) !== undefined;
          const via = modelled ? '' : ` (${effectChain(ctx.unit, op.name, 'zap-range')})`;
          const messageId = slotsLock in pre.locks && !e.afterSync ? 'slotsLockNoSync' : 'noInval';
          const own = model.mmuLock in pre.locks && !pre.locks[model.mmuLock].assumed;
          ctx.report({
            line: op.line, col: op.col, messageId,
            data: { what: `${op.name}()`, via },
            key: `${messageId}|${op.name}`,
            confidence: own ? 'high' : 'medium',
            severity: messageId === 'slotsLockNoSync' ? 'error' : 'error',
            path: ev.path(),
          });
        }
      },
    };

    /** `.handler = fn` stored into a dispatch structure: the `before` member must begin an invalidation. */
    function checkDispatch(op: AccessOp, nodeOps: readonly Op[], pre: State): void {
      const fn = op.rhs?.ident;
      const beforeMember = model.dispatchBefore(op.chain);
      if (!fn || !beforeMember || !zaps(fn) || pre.inval > 0) return;
      const before = nodeOps.find((o): o is AccessOp => o.k === 'write' && o.base === op.base && o.chain === beforeMember);
      const beforeFn = before?.rhs?.ident;
      if (beforeFn && begins(beforeFn)) return;
      ctx.report({
        line: op.line, col: op.col, messageId: 'dispatch',
        data: {
          handler: fn, member: op.chain, struct: op.base, beforeMember,
          before: before ? `.${beforeMember} = ${beforeFn ?? before.value ?? '?'}, which does not begin an invalidation` : `no .${beforeMember}`,
        },
        key: `dispatch|${fn}|${op.chain}`,
        confidence: 'high',
      });
    }

    /** lockdep_assert(in_progress || lockdep_is_held(&kvm->slots_lock)): slots_lock alone accepted. */
    function checkAssert(op: CallOp, nodeOps: readonly Op[]): void {
      const cond = (op.args[0]?.text ?? '').replace(/\/\*[^]*?\*\/|\/\/[^\n]*/g, ' ');
      const disjuncts = topLevelOr(cond);
      if (disjuncts.length < 2) return;
      const mentionsCounter = nodeOps.some((o) => (o.k === 'read') && model.isInvalidationCounter(o.chain) && cond.includes(o.text));
      if (!mentionsCounter) return;
      const heldTests = nodeOps.filter((o): o is CallOp => o.k === 'call' && ctx.unit.effectsOf(o.name).some((e) => e.kind === 'held-test'));
      for (const h of heldTests) {
        const lock = h.args[0];
        const id = lock?.chain && lock.base ? `${lock.base}.${lock.chain}` : undefined;
        if (id !== slotsLock) continue;
        // The held test must be a disjunct on its own (not `held && synced`).
        if (!disjuncts.some((d) => stripParens(d) === h.text.trim())) continue;
        ctx.report({
          line: op.line, col: op.col, messageId: 'looseAssert', severity: 'warning', confidence: 'medium',
          data: { lock: `lockdep_is_held(${lock!.text})` },
          related: [{ line: h.line, col: h.col, message: 'slots_lock accepted here without a grace-period condition' }],
          key: `assert|${slotsLock}`,
        });
      }
    }
  },
};

/** Split a condition at top-level `||`, each disjunct without enclosing parentheses. */
function topLevelOr(text: string): string[] {
  return splitOr(text).map(stripParens);
}

function splitOr(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (depth === 0 && c === '|' && text[i + 1] === '|') {
      out.push(cur.trim());
      cur = '';
      i++;
      continue;
    }
    cur += c;
  }
  out.push(cur.trim());
  return out;
}

function stripParens(t: string): string {
  let s = t.trim();
  while (s.startsWith('(') && s.endsWith(')') && splitOr(s.slice(1, -1)).length === 1 && balanced(s.slice(1, -1))) s = s.slice(1, -1).trim();
  return s.replace(/\s+/g, ' ');
}

function balanced(t: string): boolean {
  let d = 0;
  for (const c of t) {
    if (c === '(') d++;
    else if (c === ')' && --d < 0) return false;
  }
  return d === 0;
}
