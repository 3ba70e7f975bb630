import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';

const RULE = 'lock-only-to-read';
const run = (code: string) => analyzeC(code, [RULE]);

describe(RULE, () => {
  describe('bad', () => {
    it('seed 003: write_lock(mmu_lock) only to read indirect_shadow_pages', () => {
      const code = `
static void account_shadowed(struct kvm *kvm)
{
	kvm->arch.indirect_shadow_pages++;
	smp_mb();
}

static bool reexecute_instruction(struct kvm_vcpu *vcpu, gpa_t gpa)
{
	unsigned int indirect_shadow_pages;

	write_lock(&vcpu->kvm->mmu_lock); /* BAD */
	indirect_shadow_pages = vcpu->kvm->arch.indirect_shadow_pages;
	write_unlock(&vcpu->kvm->mmu_lock);

	if (indirect_shadow_pages)
		kvm_mmu_unprotect_page(vcpu->kvm, gpa_to_gfn(gpa));
	return true;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} reexecute_instruction:${lineOf(code, 'BAD')}`]);
      expect(f[0].severity).toBe('note');
      expect(f[0].related[0].line).toBe(lineOf(code, 'write_unlock'));
      expect(f[0].message).toContain('smp_mb()');
      expect(f[0].message).toContain('account_shadowed()');
    });

    it('spin_lock around one field read: suggests acquire/release', () => {
      const code = `
u64 get_offset(struct kvm *kvm)
{
	u64 off;

	spin_lock(&kvm->arch.offset_lock); /* BAD */
	off = kvm->arch.cur_offset;
	spin_unlock(&kvm->arch.offset_lock);
	return off;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} get_offset:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('smp_load_acquire()');
    });

    it('read_lock with READ_ONCE()', () => {
      const code = `
int peek_count(struct kvm *kvm)
{
	int n;

	read_lock(&kvm->mmu_lock); /* BAD */
	n = READ_ONCE(kvm->arch.n_used_mmu_pages);
	read_unlock(&kvm->mmu_lock);
	return n;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} peek_count:${lineOf(code, 'BAD')}`]);
    });

    it('mutex taken only to copy one value', () => {
      const code = `
int get_mode(struct kvm_vcpu *vcpu)
{
	int mode;

	mutex_lock(&vcpu->mutex); /* BAD */
	mode = vcpu->arch.cfg_mode;
	mutex_unlock(&vcpu->mutex);
	if (mode < 0)
		return -EINVAL;
	return mode;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} get_mode:${lineOf(code, 'BAD')}`]);
    });

    it('KVM_MMU_LOCK() in common code', () => {
      const code = `
unsigned long read_seq(struct kvm *kvm)
{
	unsigned long seq;

	KVM_MMU_LOCK(kvm); /* BAD */
	seq = kvm->mmu_invalidate_seq;
	KVM_MMU_UNLOCK(kvm);
	return seq;
}
`;
      expect(brief(run(code))).toEqual([`${RULE} read_seq:${lineOf(code, 'BAD')}`]);
    });
  });

  describe('good', () => {
    it('two values read together under the lock (consistency)', () => {
      const code = `
void get_pair(struct kvm *kvm, u64 *a, u64 *b)
{
	u64 x, y;

	spin_lock(&kvm->arch.offset_lock);
	x = kvm->arch.cur_offset;
	y = kvm->arch.cur_tsc;
	spin_unlock(&kvm->arch.offset_lock);
	*a = x;
	*b = y;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('a write inside the critical section', () => {
      const code = `
int take_count(struct kvm *kvm)
{
	int n;

	write_lock(&kvm->mmu_lock);
	n = kvm->arch.pending;
	kvm->arch.pending = 0;
	write_unlock(&kvm->mmu_lock);
	return n;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('a call inside the critical section', () => {
      const code = `
int count_pages(struct kvm *kvm)
{
	int n;

	write_lock(&kvm->mmu_lock);
	n = kvm->arch.n_used_mmu_pages;
	kvm_mmu_commit_zap_page(kvm, &invalid_list);
	write_unlock(&kvm->mmu_lock);
	return n;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('a branch inside the critical section', () => {
      const code = `
int maybe_count(struct kvm *kvm, bool all)
{
	int n = 0;

	write_lock(&kvm->mmu_lock);
	if (all)
		n = kvm->arch.n_used_mmu_pages;
	write_unlock(&kvm->mmu_lock);
	return n;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('read through a pointer the lock keeps from being replaced and freed', () => {
      const code = `
struct small_tbl { struct tbl_hdr hdr; };

static int get_change_flag(struct kvm *kvm, struct kvm_device_attr *attr)
{
	u8 flag;

	read_lock(&kvm->arch.tbl_lock);
	flag = ((struct small_tbl *)kvm->arch.tbl)->hdr.changed;
	read_unlock(&kvm->arch.tbl_lock);

	return put_user(flag, (u8 __user *)attr->addr);
}

static void grow_tbl(struct kvm *kvm, void *big)
{
	void *old;

	write_lock(&kvm->arch.tbl_lock);
	old = kvm->arch.tbl;
	kvm->arch.tbl = big;
	write_unlock(&kvm->arch.tbl_lock);
	free_tbl(old);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('lock held across other work after the read', () => {
      const code = `
void zap_if_any(struct kvm *kvm)
{
	unsigned int n;

	write_lock(&kvm->mmu_lock);
	n = kvm->arch.indirect_shadow_pages;
	if (n)
		zap_all_shadow(kvm);
	write_unlock(&kvm->mmu_lock);
}
`;
      expect(run(code)).toEqual([]);
    });
  });
});
