/**
 * barrier-pairing-comment — an smp_*() barrier whose comment does not name its
 * pairing side, or names a function in view that has no barrier that can pair
 * with it on the same shared variables (seed 003: "Pairs with the smp_mb() in
 * account_shadowed()" — pairing comments go stale when functions are renamed;
 * checkpatch only checks that some comment is near a barrier). Pairing is
 * decided by the protocol's shared variables (member chains accessed around
 * each barrier), not only by the name in the comment. A named function that is
 * not in view is not an error: the rule only speaks when another function in
 * view holds the pairing barrier on the same variables (a likely stale name).
 * A barrier's comment is the one at the barrier, or, when there is none, one
 * about ordering above the short run of statements the barrier ends (the store
 * it orders, then an unlock, then the barrier).
 *
 * Confidence: low for the "no pairing side named" note (some barriers order a
 * CPU against a device or are explained in prose), medium for a named function
 * in view without any barrier. Known false-positive causes: the pairing barrier
 * is implied by a primitive the model does not list as a barrier (e.g. an
 * IPI, a lock in a helper not in view); shared variables reached through
 * different pointers in the two functions.
 */
import type { Rule } from '../analyzer/rule-api.js';
import type { CallOp, LoweredFunction } from '../analyzer/ir.js';
import { type BarrierClass, barrierClass, opAccesses } from '../analyzer/protocol.js';

interface BarrierSite {
  fn: LoweredFunction;
  op: CallOp;
  cls: BarrierClass;
  /** Shared member chains accessed around the barrier. */
  vars: Set<string>;
  /** Some of them are members of struct kvm / struct kvm_vcpu (state shared between KVM's own threads). */
  kvmState: boolean;
}

/** Lines around a barrier whose accesses count as what it orders (comments make this generous). */
const WINDOW = 15;
const PAIR_WORDS = /\b(pair|pairs|paired|pairing|match|matches|matching|counterpart|partner|see|vs\.?|against|ensures?|order|orders|ordering|guarantee|visible|observe)\b/i;

/** Which barrier classes can pair with which (a full barrier pairs with anything). */
function compatible(a: BarrierClass, b: BarrierClass): boolean {
  if (a === 'full' || b === 'full') return true;
  const writeSide = new Set<BarrierClass>(['wmb', 'release']);
  return writeSide.has(a) !== writeSide.has(b);
}

