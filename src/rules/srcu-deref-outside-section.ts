/**
 * srcu-deref-outside-section — a memslots dereference (kvm_memslots(),
 * __kvm_memslots(), gfn_to_memslot(), kvm_read_guest() & co, or a helper in
 * view that takes one in its caller's context) where neither a kvm->srcu
 * read-side section nor kvm->slots_lock is held on this path. A memslot update
 * can then free the array (and the memslots and rmaps in it) under the reader:
 * synchronize_srcu_expedited() in kvm_swap_active_memslots() only waits for
 * readers inside a section (seed 002; KVM-MODEL "SRCU and memslots").
 *
 * Most KVM functions run inside a section opened by a caller (vcpu_run() holds
 * SRCU for most of its life), so the rule reports only where the analysis knows
 * that no section is held:
 *  - error/high: this function dropped the section it was called in
 *    (kvm_vcpu_srcu_read_unlock() with no matching lock in the function), and
 *    the dereference comes before it is re-taken; a static function reached
 *    only that way is reported at its call sites in the dropping function;
 *  - warning/medium: this function opened and closed its own section earlier on
 *    this path and dereferences again after closing it.
 * Holding slots_lock (taken, or asserted with lockdep) is the legal alternative.
 *
 * Known false-positive causes: a caller that holds slots_lock or its own SRCU
 * section around a function that opens and closes a nested section (medium
 * findings); dereferences on the VM-destruction path, where
 * !refcount_read(&kvm->users_count) makes them legal (not tracked).
 */
import type { Rule } from '../analyzer/rule-api.js';

export const rule: Rule = {
  meta: {
    id: 'srcu-deref-outside-section',
    severity: 'error',
    confidence: 'high',
    summary: 'Memslots dereferenced where no kvm->srcu read-side section nor slots_lock is held',
    docs: 'docs/rules/srcu-deref-outside-section.md',
    seeds: ['Re: [PATCH 1/2] KVM: fix cache stale memslot info with correct mmio generation number'],
    falsePositives: [
      'a caller holds slots_lock or an outer kvm->srcu section around a function that opens and closes a nested one (medium)',
      'VM destruction, where no other user of the VM is left (!refcount_read(&kvm->users_count))',
    ],
    messages: {
      dropped:
        '{what} dereferences kvm->memslots after this function left the caller\'s kvm->srcu read-side section (line {line}) and before re-entering it: a concurrent memslot update can free the array under it; move the access before {drop} or after the section is re-taken',
      closed:
        '{what} dereferences kvm->memslots after this function closed its own kvm->srcu read-side section (line {line}), with no section nor kvm->slots_lock held here unless a caller provides one: take the access inside the section, or re-enter one around it',
    },
  },
  create(ctx) {
    const slotsLock = ctx.model.memslotsWriterLock;
    return {
      op(ev) {
        const s = ev.pre;
        if (s.srcu.depth > 0 || slotsLock in s.locks) return;
        const dropped = s.srcu.entry === 'none' && s.srcu.section === 'closed';
        const closed = !dropped && s.srcu.entry === 'unknown' && s.srcu.closedAt !== undefined;
        if (!dropped && !closed) return;
        const op = ev.op;
        if (op.k !== 'call') return;
        for (const e of ev.effects) {
          if (e.kind !== 'snapshot' || e.covered) continue;
          const summarised = !ctx.model.api(op.name);
          const reason = summarised ? ctx.unit.summary(op.name)?.reasons[`snapshot:${e.as}`] : undefined;
          const what = reason ? `${op.name}() (it ${reason})` : `${op.name}()`;
          const at = s.srcu.closedAt ?? { line: 0, text: '' };
          ctx.report({
            line: op.line, col: op.col, messageId: dropped ? 'dropped' : 'closed',
            data: { what, line: at.line, drop: at.text.replace(/;\s*$/, '') || 'the unlock' },
            related: [{ line: at.line, message: dropped ? 'caller\'s read-side section left here' : 'read-side section closed here' }],
            key: `${dropped ? 'dropped' : 'closed'}|${op.name}|${e.as}`,
            severity: dropped ? 'error' : 'warning',
            confidence: dropped ? (summarised ? 'medium' : 'high') : 'medium',
            path: ev.path(),
          });
          break;
        }
      },
    };
  },
};
