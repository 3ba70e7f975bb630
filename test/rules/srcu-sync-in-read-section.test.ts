import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';

const RULE = 'srcu-sync-in-read-section';
const run = (code: string) => analyzeC(code, [RULE]);

describe(RULE, () => {
  describe('bad', () => {
    it('synchronize_srcu() on kvm->srcu inside its own read-side section', () => {
      const code = `
int bad_sync(struct kvm *kvm)
{
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	update_something(kvm);
	synchronize_srcu(&kvm->srcu); /* BAD */
	srcu_read_unlock(&kvm->srcu, idx);
	return 0;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_sync:${lineOf(code, 'BAD')}`]);
      expect(f[0].confidence).toBe('high');
      expect(f[0].related[0].line).toBe(lineOf(code, 'srcu_read_lock'));
    });

    it('kvm->lock taken inside the vCPU section', () => {
      const code = `
int bad_kvm_lock(struct kvm_vcpu *vcpu)
{
	int r;

	kvm_vcpu_srcu_read_lock(vcpu);
	mutex_lock(&vcpu->kvm->lock); /* BAD */
	r = reconfigure(vcpu->kvm);
	mutex_unlock(&vcpu->kvm->lock);
	kvm_vcpu_srcu_read_unlock(vcpu);
	return r;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_kvm_lock:${lineOf(code, 'BAD')}`]);
    });

    it('vcpu->mutex inside guard(srcu)', () => {
      const code = `
void bad_guard_mutex(struct kvm *kvm, struct kvm_vcpu *vcpu)
{
	guard(srcu)(&kvm->srcu);
	mutex_lock(&vcpu->mutex); /* BAD */
	load_state(vcpu);
	mutex_unlock(&vcpu->mutex);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_guard_mutex:${lineOf(code, 'BAD')}`]);
    });

    it('a helper in view takes slots_lock in its caller\'s section (reported at the call)', () => {
      const code = `
static void delete_private_slot(struct kvm *kvm)
{
	mutex_lock(&kvm->slots_lock);
	set_memory_region(kvm, 0, 0, 0);
	mutex_unlock(&kvm->slots_lock);
}

int bad_helper_lock(struct kvm_vcpu *vcpu)
{
	int idx = srcu_read_lock(&vcpu->kvm->srcu);

	if (vcpu->arch.private_slot_enabled)
		delete_private_slot(vcpu->kvm); /* BAD */
	srcu_read_unlock(&vcpu->kvm->srcu, idx);
	return 0;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_helper_lock:${lineOf(code, 'BAD')}`]);
      expect(f[0].confidence).toBe('medium');
    });

    it('a helper that waits for a grace period, called inside scoped_guard(srcu)', () => {
      const code = `
static void swap_slots(struct kvm *kvm, struct kvm_memslots *slots)
{
	rcu_assign_pointer(kvm->memslots[0], slots);
	synchronize_srcu_expedited(&kvm->srcu);
}

void bad_scoped(struct kvm *kvm, struct kvm_memslots *slots)
{
	scoped_guard(srcu, &kvm->srcu) {
		if (slots_changed(kvm))
			swap_slots(kvm, slots); /* BAD */
	}
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_scoped:${lineOf(code, 'BAD')}`]);
    });

    it('a static function called only inside sections takes kvm->lock (reported at its callers)', () => {
      const code = `
static int handle_exit_reconfig(struct kvm_vcpu *vcpu)
{
	int r;

	mutex_lock(&vcpu->kvm->lock);
	r = reconfigure(vcpu->kvm);
	mutex_unlock(&vcpu->kvm->lock);
	return r;
}

int bad_caller_a(struct kvm_vcpu *vcpu)
{
	int r;

	kvm_vcpu_srcu_read_lock(vcpu);
	r = handle_exit_reconfig(vcpu); /* BAD-A */
	kvm_vcpu_srcu_read_unlock(vcpu);
	return r;
}

int bad_caller_b(struct kvm_vcpu *vcpu)
{
	int idx = srcu_read_lock(&vcpu->kvm->srcu);
	int r = handle_exit_reconfig(vcpu); /* BAD-B */

	srcu_read_unlock(&vcpu->kvm->srcu, idx);
	return r;
}
`;
      expect(brief(run(code))).toEqual([
        `${RULE} bad_caller_a:${lineOf(code, 'BAD-A')}`,
        `${RULE} bad_caller_b:${lineOf(code, 'BAD-B')}`,
      ]);
    });
  });

  describe('good', () => {
    it('kvm_swap_active_memslots() shape: publish then synchronize_srcu_expedited() under slots_lock', () => {
      const code = `
static void swap_active(struct kvm *kvm, int as_id, struct kvm_memslots *slots)
{
	lockdep_assert_held(&kvm->slots_lock);
	rcu_assign_pointer(kvm->memslots[as_id], slots);
	mutex_unlock(&kvm->slots_arch_lock);
	synchronize_srcu_expedited(&kvm->srcu);
	slots->generation++;
}

int set_region(struct kvm *kvm, int as_id, struct kvm_memslots *slots)
{
	mutex_lock(&kvm->slots_lock);
	mutex_lock(&kvm->slots_arch_lock);
	swap_active(kvm, as_id, slots);
	mutex_unlock(&kvm->slots_lock);
	return 0;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('the vCPU drops SRCU around taking slots_lock', () => {
      const code = `
void good_drop(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;

	kvm_vcpu_srcu_read_unlock(vcpu);
	mutex_lock(&kvm->slots_lock);
	delete_private_slot(kvm);
	mutex_unlock(&kvm->slots_lock);
	kvm_vcpu_srcu_read_lock(vcpu);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('slots_arch_lock may be taken inside the section', () => {
      const code = `
int good_arch_lock(struct kvm_vcpu *vcpu)
{
	int r;

	kvm_vcpu_srcu_read_lock(vcpu);
	mutex_lock(&vcpu->kvm->slots_arch_lock);
	r = alloc_rmaps(vcpu->kvm);
	mutex_unlock(&vcpu->kvm->slots_arch_lock);
	kvm_vcpu_srcu_read_unlock(vcpu);
	return r;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('unknown entry context is not a section', () => {
      const code = `
int good_unknown(struct kvm *kvm)
{
	int r;

	mutex_lock(&kvm->lock);
	r = reconfigure(kvm);
	mutex_unlock(&kvm->lock);
	return r;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('lock taken after the section is closed; trylock inside it', () => {
      const code = `
int good_after_close(struct kvm *kvm)
{
	int idx, r;

	idx = srcu_read_lock(&kvm->srcu);
	r = lookup_all(kvm);
	if (mutex_trylock(&kvm->lock)) {
		note_lookup(kvm, r);
		mutex_unlock(&kvm->lock);
	}
	srcu_read_unlock(&kvm->srcu, idx);
	mutex_lock(&kvm->lock);
	r = apply(kvm, r);
	mutex_unlock(&kvm->lock);
	return r;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('grace period of another SRCU domain (irq_srcu) inside a kvm->srcu section', () => {
      const code = `
void good_irq_srcu(struct kvm *kvm)
{
	int idx = srcu_read_lock(&kvm->srcu);

	update_routing(kvm);
	synchronize_srcu_expedited(&kvm->irq_srcu);
	srcu_read_unlock(&kvm->srcu, idx);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('a helper that leaves its caller\'s section before taking the lock', () => {
      const code = `
static void inhibit_slot(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;

	kvm_vcpu_srcu_read_unlock(vcpu);
	mutex_lock(&kvm->slots_lock);
	delete_private_slot(kvm);
	mutex_unlock(&kvm->slots_lock);
	kvm_vcpu_srcu_read_lock(vcpu);
}

int good_run(struct kvm_vcpu *vcpu)
{
	kvm_vcpu_srcu_read_lock(vcpu);
	if (vcpu->arch.want_inhibit)
		inhibit_slot(vcpu);
	kvm_vcpu_srcu_read_unlock(vcpu);
	return 0;
}
`;
      expect(run(code)).toEqual([]);
    });
  });
});
