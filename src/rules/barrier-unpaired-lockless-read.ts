/**
 * barrier-unpaired-lockless-read — a lockless read of a protocol variable that
 * writers update under a lock (kvm->arch.indirect_shadow_pages, counted under
 * mmu_lock), used to decide an early exit after a store the writer side later
 * re-reads (an emulated guest write), with no full barrier between the store
 * and the read; or, on the writer side, an update with no full barrier after
 * it while a reader in view relies on smp_mb() pairing (seed 003: store
 * buffering). Every finding carries the LKMM litmus program built from the two
 * sides and the witness execution in which both sides read the old values.
 *
 * Confidence: medium. Known false-positive causes: the early exit is only an
 * optimisation whose false negative is benign (the comment usually says so);
 * the writer's pairing barrier sits in a caller not in view; the store and the
 * read are ordered by something the engine does not model (a lock taken and
 * released in between by a helper not in view, an smp_store_mb() hidden in a
 * macro). Writers not in view are assumed to be correct (smp_mb() after the
 * update), so the reader-side finding is about the reader alone.
 */
import type { Rule } from '../analyzer/rule-api.js';
import { displayLock, displayVar, readerSideFindings, writerSideFindings } from '../analyzer/protocol.js';

export const rule: Rule = {
  meta: {
    id: 'barrier-unpaired-lockless-read',
    severity: 'warning',
    confidence: 'medium',
    summary: 'Lockless early-exit read of a lock-protected counter after a store, with no smp_mb() pairing (store buffering)',
    docs: 'docs/rules/barrier-unpaired-lockless-read.md',
    seeds: ['Re: [PATCH] KVM: x86/mmu: Remove KVM MMU write lock when accessing indirect_shadow_pages'],
    falsePositives: [
      'the early exit is an optimisation whose false negative is benign',
      'the pairing barrier is in a caller or callee not in view',
      'store and read ordered by a lock or fully ordered primitive hidden in a helper not in view',
    ],
    messages: {
      reader:
        '{reader} reads {var} without {lock} ({read}, line {readLine}) to decide an early exit, after the store {store} (line {storeLine}) with no full barrier in between; {writer}. Store buffering: the LKMM allows the reader to see the old count while the writer misses the store (litmus attached). Put smp_mb() between the store and the read, pairing with the smp_mb() after the writer\'s update',
      writer:
        '{writer}() raises {var} ({write}) with no full barrier after it before its later reads of {partner}, but {reader}() (line {readLine}) reads it without {lock} after {readerBarrier} (line {barrierLine}) and relies on the pairing. Store buffering: the LKMM allows both sides to miss each other\'s update (litmus attached). Add smp_mb() right after the update',
    },
  },
  create(ctx) {
    const seen = new Set<string>();
    return {
      op(ev) {
        for (const f of readerSideFindings(ctx.unit, ctx.model, ctx.fn, ev)) {
          if (f.kind !== 'missing') continue;
          const key = `reader|${f.pv.chain}|${f.read.fn}|${f.read.line}|${f.store.chain}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const writer = f.writer.assumed
            ? 'its writers are not in view (assumed to order their update with smp_mb())'
            : `the writer side, ${f.writer.fn}() (line ${f.writer.line}: ${f.writer.text}), ${f.writer.barrier ? `orders its update with ${f.writer.barrier.text} (line ${f.writer.barrier.line})` : 'has no full barrier after its update either'}`;
          const related = [{ line: f.store.line, message: `store: ${f.store.text}` }];
          if (f.read.fn === ctx.fn.name) related.push({ line: f.read.line, message: `lockless read: ${f.read.text}` });
          if (!f.writer.assumed) related.push({ line: f.writer.line, message: `writer side: ${f.writer.text} in ${f.writer.fn}()` });
          ctx.report({
            line: f.at.line, col: f.at.col, messageId: 'reader',
            data: {
              reader: f.read.fn === ctx.fn.name ? `${f.read.fn}()` : `${f.read.fn}() (reached from ${f.at.text})`, var: displayVar(f.pv), lock: displayLock(f.pv.writersHold), read: f.read.text, readLine: f.read.line,
              store: f.store.text, storeLine: f.store.line, writer,
            },
            related,
            key,
            path: ev.path(),
            litmus: f.check.litmus,
            ...(f.check.witness ? { witness: f.check.witness } : {}),
          });
        }
        for (const f of writerSideFindings(ctx.unit, ctx.model, ctx.fn, ev)) {
          if (f.kind !== 'missing') continue;
          const key = `writer|${f.pv.chain}|${f.write.text}|${f.reader.fn}`;
          if (seen.has(key)) continue;
          seen.add(key);
          ctx.report({
            line: f.write.line, col: f.write.col, messageId: 'writer',
            data: {
              writer: f.write.fn, var: displayVar(f.pv), write: f.write.text, partner: f.partner, reader: f.reader.fn, readLine: f.reader.line,
              lock: displayLock(f.pv.writersHold), readerBarrier: f.reader.barrier?.text ?? 'smp_mb()', barrierLine: f.reader.barrier?.line ?? 0,
            },
            related: [{ line: f.reader.line, message: `lockless reader ${f.reader.fn}(): ${f.reader.text}` }],
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
