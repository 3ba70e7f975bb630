/**
 * lock-only-to-read — a lock taken only to read one value into a local and
 * dropped right after (seed 003: write_lock(&kvm->mmu_lock) around a read of
 * kvm->arch.indirect_shadow_pages). The critical section serialises against
 * the writers, which for a single aligned word is what READ_ONCE() gives too;
 * what the lock also provided is ordering, so the note says which barrier
 * pairing the lockless form needs (for a store-buffering protocol: smp_mb()
 * before the read, pairing with smp_mb() after the writers' update).
 *
 * Confidence: medium; severity note. Known false-positive causes: the value is
 * wider than a machine word (a u64 on 32-bit, a struct copy); the lock is taken
 * to wait for a writer's critical section to finish (lock as a barrier against
 * a concurrent update in progress), which a lockless read does not do.
 * Not reported: a read through a pointer loaded from the shared object inside
 * the section (`((T *)kvm->arch.sca)->f` under sca_lock), where the lock keeps
 * the pointer from being replaced and its object freed.
 */
import type { Rule } from '../analyzer/rule-api.js';
import type { CfgNode, Op } from '../analyzer/ir.js';
import { displayLock, displayVar, protocolSites } from '../analyzer/protocol.js';

/**
 * Dereferences in a read expression of pointers that were themselves loaded from
 * shared memory: every `->` after the first, except hops through an owner member
 * (`x->kvm->`, `x->vcpu->`), whose target outlives the object.
 */
function loadedPointerHops(text: string, ownerMembers: Readonly<Record<string, string>>): number {
  const arrows = text.match(/->/g)?.length ?? 0;
  let owners = 0;
  for (const m of Object.keys(ownerMembers)) owners += text.match(new RegExp(`->\\s*${m}\\s*\\)*\\s*->`, 'g'))?.length ?? 0;
  return Math.max(0, arrows - 1 - owners);
}

export const rule: Rule = {
  meta: {
    id: 'lock-only-to-read',
    severity: 'note',
    confidence: 'medium',
    summary: 'Lock taken only to read one value and dropped: use a lockless read with the barrier pairing it needs',
    docs: 'docs/rules/lock-only-to-read.md',
    seeds: ['Re: [PATCH] KVM: x86/mmu: Remove KVM MMU write lock when accessing indirect_shadow_pages'],
    falsePositives: [
      'the value is wider than a machine word (u64 on 32-bit, struct copy) and the lock keeps it from tearing',
      'the lock is taken to wait for an update in progress, not only to read',
    ],
    messages: {
      readOnly:
        '{lock} is taken{mode} only to read {read} into \'{var}\' and dropped at line {unlockLine}: the critical section orders nothing a lockless read cannot. Use READ_ONCE({read}){pairing}',
    },
  },
  create(ctx) {
    const model = ctx.model;
    const seen = new Set<string>();
    /** Ops strictly between the acquire op at `at` and `unlockOp`, when they form one straight line. */
    const between = (at: { line: number; col: number }, unlockNode: CfgNode, unlockOp: Op): Op[] | undefined => {
      let node: CfgNode | undefined;
      let idx = -1;
      for (const n of ctx.fn.nodes) {
        const i = n.ops.findIndex((o) => (o.k === 'call' || o.k === 'guard') && o.line === at.line && o.col === at.col);
        if (i >= 0) {
          node = n;
          idx = i;
          break;
        }
      }
      if (!node) return undefined;
      const ops: Op[] = [];
      let cur = node;
      let from = idx + 1;
      for (let hops = 0; hops < 8; hops++) {
        const end = cur === unlockNode ? cur.ops.indexOf(unlockOp) : cur.ops.length;
        if (end < from && cur === unlockNode) return undefined;
        ops.push(...cur.ops.slice(from, end));
        if (cur === unlockNode) return ops;
        if (cur.succs.length !== 1 || cur.kind === 'branch' || cur.kind === 'iter') return undefined;
        cur = ctx.fn.nodes[cur.succs[0].to];
        if (cur.kind === 'return' || cur.kind === 'exit') return undefined;
        from = 0;
      }
      return undefined;
    };
    const readOnlyCall = (name: string): boolean => {
      const effects = ctx.unit.effectsOf(name);
      return effects.length > 0 && effects.every((e) => e.kind === 'access' && e.access === 'read' && e.order !== 'acquire');
    };
    return {
      op(ev) {
        for (const e of ev.effects) {
          if (e.kind !== 'unlock') continue;
          const held = ev.pre.locks[e.lock];
          if (!held || held.assumed || !held.at) continue;
          const key = `${e.lock}|${held.at.line}|${ev.op.line}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const ops = between(held.at, ev.node, ev.op);
          if (!ops || ops.length === 0) continue;
          const chains = new Map<string, string>();
          let target: string | undefined;
          let ok = true;
          for (const o of ops) {
            if (o.k === 'read') {
              if (o.chain in model.ownerMembers) continue;
              chains.set(`${o.base}.${o.chain}`, o.text);
            } else if (o.k === 'assign') {
              if (target !== undefined && target !== o.target) ok = false;
              target = o.target;
            } else if (o.k === 'call') {
              if (!readOnlyCall(o.name)) ok = false;
            } else {
              ok = false;
            }
          }
          if (!ok || chains.size !== 1 || !target) continue;
          const [[chainKey, readText]] = [...chains.entries()];
          // Through a pointer loaded from the shared object (`((T *)kvm->arch.sca)->utility.mtcr`):
          // the lock may keep that pointer from being replaced and its object freed, which a
          // lockless READ_ONCE() of the field does not. Hops to an owner (`vcpu->kvm->`) are stable.
          if (loadedPointerHops(readText, model.ownerMembers) > 0) continue;
          const chain = chainKey.slice(chainKey.indexOf('.') + 1);
          const pv = model.protocolVariable(chain);
          let pairing = '';
          if (pv?.sbPartners?.length) {
            const writers = protocolSites(ctx.unit, model, pv).writes.filter((w) => w.raises);
            const names = [...new Set(writers.map((w) => `${w.fn.name}()${w.barrierAfter ? ` (${w.barrierAfter.text} at line ${w.barrierAfter.line})` : ' (no barrier after the update yet)'}`))];
            pairing = `, preceded by smp_mb() so the store before it is visible to the writers or the read sees their update; pair it with smp_mb() after the update of ${displayVar(pv)} in ${names.length ? names.join(', ') : 'its writers (not in view)'}`;
          } else {
            pairing = ' (smp_load_acquire() if later accesses depend on the value, pairing with smp_store_release() in the writer)';
          }
          ctx.report({
            line: held.at.line, col: held.at.col, messageId: 'readOnly',
            data: {
              lock: displayLock(e.lock), mode: held.mode === 'write' ? ' for write' : held.mode === 'read' ? ' for read' : '',
              read: readText, var: target, unlockLine: ev.op.line, pairing,
            },
            related: [{ line: ev.op.line, message: `${displayLock(e.lock)} dropped here` }],
            key: `${e.lock}|${chainKey}|${target}`,
            path: ev.path(),
          });
        }
      },
    };
  },
};
