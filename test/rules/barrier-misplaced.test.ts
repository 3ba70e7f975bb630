import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';
import { INVALIDATE_PAIR, TRACK_WRITE_PAIR, seed003 } from './barrier-fixtures.js';

const RULE = 'barrier-misplaced';
const run = (code: string) => analyzeC(code, [RULE]);

const READER = `
static inline bool kvm_mmu_has_indirect_shadow_pages(struct kvm *kvm)
{
	smp_mb();
	return kvm->arch.indirect_shadow_pages; /* READ */
}
`;

describe(RULE, () => {
  describe('bad', () => {
    it('seed 003 v2: smp_mb() before the increment, reader pairs correctly', () => {
      const code = `${READER}
static void account_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	smp_mb(); /* BAD */
	kvm->arch.indirect_shadow_pages++; /* WRITE */
	protect_gfn(kvm, sp->gfn);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} account_shadowed:${lineOf(code, 'BAD')}`]);
      expect(f[0].related.map((r) => r.line)).toEqual([lineOf(code, 'WRITE'), lineOf(code, 'READ')]);
      expect(f[0].litmus).toMatch(/smp_mb\(\);\n\tWRITE_ONCE\(\*indirect_shadow_pages, 1\);/);
      expect(f[0].witness).toBeTruthy();
    });

    it('smp_mb() before the increment with no reader in view (the model declares the protocol)', () => {
      const code = `
static void account_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	smp_mb(); /* BAD */
	kvm->arch.indirect_shadow_pages++;
	protect_gfn(kvm, sp->gfn);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} account_shadowed:${lineOf(code, 'BAD')}`]);
    });

    it('smp_mb__before_atomic() before an atomic increment', () => {
      const code = `${READER}
static void account_shadowed_atomic(struct kvm *kvm)
{
	smp_mb__before_atomic(); /* BAD */
	atomic_inc(&kvm->arch.indirect_shadow_pages);
	protect_all(kvm);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} account_shadowed_atomic:${lineOf(code, 'BAD')}`]);
    });

    it('reader: smp_mb() before the guest write instead of between it and the read', () => {
      const code = `
int emulate_pte_store(struct kvm_vcpu *vcpu, gpa_t gpa, u64 val)
{
	smp_mb(); /* BAD */
	kvm_vcpu_write_guest(vcpu, gpa, &val, sizeof(val));
	if (!READ_ONCE(vcpu->kvm->arch.indirect_shadow_pages))
		return 0;
	return zap_gfn_sptes(vcpu, gpa);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} emulate_pte_store:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('before the store');
    });

    it('reader: smp_mb() after the read that decides the early exit', () => {
      const code = `
int emulate_pte_store(struct kvm_vcpu *vcpu, gpa_t gpa, u64 val)
{
	kvm_vcpu_write_guest(vcpu, gpa, &val, sizeof(val));
	if (!READ_ONCE(vcpu->kvm->arch.indirect_shadow_pages))
		return 0;
	smp_mb(); /* BAD */
	return zap_gfn_sptes(vcpu, gpa);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} emulate_pte_store:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('after the lockless read');
    });

    it('v2 writer through the seed 003 call chain: reported once, at the barrier', () => {
      const code = seed003(false, true).replace('kvm->arch.indirect_shadow_pages++; /* WRITE */', 'smp_mb(); /* BAD */\n\tkvm->arch.indirect_shadow_pages++;');
      expect(brief(run(code))).toEqual([`${RULE} account_shadowed:${lineOf(code, 'BAD')}`]);
    });
  });

  describe('good', () => {
    it('smp_mb() after the increment (the fixed patch)', () => {
      expect(run(seed003(true, true))).toEqual([]);
    });

    it('barriers on both sides of the increment', () => {
      const code = `${READER}
static void account_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	smp_mb();
	kvm->arch.indirect_shadow_pages++;
	smp_mb();
	protect_gfn(kvm, sp->gfn);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('decrement after a barrier (1 -> 0 is benign)', () => {
      const code = `${READER}
static void unaccount_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	smp_mb();
	kvm->arch.indirect_shadow_pages--;
	allow_lpage(kvm, sp->gfn);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('reader with smp_mb() between the guest write and the read', () => {
      const code = `
int emulate_pte_store(struct kvm_vcpu *vcpu, gpa_t gpa, u64 val)
{
	kvm_vcpu_write_guest(vcpu, gpa, &val, sizeof(val));
	smp_mb();
	if (!READ_ONCE(vcpu->kvm->arch.indirect_shadow_pages))
		return 0;
	smp_mb();
	return zap_gfn_sptes(vcpu, gpa);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('kvm_mmu_track_write() / account_shadowed() smp_mb() pair', () => {
      expect(run(TRACK_WRITE_PAIR)).toEqual([]);
    });

    it('kvm_mmu_invalidate_end() smp_wmb() / mmu_invalidate_retry() smp_rmb() pair', () => {
      expect(run(INVALIDATE_PAIR)).toEqual([]);
    });
  });
});
