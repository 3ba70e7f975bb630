import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';

const RULE = 'memslots-generation-order';
const run = (code: string) => analyzeC(code, [RULE]);

describe(RULE, () => {
  describe('bad', () => {
    it('seed 002 first patch: old generation copied, bumped only after the sync', () => {
      const code = `
static void bad_install_copy(struct kvm *kvm, struct kvm_memslots *slots)
{
	struct kvm_memslots *old_memslots = kvm->memslots;

	slots->generation = old_memslots->generation;
	rcu_assign_pointer(kvm->memslots, slots); /* BAD */
	synchronize_srcu_expedited(&kvm->srcu);
	slots->generation++;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_install_copy:${lineOf(code, 'BAD')}`]);
    });

    it('generation bumped only before the publish, never finalised after the sync', () => {
      const code = `
static void bad_only_before(struct kvm *kvm, int as_id, struct kvm_memslots *slots)
{
	u64 gen = __kvm_memslots(kvm, as_id)->generation;

	slots->generation = gen + 1;
	rcu_assign_pointer(kvm->memslots[as_id], slots);
	synchronize_srcu_expedited(&kvm->srcu); /* BAD */
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_only_before:${lineOf(code, 'BAD')}`]);
      expect(f[0].related[0].line).toBe(lineOf(code, 'rcu_assign_pointer'));
    });

    it('final value stored between the publish and the grace period', () => {
      const code = `
static void bad_final_early(struct kvm *kvm, int as_id, struct kvm_memslots *slots)
{
	u64 gen = __kvm_memslots(kvm, as_id)->generation;

	slots->generation = gen | KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS;
	rcu_assign_pointer(kvm->memslots[as_id], slots);
	slots->generation = gen + 2; /* BAD */
	synchronize_srcu_expedited(&kvm->srcu);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_final_early:${lineOf(code, 'BAD')}`]);
    });

    it('mark only on one branch before the publish', () => {
      const code = `
static void bad_partial_mark(struct kvm *kvm, int as_id, struct kvm_memslots *slots, bool fast)
{
	u64 gen = __kvm_memslots(kvm, as_id)->generation;

	if (!fast)
		slots->generation = gen | KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS;
	rcu_assign_pointer(kvm->memslots[as_id], slots); /* BAD */
	synchronize_srcu_expedited(&kvm->srcu);
	slots->generation = (gen & ~KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS) + 1;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_partial_mark:${lineOf(code, 'BAD')}`]);
    });

    it('final store skipped on an early return after the grace period', () => {
      const code = `
static int bad_final_skipped(struct kvm *kvm, int as_id, struct kvm_memslots *slots)
{
	u64 gen = __kvm_memslots(kvm, as_id)->generation;

	slots->generation = gen | KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS;
	rcu_assign_pointer(kvm->memslots[as_id], slots);
	synchronize_srcu(&kvm->srcu); /* BAD */
	if (kvm->vm_dead)
		return -EIO;
	slots->generation = gen + 2;
	return 0;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_final_skipped:${lineOf(code, 'BAD')}`]);
    });

    it('cache generation taken in another SRCU section than its data', () => {
      const code = `
int bad_cache(struct kvm *kvm, struct gfn_to_hva_cache *ghc, gpa_t gpa)
{
	struct kvm_memslots *slots;
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	slots = kvm_memslots(kvm);
	ghc->memslot = __gfn_to_memslot(slots, gpa >> PAGE_SHIFT);
	srcu_read_unlock(&kvm->srcu, idx);

	idx = srcu_read_lock(&kvm->srcu);
	ghc->generation = kvm_memslots(kvm)->generation; /* BAD */
	srcu_read_unlock(&kvm->srcu, idx);
	return 0;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_cache:${lineOf(code, 'BAD')}`]);
      expect(f[0].related[0].line).toBe(lineOf(code, 'ghc->memslot ='));
    });
  });

  describe('good', () => {
    it('kvm_swap_active_memslots() shape: mark, publish, synchronize_srcu_expedited(), final', () => {
      const code = `
static void good_swap(struct kvm *kvm, int as_id)
{
	struct kvm_memslots *slots = kvm_get_inactive_memslots(kvm, as_id);
	u64 gen = __kvm_memslots(kvm, as_id)->generation;

	WARN_ON(gen & KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS);
	slots->generation = gen | KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS;

	spin_lock(&kvm->mn_invalidate_lock);
	while (kvm->mn_active_invalidate_count) {
		spin_unlock(&kvm->mn_invalidate_lock);
		schedule();
		spin_lock(&kvm->mn_invalidate_lock);
	}
	rcu_assign_pointer(kvm->memslots[as_id], slots);
	spin_unlock(&kvm->mn_invalidate_lock);
	mutex_unlock(&kvm->slots_arch_lock);

	synchronize_srcu_expedited(&kvm->srcu);

	gen = slots->generation & ~KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS;
	gen += kvm_arch_nr_memslot_as_ids(kvm);
	kvm_arch_memslots_updated(kvm, gen);
	slots->generation = gen;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('seed 002 fix: old + 1 before, ++ after the sync', () => {
      const code = `
static void good_install(struct kvm *kvm, struct kvm_memslots *slots)
{
	struct kvm_memslots *old_memslots = kvm->memslots;

	slots->generation = old_memslots->generation + 1;
	rcu_assign_pointer(kvm->memslots, slots);
	synchronize_srcu_expedited(&kvm->srcu);
	slots->generation++;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('first install at VM creation (no live array replaced)', () => {
      const code = `
static int good_create(struct kvm *kvm)
{
	struct kvm_memslots *slots;
	int i, j;

	for (i = 0; i < kvm_arch_nr_memslot_as_ids(kvm); i++) {
		for (j = 0; j < 2; j++) {
			slots = &kvm->__memslots[i][j];
			slots->generation = i;
		}
		rcu_assign_pointer(kvm->memslots[i], &kvm->__memslots[i][0]);
	}
	return 0;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('__kvm_memslots(kvm, i) loop reading generations (reader, no publish)', () => {
      const code = `
u64 good_max_gen(struct kvm *kvm)
{
	u64 max = 0;
	int i;

	for (i = 0; i < kvm_arch_nr_memslot_as_ids(kvm); i++)
		max = max_t(u64, max, __kvm_memslots(kvm, i)->generation);
	return max;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('cache data and generation from one snapshot', () => {
      const code = `
int good_cache(struct kvm *kvm, struct gfn_to_hva_cache *ghc, gpa_t gpa)
{
	struct kvm_memslots *slots;
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	slots = kvm_memslots(kvm);
	ghc->generation = slots->generation;
	ghc->memslot = __gfn_to_memslot(slots, gpa >> PAGE_SHIFT);
	srcu_read_unlock(&kvm->srcu, idx);
	return 0;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('publish whose grace period is in the caller: no final-store claim', () => {
      const code = `
static void publish_only(struct kvm *kvm, int as_id, struct kvm_memslots *slots)
{
	u64 gen = __kvm_memslots(kvm, as_id)->generation;

	slots->generation = gen | KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS;
	rcu_assign_pointer(kvm->memslots[as_id], slots);
}
`;
      expect(run(code)).toEqual([]);
    });
  });
});
