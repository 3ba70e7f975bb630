/**
 * Engine unit tests on small C: SRCU depth, guard cleanups at exits, trylock
 * refinement, the per-node state budget, summaries and entry contexts.
 * States are observed through `mark*()` calls: the state before each is recorded.
 */
import { describe, expect, it } from 'vitest';
import { Analyzer } from '../src/analyzer/analyze.js';
import { lowerFunction } from '../src/analyzer/cfg.js';
import { EffectResolver } from '../src/analyzer/effects.js';
import { walk, type WalkResult } from '../src/analyzer/engine.js';
import { CParser } from '../src/analyzer/frontend/parse.js';
import type { LoweredFunction } from '../src/analyzer/ir.js';
import type { Rule, RuleHandlers } from '../src/analyzer/rule-api.js';
import { MAX_STATES_PER_NODE, type State, initialState, stateKey } from '../src/analyzer/state.js';
import {
  CallSiteCollector, type CallSiteContext, type Summary, SummaryCollector, bottomUp, entryContext,
} from '../src/analyzer/summaries.js';
import { type Effect, Model } from '../src/model/index.js';

const model = new Model();
const parser = new CParser();

function lowerAll(code: string): Map<string, LoweredFunction> {
  const parsed = parser.parse('engine.c', code);
  expect(parsed.hasErrors).toBe(false);
  return new Map(parsed.functions.map((f) => [f.name, lowerFunction(f, { model, file: parsed })]));
}

/** Bottom-up summaries of every function, as the analyzer computes them. */
function summarise(fns: Map<string, LoweredFunction>): { summaries: Map<string, Summary>; effects: Map<string, readonly Effect[]>; sites: Map<string, CallSiteContext[]> } {
  const summaries = new Map<string, Summary>();
  const effects = new Map<string, readonly Effect[]>();
  const sites = new Map<string, CallSiteContext[]>();
  const inView = new Set(fns.keys());
  for (const fn of bottomUp([...fns.values()], (f) => f.callees)) {
    const entry = initialState('unknown');
    const collector = new SummaryCollector(fn, model, entry);
    walk(fn, [entry], [collector, new CallSiteCollector(inView, sites)], { model, resolver: new EffectResolver(model, effects) });
    const s = collector.summary();
    summaries.set(fn.name, s);
    if (!model.api(fn.name) && s.effects.length) effects.set(fn.name, s.effects);
  }
  return { summaries, effects, sites };
}

interface Probe {
  res: WalkResult;
  /** States before each call to mark*(), by callee name. */
  marks: Map<string, State[]>;
}

function probe(fn: LoweredFunction, entry: State = initialState('unknown'), effects: Map<string, readonly Effect[]> = new Map()): Probe {
  const marks = new Map<string, State[]>();
  const h: RuleHandlers = {
    op(ev) {
      if (ev.op.k !== 'call' || !ev.op.name.startsWith('mark')) return;
      const list = marks.get(ev.op.name) ?? [];
      list.push(ev.pre);
      marks.set(ev.op.name, list);
    },
  };
  const res = walk(fn, [entry], [h], { model, resolver: new EffectResolver(model, effects) });
  return { res, marks };
}

const depths = (p: Probe, mark: string): number[] => [...new Set((p.marks.get(mark) ?? []).map((s) => s.srcu.depth))].sort();
const holds = (p: Probe, mark: string, lock: string): boolean[] => [...new Set((p.marks.get(mark) ?? []).map((s) => lock in s.locks))].sort();

