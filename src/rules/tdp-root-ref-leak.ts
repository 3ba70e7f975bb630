/**
 * tdp-root-ref-leak — a TDP MMU root reference that is mishandled on some path
 * (seed 004: "reproducible BUG() in kvm_mmu_get_root() in TDP MMU"):
 *  - a yield-safe root loop (for_each_tdp_mmu_root_yield_safe() & co) is left by
 *    break/goto/return while the iterator's reference on the cursor is held and
 *    the function never puts it (nor returns the root, nor stores it away);
 *  - a reference taken by kvm_tdp_mmu_get_root() that is not put on some path;
 *  - kvm_tdp_mmu_get_root() (__must_check: it fails on a dying root) called as a
 *    statement, its failure ignored;
 *  - 5.10's kvm_mmu_put_root() called as a statement: it returned true on the last
 *    reference and the caller had to kvm_tdp_mmu_free_root();
 *  - a root put inside a non-yield-safe loop over roots (list_for_each_entry()
 *    based) and the loop then advancing: the next entry is read from a root that
 *    may have been freed;
 *  - `put; continue;` inside a yield-safe loop: the iterator puts the previous
 *    root itself when it advances, so the root is put twice.
 *
 * Confidence: high for the loop shapes and ignored results; medium for an
 * explicit get not put (the reference may be handed over through a call).
 * Known false-positive causes: a reference handed over through a function
 * argument (the engine treats returning the root and storing it, or a value
 * computed from it, into memory as handing it over). Known false negative:
 * a put that falls through to the end of a yield-safe loop body is not
 * reported, because real code does that on purpose to drop a second reference
 * it owns (the MMU's own reference on an invalidated root).
 */
import type { Rule } from '../analyzer/rule-api.js';
import { carriesRoot } from '../analyzer/engine.js';
import type { LoopInfo } from '../analyzer/ir.js';
import type { IteratorModel } from '../model/index.js';

