import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';

const RULE = 'memslots-double-snapshot';
const run = (code: string) => analyzeC(code, [RULE]);

describe(RULE, () => {
  describe('bad', () => {
    it('two kvm_memslots() in one explicit section', () => {
      const code = `
int bad_direct(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_memslots *slots;
	int idx, ret;

	idx = srcu_read_lock(&kvm->srcu);
	slots = kvm_memslots(kvm);
	ret = use_slots(slots, gfn);
	if (kvm_memslots(kvm)->generation != slots->generation) /* BAD */
		ret = -EAGAIN;
	srcu_read_unlock(&kvm->srcu, idx);
	return ret;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_direct:${lineOf(code, 'BAD')}`]);
      expect(f[0].related[0].line).toBe(lineOf(code, 'slots = kvm_memslots'));
      expect(f[0].confidence).toBe('high');
    });

    it('helper that snapshots internally, then a direct snapshot (seed 002 shape)', () => {
      const code = `
static struct kvm_memory_slot *lookup(struct kvm *kvm, gfn_t gfn)
{
	return __gfn_to_memslot(kvm_memslots(kvm), gfn);
}

static u64 mmio_gen(struct kvm *kvm)
{
	return kvm_memslots(kvm)->generation;
}

int bad_helper(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	struct kvm_memory_slot *slot;
	u64 gen;

	kvm_vcpu_srcu_read_lock(vcpu);
	slot = lookup(vcpu->kvm, gfn);
	gen = mmio_gen(vcpu->kvm); /* BAD */
	kvm_vcpu_srcu_read_unlock(vcpu);
	return slot && gen;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_helper:${lineOf(code, 'BAD')}`]);
      expect(f[0].related[0].line).toBe(lineOf(code, 'slot = lookup'));
    });

    it('gfn_to_memslot() then kvm_memslots() inside guard(srcu)', () => {
      const code = `
void bad_guard(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_memory_slot *slot;

	guard(srcu)(&kvm->srcu);
	slot = gfn_to_memslot(kvm, gfn);
	if (!slot)
		return;
	walk_slots(kvm_memslots(kvm)); /* BAD */
	slot_put(slot);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_guard:${lineOf(code, 'BAD')}`]);
    });

    it('two snapshots inside scoped_guard(srcu) with a body block', () => {
      const code = `
int bad_scoped(struct kvm *kvm, int as_id)
{
	int n = 0;

	scoped_guard(srcu, &kvm->srcu) {
		struct kvm_memslots *slots = __kvm_memslots(kvm, as_id);

		n += count(__kvm_memslots(kvm, as_id)); /* BAD */
		n -= count(slots);
	}
	return n;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_scoped:${lineOf(code, 'BAD')}`]);
    });

    it('second snapshot on one branch only is still on some path', () => {
      const code = `
int bad_branch(struct kvm_vcpu *vcpu, gfn_t gfn, bool write)
{
	struct kvm_memslots *slots = kvm_vcpu_memslots(vcpu);
	int r = 0;

	if (write)
		r = kvm_vcpu_write_guest(vcpu, gfn_to_gpa(gfn), &r, sizeof(r)); /* BAD */
	return r + slots->used_slots;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_branch:${lineOf(code, 'BAD')}`]);
      // No section in view: the caller's (vCPU run loop) is assumed, so confidence drops.
      expect(f[0].confidence).toBe('medium');
    });

    it('function known to run under SRCU from its only caller', () => {
      const code = `
static int handle(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_memory_slot *slot = gfn_to_memslot(kvm, gfn);

	if (kvm_is_visible_gfn(kvm, gfn + 1)) /* BAD */
		return slot->id;
	return 0;
}

int caller(struct kvm *kvm, gfn_t gfn)
{
	int idx = srcu_read_lock(&kvm->srcu);
	int r = handle(kvm, gfn);
	srcu_read_unlock(&kvm->srcu, idx);
	return r;
}
`;
      const f = run(code);
      expect(brief(f)).toContain(`${RULE} handle:${lineOf(code, 'BAD')}`);
      expect(f.find((x) => x.function === 'handle')!.confidence).toBe('high');
    });

    it('decision on the first snapshot, second snapshot cached (seed 002 mmio generation)', () => {
      const code = `
void bad_cache_gen(struct kvm_vcpu *vcpu, gfn_t gfn, struct mmio_cache *cache)
{
	struct kvm_memory_slot *slot = kvm_vcpu_gfn_to_memslot(vcpu, gfn);

	if (slot)
		return;
	cache->gfn = gfn;
	cache->gen = kvm_vcpu_memslots(vcpu)->generation; /* BAD */
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_cache_gen:${lineOf(code, 'BAD')}`]);
    });

    it('snapshot inside a list_for_each_entry body after one before the loop', () => {
      const code = `
void bad_loop(struct kvm *kvm, struct list_head *head)
{
	struct item *it;
	struct kvm_memslots *slots;
	int idx = srcu_read_lock(&kvm->srcu);

	slots = kvm_memslots(kvm);
	list_for_each_entry(it, head, link) {
		it->slot = gfn_to_memslot(kvm, it->gfn); /* BAD */
	}
	check_slots(slots, head);
	srcu_read_unlock(&kvm->srcu, idx);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_loop:${lineOf(code, 'BAD')}`]);
    });
  });

  describe('good', () => {
    it('one snapshot passed down', () => {
      const code = `
int good_once(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_memslots *slots;
	int idx = srcu_read_lock(&kvm->srcu);

	slots = kvm_memslots(kvm);
	use_slot(__gfn_to_memslot(slots, gfn));
	use_slot(__gfn_to_memslot(slots, gfn + 1));
	srcu_read_unlock(&kvm->srcu, idx);
	return 0;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('__kvm_memslots(kvm, i) in a loop over address spaces', () => {
      const code = `
void good_as_loop(struct kvm *kvm)
{
	struct kvm_memslots *slots;
	int i, idx = srcu_read_lock(&kvm->srcu);

	for (i = 0; i < kvm_arch_nr_memslot_as_ids(kvm); i++) {
		slots = __kvm_memslots(kvm, i);
		flush_slots(slots);
	}
	srcu_read_unlock(&kvm->srcu, idx);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('different address spaces', () => {
      const code = `
void good_two_as(struct kvm *kvm)
{
	int idx = srcu_read_lock(&kvm->srcu);

	flush_slots(__kvm_memslots(kvm, 0));
	flush_slots(__kvm_memslots(kvm, 1));
	srcu_read_unlock(&kvm->srcu, idx);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('section closed and reopened deliberately', () => {
      const code = `
void good_reopen(struct kvm *kvm)
{
	int idx = srcu_read_lock(&kvm->srcu);

	scan(kvm_memslots(kvm));
	srcu_read_unlock(&kvm->srcu, idx);
	cond_resched();
	idx = srcu_read_lock(&kvm->srcu);
	scan(kvm_memslots(kvm));
	srcu_read_unlock(&kvm->srcu, idx);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('writer side under slots_lock with no SRCU reader', () => {
      const code = `
static void good_writer(struct kvm *kvm, int as_id)
{
	struct kvm_memslots *slots;
	u64 gen;

	lockdep_assert_held(&kvm->slots_lock);
	gen = __kvm_memslots(kvm, as_id)->generation;
	slots = __kvm_memslots(kvm, as_id);
	slots->generation = gen + 1;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('vCPU section dropped around a blocking call (xfer-to-guest shape)', () => {
      const code = `
int good_vcpu_drop(struct kvm_vcpu *vcpu)
{
	struct kvm_memory_slot *slot = kvm_vcpu_gfn_to_memslot(vcpu, 0);

	kvm_vcpu_srcu_read_unlock(vcpu);
	schedule();
	kvm_vcpu_srcu_read_lock(vcpu);
	slot = kvm_vcpu_gfn_to_memslot(vcpu, 0);
	return slot != NULL;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('two self-contained guest accesses (each looks its memslot up)', () => {
      const code = `
int good_accesses(struct kvm_vcpu *vcpu, gpa_t gpa)
{
	u64 a, b;

	if (kvm_vcpu_read_guest(vcpu, gpa, &a, sizeof(a)))
		return -EFAULT;
	return kvm_vcpu_write_guest(vcpu, gpa + 8, &b, sizeof(b));
}
`;
      expect(run(code)).toEqual([]);
    });

    it('first snapshot result dead before the second', () => {
      const code = `
bool good_dead(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_memory_slot *slot = gfn_to_memslot(kvm, gfn);

	trace_slot_lookup(slot);
	mark_page_dirty(kvm, gfn);
	return kvm_is_visible_gfn(kvm, gfn);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('decision on the first snapshot, second is a plain guest write (not cached state)', () => {
      const code = `
int good_decide_then_write(struct kvm *kvm, gfn_t gfn, u64 val)
{
	struct kvm_memory_slot *slot = gfn_to_memslot(kvm, gfn);

	if (!slot)
		return -EFAULT;
	return kvm_write_guest(kvm, gfn_to_gpa(gfn), &val, sizeof(val));
}
`;
      expect(run(code)).toEqual([]);
    });

    it('snapshots on exclusive branches', () => {
      const code = `
int good_exclusive(struct kvm *kvm, gfn_t gfn, bool big)
{
	int idx = srcu_read_lock(&kvm->srcu);
	int r;

	if (big)
		r = count(kvm_memslots(kvm));
	else
		r = gfn_to_memslot(kvm, gfn) != NULL;
	srcu_read_unlock(&kvm->srcu, idx);
	return r;
}
`;
      expect(run(code)).toEqual([]);
    });
  });
});
