/**
 * Property test of the front end and lowering: random sequences of kernel
 * statement shapes (iterators, guard()/scoped_guard(), ifs with short-circuit
 * conditions, gotos forward and backward, returns, switch, do-while(0)) are
 * assembled into a C function. For each:
 *  - it parses without errors and lowering does not throw;
 *  - every node is reachable from the entry, or is a label placeholder;
 *  - only exit and noreturn nodes have no successor, and from every reachable
 *    node some path reaches the exit or a noreturn call;
 *  - the engine's walk completes, and since every acquire is a guard, no lock
 *    and no SRCU section is held at any exit (cleanups run on every exit).
 * Jumps are generated as the last statement of an `if` without `else`, as in
 * kernel code, so that the generated functions have no dead code.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lowerFunction } from '../src/analyzer/cfg.js';
import { EffectResolver } from '../src/analyzer/effects.js';
import { walk } from '../src/analyzer/engine.js';
import { CParser } from '../src/analyzer/frontend/parse.js';
import type { LoweredFunction } from '../src/analyzer/ir.js';
import type { RuleHandlers } from '../src/analyzer/rule-api.js';
import { MAX_SRCU_DEPTH, initialState } from '../src/analyzer/state.js';
import { Model } from '../src/model/index.js';

const model = new Model();
const parser = new CParser();

interface Ctx {
  depth: number;
  canBreak: boolean;
  canContinue: boolean;
}

const COND = fc.constantFrom(
  'a', '!a', 'a && b', 'a || !b', '!(a && check(kvm))', 'unlikely(x > 3)', 'likely(!b)', 'WARN_ON(!p)',
  'check(kvm)', 'x == 0', 'p != NULL', 'a && (b || x < 2)',
);
const LEAF = fc.constantFrom(
  'work(kvm);', 'x++;', 'p = lookup(kvm, x);', 'kvm->stat.n++;', 'touch(it);', 'flush = true;', 'asm volatile("nop" ::: "memory");',
);

function jump(c: Ctx): fc.Arbitrary<string> {
  const jumps = ['return;', 'goto out;', 'goto retry;', 'BUG();'];
  if (c.canBreak) jumps.push('break;');
  if (c.canContinue) jumps.push('continue;');
  return fc.constantFrom(...jumps);
}

function block(c: Ctx): fc.Arbitrary<string> {
  const item = fc.oneof(
    { weight: 4, arbitrary: stmt(c) },
    { weight: 1, arbitrary: fc.constantFrom('guard(mutex)(&kvm->lock);', 'guard(srcu)(&kvm->srcu);', 'guard(spinlock)(&kvm->mmu_lock);') },
  );
  return fc.array(item, { minLength: 1, maxLength: 4 }).map((xs) => `{\n${xs.join('\n')}\n}`);
}

/** A loop or guard body: a block or a single statement. */
function body(c: Ctx): fc.Arbitrary<string> {
  return c.depth <= 0 ? LEAF : fc.oneof(block(c), stmt(c));
}

function stmt(c: Ctx): fc.Arbitrary<string> {
  if (c.depth <= 0) return LEAF;
  const d = { ...c, depth: c.depth - 1 };
  const loop = { depth: c.depth - 1, canBreak: true, canContinue: true };
  return fc.oneof(
    { weight: 3, arbitrary: LEAF },
    { weight: 2, arbitrary: fc.tuple(COND, fc.array(LEAF, { maxLength: 2 }), jump(c)).map(([k, pre, j]) => `if (${k}) {\n${pre.join('\n')}\n${j}\n}`) },
    { weight: 1, arbitrary: fc.tuple(COND, body(d)).map(([k, s]) => `if (${k})\n${s}`) },
    { weight: 1, arbitrary: fc.tuple(COND, body(d), body(d)).map(([k, s, t]) => `if (${k})\n${s}\nelse\n${t}`) },
    { weight: 1, arbitrary: body(loop).map((s) => `list_for_each_entry(it, head, link)\n${s}`) },
    { weight: 1, arbitrary: body(loop).map((s) => `for_each_tdp_mmu_root_yield_safe(kvm, root) ${s}`) },
    { weight: 1, arbitrary: body(loop).map((s) => `kvm_for_each_vcpu(i, vcpu, kvm)\n${s}`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('mutex, &kvm->slots_lock', 'srcu, &kvm->srcu'), body({ ...loop, canContinue: true })).map(([g, s]) => `scoped_guard(${g})\n${s}`) },
    { weight: 1, arbitrary: fc.tuple(COND, block(loop)).map(([k, s]) => `while (${k})\n${s}`) },
    { weight: 1, arbitrary: block({ ...d, canBreak: true }).map((s) => `do ${s} while (0);`) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.array(stmt({ ...d, canBreak: true }), { maxLength: 2 }), fc.array(LEAF, { maxLength: 2 }), fc.boolean()).map(
        ([one, two, dflt]) => `switch (x) {\ncase 1:\n${one.join('\n')}\nbreak;\ncase 2:\n${two.join('\n')}\n${dflt ? 'default:\nwork(kvm);\n' : ''}}`,
      ),
    },
    { weight: 1, arbitrary: block(d) },
  );
}

