import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';

const RULE = 'srcu-deref-outside-section';
const run = (code: string) => analyzeC(code, [RULE]);

describe(RULE, () => {
  describe('bad', () => {
    it('memslot lookup after the vCPU dropped SRCU to block, before re-taking it', () => {
      const code = `
int bad_block(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	struct kvm_memory_slot *slot;

	kvm_vcpu_srcu_read_unlock(vcpu);
	kvm_vcpu_block(vcpu);
	slot = kvm_vcpu_gfn_to_memslot(vcpu, gfn); /* BAD */
	kvm_vcpu_srcu_read_lock(vcpu);
	return slot != NULL;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_block:${lineOf(code, 'BAD')}`]);
      expect(f[0].severity).toBe('error');
      expect(f[0].confidence).toBe('high');
      expect(f[0].related[0].line).toBe(lineOf(code, 'kvm_vcpu_srcu_read_unlock'));
    });

    it('guest read after dropping SRCU', () => {
      const code = `
int bad_read_guest(struct kvm_vcpu *vcpu, gpa_t gpa, void *data, int len)
{
	int r;

	kvm_vcpu_srcu_read_unlock(vcpu);
	r = kvm_vcpu_read_guest(vcpu, gpa, data, len); /* BAD */
	kvm_vcpu_srcu_read_lock(vcpu);
	return r;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_read_guest:${lineOf(code, 'BAD')}`]);
    });

    it('section dropped by a helper in view (summary), then kvm_memslots()', () => {
      const code = `
static void wait_for_event(struct kvm_vcpu *vcpu)
{
	kvm_vcpu_srcu_read_unlock(vcpu);
	wait_event_interruptible(vcpu->wq, event_ready(vcpu));
}

u64 bad_helper_drop(struct kvm_vcpu *vcpu)
{
	u64 gen;

	wait_for_event(vcpu);
	gen = kvm_memslots(vcpu->kvm)->generation; /* BAD */
	kvm_vcpu_srcu_read_lock(vcpu);
	return gen;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_helper_drop:${lineOf(code, 'BAD')}`]);
      expect(f[0].related[0].line).toBe(lineOf(code, 'wait_for_event(vcpu);'));
    });

    it('a static helper that looks up memslots, called while the section is dropped (reported at the call)', () => {
      const code = `
static bool gfn_visible(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	struct kvm_memory_slot *slot = kvm_vcpu_gfn_to_memslot(vcpu, gfn);

	return slot && !(slot->flags & KVM_MEMSLOT_INVALID);
}

void bad_static_helper(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	kvm_vcpu_srcu_read_unlock(vcpu);
	if (gfn_visible(vcpu, gfn)) /* BAD */
		kvm_vcpu_kick(vcpu);
	kvm_vcpu_srcu_read_lock(vcpu);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_static_helper:${lineOf(code, 'BAD')}`]);
      expect(f[0].confidence).toBe('medium');
    });

    it('re-taking the section only on one path', () => {
      const code = `
int bad_one_path(struct kvm_vcpu *vcpu, gfn_t gfn, bool retake)
{
	kvm_vcpu_srcu_read_unlock(vcpu);
	schedule();
	if (retake)
		kvm_vcpu_srcu_read_lock(vcpu);
	mark_page_dirty(vcpu->kvm, gfn); /* BAD */
	if (!retake)
		kvm_vcpu_srcu_read_lock(vcpu);
	return 0;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} bad_one_path:${lineOf(code, 'BAD')}`]);
    });

    it('dereference after the function closed its own section (warning, medium)', () => {
      const code = `
int bad_after_own_section(struct kvm *kvm, gfn_t gfn)
{
	int idx;
	bool visible;

	idx = srcu_read_lock(&kvm->srcu);
	visible = kvm_is_visible_gfn(kvm, gfn);
	srcu_read_unlock(&kvm->srcu, idx);
	if (visible)
		mark_page_dirty(kvm, gfn); /* BAD */
	return visible;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} bad_after_own_section:${lineOf(code, 'BAD')}`]);
      expect(f[0].severity).toBe('warning');
      expect(f[0].confidence).toBe('medium');
    });
  });

  describe('good', () => {
    it('vCPU run loop: drop SRCU around blocking, look up memslots after re-taking it', () => {
      const code = `
int good_run_loop(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	struct kvm_memory_slot *slot;

	for (;;) {
		kvm_vcpu_srcu_read_unlock(vcpu);
		kvm_vcpu_block(vcpu);
		kvm_vcpu_srcu_read_lock(vcpu);
		slot = kvm_vcpu_gfn_to_memslot(vcpu, gfn);
		if (slot)
			break;
	}
	return 0;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('nothing known about the caller: silent', () => {
      const code = `
int good_unknown(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_memory_slot *slot = gfn_to_memslot(kvm, gfn);

	return slot ? slot->npages : 0;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('memslot deletion after dropping SRCU, under slots_lock', () => {
      const code = `
void good_slots_lock(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_memslots *slots;

	kvm_vcpu_srcu_read_unlock(vcpu);
	mutex_lock(&kvm->slots_lock);
	slots = __kvm_memslots(kvm, 0);
	delete_slot(kvm, slots, APIC_SLOT);
	mutex_unlock(&kvm->slots_lock);
	kvm_vcpu_srcu_read_lock(vcpu);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('own section closed, but slots_lock asserted held', () => {
      const code = `
int good_asserted(struct kvm *kvm, gfn_t gfn)
{
	int idx, r;

	lockdep_assert_held(&kvm->slots_lock);
	idx = srcu_read_lock(&kvm->srcu);
	r = kvm_is_visible_gfn(kvm, gfn);
	srcu_read_unlock(&kvm->srcu, idx);
	if (r)
		r = count_slots(kvm_memslots(kvm));
	return r;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('a helper that takes its own section, called while the caller\'s is dropped', () => {
      const code = `
static int read_guest_locked(struct kvm *kvm, gpa_t gpa, void *data, int len)
{
	int idx, r;

	idx = srcu_read_lock(&kvm->srcu);
	r = kvm_read_guest(kvm, gpa, data, len);
	srcu_read_unlock(&kvm->srcu, idx);
	return r;
}

int good_helper_section(struct kvm_vcpu *vcpu, gpa_t gpa, void *data, int len)
{
	int r;

	kvm_vcpu_srcu_read_unlock(vcpu);
	r = read_guest_locked(vcpu->kvm, gpa, data, len);
	kvm_vcpu_srcu_read_lock(vcpu);
	return r;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('__kvm_memslots(kvm, i) loop inside a section, and guard(srcu) re-entered after closing one', () => {
      const code = `
int good_loops(struct kvm *kvm)
{
	int i, idx, n = 0;

	idx = srcu_read_lock(&kvm->srcu);
	for (i = 0; i < KVM_MAX_NR_ADDRESS_SPACES; i++)
		n += count_slots(__kvm_memslots(kvm, i));
	srcu_read_unlock(&kvm->srcu, idx);

	if (n) {
		guard(srcu)(&kvm->srcu);
		n = count_slots(kvm_memslots(kvm));
	}
	return n;
}
`;
      expect(run(code)).toEqual([]);
    });
  });
});
