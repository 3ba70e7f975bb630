import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';

const RULE = 'memslots-publish-without-sync';
const run = (code: string) => analyzeC(code, [RULE]);

describe(RULE, () => {
  describe('bad', () => {
    it('frees the old array right after the publish', () => {
      const code = `
void replace_slots(struct kvm *kvm, int as_id, struct kvm_memslots *slots)
{
	struct kvm_memslots *old = __kvm_memslots(kvm, as_id);

	rcu_assign_pointer(kvm->memslots[as_id], slots);
	kvfree(old); /* BAD */
	synchronize_srcu_expedited(&kvm->srcu);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} replace_slots:${lineOf(code, 'BAD')}`]);
      expect(f[0].related[0].line).toBe(lineOf(code, 'rcu_assign_pointer'));
      expect(f[0].message).toContain('kvfree()');
      expect(f[0].severity).toBe('error');
    });

    it('frees through a static helper that frees its parameter (summary)', () => {
      const code = `
static void drop_slots(struct kvm *kvm, struct kvm_memslots *victim)
{
	if (!victim)
		return;
	kvm_arch_flush(kvm, victim);
	kvfree(victim);
}

int update_slots(struct kvm *kvm, struct kvm_memslots *next)
{
	struct kvm_memslots *prev = kvm_memslots(kvm);

	rcu_assign_pointer(kvm->memslots[0], next);
	drop_slots(kvm, prev); /* BAD */
	synchronize_srcu(&kvm->srcu);
	return 0;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} update_slots:${lineOf(code, 'BAD')}`]);
    });

    it('reuses (writes into) the old array before the grace period', () => {
      const code = `
void flip_slots(struct kvm *kvm, int as_id, struct kvm_memslots *active)
{
	struct kvm_memslots *inactive = kvm->memslots[as_id];

	rcu_assign_pointer(kvm->memslots[as_id], active);
	inactive->node_idx ^= 1; /* BAD */
	synchronize_srcu_expedited(&kvm->srcu);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} flip_slots:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('writes into the old memslots array inactive');
    });

    it('returns the old array before any grace period', () => {
      const code = `
struct kvm_memslots *install_slots(struct kvm *kvm, int as_id, struct kvm_memslots *slots)
{
	struct kvm_memslots *old = __kvm_memslots(kvm, as_id);

	slots->generation = old->generation + 1;
	rcu_assign_pointer(kvm->memslots[as_id], slots);
	return old; /* BAD */
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} install_slots:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('returns the old memslots array old');
    });

    it('an error path frees the old array before the sync that only the success path reaches', () => {
      const code = `
int commit_slots(struct kvm *kvm, struct kvm_memslots *slots)
{
	struct kvm_memslots *old = kvm_memslots(kvm);
	int r;

	rcu_assign_pointer(kvm->memslots[0], slots);
	r = kvm_arch_commit(kvm, slots);
	if (r)
		goto out_free;
	synchronize_srcu_expedited(&kvm->srcu);
	return 0;
out_free:
	kvm_free_memslots(kvm, old); /* BAD */
	return r;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} commit_slots:${lineOf(code, 'BAD')}`]);
      // The path goes through the failing branch.
      expect(f[0].path?.map((p) => p.line)).toContain(lineOf(code, 'if (r)'));
    });

    it('frees inside scoped_guard(mutex) before the sync after it', () => {
      const code = `
void swap_locked(struct kvm *kvm, int as_id, struct kvm_memslots *slots)
{
	struct kvm_memslots *old;

	scoped_guard(mutex, &kvm->slots_arch_lock) {
		old = __kvm_memslots(kvm, as_id);
		rcu_assign_pointer(kvm->memslots[as_id], slots);
		kfree(old); /* BAD */
	}
	synchronize_srcu(&kvm->srcu);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} swap_locked:${lineOf(code, 'BAD')}`]);
    });

    it('a generation finalised before the sync is reported by memslots-generation-order only', () => {
      const code = `
void early_gen(struct kvm *kvm, int as_id, struct kvm_memslots *slots)
{
	u64 gen = __kvm_memslots(kvm, as_id)->generation;

	slots->generation = gen | KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS;
	rcu_assign_pointer(kvm->memslots[as_id], slots);
	slots->generation = gen + 2; /* EARLY */
	synchronize_srcu_expedited(&kvm->srcu);
}
`;
      expect(run(code)).toEqual([]);
      const both = analyzeC(code, [RULE, 'memslots-generation-order']);
      expect(brief(both)).toEqual([`memslots-generation-order early_gen:${lineOf(code, 'EARLY')}`]);
    });
  });

  describe('good', () => {
    it('kvm_swap_active_memslots() shape: publish, unlock, synchronize_srcu_expedited(), generation', () => {
      const code = `
static void swap_active(struct kvm *kvm, int as_id)
{
	struct kvm_memslots *slots = get_inactive(kvm, as_id);
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
	gen += KVM_ADDRESS_SPACE_NUM;
	slots->generation = gen;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('frees the old array after the grace period, and returns it after one', () => {
      const code = `
struct kvm_memslots *install(struct kvm *kvm, int as_id, struct kvm_memslots *slots)
{
	struct kvm_memslots *old = __kvm_memslots(kvm, as_id);

	rcu_assign_pointer(kvm->memslots[as_id], slots);
	synchronize_srcu(&kvm->srcu);
	return old;
}

void install_and_free(struct kvm *kvm, struct kvm_memslots *slots)
{
	struct kvm_memslots *old = kvm_memslots(kvm);

	rcu_assign_pointer(kvm->memslots[0], slots);
	synchronize_srcu_expedited(&kvm->srcu);
	kvfree(old);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('defers the free with call_srcu()', () => {
      const code = `
static void free_slots_cb(struct rcu_head *head)
{
	kvfree(container_of(head, struct kvm_memslots, rcu));
}

void replace_deferred(struct kvm *kvm, struct kvm_memslots *slots)
{
	struct kvm_memslots *old = kvm_memslots(kvm);

	rcu_assign_pointer(kvm->memslots[0], slots);
	call_srcu(&kvm->srcu, &old->rcu, free_slots_cb);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('every path, including the error path, frees after the sync', () => {
      const code = `
int commit_all(struct kvm *kvm, struct kvm_memslots *slots)
{
	struct kvm_memslots *old = kvm_memslots(kvm);
	int r;

	rcu_assign_pointer(kvm->memslots[0], slots);
	synchronize_srcu_expedited(&kvm->srcu);
	r = kvm_arch_commit(kvm, slots);
	if (r)
		goto out_free;
	kvm_arch_flush(kvm, old);
out_free:
	kvfree(old);
	return r;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('the grace period is waited for in a static helper (summary)', () => {
      const code = `
static void wait_for_readers(struct kvm *kvm)
{
	synchronize_srcu_expedited(&kvm->srcu);
}

void replace_wait_helper(struct kvm *kvm, struct kvm_memslots *slots)
{
	struct kvm_memslots *old = kvm_memslots(kvm);

	rcu_assign_pointer(kvm->memslots[0], slots);
	wait_for_readers(kvm);
	kvfree(old);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('publishing the first arrays at VM creation frees nothing old', () => {
      const code = `
int create_vm_slots(struct kvm *kvm)
{
	struct kvm_memslots *slots, *scratch;
	int i;

	for (i = 0; i < KVM_ADDRESS_SPACE_NUM; i++) {
		slots = kvzalloc(sizeof(*slots), GFP_KERNEL_ACCOUNT);
		if (!slots)
			goto out_err;
		slots->generation = i;
		rcu_assign_pointer(kvm->memslots[i], slots);
	}
	scratch = kmalloc(64, GFP_KERNEL);
	kfree(scratch);
	return 0;
out_err:
	return -ENOMEM;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('the old pointer variable is reassigned to a fresh allocation before it is freed', () => {
      const code = `
void replace_realloc(struct kvm *kvm, struct kvm_memslots *slots)
{
	struct kvm_memslots *old = kvm_memslots(kvm);

	rcu_assign_pointer(kvm->memslots[0], slots);
	old = kvzalloc(sizeof(*old), GFP_KERNEL);
	kvfree(old);
	synchronize_srcu(&kvm->srcu);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('the old pointer variable is pointed at another array before it is freed', () => {
      const code = `
void replace_spare(struct kvm *kvm, struct kvm_memslots *slots, struct kvm_memslots *spare)
{
	struct kvm_memslots *old = kvm_memslots(kvm);

	rcu_assign_pointer(kvm->memslots[0], slots);
	stash(kvm, old);
	old = spare;
	kvfree(old);
	synchronize_srcu(&kvm->srcu);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('writes into the new array before the sync are not reuse of the old one', () => {
      const code = `
void fill_new(struct kvm *kvm, struct kvm_memslots *slots)
{
	struct kvm_memslots *old = kvm_memslots(kvm);

	rcu_assign_pointer(kvm->memslots[0], slots);
	slots->used_slots = old->used_slots;
	synchronize_srcu(&kvm->srcu);
	old->used_slots = 0;
}
`;
      expect(run(code)).toEqual([]);
    });
  });
});

describe('memslots-publish-without-sync: the LKMM verdict behind a finding', () => {
  it('carries a litmus test whose bad outcome is allowed, and the same test with synchronize_srcu() is forbidden', async () => {
    const code = `
static void lk_publish(struct kvm *kvm, struct kvm_memslots *slots)
{
	struct kvm_memslots *old = kvm_memslots(kvm);

	lockdep_assert_held(&kvm->slots_lock);
	rcu_assign_pointer(kvm->memslots[0], slots);
	kvfree(old); /* BAD */
	synchronize_srcu(&kvm->srcu);
}
`;
    const f = analyzeC(code, ['memslots-publish-without-sync']);
    expect(brief(f)).toEqual([`memslots-publish-without-sync lk_publish:${lineOf(code, 'BAD')}`]);
    expect(f[0].litmus).toMatch(/rcu_assign_pointer\(\*memslots, new_slots\)/);
    expect(f[0].litmus).not.toMatch(/^\tsynchronize_srcu\(/m);
    expect(f[0].witness).toMatch(/old_slots=0/);
    const { runLitmus } = await import('../../src/analyzer/memory-model/index.js');
    const { checkSrcuPublishFree } = await import('../../src/analyzer/protocol.js');
    expect(runLitmus(f[0].litmus!).verdict).toBe('Sometimes');
    const fixed = checkSrcuPublishFree('lk_publish', { text: 'rcu_assign_pointer()', line: 7 }, { text: 'kvfree(old)', line: 9 }, true);
    expect(fixed.verdict).toBe('Never');
    expect(fixed.allowed).toBe(false);
  });
});