describe('SRCU depth', () => {
  it('follows nested lock/unlock of kvm->srcu and keeps the outer section', () => {
    const fn = lowerAll(`
void nest(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	int a, b;

	mark0();
	a = srcu_read_lock(&kvm->srcu);
	mark1();
	kvm_vcpu_srcu_read_lock(vcpu);
	b = srcu_read_lock(&vcpu->kvm->srcu);
	mark3();
	srcu_read_unlock(&kvm->srcu, b);
	kvm_vcpu_srcu_read_unlock(vcpu);
	mark1b();
	srcu_read_unlock(&kvm->srcu, a);
	mark0b();
}
`).get('nest')!;
    const p = probe(fn);
    expect(p.res.truncated).toBe(false);
    expect(depths(p, 'mark0')).toEqual([0]);
    expect(depths(p, 'mark1')).toEqual([1]);
    expect(depths(p, 'mark3')).toEqual([3]);
    expect(depths(p, 'mark1b')).toEqual([1]);
    expect(depths(p, 'mark0b')).toEqual([0]);
    // The section identity is the outermost lock's: the same before and after the inner pair.
    expect(p.marks.get('mark1b')![0].srcu.section).toBe(p.marks.get('mark1')![0].srcu.section);
    expect(p.marks.get('mark1')![0].srcu.section).not.toBe('entry');
    expect(p.res.exits.map((e) => e.state.srcu.depth)).toEqual([0]);
  });

  it('ignores SRCU domains other than kvm->srcu', () => {
    const fn = lowerAll(`
void other(struct kvm *kvm)
{
	int i = srcu_read_lock(&kvm->irq_srcu);
	mark0();
	srcu_read_unlock(&kvm->irq_srcu, i);
}
`).get('other')!;
    expect(depths(probe(fn), 'mark0')).toEqual([0]);
  });

  it('drops snapshots when the outermost section closes', () => {
    const fn = lowerAll(`
void drop(struct kvm *kvm)
{
	int i = srcu_read_lock(&kvm->srcu);
	struct kvm_memslots *slots = kvm_memslots(kvm);
	mark1(slots);
	srcu_read_unlock(&kvm->srcu, i);
	mark0();
}
`).get('drop')!;
    const p = probe(fn);
    expect(Object.keys(p.marks.get('mark1')![0].snaps)).toEqual(['0']);
    expect(Object.keys(p.marks.get('mark0')![0].snaps)).toEqual([]);
  });
});

describe('guard() cleanups', () => {
  it('guard(srcu) is released at an early return, a goto out and the final return', () => {
    const fn = lowerAll(`
int gs(struct kvm *kvm, gfn_t gfn, int x)
{
	int r = 0;

	{
		guard(srcu)(&kvm->srcu);
		mark1();
		if (x < 0)
			return -EINVAL;
		if (x > 10)
			goto out;
		r = work(kvm, gfn);
	}
	mark0();
out:
	return r;
}
`).get('gs')!;
    const p = probe(fn, initialState('none'));
    expect(depths(p, 'mark1')).toEqual([1]);
    expect(depths(p, 'mark0')).toEqual([0]);
    const exits = p.res.exits;
    // Two return statements; the `return r` one is reached on two paths.
    expect(new Set(exits.map((e) => e.node.line)).size).toBe(2);
    expect(exits.every((e) => e.how === 'return')).toBe(true);
    for (const e of exits) expect(e.state.srcu.depth, `exit via line ${e.node.line}`).toBe(0);
  });

  it('guard(mutex) and scoped_guard() leave no lock held at any exit, including break out of scoped_guard', () => {
    const fn = lowerAll(`
int gm(struct kvm *kvm, int x)
{
	guard(mutex)(&kvm->slots_lock);
	mark1();
	scoped_guard(spinlock, &kvm->mmu_lock) {
		mark2();
		if (x)
			break;
		if (x > 1)
			return 1;
	}
	mark3();
	return 0;
}
`).get('gm')!;
    const p = probe(fn);
    expect(holds(p, 'mark1', 'kvm.slots_lock')).toEqual([true]);
    expect(holds(p, 'mark2', 'kvm.mmu_lock')).toEqual([true]);
    expect(holds(p, 'mark3', 'kvm.mmu_lock')).toEqual([false]);
    expect(holds(p, 'mark3', 'kvm.slots_lock')).toEqual([true]);
    expect(p.res.exits.length).toBeGreaterThanOrEqual(2);
    for (const e of p.res.exits) expect(Object.keys(e.state.locks), `exit via line ${e.node.line}`).toEqual([]);
  });
});

describe('trylock refinement', () => {
  it('takes the lock on the true edge only', () => {
    const fn = lowerAll(`
void tl(struct kvm *kvm)
{
	if (mutex_trylock(&kvm->lock)) {
		mark1();
		mutex_unlock(&kvm->lock);
	} else {
		mark2();
	}
	mark3();
	if (!spin_trylock(&kvm->mmu_lock))
		return;
	mark4();
	spin_unlock(&kvm->mmu_lock);
	if (busy(kvm) && write_trylock(&kvm->mmu_lock))
		mark5();
	else
		mark6();
}
`).get('tl')!;
    const p = probe(fn);
    expect(holds(p, 'mark1', 'kvm.lock')).toEqual([true]);
    expect(holds(p, 'mark2', 'kvm.lock')).toEqual([false]);
    expect(holds(p, 'mark3', 'kvm.lock')).toEqual([false]);
    expect(holds(p, 'mark4', 'kvm.mmu_lock')).toEqual([true]);
    expect(holds(p, 'mark5', 'kvm.mmu_lock')).toEqual([true]);
    expect(p.marks.get('mark5')![0].locks['kvm.mmu_lock'].mode).toBe('write');
    expect(holds(p, 'mark6', 'kvm.mmu_lock')).toEqual([false]);
  });
});

