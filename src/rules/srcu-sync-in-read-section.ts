/**
 * srcu-sync-in-read-section — inside a kvm->srcu read-side section:
 *  - synchronize_srcu()/synchronize_srcu_expedited() on &kvm->srcu (the grace
 *    period waits for this very reader: self-deadlock);
 *  - acquiring kvm->lock, kvm->slots_lock or vcpu->mutex, which are held around
 *    synchronize_srcu(&kvm->srcu) elsewhere (Documentation/virt/kvm/locking.rst:
 *    "These locks _cannot_ be taken inside a kvm->srcu read-side critical
 *    section"); kvm->slots_arch_lock is allowed;
 * directly, or through a helper in view whose summary says it does so in its
 * caller's context (it neither dropped the caller's section nor opened its own).
 *
 * Only a section that is known to be held counts: opened in the function, or
 * asserted / held by every caller in view. An unknown entry context (most
 * functions) is not a section for this rule.
 *
 * Confidence: high for an explicit section in the function, medium when the
 * section is the callers' (entry context) or the lock is taken in a helper.
 * Known false-positive causes: a helper path that takes the lock only when the
 * caller is not in a section, distinguished by a flag the analysis does not
 * track.
 */
import type { Rule } from '../analyzer/rule-api.js';
import { srcuKnownHeld, type State } from '../analyzer/state.js';

export const rule: Rule = {
  meta: {
    id: 'srcu-sync-in-read-section',
    severity: 'error',
    confidence: 'high',
    summary: 'synchronize_srcu(&kvm->srcu), or kvm->lock/slots_lock/vcpu->mutex, inside a kvm->srcu read-side section',
    docs: 'docs/rules/srcu-sync-in-read-section.md',
    seeds: [
      'Re: [PATCH 1/2] KVM: fix cache stale memslot info with correct mmio generation number',
      'Re: [PATCH 2/3] KVM: x86/mmu: Add lockdep assert to enforce safe usage of kvm_unmap_gfn_range()',
    ],
    falsePositives: [
      'a helper that takes the lock only on a path its callers inside the section never reach (flag-dependent)',
    ],
    messages: {
      sync:
        '{what} waits for an SRCU grace period on kvm->srcu inside a kvm->srcu read-side section ({section}): the grace period cannot end while this reader is in it (self-deadlock)',
      lock:
        '{what} takes {lock} inside a kvm->srcu read-side section ({section}): synchronize_srcu(&kvm->srcu) is called with {lock} held, so this deadlocks against a memslot update (Documentation/virt/kvm/locking.rst); drop the section first, as kvm_vcpu_srcu_read_unlock() ... kvm_vcpu_srcu_read_lock() does around blocking',
    },
  },
  create(ctx) {
    const { model } = ctx;
    const domain = model.memslotsDomain;
    const forbidden = new Set(model.notUnderSrcu);
    const lockName = (id: string): string => id.replace(/^(kvm|vcpu)\./, '$1->');
    const sectionText = (s: State): string =>
      s.srcu.depth > 0 && s.srcu.openedAt
        ? `opened at line ${s.srcu.openedAt.line}`
        : 'held by the callers or asserted on entry';
    // A section held only because every caller in view holds it is reported at those call sites
    // (the callee's summary carries the lock or grace period up), not again here.
    const callersReport = ctx.unit.callersOf(ctx.fn.name).length > 0;
    const pretty = (t: string | undefined): string | undefined => t?.replace(/\b(kvm|vcpu)\.(\w+)/g, '$1->$2');
    return {
      op(ev) {
        const s = ev.pre;
        if (s.srcu.depth === 0 && callersReport) return;
        const op = ev.op;
        if (!srcuKnownHeld(s) || (op.k !== 'call' && op.k !== 'guard')) return;
        const name = op.k === 'call' ? op.name : `guard(${op.cls})`;
        const explicit = s.srcu.depth > 0;
        const reasons = op.k === 'call' ? ctx.unit.summary(op.name)?.reasons ?? {} : {};
        const related = explicit && s.srcu.openedAt ? [{ line: s.srcu.openedAt.line, col: s.srcu.openedAt.col, message: 'read-side section opened here' }] : [];
        for (const e of ev.effects) {
          if ((e.kind === 'sync' || e.kind === 'inner-sync') && e.domain === domain) {
            const why = e.kind === 'inner-sync' ? pretty(reasons[`inner-sync:${e.domain}`]) : undefined;
            ctx.report({
              line: op.line, col: op.col, messageId: 'sync',
              data: { what: why ? `${name}() (it ${why})` : `${name}()`, section: sectionText(s) },
              related,
              key: `sync|${name}`,
              confidence: explicit && e.kind === 'sync' && model.api(name) ? 'high' : 'medium',
              path: ev.path(),
            });
            break;
          }
          if ((e.kind === 'lock' && !e.cond) || e.kind === 'inner-lock') {
            if (!forbidden.has(e.lock) || e.lock in s.locks) continue;
            const why = e.kind === 'inner-lock' ? pretty(reasons[`inner-lock:${e.lock}`]) : undefined;
            ctx.report({
              line: op.line, col: op.col, messageId: 'lock',
              data: { what: why ? `${name}() (it ${why})` : op.k === 'call' ? `${name}()` : name, lock: lockName(e.lock), section: sectionText(s) },
              related,
              key: `lock|${name}|${e.lock}`,
              confidence: explicit && e.kind === 'lock' ? 'high' : 'medium',
              path: ev.path(),
            });
          }
        }
      },
    };
  },
};
