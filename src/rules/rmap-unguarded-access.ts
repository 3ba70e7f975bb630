/**
 * rmap-unguarded-access — an rmap array is indexed (`__gfn_to_rmap()`,
 * `gfn_to_rmap()`, `slot->arch.rmap[level][idx]`, `for_each_slot_rmap_range()`)
 * on a path that no true rmap guard dominates, or the flag that makes the rmaps
 * visible is published without release ordering (seed 000).
 *
 * With the TDP MMU the rmaps are allocated lazily, when the first shadow root is
 * allocated; readers must first see kvm_memslots_have_rmaps() true, whose
 * load-acquire of kvm->arch.shadow_root_allocated pairs with the allocator's
 * smp_store_release(). Guards the engine recognises (model data): a true
 * kvm_memslots_have_rmaps()/kvm_shadow_root_allocated(), a true acquire load of
 * the flag, and the edge on which `tdp_mmu_enabled` (or `tdp_enabled`) is false.
 *
 * Interprocedural shape: an unguarded access in a helper becomes an `rmap-access`
 * effect of the helper's summary, so the obligation travels up to the callers and
 * is checked against *their* path (e.g. `if (kvm_memslots_have_rmaps(kvm))
 * flush = __kvm_rmap_zap_gfn_range(...)`). A function that something in view
 * calls or uses as a value therefore never reports its own accesses; only a root
 * (nothing in view reaches it) reports, at the line that reaches the access.
 *
 * Publisher side: a plain (or WRITE_ONCE) store to the rmap flag (the finding
 * carries the LKMM message-passing litmus test, allocator vs reader, whose bad
 * outcome the memory model allows; it is not reported if the LKMM forbids it), or a
 * store-release that can be followed by more rmap allocation in the same
 * function (the flag is up before every array exists).
 *
 * Confidence: medium for accesses (a root may be reached only from shadow-MMU
 * callers in other files, which the analysis cannot see); high for the publisher.
 * Known false-positive causes: a root reached only through a function pointer
 * installed for shadow paging (its callers are not visible); rmaps guaranteed by
 * an invariant the model does not know (a non-TDP-MMU shadow page exists).
 * Known false negatives: a function used only as a function pointer is treated
 * as covered by the code that installs it.
 */
import type { CallOp, CfgNode } from '../analyzer/ir.js';
import type { Rule, RuleContext } from '../analyzer/rule-api.js';
import { checkMessagePassing } from '../analyzer/protocol.js';
import { effectChain, usesOf } from '../analyzer/references.js';
import type { State } from '../analyzer/state.js';
import type { PathStep } from '../types.js';

const UNGUARDED_WHY =
  'with the TDP MMU the rmap arrays are allocated lazily (first shadow root), so without a true kvm_memslots_have_rmaps() (load-acquire of kvm->arch.shadow_root_allocated) first this can index a NULL array';