describe('state budget', () => {
  it('bounds the states per node on 30 sequential ifs and completes untruncated', () => {
    const ifs = Array.from({ length: 30 }, (_, i) => `\tif (c & (1UL << ${i}))\n\t\tspin_lock(&kvm->l${i});`).join('\n');
    const fn = lowerAll(`
void many(struct kvm *kvm, unsigned long c)
{
${ifs}
	mark_end();
}
`).get('many')!;
    const perNode = new Map<number, Set<string>>();
    const h: RuleHandlers = {
      op(ev) {
        const set = perNode.get(ev.node.id) ?? new Set<string>();
        set.add(stateKey(ev.pre));
        perNode.set(ev.node.id, set);
      },
    };
    const t0 = Date.now();
    const res = walk(fn, [initialState('unknown')], [h], { model, resolver: new EffectResolver(model, new Map()) });
    expect(res.truncated).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5_000);
    // 2^30 paths, but each node sees at most the budget plus the joined overflow states.
    const max = Math.max(...[...perNode.values()].map((s) => s.size));
    expect(max).toBeGreaterThanOrEqual(MAX_STATES_PER_NODE);
    expect(max).toBeLessThanOrEqual(2 * MAX_STATES_PER_NODE);
    expect(res.visits).toBeLessThan(fn.nodes.length * 3 * MAX_STATES_PER_NODE);
    expect(res.exits.length).toBeGreaterThan(0);
    expect(res.exits.length).toBeLessThanOrEqual(2 * MAX_STATES_PER_NODE);
    // Joined states keep only must-locks held on all joined paths: never a lock no path took.
    for (const e of res.exits) for (const l of Object.keys(e.state.locks)) expect(l).toMatch(/^kvm\.l\d+$/);
  });
});

describe('summaries', () => {
  const code = `
static struct kvm_memslots *get_slots(struct kvm *kvm, int as_id)
{
	return __kvm_memslots(kvm, as_id);
}

static int count_used(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_memory_slot *slot = gfn_to_memslot(kvm, gfn);

	consume(slot);
	return 0;
}

static void lock_mmu(struct kvm *kvm)
{
	write_lock(&kvm->mmu_lock);
}

static void maybe_lock(struct kvm *kvm, bool x)
{
	if (x)
		write_lock(&kvm->mmu_lock);
}

static void relax(struct kvm *kvm)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	write_unlock(&kvm->mmu_lock);
	cond_resched();
	write_lock(&kvm->mmu_lock);
}

static void relax2(struct kvm *kvm)
{
	cond_resched_rwlock_write(&kvm->mmu_lock);
}

static void wait_readers(struct kvm *kvm)
{
	synchronize_srcu_expedited(&kvm->srcu);
}

static void free_slots(struct kvm *kvm, struct kvm_memslots *slots)
{
	kvfree(slots);
}

void user(struct kvm *kvm, struct kvm_memslots *s)
{
	lock_mmu(kvm);
	mark1();
	relax(kvm);
	write_unlock(&kvm->mmu_lock);
	wait_readers(kvm);
	mark2();
	free_slots(kvm, s);
}
`;
  const fns = lowerAll(code);
  const { summaries, effects } = summarise(fns);
  const eff = (name: string): Effect[] => summaries.get(name)!.effects;

  it('a helper returning a snapshot takes a state snapshot of its address-space argument', () => {
    expect(eff('get_slots')).toContainEqual(expect.objectContaining({ kind: 'snapshot', as: { arg: 1 } }));
    expect(eff('get_slots').find((e) => e.kind === 'snapshot')).not.toHaveProperty('access');
  });

  it('a helper that only uses its snapshot internally is a self-contained access', () => {
    expect(eff('count_used')).toContainEqual(expect.objectContaining({ kind: 'snapshot', as: { fixed: '0' }, access: true }));
  });

  it('a helper returning with a lock held acquires it; one that locks on some paths does not', () => {
    expect(eff('lock_mmu')).toContainEqual({ kind: 'lock', lock: { fixed: 'kvm.mmu_lock' }, mode: 'write' });
    expect(eff('maybe_lock').some((e) => e.kind === 'lock')).toBe(false);
  });

  it('a helper that drops and retakes a held mmu_lock yields it', () => {
    expect(eff('relax')).toContainEqual({ kind: 'yield', lock: { fixed: 'kvm.mmu_lock' } });
    expect(eff('relax').some((e) => e.kind === 'lock')).toBe(false);
    expect(eff('relax2')).toContainEqual({ kind: 'yield', lock: { fixed: 'kvm.mmu_lock' } });
  });

  it('grace periods and frees of a parameter are summarised', () => {
    expect(eff('wait_readers')).toContainEqual({ kind: 'sync', domain: { fixed: 'kvm.srcu' } });
    expect(eff('free_slots')).toContainEqual({ kind: 'free', arg: 1 });
  });

  it('callers apply summarised effects like modelled APIs', () => {
    const p = probe(fns.get('user')!, initialState('unknown'), effects);
    expect(holds(p, 'mark1', 'kvm.mmu_lock')).toEqual([true]);
    expect(holds(p, 'mark2', 'kvm.mmu_lock')).toEqual([false]);
    expect(p.marks.get('mark2')!.every((s) => s.synced !== undefined)).toBe(true);
  });
});

