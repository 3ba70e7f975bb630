import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';

const RULE = 'rmap-unguarded-access';
const run = (code: string) => analyzeC(code, [RULE]);

const SLOT_RMAP = `
static struct kvm_rmap_head *slot_rmap(gfn_t gfn, int level, const struct kvm_memory_slot *slot)
{
	unsigned long idx = gfn_to_index(gfn, slot->base_gfn, level);

	return &slot->arch.rmap[level - PG_LEVEL_4K][idx];
}
`;

const WALK = `
static bool zap_slot_rmaps(struct kvm *kvm, const struct kvm_memory_slot *slot, gfn_t start, gfn_t end)
{
	struct slot_rmap_walk_iterator iterator;
	bool flush = false;

	for_each_slot_rmap_range(slot, PG_LEVEL_4K, KVM_MAX_HUGEPAGE_LEVEL, start, end, &iterator)
		flush |= zap_one_rmap(kvm, iterator.rmap);
	return flush;
}
`;

describe(RULE, () => {
  describe('bad', () => {
    it('gfn_to_rmap() with no guard in an entry point', () => {
      const code = `
void bad_direct(struct kvm *kvm, struct kvm_memory_slot *slot, gfn_t gfn)
{
	struct kvm_rmap_head *head;

	head = gfn_to_rmap(gfn, PG_LEVEL_4K, slot); /* BAD */
	clear_rmap(head);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_direct:${lineOf(code, 'BAD')}`]);
    });

    it('helper that indexes slot->arch.rmap[][] called without the guard (summary)', () => {
      const code = `${SLOT_RMAP}
bool bad_age(struct kvm *kvm, struct kvm_gfn_range *range)
{
	struct kvm_rmap_head *head = slot_rmap(range->start, PG_LEVEL_4K, range->slot); /* BAD */

	return head->val != 0;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_age:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('slot_rmap()');
    });

    it('rmap walk called on the path where the guard is false', () => {
      const code = `${WALK}
bool bad_inverted(struct kvm *kvm, struct kvm_gfn_range *range)
{
	bool flush = false;

	if (!kvm_memslots_have_rmaps(kvm))
		flush = zap_slot_rmaps(kvm, range->slot, range->start, range->end); /* BAD */
	if (tdp_mmu_enabled)
		flush = kvm_tdp_mmu_unmap_gfn_range(kvm, range, flush);
	return flush;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_inverted:${lineOf(code, 'BAD')}`]);
    });

    it('guard on one branch only, access after the join', () => {
      const code = `
void bad_join(struct kvm *kvm, struct kvm_memory_slot *slot, gfn_t gfn, bool log)
{
	if (log && !kvm_memslots_have_rmaps(kvm))
		return;
	rmap_write_protect(__gfn_to_rmap(gfn, PG_LEVEL_4K, slot), false); /* BAD */
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_join:${lineOf(code, 'BAD')}`]);
    });

    it('plain store of the rmap flag after allocating the arrays', () => {
      const code = `
static int bad_publish_plain(struct kvm *kvm)
{
	struct kvm_memory_slot *slot;
	int bkt, r;

	mutex_lock(&kvm->slots_arch_lock);
	kvm_for_each_memslot(slot, bkt, kvm_memslots(kvm)) {
		r = memslot_rmap_alloc(slot, slot->npages);
		if (r)
			goto out;
	}
	kvm->arch.shadow_root_allocated = true; /* BAD */
out:
	mutex_unlock(&kvm->slots_arch_lock);
	return r;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_publish_plain:${lineOf(code, 'BAD')}`]);
      expect(f[0].confidence).toBe('high');
      expect(f[0].litmus).toContain('smp_load_acquire(shadow_root_allocated)');
      expect(f[0].litmus).toContain('exists (1:r0=1 /\\ 1:r1=0)');
    });

    it('WRITE_ONCE() of the flag is not a release either', () => {
      const code = `
static void bad_publish_once(struct kvm *kvm, struct kvm_memory_slot *slot)
{
	if (!memslot_rmap_alloc(slot, slot->npages))
		WRITE_ONCE(kvm->arch.shadow_root_allocated, true); /* BAD */
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_publish_once:${lineOf(code, 'BAD')}`]);
    });

    it('flag released before the allocation loop', () => {
      const code = `
static int bad_publish_early(struct kvm *kvm)
{
	struct kvm_memory_slot *slot;
	int bkt, r = 0;

	smp_store_release(&kvm->arch.shadow_root_allocated, true);
	kvm_for_each_memslot(slot, bkt, kvm_memslots(kvm)) {
		r = memslot_rmap_alloc(slot, slot->npages); /* BAD */
		if (r)
			break;
	}
	return r;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_publish_early:${lineOf(code, 'BAD')}`]);
    });
  });

  describe('good', () => {
    it('early return on !kvm_memslots_have_rmaps()', () => {
      const code = `
void good_early_return(struct kvm *kvm, struct kvm_memory_slot *slot, gfn_t gfn_offset, unsigned long mask)
{
	if (!kvm_memslots_have_rmaps(kvm))
		return;
	while (mask) {
		rmap_write_protect(gfn_to_rmap(slot->base_gfn + gfn_offset + __ffs(mask), PG_LEVEL_4K, slot), false);
		mask &= mask - 1;
	}
}
`;
      expect(run(code)).toEqual([]);
    });

    it('caller guards the helper (summary + guard at the call)', () => {
      const code = `${WALK}
bool good_caller(struct kvm *kvm, struct kvm_gfn_range *range)
{
	bool flush = false;

	if (kvm_memslots_have_rmaps(kvm))
		flush = zap_slot_rmaps(kvm, range->slot, range->start, range->end);
	if (tdp_mmu_enabled)
		flush = kvm_tdp_mmu_unmap_gfn_range(kvm, range, flush);
	return flush;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('TDP MMU off: the legacy MMU always has rmaps', () => {
      const code = `
int good_legacy_fault(struct kvm_vcpu *vcpu, struct kvm_memory_slot *slot, gfn_t gfn)
{
	if (tdp_mmu_enabled)
		return tdp_fault(vcpu, gfn);
	return add_to_rmap(vcpu, __gfn_to_rmap(gfn, PG_LEVEL_4K, slot));
}
`;
      expect(run(code)).toEqual([]);
    });

    it('shadow-page hash walk: a shadow page exists, so do the rmaps', () => {
      const code = `
static void drop_one(struct kvm *kvm, struct kvm_mmu_page *sp, const struct kvm_memory_slot *slot)
{
	pte_list_remove(kvm, gfn_to_rmap(sp->gfn, sp->role.level, slot));
}

void good_shadow_walk(struct kvm *kvm, const struct kvm_memory_slot *slot, gfn_t gfn)
{
	struct kvm_mmu_page *sp;

	write_lock(&kvm->mmu_lock);
	for_each_gfn_valid_sp_with_gptes(kvm, sp, gfn)
		drop_one(kvm, sp, slot);
	write_unlock(&kvm->mmu_lock);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('non-TDP-MMU root page (is_tdp_mmu_page() false) and active_mmu_pages list', () => {
      const code = `
static void zap_shadow_page(struct kvm *kvm, struct kvm_mmu_page *sp, const struct kvm_memory_slot *slot)
{
	pte_list_remove(kvm, gfn_to_rmap(sp->gfn, sp->role.level, slot));
}

void good_free_root(struct kvm *kvm, struct kvm_mmu_page *sp, const struct kvm_memory_slot *slot)
{
	if (is_tdp_mmu_page(sp))
		kvm_tdp_mmu_put_root(kvm, sp);
	else if (!--sp->root_count)
		zap_shadow_page(kvm, sp, slot);
}

void good_zap_all(struct kvm *kvm, const struct kvm_memory_slot *slot)
{
	struct kvm_mmu_page *sp, *node;

	list_for_each_entry_safe(sp, node, &kvm->arch.active_mmu_pages, link)
		zap_shadow_page(kvm, sp, slot);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('kvm_shadow_root_allocated() acquire vs smp_store_release() at first shadow-root allocation', () => {
      const code = `
static int good_first_root(struct kvm *kvm)
{
	struct kvm_memory_slot *slot;
	int bkt, r = 0;

	if (kvm_shadow_root_allocated(kvm))
		return 0;
	mutex_lock(&kvm->slots_arch_lock);
	if (kvm_shadow_root_allocated(kvm))
		goto out;
	kvm_for_each_memslot(slot, bkt, kvm_memslots(kvm)) {
		r = memslot_rmap_alloc(slot, slot->npages);
		if (r)
			goto out;
	}
	smp_store_release(&kvm->arch.shadow_root_allocated, true);
out:
	mutex_unlock(&kvm->slots_arch_lock);
	return r;
}

void good_reader(struct kvm *kvm, struct kvm_memory_slot *slot, gfn_t gfn)
{
	if (smp_load_acquire(&kvm->arch.shadow_root_allocated))
		rmap_write_protect(gfn_to_rmap(gfn, PG_LEVEL_4K, slot), false);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('allocator writes the rmap pointers themselves (not an access)', () => {
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
  });
});
