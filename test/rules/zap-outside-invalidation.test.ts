import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';

const RULE = 'zap-outside-invalidation';
const run = (code: string) => analyzeC(code, [RULE]);

const DISPATCHER = `
static __always_inline bool dispatch_range(struct kvm *kvm, const struct kvm_mmu_notifier_range *range)
{
	struct kvm_gfn_range gfn_range;
	bool ret = false;

	KVM_MMU_LOCK(kvm);
	if (!IS_KVM_NULL_FN(range->on_lock))
		range->on_lock(kvm);
	gfn_range.start = range->start;
	gfn_range.end = range->end;
	ret = range->handler(kvm, &gfn_range);
	KVM_MMU_UNLOCK(kvm);
	return ret;
}

bool unmap_handler(struct kvm *kvm, struct kvm_gfn_range *range)
{
	kvm_mmu_invalidate_range_add(kvm, range->start, range->end);
	return kvm_unmap_gfn_range(kvm, range);
}
`;

describe(RULE, () => {
  describe('bad', () => {
    it('kvm_unmap_gfn_range() under mmu_lock with no invalidation', () => {
      const code = `
void bad_plain(struct kvm *kvm, struct kvm_gfn_range *range)
{
	write_lock(&kvm->mmu_lock);
	if (kvm_unmap_gfn_range(kvm, range)) /* BAD */
		kvm_flush_remote_tlbs(kvm);
	write_unlock(&kvm->mmu_lock);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_plain:${lineOf(code, 'BAD')}`]);
      expect(f[0].confidence).toBe('high');
    });

    it('seed 001: slots_lock held but no synchronize_srcu() since the slot went invalid', () => {
      const code = `
void bad_slots_lock_only(struct kvm *kvm, struct kvm_gfn_range *range)
{
	mutex_lock(&kvm->slots_lock);
	write_lock(&kvm->mmu_lock);
	kvm_unmap_gfn_range(kvm, range); /* BAD */
	write_unlock(&kvm->mmu_lock);
	mutex_unlock(&kvm->slots_lock);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_slots_lock_only:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('no synchronize_srcu');
    });

    it('zap after kvm_mmu_invalidate_end() (invalidation already over)', () => {
      const code = `
void bad_after_end(struct kvm *kvm, struct kvm_gfn_range *range)
{
	KVM_MMU_LOCK(kvm);
	kvm_mmu_invalidate_begin(kvm);
	kvm_mmu_invalidate_range_add(kvm, range->start, range->end);
	kvm_mmu_invalidate_end(kvm);
	kvm_unmap_gfn_range(kvm, range); /* BAD */
	KVM_MMU_UNLOCK(kvm);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_after_end:${lineOf(code, 'BAD')}`]);
    });

    it('helper zap reached through a static wrapper (summary)', () => {
      const code = `
static bool zap_one(struct kvm *kvm, struct kvm_gfn_range *range)
{
	return kvm_tdp_mmu_unmap_gfn_range(kvm, range, false);
}

void bad_wrapper(struct kvm *kvm, struct kvm_gfn_range *range, bool begin)
{
	write_lock(&kvm->mmu_lock);
	if (begin)
		kvm_mmu_invalidate_begin(kvm);
	zap_one(kvm, range); /* BAD */
	if (begin)
		kvm_mmu_invalidate_end(kvm);
	write_unlock(&kvm->mmu_lock);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_wrapper:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('zap_one() -> kvm_tdp_mmu_unmap_gfn_range()');
    });

    it('dispatcher: .handler zaps but .on_lock does not begin an invalidation', () => {
      const code = `${DISPATCHER}
int bad_notifier(struct kvm *kvm, unsigned long start, unsigned long end)
{
	const struct kvm_mmu_notifier_range hva_range = {
		.start		= start,
		.end		= end,
		.handler	= unmap_handler, /* BAD */
		.on_lock	= (void *)kvm_null_fn,
	};

	return dispatch_range(kvm, &hva_range);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_notifier:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('.on_lock = kvm_null_fn');
    });

    it('assertion that accepts slots_lock alone (seed 001 review)', () => {
      const code = `
bool checked_unmap(struct kvm *kvm, struct kvm_gfn_range *range)
{
	lockdep_assert_once(kvm->mmu_invalidate_in_progress || /* BAD */
			    lockdep_is_held(&kvm->slots_lock));
	return kvm_tdp_mmu_unmap_gfn_range(kvm, range, false);
}

void caller(struct kvm *kvm, struct kvm_gfn_range *range)
{
	KVM_MMU_LOCK(kvm);
	kvm_mmu_invalidate_begin(kvm);
	checked_unmap(kvm, range);
	kvm_mmu_invalidate_end(kvm);
	KVM_MMU_UNLOCK(kvm);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} checked_unmap:${lineOf(code, 'BAD')}`]);
      expect(f[0].severity).toBe('warning');
    });
  });

  describe('good', () => {
    it('begin/end bracket under mmu_lock (guest_memfd shape)', () => {
      const code = `
static bool gmem_invalidate(struct kvm *kvm, struct kvm_gfn_range *range)
{
	bool flush = false;

	KVM_MMU_LOCK(kvm);
	kvm_mmu_invalidate_begin(kvm);
	flush |= kvm_mmu_unmap_gfn_range_local(kvm, range);
	if (flush)
		kvm_flush_remote_tlbs(kvm);
	KVM_MMU_UNLOCK(kvm);
	return flush;
}

static bool kvm_mmu_unmap_gfn_range_local(struct kvm *kvm, struct kvm_gfn_range *range)
{
	kvm_mmu_invalidate_range_add(kvm, range->start, range->end);
	return kvm_unmap_gfn_range(kvm, range);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('dispatcher with .on_lock = kvm_mmu_invalidate_begin (mmu notifier range_start)', () => {
      const code = `${DISPATCHER}
int good_notifier(struct kvm *kvm, unsigned long start, unsigned long end)
{
	const struct kvm_mmu_notifier_range hva_range = {
		.start		= start,
		.end		= end,
		.handler	= unmap_handler,
		.on_lock	= kvm_mmu_invalidate_begin,
	};

	return dispatch_range(kvm, &hva_range);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('kvm_zap_gfn_range() protects itself', () => {
      const code = `
void good_self_protected(struct kvm *kvm, gfn_t start, gfn_t end)
{
	kvm_zap_gfn_range(kvm, start, end);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('memslot deletion: slots_lock held, publish + synchronize_srcu_expedited(), then zap', () => {
      const code = `
static void swap_slots(struct kvm *kvm, struct kvm_memslots *slots, int as_id)
{
	rcu_assign_pointer(kvm->memslots[as_id], slots);
	synchronize_srcu_expedited(&kvm->srcu);
}

static void delete_slot(struct kvm *kvm, struct kvm_memslots *slots, struct kvm_gfn_range *range)
{
	swap_slots(kvm, slots, range->slot->as_id);
	write_lock(&kvm->mmu_lock);
	kvm_unmap_gfn_range(kvm, range);
	write_unlock(&kvm->mmu_lock);
}

int good_delete(struct kvm *kvm, struct kvm_memslots *slots, struct kvm_gfn_range *range)
{
	mutex_lock(&kvm->slots_lock);
	delete_slot(kvm, slots, range);
	mutex_unlock(&kvm->slots_lock);
	return 0;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('kvm_arch_flush_shadow_memslot(): zap under the deletion contract', () => {
      const code = `
void kvm_arch_flush_shadow_memslot(struct kvm *kvm, struct kvm_memory_slot *slot)
{
	struct kvm_gfn_range range = {
		.slot = slot,
		.start = slot->base_gfn,
		.end = slot->base_gfn + slot->npages,
		.may_block = true,
	};

	write_lock(&kvm->mmu_lock);
	if (kvm_unmap_gfn_range(kvm, &range))
		kvm_flush_remote_tlbs_memslot(kvm, slot);
	write_unlock(&kvm->mmu_lock);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('generic deletion path calls the arch hook after the grace period', () => {
      const code = `
static void swap_active(struct kvm *kvm, struct kvm_memslots *slots, int as_id)
{
	rcu_assign_pointer(kvm->memslots[as_id], slots);
	mutex_unlock(&kvm->slots_arch_lock);
	synchronize_srcu_expedited(&kvm->srcu);
}

static void invalidate_slot(struct kvm *kvm, struct kvm_memslots *slots, struct kvm_memory_slot *old)
{
	swap_active(kvm, slots, old->as_id);
	kvm_arch_flush_shadow_memslot(kvm, old);
	mutex_lock(&kvm->slots_arch_lock);
}

int set_region(struct kvm *kvm, struct kvm_memslots *slots, struct kvm_memory_slot *old)
{
	mutex_lock(&kvm->slots_lock);
	invalidate_slot(kvm, slots, old);
	mutex_unlock(&kvm->slots_lock);
	return 0;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('assertion that requires the invalidation only', () => {
      const code = `
bool strict_unmap(struct kvm *kvm, struct kvm_gfn_range *range)
{
	lockdep_assert_once(kvm->mmu_invalidate_in_progress);
	return kvm_tdp_mmu_unmap_gfn_range(kvm, range, false);
}

void strict_caller(struct kvm *kvm, struct kvm_gfn_range *range)
{
	KVM_MMU_LOCK(kvm);
	kvm_mmu_invalidate_begin(kvm);
	strict_unmap(kvm, range);
	kvm_mmu_invalidate_end(kvm);
	KVM_MMU_UNLOCK(kvm);
}
`;
      expect(run(code)).toEqual([]);
    });
  });
});