const FUNCTION = fc.array(stmt({ depth: 3, canBreak: false, canContinue: false }), { minLength: 1, maxLength: 6 }).map(
  (xs) => `void fz(struct kvm *kvm, struct list_head *head, bool a, bool b, int x, void *p)
{
	struct item *it;
	struct kvm_mmu_page *root;
	struct kvm_vcpu *vcpu;
	unsigned long i;
	bool flush = false;

retry:
${xs.join('\n')}
out:
	done(kvm, flush);
}
`,
).map((code) => {
  // The engine bounds SRCU nesting (MAX_SRCU_DEPTH): keep at most that many SRCU guards.
  let srcu = 0;
  code = code.replace(/guard\(srcu\)\(&kvm->srcu\)|scoped_guard\(srcu, &kvm->srcu\)/g, (m) =>
    ++srcu <= MAX_SRCU_DEPTH ? m : m.startsWith('guard') ? 'guard(mutex)(&kvm->lock)' : 'scoped_guard(mutex, &kvm->lock)');
  // Each guard gets its own lock, so that nested guards of one class are told apart.
  let n = 0;
  return code.replace(/&kvm->(lock|slots_lock|mmu_lock)\b/g, (m) => `${m}${n++}`);
});

function check(code: string): void {
  const parsed = parser.parse('fuzz.c', code);
  expect(parsed.hasErrors, code).toBe(false);
  expect(parsed.functions.map((f) => f.name)).toEqual(['fz']);
  const fn: LoweredFunction = lowerFunction(parsed.functions[0], { model, file: parsed });
  const { nodes } = fn;

  const reach = new Set([fn.entry]);
  const todo = [fn.entry];
  while (todo.length) for (const e of nodes[todo.pop()!].succs) if (!reach.has(e.to)) (reach.add(e.to), todo.push(e.to));
  for (const n of nodes) {
    if (reach.has(n.id)) continue;
    expect(n.kind === 'nop' && /^\w+:$/.test(n.text), `unreachable ${n.kind} L${n.line} "${n.text}"\n${code}`).toBe(true);
  }

  const preds: number[][] = nodes.map(() => []);
  for (const n of nodes) for (const e of n.succs) preds[e.to].push(n.id);
  const ends = nodes.filter((n) => n.kind === 'exit' || n.kind === 'noreturn').map((n) => n.id);
  const co = new Set(ends);
  const back = [...ends];
  while (back.length) for (const p of preds[back.pop()!]) if (!co.has(p)) (co.add(p), back.push(p));
  for (const n of nodes) {
    if (!reach.has(n.id)) continue;
    if (n.succs.length === 0) expect(['exit', 'noreturn'], `dead end L${n.line} "${n.text}"`).toContain(n.kind);
    expect(co.has(n.id), `no way out from ${n.kind} L${n.line} "${n.text}"\n${code}`).toBe(true);
  }

  // Every guard release finds its guard held: no double release, no release of a guard never taken.
  const badRelease: string[] = [];
  const h: RuleHandlers = {
    op(ev) {
      if (ev.op.k !== 'guard' || ev.op.phase !== 'release') return;
      const held = ev.op.cls === 'srcu' ? ev.pre.srcu.depth > 0 : Object.keys(ev.pre.locks).some((l) => ev.op.text.includes(l.replace(/^kvm\./, '')));
      if (!held) badRelease.push(`L${ev.node.line} ${ev.node.text}`);
    },
  };
  const res = walk(fn, [initialState('none')], [h], { model, resolver: new EffectResolver(model, new Map()) });
  expect(badRelease, code).toEqual([]);
  expect(res.truncated).toBe(false);
  for (const e of res.exits) {
    expect(Object.keys(e.state.locks), `locks at exit via L${e.node.line}\n${code}`).toEqual([]);
    expect(e.state.srcu.depth, `SRCU depth at exit via L${e.node.line}\n${code}`).toBe(0);
  }
}

describe('front end fuzz', () => {
  it('lowers random kernel statement shapes into well-formed CFGs', () => {
    fc.assert(fc.property(FUNCTION, (code) => check(code)), { numRuns: 250, seed: 20240611 });
  });

  it('also with a fresh random seed', () => {
    fc.assert(fc.property(FUNCTION, (code) => check(code)), { numRuns: 100 });
  });

  it('handles a backward goto inside a guard scope', () => {
    check(`void fz(struct kvm *kvm, struct list_head *head, bool a, bool b, int x, void *p)
{
	struct item *it;
	struct kvm_mmu_page *root;
	struct kvm_vcpu *vcpu;
	unsigned long i;
	bool flush = false;

retry:
	work(kvm);
out:
	{
		guard(mutex)(&kvm->lock);
again:
		x++;
		if (a) {
			goto again;
		}
	}
	done(kvm, flush);
}
`);
  });
});