export const rule: Rule = {
  meta: {
    id: 'rmap-unguarded-access',
    severity: 'error',
    confidence: 'medium',
    summary: 'rmap array accessed without a dominating kvm_memslots_have_rmaps(), or rmap flag published without release',
    docs: 'docs/rules/rmap-unguarded-access.md',
    seeds: ['Re: [PATCH v3 7/8] KVM: x86/mmu: Protect rmaps independently with SRCU'],
    falsePositives: [
      'a root function reached only from shadow-MMU code in another file (e.g. through a function pointer installed for shadow paging)',
      'rmaps guaranteed by an invariant the model does not encode',
    ],
    messages: {
      access: '{what} indexes an rmap array on a path with no true kvm_memslots_have_rmaps() check: ' + UNGUARDED_WHY,
      via: '{what} reaches an rmap access ({reason}) on a path with no true kvm_memslots_have_rmaps() check: ' + UNGUARDED_WHY,
      plainPublish:
        'rmap flag {flag} is set with a plain store ({what}): the readers\' smp_load_acquire() in kvm_shadow_root_allocated() pairs with nothing, so a reader can see the flag and still read a NULL or uninitialised rmap array; publish with smp_store_release() after all arrays are allocated',
      earlyPublish:
        'rmap flag {flag} is released at line {line} but rmap arrays can still be allocated afterwards ({alloc} at line {allocLine}): readers that see the flag may index arrays that do not exist yet; set the flag once, after every array is allocated',
    },
  },
  create(ctx) {
    const model = ctx.model;
    const self = ctx.fn.name;
    // A function that is itself modelled as an rmap access (gfn_to_rmap) is the access: its callers are checked.
    const isAccessorItself = ctx.model.effects(self).some((e) => e.kind === 'rmap-access');
    const covered = isAccessorItself || usesOf(ctx.unit, model, self).length > 0;

    const report = (line: number, col: number, messageId: 'access' | 'via', data: Record<string, string>, key: string, path: () => PathStep[]): void => {
      ctx.report({ line, col, messageId, data, key, path: path(), confidence: ctx.fn.isStatic ? 'medium' : 'medium' });
    };

    const flagStore = (ev: { node: CfgNode; pre: State; path: () => PathStep[] }, chain: string, order: string, line: number, col: number, text: string): void => {
      if (!model.isRmapFlag(chain)) return;
      if (order !== 'release' && order !== 'mb') {
        // Message passing, allocator vs reader, run on the LKMM: report only an outcome it allows.
        const mp = checkMessagePassing(
          'rmap-flag-publish',
          { fn: self, data: { loc: 'rmap', text: 'rmap arrays allocated', line: 0 }, flag: { loc: chain, text, line, order: order === 'plain' ? 'plain' : 'once' } },
          { fn: 'kvm_memslots_have_rmaps() reader', data: { loc: 'rmap', text: 'gfn_to_rmap()', line: 0 }, flag: { loc: chain, text: 'smp_load_acquire()', line: 0, order: 'acquire' } },
          (k, c) => ctx.unit.sharedMemo(k, c),
        );
        if (!mp.allowed) return;
        const r: Parameters<typeof ctx.report>[0] = {
          line, col, messageId: 'plainPublish', severity: 'error', confidence: 'high',
          data: { flag: chain, what: text },
          key: `plain|${chain}`,
          path: ev.path(),
          litmus: mp.litmus,
        };
        if (mp.witness) r.witness = mp.witness;
        ctx.report(r);
        return;
      }
      const later = allocReachableFrom(ctx, ev.node);
      if (later) {
        ctx.report({
          line: later.line, col: later.col, messageId: 'earlyPublish', severity: 'error', confidence: 'high',
          data: { flag: chain, line, alloc: `${later.name}()`, allocLine: later.line },
          related: [{ line, col, message: 'rmap flag released here' }],
          key: `early|${chain}|${later.name}`,
          path: ev.path(),
        });
      }
    };

    return {
      op(ev) {
        const { op, pre } = ev;
        if (op.k === 'write') {
          flagStore(ev, op.chain, 'plain', op.line, op.col, op.text);
          if (!covered && !pre.rmapGuard && model.isRmapElementChain(op.chain)) {
            report(op.line, op.col, 'access', { what: op.text }, `elem|${op.chain}`, ev.path);
          }
          return;
        }
        if (op.k === 'read') {
          if (!covered && !pre.rmapGuard && model.isRmapElementChain(op.chain)) {
            report(op.line, op.col, 'access', { what: op.addr ? `&${op.text}` : op.text }, `elem|${op.chain}`, ev.path);
          }
          return;
        }
        if (op.k !== 'call') return;
        for (const e of ev.effects) {
          // Marked stores (WRITE_ONCE, smp_store_release) as written here; a helper's stores are checked in the helper.
          if (e.kind === 'access' && e.access === 'write' && e.chain && model.api(op.name)) flagStore(ev, e.chain, e.order, op.line, op.col, op.text);
          if (e.kind !== 'rmap-access' || covered || pre.rmapGuard) continue;
          const modelled = model.api(op.name) !== undefined;
          const reason = modelled ? '' : effectChain(ctx.unit, op.name, 'rmap-access');
          if (modelled) report(op.line, op.col, 'access', { what: `${op.name}()` }, `call|${op.name}`, ev.path);
          else report(op.line, op.col, 'via', { what: `${op.name}()`, reason }, `via|${op.name}`, ev.path);
        }
      },
      edge(ev) {
        const it = ev.node.iter;
        if (!it || ev.edge.label !== 'enter' || covered || ev.pre.rmapGuard) return;
        if (!model.iterator(it.macro).accessesRmaps) return;
        report(ev.node.line, 1, 'access', { what: `${it.macro}()` }, `iter|${it.macro}`, ev.path);
      },
    };
  },
};

/** A call that allocates rmap arrays reachable after `from` (excluding `from` itself). */
function allocReachableFrom(ctx: RuleContext, from: CfgNode): { name: string; line: number; col: number } | undefined {
  const seen = new Set<number>();
  const todo = from.succs.map((e) => e.to);
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = ctx.fn.nodes[id];
    for (const op of n.ops) {
      if (op.k !== 'call') continue;
      const effs = ctx.unit.effectsOf(op.name);
      if (effs.some((e) => e.kind === 'rmap-alloc')) return { name: (op as CallOp).name, line: op.line, col: op.col };
    }
    for (const e of n.succs) todo.push(e.to);
  }
  return undefined;
}