export const rule: Rule = {
  meta: {
    id: 'barrier-pairing-comment',
    severity: 'note',
    confidence: 'low',
    summary: 'smp_*() barrier whose comment names no pairing side, or names a function without a matching barrier on the same variables',
    docs: 'docs/rules/barrier-pairing-comment.md',
    seeds: ['Re: [PATCH] KVM: x86/mmu: Remove KVM MMU write lock when accessing indirect_shadow_pages'],
    falsePositives: [
      'barriers that order against a device or are explained in prose without naming a function',
      'the pairing is a primitive the model does not treat as a barrier (IPI, lock in a helper not in view)',
      'the shared variable is reached through differently named members on the two sides',
    ],
    messages: {
      noComment: '{barrier} has no comment naming the barrier it pairs with (which function, which variables{vars})',
      unnamed: '{barrier}: the comment does not name the pairing side (a function and its barrier{vars})',
      noBarrier: '{barrier}: the comment names {named}(), but {named}() (line {namedLine}) has no barrier that could pair with it',
      noMatch: '{barrier}: the comment names {named}(), but none of its barriers ({theirs}) can pair with a {kind} barrier',
      otherVars: '{barrier}: the comment names {named}(), but its barriers ({theirs}) order other variables than this one ({vars}); {hint}',
      stale: '{barrier}: the comment names {named}(){where}, but the barrier that pairs with this one on {shared} is {other}() (line {otherLine}); the name looks stale',
    },
  },
  create(ctx) {
    const unit = ctx.unit;
    const model = ctx.model;
    const cache = new Map<LoweredFunction, BarrierSite[]>();
    /** Functions of the file that call a barrier-class API (found on the index; only those are parsed). */
    const withBarriers = (): readonly LoweredFunction[] =>
      unit.memo('barrier-pairing-comment:with-barriers', () =>
        unit.spans
          .filter((sp) => sp.calls.some((c) => model.api(c)?.effects.some((e) => barrierClass(e) !== undefined)))
          .map((sp) => unit.function(sp.name))
          .filter((f): f is LoweredFunction => !!f),
      );
    /** Barrier calls of a function with the member chains accessed near them. */
    const barriersOf = (fn: LoweredFunction): BarrierSite[] => {
      const hit = cache.get(fn);
      if (hit) return hit;
      const all: { line: number; chains: string[]; kvmState: boolean }[] = [];
      const owners = new Set(model.canonicalOwners.map((o) => o.name));
      const sites: BarrierSite[] = [];
      for (const n of fn.nodes) {
        for (const op of n.ops) {
          // Accesses, and shared members handed to a call by address (list_del(&x->link), atomic ops);
          // lock arguments are not data.
          const isLockCall = op.k === 'call' && unit.effectsOf(op.name).some((e) => e.kind === 'lock' || e.kind === 'unlock' || e.kind === 'srcu-lock' || e.kind === 'srcu-unlock' || e.kind === 'assert-held');
          const acc = [
            ...opAccesses(unit, op).map((a) => ({ chain: a.chain, base: a.base })),
            ...(op.k === 'call' && !isLockCall ? op.args.filter((a) => a.chain && a.text.trim().startsWith('&')).map((a) => ({ chain: a.chain!, base: a.base })) : []),
          ].filter((a) => !(a.chain in model.ownerMembers) && !isLockCall);
          if (acc.length) all.push({ line: op.line, chains: acc.map((a) => a.chain), kvmState: acc.some((a) => !!a.base && owners.has(a.base)) });
          if (op.k !== 'call') continue;
          const api = model.api(op.name);
          if (!api) continue;
          for (const e of api.effects) {
            const cls = barrierClass(e);
            if (!cls) continue;
            sites.push({ fn, op, cls, vars: new Set(), kvmState: false });
            break;
          }
        }
      }
      for (const s of sites) {
        for (const a of all) {
          if (Math.abs(a.line - s.op.line) > WINDOW) continue;
          for (const c of a.chains) s.vars.add(c);
          if (a.kvmState && Math.abs(a.line - s.op.line) <= 4) s.kvmState = true;
        }
      }
      cache.set(fn, sites);
      return sites;
    };
    /**
     * Can a function (with its callees) order anything? true when it or a callee in view has a
     * barrier, and also when a callee is neither in view nor modelled (its ordering is unknown).
     */
    const mayOrder = (fn: LoweredFunction, depth = 0): boolean => {
      if (barriersOf(fn).length) return true;
      if (depth >= 3) return true;
      for (const c of fn.callees) {
        const api = model.api(c);
        if (api) {
          if (api.effects.some((e) => barrierClass(e) !== undefined || e.kind === 'lock' || e.kind === 'unlock' || e.kind === 'sync')) return true;
          continue;
        }
        const g = unit.function(c);
        if (!g) return true;
        if (g !== fn && mayOrder(g, depth + 1)) return true;
      }
      return false;
    };
    /** The comment above a barrier, plus one that starts on the line right below it. */
    const commentNear = (line: number): string => {
      const above = unit.commentAbove(line);
      const lines = unit.lines;
      const next = (lines[line] ?? '').trim();
      let below = '';
      if (next.startsWith('//')) {
        for (let i = line; i < lines.length && lines[i].trim().startsWith('//'); i++) below += `${lines[i].trim().slice(2)}\n`;
      } else if (next.startsWith('/*')) {
        for (let i = line; i < lines.length; i++) {
          below += `${lines[i]}\n`;
          if (lines[i].includes('*/')) break;
        }
      }
      const near = `${above}\n${below}`.trim();
      return near || commentOfOrderedRun(line);
    };
    /**
     * No comment at the barrier itself: the comment above the short run of simple statements the
     * barrier ends (`/* ensure mode is set before ... *\/ vcpu->mode = X; unlock(); smp_mb__after_...();`),
     * when it speaks about ordering. Stops at a brace, another barrier, a non-simple line or after
     * three statements.
     */
    const commentOfOrderedRun = (line: number): string => {
      const lines = unit.lines;
      let statements = 0;
      for (let l = line - 1; l >= 1 && statements < 3; l--) {
        const t = (lines[l - 1] ?? '').trim();
        if (t === '') continue;
        if (!t.endsWith(';') || /[{}]/.test(t) || /\bsmp_\w+\(|\bbarrier\(/.test(t) || t.startsWith('*') || t.startsWith('/')) return '';
        statements++;
        const c = unit.commentAbove(l).trim();
        if (c) return PAIR_WORDS.test(c) ? c : '';
      }
      return '';
    };
    /** Same member, reached through different owners: `loaded_vmcs.link` ~ `link`. */
    const same = (x: string, y: string): boolean => x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`);
    const shared = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => [...b].some((y) => same(x, y)));
    const label = (s: BarrierSite): string => `${s.op.name}() at line ${s.op.line}`;
    /** Other functions in view with a barrier that pairs with `me` on a shared variable. */
    const pairsInView = (me: BarrierSite, except: Set<string>): { site: BarrierSite; vars: string[] }[] => {
      const out: { site: BarrierSite; vars: string[] }[] = [];
      for (const g of withBarriers()) {
        if (except.has(g.name)) continue;
        for (const b of barriersOf(g)) {
          if (b.op.line === me.op.line && g === me.fn) continue;
          if (!compatible(me.cls, b.cls)) continue;
          const v = shared(me.vars, b.vars);
          if (v.length) out.push({ site: b, vars: v });
        }
      }
      return out;
    };
    const done = new Set<number>();
    return {
      op(ev) {
        const op = ev.op;
        if (op.k !== 'call' || done.has(op.id)) return;
        done.add(op.id);
        const me = barriersOf(ctx.fn).find((b) => b.op.id === op.id);
        if (!me) return;
        const isFence = me.op.name.startsWith('smp_') && (me.cls === 'full' || me.cls === 'rmb' || me.cls === 'wmb') && !opAccesses(unit, op).length;
        const comment = commentNear(op.line);
        const names = [...new Set([...comment.matchAll(/\b(FNAME\(\w+\)|[A-Za-z_]\w*)\(\)/g)].map((m) => m[1]))]
          .filter((n) => !model.api(n) || !model.api(n)!.effects.some((e) => barrierClass(e) !== undefined || e.kind === 'access'));
        const barrier = `${op.name}()`;
        const varsText = me.vars.size ? `; it orders ${[...me.vars].slice(0, 4).join(', ')}` : '';
        const base = { line: op.line, col: op.col, path: ev.path() };
        if (names.length === 0) {
          // Barriers around guest-shared pages (pvclock, steal time, Xen shared info) pair with the guest: no function to name.
          if (!isFence || !me.kvmState) return;
          if (comment.trim() === '') {
            ctx.report({ ...base, messageId: 'noComment', data: { barrier, vars: varsText }, key: `none|${op.name}|${[...me.vars].sort().join(',')}` });
          } else if (!PAIR_WORDS.test(comment)) {
            ctx.report({ ...base, messageId: 'unnamed', data: { barrier, vars: varsText }, key: `unnamed|${op.name}|${[...me.vars].sort().join(',')}` });
          }
          return;
        }
        // One correctly named pairing function is enough (comments often name several, or a typo next to the right name).
        const pairsWith = (f: LoweredFunction): boolean =>
          barriersOf(f).some((b) => !(f === ctx.fn && b.op.id === op.id) && compatible(me.cls, b.cls) && (me.vars.size === 0 || b.vars.size === 0 || shared(me.vars, b.vars).length > 0));
        if (names.some((n) => {
          const f = n === ctx.fn.name ? ctx.fn : unit.function(n);
          return !!f && pairsWith(f);
        })) return;
        for (const named of names) {
          const target = named === ctx.fn.name ? ctx.fn : unit.function(named.replace(/^FNAME\((\w+)\)$/, 'FNAME_$1_')) ?? unit.function(named);
          if (!target) {
            // Not in view: only a pairing barrier elsewhere in view whose comment names us says the name is stale.
            const alt = pairsInView(me, new Set([ctx.fn.name])).find((p) => commentNear(p.site.op.line).includes(`${ctx.fn.name}(`));
            if (alt) {
              ctx.report({
                ...base, messageId: 'stale', confidence: 'medium',
                data: { barrier, named, where: ' (not in view)', shared: alt.vars.join(', '), other: alt.site.fn.name, otherLine: alt.site.op.line },
                related: [{ line: alt.site.op.line, message: `${label(alt.site)} in ${alt.site.fn.name}() names ${ctx.fn.name}()` }],
                key: `stale|${named}|${alt.site.fn.name}`,
              });
            }
            continue;
          }
          const theirs = barriersOf(target).filter((b) => !(target === ctx.fn && b.op.id === op.id));
          if (theirs.length === 0) {
            if (mayOrder(target)) continue;
            ctx.report({
              ...base, messageId: 'noBarrier', severity: 'warning', confidence: 'medium',
              data: { barrier, named, namedLine: target.startLine },
              related: [{ line: target.startLine, message: `${named}() has no barrier in view` }],
              key: `nobarrier|${named}`,
            });
            continue;
          }
          const compat = theirs.filter((b) => compatible(me.cls, b.cls));
          const theirsText = theirs.slice(0, 3).map(label).join(', ');
          if (compat.length === 0) {
            ctx.report({
              ...base, messageId: 'noMatch', data: { barrier, named, theirs: theirsText, kind: me.cls },
              related: theirs.slice(0, 3).map((b) => ({ line: b.op.line, message: `${label(b)} in ${named}()` })),
              key: `nomatch|${named}`,
            });
            continue;
          }
          if (compat.some((b) => shared(me.vars, b.vars).length > 0) || me.vars.size === 0) continue;
          if (compat.every((b) => b.vars.size === 0)) continue;
          const alt = pairsInView(me, new Set([ctx.fn.name, target.name]))[0];
          if (alt) {
            ctx.report({
              ...base, messageId: 'stale', confidence: 'medium',
              data: { barrier, named, where: '', shared: alt.vars.join(', '), other: alt.site.fn.name, otherLine: alt.site.op.line },
              related: [{ line: alt.site.op.line, message: `${label(alt.site)} in ${alt.site.fn.name}()` }],
              key: `stale|${named}|${alt.site.fn.name}`,
            });
          } else {
            ctx.report({
              ...base, messageId: 'otherVars',
              data: {
                barrier, named, theirs: compat.slice(0, 3).map((b) => `${label(b)}: ${[...b.vars].slice(0, 3).join(', ')}`).join('; '),
                vars: [...me.vars].slice(0, 4).join(', '), hint: 'check that the comment names the right side',
              },
              related: compat.slice(0, 3).map((b) => ({ line: b.op.line, message: `${label(b)} in ${named}()` })),
              key: `othervars|${named}`,
            });
          }
        }
      },
    };
  },
};
