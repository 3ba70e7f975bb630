/**
 * memslots-double-snapshot — two memslot snapshots of one address space in one
 * SRCU read-side section (seed 002: "never dereference the same pointer twice").
 *
 * Confidence: high when the section is explicit in the function or known from
 * its callers/assertions; medium when the function may run inside a caller's
 * section (the vCPU run loop holds SRCU) but nothing in view says so.
 * Known false-positive causes: a caller that never holds SRCU nor slots_lock
 * (then the real bug is srcu-deref-outside-section); two snapshots whose
 * results are compared on purpose to detect an update.
 */
import type { Rule } from '../analyzer/rule-api.js';
import { inSrcuSection, srcuKnownHeld } from '../analyzer/state.js';
import { wordRe } from '../analyzer/text.js';

export const rule: Rule = {
  meta: {
    id: 'memslots-double-snapshot',
    severity: 'error',
    confidence: 'high',
    summary: 'Second memslots snapshot of the same address space inside one SRCU read-side section',
    docs: 'docs/rules/memslots-double-snapshot.md',
    seeds: ['Re: [PATCH 1/2] KVM: fix cache stale memslot info with correct mmio generation number'],
    falsePositives: [
      'function reached only with neither SRCU nor slots_lock held, when the callers are not in view',
      'code that deliberately compares two snapshots to detect a concurrent update',
    ],
    messages: {
      second:
        'second memslots snapshot of address space {as} in one SRCU read-side section: {second} may see a newer array than {first} (line {firstLine}), {why}; take one snapshot and pass it down',
    },
  },
  create(ctx) {
    const slotsLock = ctx.model.memslotsWriterLock;
    const usedFrom = new Map<string, boolean>();
    /** Is `v` used on some path from `start` (including the rest of its own statement)? */
    const usedAfter = (start: number, v: string): boolean => {
      const k = `${start}|${v}`;
      const cached = usedFrom.get(k);
      if (cached !== undefined) return cached;
      const re = wordRe(v);
      const seen = new Set<number>();
      const todo = [start];
      let found = false;
      while (todo.length && !found) {
        const n = ctx.fn.nodes[todo.pop()!];
        if (seen.has(n.id)) continue;
        seen.add(n.id);
        // Uses before a redefinition count; a redefinition ends the path (the value is dead).
        let killed = false;
        for (const o of n.ops) {
          const t = o.k === 'assign' ? o.rhs : o.text;
          if (re.test(t)) {
            found = true;
            break;
          }
          if (o.k === 'assign' && o.target === v && n.id !== start) {
            killed = true;
            break;
          }
        }
        if (found) break;
        if (killed) continue;
        if ((n.test && re.test(n.test.text)) || (n.ret && re.test(n.ret))) {
          found = true;
          break;
        }
        for (const e of n.succs) todo.push(e.to);
      }
      usedFrom.set(k, found);
      return found;
    };
    return {
      op(ev) {
        for (const e of ev.effects) {
          if (e.kind !== 'snapshot') continue;
          const s = ev.pre;
          // Under slots_lock no update can land: the writer side may re-read freely.
          if (slotsLock in s.locks) continue;
          if (!inSrcuSection(s)) continue;
          // The vCPU's address space is 0 outside SMM: a vCPU snapshot and an address-space-0
          // snapshot usually see the same array (reported with lower confidence).
          const alias = e.as === 'vcpu' ? '0' : e.as === '0' ? 'vcpu' : undefined;
          const viaAlias = !s.snaps[e.as] && alias !== undefined && !!s.snaps[alias];
          const first = s.snaps[e.as] ?? (alias !== undefined ? s.snaps[alias] : undefined);
          if (!first || first.section !== s.srcu.section) continue;
          if (first.access || !first.holders?.length) continue;
          // `slot = gfn_to_memslot(...)` again: the old state is replaced, not combined.
          if (ev.op.k === 'call' && ev.op.resultVar && first.holders.includes(ev.op.resultVar)) continue;
          // Two ways state from two snapshots ends up combined: the first snapshot's
          // derived state is still used after the second (live), or a decision was
          // taken on the first and the second's result is stored in memory (cached).
          const live = first.holders.find((h) => usedAfter(ev.node.id, h));
          const cached = first.decided && !e.access && ev.node.ops.some((o) => o.k === 'write' && o.line >= ev.op.line);
          if (!live && !cached) continue;
          const second = ev.op.k === 'call' ? `${ev.op.name}()` : 'this snapshot';
          const firstText = `${first.text.replace(/\(.*$/s, '')}()`;
          ctx.report({
            line: ev.op.line,
            col: ev.op.col,
            messageId: 'second',
            data: {
              as: e.as, second, first: firstText, firstLine: first.line,
              why: live ? `whose result '${live}' is still used` : `on which this path already decided, and the second result is cached`,
            },
            related: [{ line: first.line, col: first.col, message: `first snapshot taken here${first.via && !first.text.startsWith(`${first.via}(`) ? ` (inside ${first.via}())` : ''}` }],
            key: `${e.as}|${firstText}|${second}`,
            confidence: srcuKnownHeld(s) && !viaAlias ? 'high' : 'medium',
            path: ev.path(),
          });
        }
      },
    };
  },
};