export const rule: Rule = {
  meta: {
    id: 'tdp-root-ref-leak',
    severity: 'error',
    confidence: 'high',
    summary: 'TDP MMU root reference leaked, put twice, used after put, or get/put result ignored',
    docs: 'docs/rules/tdp-root-ref-leak.md',
    seeds: ['Re: reproducible BUG() in kvm_mmu_get_root() in TDP MMU'],
    falsePositives: [
      'a root reference handed over to another owner through a function argument',
      'a get whose reference the caller is expected to put (return the root to make the contract visible)',
    ],
    messages: {
      leaveLoop:
        '{how} leaves {macro}() with the iterator\'s reference on \'{root}\' still held, and it is never put: call kvm_tdp_mmu_put_root({kvm}, {root}) before leaving (or return the root to a caller that owns the reference)',
      getLeak:
        'reference on \'{root}\' taken at line {line} is not put on this path (nor returned or stored): the root can never be freed',
      unchecked:
        '{call}() is __must_check: it fails when the root\'s refcount already dropped to zero (the root is being freed); test the result before using \'{root}\'',
      lastIgnored:
        'result of {call}() ignored: it returns true when this was the last reference, and the caller must then kvm_tdp_mmu_free_root() the root, else it leaks',
      doublePut:
        '\'{root}\' is put at line {line} and then the loop continues: {macro}() puts the previous root itself when it advances, so the reference is dropped twice; only an early exit (break/goto/return) must put it',
      putThenNext:
        '{what} releases \'{root}\' at line {line} and then {macro}() advances by reading \'{root}\'\'s list link: the root may be freed by then (use after free); use a yield-safe root iterator, which takes the next reference before putting the previous root',
      putTwice: '\'{root}\' is put twice on this path (first at line {line})',
    },
  },
  create(ctx) {
    const { fn, model } = ctx;
    const loopModel = (l: LoopInfo | undefined): IteratorModel | undefined =>
      l && l.kind === 'iter' && l.macro ? model.iterator(l.macro) : undefined;
    const cursorOf = (l: LoopInfo, m: IteratorModel): string | undefined => l.args?.[m.cursorArg]?.ident;
    /** A loop over TDP MMU roots that does not hold a reference across iterations. */
    const isPlainRootLoop = (l: LoopInfo, m: IteratorModel): boolean => {
      if (m.holdsRef || m.kind === 'list-safe') return false;
      if (m.kind === 'tdp-root') return true;
      if (m.kind !== 'list' || m.headArg === undefined) return false;
      const head = l.args?.[m.headArg];
      return !!head?.chain && model.isRootList(head.chain);
    };
    const jumpText = (text: string): string => {
      const t = text.replace(/;.*$/, '').trim();
      return /^(break|continue|goto|return)\b/.test(t) ? `'${t}'` : 'this path';
    };

    return {
      op(ev) {
        const op = ev.op;
        if (op.k !== 'call') return;
        for (const e of ev.effects) {
          if (e.kind === 'root-get' && e.mustCheck && op.use === 'ignored') {
            ctx.report({
              line: op.line, col: op.col, messageId: 'unchecked',
              data: { call: op.name, root: e.arg.text },
              key: `unchecked|${op.name}|${e.arg.text}`,
              path: ev.path(),
            });
          }
          if (e.kind === 'root-put' && e.returnsLast && op.use === 'ignored') {
            ctx.report({
              line: op.line, col: op.col, messageId: 'lastIgnored',
              data: { call: op.name },
              key: `lastIgnored|${op.name}|${e.arg.text}`,
              path: ev.path(),
            });
          }
          if (e.kind === 'root-put' && e.arg.ident && ev.pre.refs[e.arg.ident]?.kind === 'put') {
            const first = ev.pre.refs[e.arg.ident];
            ctx.report({
              line: op.line, col: op.col, messageId: 'putTwice',
              data: { root: e.arg.ident, line: first.line },
              related: [{ line: first.line, col: first.col, message: 'first put here' }],
              key: `putTwice|${e.arg.ident}|${first.text}`,
              path: ev.path(),
            });
          }
        }
      },
      edge(ev) {
        const from = ev.node;
        const to = fn.nodes[ev.edge.to];
        // `put; continue;` in a yield-safe loop.
        if (from.jump === 'continue') {
          const l = fn.loops[from.loops[from.loops.length - 1] ?? -1];
          const m = loopModel(l);
          const v = l && m ? cursorOf(l, m) : undefined;
          const ref = v ? ev.pre.refs[v] : undefined;
          if (l && m?.holdsRef && v && ref?.kind === 'put') {
            ctx.report({
              line: ref.line, col: ref.col, messageId: 'doublePut', severity: 'error',
              data: { root: v, line: ref.line, macro: l.macro! },
              related: [{ line: from.line, message: 'continue: the iterator puts the root again' }, { line: l.line, message: `${l.macro}() loop` }],
              key: `doublePut|${v}|${ref.text}`,
              path: ev.path(),
            });
          }
        }
        // Advancing a plain root loop whose cursor was put.
        if (to.kind === 'iter' && to.iter && from.id !== to.id && from.loops.includes(to.iter.loopId)) {
          const l = fn.loops[to.iter.loopId];
          const m = loopModel(l);
          if (!l || !m || !isPlainRootLoop(l, m)) return;
          const v = cursorOf(l, m);
          const ref = v ? ev.pre.refs[v] : undefined;
          if (!v || ref?.kind !== 'put') return;
          ctx.report({
            line: ref.line, col: ref.col, messageId: 'putThenNext',
            data: { root: v, line: ref.line, macro: l.macro!, what: `${ref.text.replace(/\(.*$/s, '').trim()}()` },
            related: [{ line: l.line, message: `${l.macro}() reads the next entry from '${v}' here` }],
            key: `putThenNext|${v}|${ref.text}`,
            path: ev.path(),
          });
        }
      },
      exit(ev) {
        const s = ev.state;
        const ret = ev.how === 'return' ? ev.node.ret ?? '' : '';
        for (const [v, r] of Object.entries(s.refs)) {
          if (r.kind === 'put') continue;
          // Returning the root (or a value computed from it) hands the reference to the caller.
          if (ret && carriesRoot(ret, v)) continue;
          if (r.kind === 'iter') {
            if (!r.left) continue;
            const l = r.loopId !== undefined ? fn.loops[r.loopId] : undefined;
            ctx.report({
              line: r.left.line, col: r.left.col, messageId: 'leaveLoop',
              data: { how: jumpText(r.left.text), macro: l?.macro ?? 'the root iterator', root: v, kvm: l?.args?.[0]?.text ?? 'kvm' },
              related: l ? [{ line: l.line, message: `${l.macro}() holds a reference on '${v}' in each iteration` }] : [],
              key: `leaveLoop|${v}|${r.left.text}`,
              path: ev.path(),
            });
          } else {
            ctx.report({
              line: ev.node.line, col: 1, messageId: 'getLeak', severity: 'warning', confidence: 'medium',
              data: { root: v, line: r.line },
              related: [{ line: r.line, col: r.col, message: 'reference taken here' }],
              key: `getLeak|${v}|${r.text}`,
              path: ev.path(),
            });
          }
        }
      },
    };
  },
};
