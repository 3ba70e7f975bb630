/**
 * barrier-misplaced — a full barrier meant to order a store against a later
 * load of a store-buffering protocol, placed on the wrong side: before the
 * store (smp_mb(); count++; ... later loads) or after the load (store; if
 * (!READ_ONCE(count)) return; smp_mb();). It then orders nothing that matters
 * (seed 003: a v2 of the indirect_shadow_pages patch put smp_mb() before the
 * increment instead of after it). The finding carries the LKMM litmus program
 * with the barrier where the code has it, and the witness execution.
 *
 * Confidence: medium. Known false-positive causes: the barrier orders
 * something else on purpose (an earlier protocol) and the pairing for this one
 * is in a caller not in view; a barrier "near" the store (within a few lines)
 * that was never meant for it.
 */
import type { Rule } from '../analyzer/rule-api.js';
import { displayLock, displayVar, readerSideFindings, writerSideFindings } from '../analyzer/protocol.js';

export const rule: Rule = {
  meta: {
    id: 'barrier-misplaced',
    severity: 'warning',
    confidence: 'medium',
    summary: 'Full barrier before the store (or after the load) it should order: it orders nothing that matters',
    docs: 'docs/rules/barrier-misplaced.md',
    seeds: ['Re: [PATCH] KVM: x86/mmu: Remove KVM MMU write lock when accessing indirect_shadow_pages'],
    falsePositives: [
      'the barrier orders an earlier, different protocol and this one is paired in a caller not in view',
      'a barrier a few lines away that was never meant for this store/load pair',
    ],
    messages: {
      writerBefore:
        '{barrier} (line {barrierLine}) is before the update it should order: {write} (line {writeLine}) in {writer}() can still be reordered with the later reads of {partner}, so {reader} can miss the update while this side misses its store (litmus attached). Move the barrier after the update',
      readerBefore:
        '{barrier} (line {barrierLine}) is before the store {store} (line {storeLine}), not between it and the lockless read of {var} in {reader}() (line {readLine}): the store can still be reordered after the read; {writer} (litmus attached). Move the barrier between the store and the read',
      readerAfter:
        '{barrier} (line {barrierLine}) comes after the lockless read of {var} in {reader}() (line {readLine}) that decides the early exit: it cannot order the earlier store {store} (line {storeLine}) before that read; {writer} (litmus attached). Move the barrier before the read',
    },
  },
  create(ctx) {
    const seen = new Set<string>();
    const writerText = (w: { assumed: boolean; fn: string; line: number; barrier?: { text: string; line: number } }): string =>
      w.assumed
        ? 'the writers are not in view (assumed to use smp_mb() after their update)'
        : `the writer ${w.fn}() (line ${w.line}) ${w.barrier ? `pairs with ${w.barrier.text} (line ${w.barrier.line})` : 'has no full barrier after its update'}`;
    return {
      op(ev) {
        for (const f of readerSideFindings(ctx.unit, ctx.model, ctx.fn, ev)) {
          if (f.kind !== 'misplaced' || !f.fence) continue;
          const key = `reader|${f.pv.chain}|${f.fence.text}|${f.read.fn}|${f.read.line}`;
          if (seen.has(key)) continue;
          seen.add(key);
          ctx.report({
            line: f.fence.line, col: 1, messageId: f.fence.position === 'before-store' ? 'readerBefore' : 'readerAfter',
            data: {
              barrier: f.fence.text, barrierLine: f.fence.line, store: f.store.text, storeLine: f.store.line, var: displayVar(f.pv),
              reader: f.read.fn, readLine: f.read.line, writer: writerText(f.writer),
            },
            related: [
              { line: f.store.line, message: `store: ${f.store.text}` },
              { line: f.at.line, message: `lockless read: ${f.read.text}${f.read.fn !== ctx.fn.name ? ` (in ${f.read.fn}())` : ''}` },
            ],
            key,
            path: ev.path(),
            litmus: f.check.litmus,
            ...(f.check.witness ? { witness: f.check.witness } : {}),
          });
        }
        for (const f of writerSideFindings(ctx.unit, ctx.model, ctx.fn, ev)) {
          if (f.kind !== 'misplaced' || !f.fence) continue;
          const key = `writer|${f.pv.chain}|${f.fence.text}|${f.write.text}`;
          if (seen.has(key)) continue;
          seen.add(key);
          ctx.report({
            line: f.fence.line, col: 1, messageId: 'writerBefore',
            data: {
              barrier: f.fence.text, barrierLine: f.fence.line, write: f.write.text, writeLine: f.write.line, writer: f.write.fn,
              partner: f.partner, reader: f.reader.assumed ? 'a lockless reader' : `${f.reader.fn}() (line ${f.reader.line})`,
            },
            related: [
              { line: f.write.line, message: `update: ${f.write.text}` },
              ...(f.reader.assumed ? [] : [{ line: f.reader.line, message: `lockless reader ${f.reader.fn}(): ${f.reader.text}` }]),
            ],
            key,
            path: ev.path(),
            litmus: f.check.litmus,
            ...(f.check.witness ? { witness: f.check.witness } : {}),
          });
        }
      },
    };
  },
};
