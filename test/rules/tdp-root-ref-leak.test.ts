import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';

const RULE = 'tdp-root-ref-leak';
const run = (code: string) => analyzeC(code, [RULE]);

describe(RULE, () => {
  describe('bad', () => {
    it('break out of a yield-safe loop without putting the root', () => {
      const code = `
void bad_break(struct kvm *kvm, gfn_t start, gfn_t end)
{
	struct kvm_mmu_page *root;

	lockdep_assert_held_write(&kvm->mmu_lock);
	for_each_tdp_mmu_root_yield_safe(kvm, root) {
		if (zap_one_root(kvm, root, start, end))
			break; /* BAD */
	}
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_break:${lineOf(code, 'BAD')}`]);
      expect(f[0].severity).toBe('error');
      expect(f[0].related[0].line).toBe(lineOf(code, 'for_each_tdp_mmu_root_yield_safe'));
    });

    it('return out of a valid-root yield-safe loop', () => {
      const code = `
int bad_return(struct kvm *kvm, int as_id)
{
	struct kvm_mmu_page *root;
	int r;

	for_each_valid_tdp_mmu_root_yield_safe(kvm, root, as_id) {
		r = split_root(kvm, root);
		if (r)
			return r; /* BAD */
	}
	return 0;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_return:${lineOf(code, 'BAD')}`]);
    });

    it('goto out of a yield-safe loop to an unlock label', () => {
      const code = `
int bad_goto(struct kvm *kvm, union kvm_mmu_page_role role)
{
	struct kvm_mmu_page *root;
	int r = 0;

	read_lock(&kvm->mmu_lock);
	for_each_tdp_mmu_root_yield_safe(kvm, root) {
		if (root->role.word == role.word) {
			r = -EEXIST;
			goto out_unlock; /* BAD */
		}
	}
	r = make_root(kvm, role);
out_unlock:
	read_unlock(&kvm->mmu_lock);
	return r;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_goto:${lineOf(code, 'BAD')}`]);
    });

    it('put; continue; inside a yield-safe loop puts the root twice', () => {
      const code = `
void bad_put_continue(struct kvm *kvm)
{
	struct kvm_mmu_page *root;

	for_each_tdp_mmu_root_yield_safe(kvm, root) {
		if (!root->role.invalid) {
			kvm_tdp_mmu_put_root(kvm, root); /* BAD */
			continue;
		}
		zap_invalid_root(kvm, root);
	}
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_put_continue:${lineOf(code, 'BAD')}`]);
      expect(f[0].related.map((r) => r.line)).toContain(lineOf(code, 'continue;'));
    });

    it('current put inside a plain root loop, then advancing', () => {
      const code = `
void bad_put_then_next(struct kvm *kvm)
{
	struct kvm_mmu_page *root;

	write_lock(&kvm->mmu_lock);
	for_each_tdp_mmu_root(kvm, root, 0) {
		if (!kvm_tdp_mmu_get_root(root))
			continue;
		invalidate_root(kvm, root);
		kvm_tdp_mmu_put_root(kvm, root); /* BAD */
	}
	write_unlock(&kvm->mmu_lock);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_put_then_next:${lineOf(code, 'BAD')}`]);
      expect(f[0].related[0].line).toBe(lineOf(code, 'for_each_tdp_mmu_root('));
    });

    it('kvm_tdp_mmu_get_root() called as a statement (must_check ignored)', () => {
      const code = `
void bad_unchecked(struct kvm *kvm, struct kvm_mmu_page *root)
{
	kvm_tdp_mmu_get_root(root); /* BAD */
	flush_root(kvm, root);
	kvm_tdp_mmu_put_root(kvm, root);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_unchecked:${lineOf(code, 'BAD')}`]);
    });

    it('seed 004: 5.10 put result ignored (the last reference is never freed)', () => {
      const code = `
void bad_seed(struct kvm *kvm, gfn_t start, gfn_t end)
{
	struct kvm_mmu_page *root;

	for_each_tdp_mmu_root(kvm, root) {
		kvm_mmu_get_root(kvm, root);
		zap_gfn_range(kvm, root, start, end);
		kvm_mmu_put_root(kvm, root); /* BAD */
	}
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_seed:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('kvm_tdp_mmu_free_root');
    });

    it('free of the last reference inside list_for_each_entry() over the roots, then advancing', () => {
      const code = `
void bad_free_then_next(struct kvm *kvm)
{
	struct kvm_mmu_page *root;

	list_for_each_entry(root, &kvm->arch.tdp_mmu_roots, link) {
		kvm_mmu_get_root(kvm, root);
		flush_root(kvm, root);
		if (kvm_mmu_put_root(kvm, root))
			kvm_tdp_mmu_free_root(kvm, root); /* BAD */
	}
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_free_then_next:${lineOf(code, 'BAD')}`]);
    });

    it('explicit get not put on an error path (warning)', () => {
      const code = `
int bad_get_leak(struct kvm *kvm, struct kvm_mmu_page *root)
{
	if (!kvm_tdp_mmu_get_root(root))
		return -ENOENT;
	if (walk_root(kvm, root))
		return -EIO; /* BAD */
	kvm_tdp_mmu_put_root(kvm, root);
	return 0;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_get_leak:${lineOf(code, 'BAD')}`]);
      expect(f[0].severity).toBe('warning');
      expect(f[0].related[0].line).toBe(lineOf(code, 'kvm_tdp_mmu_get_root'));
    });

    it('the same root put twice on one path', () => {
      const code = `
void bad_twice(struct kvm *kvm, struct kvm_mmu_page *root)
{
	if (!kvm_tdp_mmu_get_root(root))
		return;
	kvm_tdp_mmu_put_root(kvm, root);
	zap_root_locked(kvm);
	kvm_tdp_mmu_put_root(kvm, root); /* BAD */
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_twice:${lineOf(code, 'BAD')}`]);
    });
  });

  describe('good', () => {
    it('kvm_tdp_mmu_put_root(); break; out of a yield-safe loop', () => {
      const code = `
int good_put_break(struct kvm *kvm, int as_id)
{
	struct kvm_mmu_page *root;
	int r = 0;

	for_each_valid_tdp_mmu_root_yield_safe(kvm, root, as_id) {
		r = split_root(kvm, root);
		if (r) {
			kvm_tdp_mmu_put_root(kvm, root);
			break;
		}
	}
	return r;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('a next-root helper: get the next, put the previous, return the referenced root', () => {
      const code = `
static struct kvm_mmu_page *my_next_root(struct kvm *kvm, struct kvm_mmu_page *prev, bool only_valid)
{
	struct kvm_mmu_page *next;

	lockdep_assert_held(&kvm->mmu_lock);
	rcu_read_lock();
	if (prev)
		next = list_next_or_null_rcu(&kvm->arch.tdp_mmu_roots, &prev->link, typeof(*prev), link);
	else
		next = list_first_or_null_rcu(&kvm->arch.tdp_mmu_roots, typeof(*next), link);
	while (next) {
		if ((!only_valid || !next->role.invalid) && kvm_tdp_mmu_get_root(next))
			break;
		next = list_next_or_null_rcu(&kvm->arch.tdp_mmu_roots, &next->link, typeof(*next), link);
	}
	rcu_read_unlock();
	if (prev)
		kvm_tdp_mmu_put_root(kvm, prev);
	return next;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('returning the root found in a yield-safe loop hands the reference to the caller', () => {
      const code = `
static struct kvm_mmu_page *good_find_get(struct kvm *kvm, union kvm_mmu_page_role role)
{
	struct kvm_mmu_page *root;

	for_each_tdp_mmu_root_yield_safe(kvm, root) {
		if (root->role.word == role.word)
			return root;
	}
	return NULL;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('the reference kept on purpose and stored for the vCPU (root allocation shape)', () => {
      const code = `
int good_store_root(struct kvm_vcpu *vcpu, union kvm_mmu_page_role role)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	struct kvm *kvm = vcpu->kvm;
	struct kvm_mmu_page *root;

	read_lock(&kvm->mmu_lock);
	for_each_valid_tdp_mmu_root_yield_safe(kvm, root, 0) {
		if (root->role.word == role.word)
			goto out_unlock;
	}
	spin_lock(&kvm->arch.tdp_mmu_pages_lock);
	list_for_each_entry(root, &kvm->arch.tdp_mmu_roots, link) {
		if (root->role.word == role.word && !WARN_ON_ONCE(!kvm_tdp_mmu_get_root(root)))
			goto out_spin;
	}
	root = new_root(vcpu, role);
out_spin:
	spin_unlock(&kvm->arch.tdp_mmu_pages_lock);
out_unlock:
	read_unlock(&kvm->mmu_lock);
	mmu->root.hpa = __pa(root->spt);
	return 0;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('5.10 put with its "last reference" result handled, outside any loop', () => {
      const code = `
void good_put_last(struct kvm *kvm, struct kvm_mmu_page *root)
{
	kvm_mmu_get_root(kvm, root);
	flush_root(kvm, root);
	if (kvm_mmu_put_root(kvm, root))
		kvm_tdp_mmu_free_root(kvm, root);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('put of a second, owned reference at the end of a yield-safe loop body', () => {
      const code = `
void good_zap_invalidated(struct kvm *kvm)
{
	struct kvm_mmu_page *root;

	read_lock(&kvm->mmu_lock);
	for_each_tdp_mmu_root_yield_safe(kvm, root) {
		if (!root->scheduled_to_zap)
			continue;
		root->scheduled_to_zap = false;
		zap_root(kvm, root, true);
		/* drops the MMU's own reference, not the iterator's */
		kvm_tdp_mmu_put_root(kvm, root);
	}
	read_unlock(&kvm->mmu_lock);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('break, then put after the loop when the root is not NULL', () => {
      const code = `
void good_put_after(struct kvm *kvm)
{
	struct kvm_mmu_page *root;

	for_each_tdp_mmu_root_yield_safe(kvm, root) {
		if (root_is_busy(root))
			break;
	}
	if (root)
		kvm_tdp_mmu_put_root(kvm, root);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('put inside list_for_each_entry_safe() (next entry fetched before the body)', () => {
      const code = `
void good_safe_put(struct kvm *kvm)
{
	struct kvm_mmu_page *root, *tmp;

	list_for_each_entry_safe(root, tmp, &kvm->arch.tdp_mmu_roots, link) {
		if (root->role.invalid)
			kvm_tdp_mmu_put_root(kvm, root);
	}
}
`;
      expect(run(code)).toEqual([]);
    });

    it('checked get, put on every path', () => {
      const code = `
int good_get_put(struct kvm *kvm, struct kvm_mmu_page *root)
{
	int r;

	if (!kvm_tdp_mmu_get_root(root))
		return -ENOENT;
	r = walk_root(kvm, root);
	kvm_tdp_mmu_put_root(kvm, root);
	return r;
}
`;
      expect(run(code)).toEqual([]);
    });
  });
});
