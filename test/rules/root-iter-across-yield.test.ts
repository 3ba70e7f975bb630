import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';

const RULE = 'root-iter-across-yield';
const run = (code: string) => analyzeC(code, [RULE]);

describe(RULE, () => {
  describe('bad', () => {
    it('seed 004: for_each_tdp_mmu_root() with a resched of mmu_lock in the body', () => {
      const code = `
void bad_seed(struct kvm *kvm, gfn_t start, gfn_t end)
{
	struct kvm_mmu_page *root;

	for_each_tdp_mmu_root(kvm, root, 0) {
		zap_some(kvm, root, start, end);
		cond_resched_rwlock_write(&kvm->mmu_lock); /* BAD */
	}
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_seed:${lineOf(code, 'BAD')}`]);
      expect(f[0].confidence).toBe('high');
      expect(f[0].related[0].line).toBe(lineOf(code, 'for_each_tdp_mmu_root('));
    });

    it('list_for_each_entry() over the roots list with an unlock/lock pair', () => {
      const code = `
void bad_list_unlock(struct kvm *kvm)
{
	struct kvm_mmu_page *root;

	write_lock(&kvm->mmu_lock);
	list_for_each_entry(root, &kvm->arch.tdp_mmu_roots, link) {
		if (need_resched()) {
			write_unlock(&kvm->mmu_lock); /* BAD */
			cond_resched();
			write_lock(&kvm->mmu_lock);
		}
		flush_root(kvm, root);
	}
	write_unlock(&kvm->mmu_lock);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_list_unlock:${lineOf(code, 'BAD')}`]);
    });

    it('list_for_each_entry_safe() is no fix', () => {
      const code = `
void bad_safe(struct kvm *kvm)
{
	struct kvm_mmu_page *root, *tmp;

	list_for_each_entry_safe(root, tmp, &kvm->arch.tdp_mmu_roots, link) {
		zap_root_range(kvm, root);
		cond_resched_rwlock_read(&kvm->mmu_lock); /* BAD */
	}
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_safe:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('list_for_each_entry_safe() is no fix');
    });

    it('a helper in view that drops mmu_lock (summary), medium confidence', () => {
      const code = `
static bool zap_and_yield(struct kvm *kvm, struct kvm_mmu_page *root)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	zap_all_sptes(kvm, root);
	if (need_resched()) {
		write_unlock(&kvm->mmu_lock);
		cond_resched();
		write_lock(&kvm->mmu_lock);
	}
	return true;
}

void bad_helper(struct kvm *kvm)
{
	struct kvm_mmu_page *root;
	bool flush = false;

	for_each_valid_tdp_mmu_root(kvm, root, -1)
		flush |= zap_and_yield(kvm, root); /* BAD */
	if (flush)
		kvm_flush_remote_tlbs(kvm);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_helper:${lineOf(code, 'BAD')}`]);
      expect(f[0].confidence).toBe('medium');
    });

    it('tdp_mmu_iter_cond_resched() in an SPTE walk nested in a plain root loop', () => {
      const code = `
bool bad_nested(struct kvm *kvm, gfn_t start, gfn_t end)
{
	struct kvm_mmu_page *root;
	struct tdp_iter iter;
	bool flush = false;

	for_each_tdp_mmu_root(kvm, root, 0) {
		rcu_read_lock();
		tdp_root_for_each_pte(iter, root, start, end) {
			if (tdp_mmu_iter_cond_resched(kvm, &iter, flush, false)) { /* BAD */
				flush = false;
				continue;
			}
			flush |= clear_spte(kvm, &iter);
		}
		rcu_read_unlock();
	}
	return flush;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_nested:${lineOf(code, 'BAD')}`]);
    });

    it('KVM_MMU_UNLOCK()/KVM_MMU_LOCK() inside the loop, then continue', () => {
      const code = `
void bad_kvm_mmu_unlock(struct kvm *kvm)
{
	struct kvm_mmu_page *root;

	for_each_tdp_mmu_root(kvm, root, 1) {
		if (root->role.invalid) {
			KVM_MMU_UNLOCK(kvm); /* BAD */
			wait_for_zap(kvm);
			KVM_MMU_LOCK(kvm);
			continue;
		}
		age_root(kvm, root);
	}
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_kvm_mmu_unlock:${lineOf(code, 'BAD')}`]);
    });
  });

  describe('good', () => {
    it('yield-safe iterator with a resched in the body', () => {
      const code = `
void good_yield_safe(struct kvm *kvm, gfn_t start, gfn_t end)
{
	struct kvm_mmu_page *root;

	for_each_valid_tdp_mmu_root_yield_safe(kvm, root, -1) {
		zap_some(kvm, root, start, end);
		cond_resched_rwlock_write(&kvm->mmu_lock);
	}
}
`;
      expect(run(code)).toEqual([]);
    });

    it('plain root loop that never drops mmu_lock (RCU-protected SPTE walk)', () => {
      const code = `
bool good_no_yield(struct kvm *kvm, struct kvm_gfn_range *range)
{
	struct kvm_mmu_page *root;
	struct tdp_iter iter;
	bool ret = false;

	for_each_tdp_mmu_root(kvm, root, range->slot->as_id) {
		rcu_read_lock();
		tdp_root_for_each_leaf_pte(iter, root, range->start, range->end)
			ret |= age_spte(kvm, &iter, range);
		rcu_read_unlock();
	}
	return ret;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('unlock inside the loop followed by return: the loop never advances', () => {
      const code = `
int good_unlock_return(struct kvm *kvm, union kvm_mmu_page_role role)
{
	struct kvm_mmu_page *root;

	write_lock(&kvm->mmu_lock);
	for_each_tdp_mmu_root(kvm, root, 0) {
		if (root->role.word == role.word) {
			write_unlock(&kvm->mmu_lock);
			return -EEXIST;
		}
	}
	write_unlock(&kvm->mmu_lock);
	return 0;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('yield after the loop is finished', () => {
      const code = `
void good_after(struct kvm *kvm)
{
	struct kvm_mmu_page *root;

	for_each_tdp_mmu_root(kvm, root, 0)
		mark_root_invalid(root);
	cond_resched_rwlock_write(&kvm->mmu_lock);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('list loop over another list with a yield', () => {
      const code = `
void good_other_list(struct kvm *kvm)
{
	struct kvm_mmu_page *sp, *tmp;

	list_for_each_entry_safe(sp, tmp, &kvm->arch.zapped_obsolete_pages, link) {
		free_sp(sp);
		cond_resched_rwlock_write(&kvm->mmu_lock);
	}
}
`;
      expect(run(code)).toEqual([]);
    });

    it('helper in the loop that does not drop mmu_lock', () => {
      const code = `
static bool zap_no_yield(struct kvm *kvm, struct kvm_mmu_page *root)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	return zap_all_sptes(kvm, root);
}

void good_helper(struct kvm *kvm)
{
	struct kvm_mmu_page *root;
	bool flush = false;

	list_for_each_entry(root, &kvm->arch.tdp_mmu_roots, link)
		flush |= zap_no_yield(kvm, root);
	if (flush)
		kvm_flush_remote_tlbs(kvm);
}
`;
      expect(run(code)).toEqual([]);
    });
  });
});
