import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';

const RULE = 'rmap-misleading-rcu-annotation';
const run = (code: string) => analyzeC(code, [RULE]);

describe(RULE, () => {
  describe('bad', () => {
    it('rcu_assign_pointer() of an rmap array without a grace period (seed 000)', () => {
      const code = `
static int bad_alloc(struct kvm_memory_slot *slot, unsigned long npages)
{
	int i;

	for (i = 0; i < KVM_NR_PAGE_SIZES; ++i) {
		struct kvm_rmap_head *rmap = __vcalloc(npages, sizeof(*rmap), GFP_KERNEL_ACCOUNT);

		if (!rmap)
			return -ENOMEM;
		rcu_assign_pointer(slot->arch.rmap[i], rmap); /* BAD */
	}
	return 0;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_alloc:${lineOf(code, 'BAD')}`]);
      expect(f[0].severity).toBe('note');
    });

    it('srcu_dereference() of an rmap pointer with no RCU writer in view', () => {
      const code = `
static struct kvm_rmap_head *bad_deref(struct kvm *kvm, gfn_t gfn, int level, const struct kvm_memory_slot *slot)
{
	struct kvm_rmap_head *rmap = srcu_dereference(slot->arch.rmap[level - PG_LEVEL_4K], &kvm->srcu); /* BAD */

	return &rmap[gfn_to_index(gfn, slot->base_gfn, level)];
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_deref:${lineOf(code, 'BAD')}`]);
    });

    it('rcu_dereference_protected() of an rmap pointer', () => {
      const code = `
static void bad_protected(struct kvm *kvm, struct kvm_memory_slot *slot)
{
	struct kvm_rmap_head *rmap;

	rmap = rcu_dereference_protected(slot->arch.rmap[0], lockdep_is_held(&kvm->slots_lock)); /* BAD */
	walk(rmap);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_protected:${lineOf(code, 'BAD')}`]);
    });

    it('sync only on one path after the assignment', () => {
      const code = `
static void bad_half_sync(struct kvm *kvm, struct kvm_memory_slot *slot, struct kvm_rmap_head *rmap, bool wait)
{
	rcu_assign_pointer(slot->arch.rmap[0], rmap); /* BAD */
	if (wait)
		synchronize_srcu(&kvm->srcu);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_half_sync:${lineOf(code, 'BAD')}`]);
    });

    it('annotated rmaps freed with a plain vfree()', () => {
      const code = `
static void annotate(struct kvm_memory_slot *slot, struct kvm_rmap_head *rmap)
{
	rcu_assign_pointer(slot->arch.rmap[0], rmap); /* BAD1 */
}

static void bad_free(struct kvm_memory_slot *slot)
{
	int i;

	for (i = 0; i < KVM_NR_PAGE_SIZES; ++i) {
		vfree(slot->arch.rmap[i]); /* BAD2 */
		slot->arch.rmap[i] = NULL;
	}
}
`;
      expect(brief(run(code))).toEqual([`${RULE} annotate:${lineOf(code, 'BAD1')}`, `${RULE} bad_free:${lineOf(code, 'BAD2')}`]);
    });
  });

  describe('good', () => {
    it('plain stores in the allocator (6.12 shape)', () => {
      const code = `
int good_alloc(struct kvm_memory_slot *slot, unsigned long npages)
{
	int i;

	for (i = 0; i < KVM_NR_PAGE_SIZES; ++i) {
		if (slot->arch.rmap[i])
			continue;
		slot->arch.rmap[i] = __vcalloc(npages, sizeof(*slot->arch.rmap[i]), GFP_KERNEL_ACCOUNT);
		if (!slot->arch.rmap[i])
			return -ENOMEM;
	}
	return 0;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('plain free without any annotation in view', () => {
      const code = `
static void good_free(struct kvm_memory_slot *slot)
{
	int i;

	for (i = 0; i < KVM_NR_PAGE_SIZES; ++i) {
		vfree(slot->arch.rmap[i]);
		slot->arch.rmap[i] = NULL;
	}
}
`;
      expect(run(code)).toEqual([]);
    });

    it('srcu_dereference() of the memslots array itself', () => {
      const code = `
struct kvm_memslots *good_memslots(struct kvm *kvm, int as_id)
{
	return srcu_dereference(kvm->memslots[as_id], &kvm->srcu);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('rcu_assign_pointer() of memslots followed by synchronize_srcu_expedited()', () => {
      const code = `
static void good_publish(struct kvm *kvm, int as_id, struct kvm_memslots *slots)
{
	rcu_assign_pointer(kvm->memslots[as_id], slots);
	synchronize_srcu_expedited(&kvm->srcu);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('rmap assignment with a grace period after it on every path (annotation backed)', () => {
      const code = `
static void good_backed(struct kvm *kvm, struct kvm_memory_slot *slot, struct kvm_rmap_head *rmap)
{
	struct kvm_rmap_head *old = rcu_dereference_protected(slot->arch.rmap[0], 1);

	rcu_assign_pointer(slot->arch.rmap[0], rmap);
	synchronize_srcu(&kvm->srcu);
	vfree(old);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('store-release of the rmap flag (the real publication)', () => {
      const code = `
static void good_flag(struct kvm *kvm)
{
	smp_store_release(&kvm->arch.shadow_root_allocated, true);
}
`;
      expect(run(code)).toEqual([]);
    });
  });
});
