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
        'second memslots snapshot of address space {as} in one SRCU read-side section: {second} may see a newer array than {first} (line {firstLine}); take one snapshot and pass it down',
    },
  },
  create(ctx) {
    const slotsLock = ctx.model.memslotsWriterLock;
    return {
      op(ev) {
        for (const e of ev.effects) {
          if (e.kind !== 'snapshot') continue;
          const s = ev.pre;
          // Under slots_lock no update can land: the writer side may re-read freely.
          if (slotsLock in s.locks) continue;
          if (!inSrcuSection(s)) continue;
          const first = s.snaps[e.as];
          if (!first || first.section !== s.srcu.section) continue;
          const second = ev.op.k === 'call' ? `${ev.op.name}()` : ev.op.text;
          const firstText = `${first.text.replace(/\(.*$/s, '')}()`;
          ctx.report({
            line: ev.op.line,
            col: ev.op.col,
            messageId: 'second',
            data: { as: e.as, second, first: firstText, firstLine: first.line },
            related: [{ line: first.line, col: first.col, message: `first snapshot taken here${first.via ? ` (inside ${first.via}())` : ''}` }],
            key: `${e.as}|${firstText}|${second}`,
            confidence: srcuKnownHeld(s) ? 'high' : 'medium',
            path: ev.path(),
          });
        }
      },
    };
  },
};