describe('entry context from callers', () => {
  const code = `
static int under_srcu(struct kvm *kvm)
{
	smp_rmb();
	return kvm->id;
}

static int mixed(struct kvm *kvm)
{
	smp_rmb();
	return kvm->id;
}

int exported(struct kvm *kvm)
{
	smp_rmb();
	return kvm->id;
}

static void under_lock(struct kvm *kvm)
{
	smp_rmb();
}

void caller1(struct kvm *kvm)
{
	int idx = srcu_read_lock(&kvm->srcu);

	under_srcu(kvm);
	mixed(kvm);
	exported(kvm);
	srcu_read_unlock(&kvm->srcu, idx);
	mixed(kvm);
	mutex_lock(&kvm->slots_lock);
	under_lock(kvm);
	mutex_unlock(&kvm->slots_lock);
}

void caller2(struct kvm_vcpu *vcpu)
{
	kvm_vcpu_srcu_read_lock(vcpu);
	under_srcu(vcpu->kvm);
	exported(vcpu->kvm);
	kvm_vcpu_srcu_read_unlock(vcpu);
	guard(mutex)(&vcpu->kvm->slots_lock);
	under_lock(vcpu->kvm);
}
`;

  it('computes entry contexts from the call sites in view', () => {
    const fns = lowerAll(code);
    const { sites } = summarise(fns);
    expect(entryContext(fns.get('under_srcu')!, sites.get('under_srcu')).srcu).toBe('held');
    expect(entryContext(fns.get('mixed')!, sites.get('mixed')).srcu).toBe('unknown');
    // Non-static functions have callers out of view.
    expect(entryContext(fns.get('exported')!, sites.get('exported')).srcu).toBe('unknown');
    const lockCtx = entryContext(fns.get('under_lock')!, sites.get('under_lock'));
    expect(lockCtx.locks['kvm.slots_lock']).toEqual({ mode: 'excl', assumed: true });
    expect(lockCtx.callSites).toBe(2);
  });

  // smp_rmb() is a modelled call (the analyzer skips functions with no modelled effect); the probe reads the state there.
  it('the analyzer walks a static function called only under SRCU with entry held', () => {
    const seen = new Map<string, State>();
    const probeRule: Rule = {
      meta: {
        id: 'probe', severity: 'info', confidence: 'low', summary: 'test probe', docs: '', seeds: [], falsePositives: [], messages: {},
      },
      create(ctx) {
        return {
          op(ev) {
            if (ev.op.k === 'call' && ev.op.name === 'smp_rmb' && !seen.has(ctx.fn.name)) seen.set(ctx.fn.name, ev.pre);
          },
        };
      },
    };
    new Analyzer(model, [probeRule]).analyzeSource('entry.c', code);
    expect(seen.get('under_srcu')!.srcu.entry).toBe('held');
    expect(seen.get('mixed')!.srcu.entry).toBe('unknown');
    expect(seen.get('exported')!.srcu.entry).toBe('unknown');
    expect(seen.get('under_lock')!.locks['kvm.slots_lock']?.assumed).toBe(true);
  });
});
