import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';
import { INVALIDATE_PAIR, TRACK_WRITE_PAIR, seed003 } from './barrier-fixtures.js';

const RULE = 'barrier-unpaired-lockless-read';
const run = (code: string) => analyzeC(code, [RULE]);

describe(RULE, () => {
  describe('bad', () => {
    it('seed 003 without either smp_mb(): reported at the emulated write path, with an allowed litmus', () => {
      const code = seed003(false, false);
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} emulator_write_phys:${lineOf(code, 'CALL')}`]);
      expect(f[0].related.map((r) => r.line)).toEqual([lineOf(code, 'STORE'), lineOf(code, 'WRITE')]);
      expect(f[0].message).toContain('kvm_mmu_has_indirect_shadow_pages()');
      expect(f[0].message).toContain('account_shadowed()');
      expect(f[0].litmus).toMatch(/^C kvmlint-sb-indirect_shadow_pages/);
      expect(f[0].litmus).toContain('exists (0:r0=0 /\\ 1:r0=0)');
      expect(f[0].litmus).not.toContain('smp_mb()');
      expect(f[0].witness).toContain('indirect_shadow_pages=0');
    });

    it('reader without smp_mb() while the writer has it: the reader alone is enough for the bad outcome', () => {
      const code = seed003(true, false);
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} emulator_write_phys:${lineOf(code, 'CALL')}`]);
      expect(f[0].litmus!.match(/smp_mb\(\);/g)).toHaveLength(1);
    });

    it('writer side: reader pairs with smp_mb(), account_shadowed() has no barrier after the increment', () => {
      const code = seed003(false, true);
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} account_shadowed:${lineOf(code, 'WRITE')}`]);
      expect(f[0].related[0].line).toBe(lineOf(code, 'READ'));
      expect(f[0].message).toContain('kvm_mmu_has_indirect_shadow_pages()');
      expect(f[0].litmus).toBeTruthy();
    });

    it('READ_ONCE() early exit in the same function right after the guest write', () => {
      const code = `
static void account_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	kvm->arch.indirect_shadow_pages++;
	smp_mb();
}

int emulate_pte_store(struct kvm_vcpu *vcpu, gpa_t gpa, u64 val)
{
	if (kvm_vcpu_write_guest(vcpu, gpa, &val, sizeof(val)))
		return -EFAULT;
	if (!READ_ONCE(vcpu->kvm->arch.indirect_shadow_pages)) /* BAD */
		return 0;
	return zap_gfn_sptes(vcpu, gpa);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} emulate_pte_store:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('smp_mb() (line');
    });

    it('value read into a local and tested for the early exit', () => {
      const code = `
int emulate_cmpxchg_pte(struct kvm_vcpu *vcpu, gpa_t gpa, u64 new)
{
	unsigned int count;

	kvm_write_guest(vcpu->kvm, gpa, &new, sizeof(new));
	count = READ_ONCE(vcpu->kvm->arch.indirect_shadow_pages); /* BAD */
	if (!count)
		return 0;
	return unprotect_gfn(vcpu, gpa);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} emulate_cmpxchg_pte:${lineOf(code, 'BAD')}`]);
    });

    it('store to a kvm member the writer re-reads after its update (partner found in view)', () => {
      const code = `
static void account_page(struct kvm *kvm)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	kvm->arch.indirect_shadow_pages += 1;
	if (READ_ONCE(kvm->arch.pte_write_pending))
		flush_pending(kvm);
}

void note_pte_write(struct kvm *kvm)
{
	WRITE_ONCE(kvm->arch.pte_write_pending, true);
	if (!kvm->arch.indirect_shadow_pages) /* BAD */
		return;
	handle_pte_write(kvm);
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} note_pte_write:${lineOf(code, 'BAD')}`]);
      expect(f[0].litmus).toContain('pte_write_pending');
    });
  });

  describe('good', () => {
    it('seed 003 with both smp_mb(): the LKMM forbids the bad outcome', () => {
      expect(run(seed003(true, true))).toEqual([]);
    });

    it('kvm_mmu_track_write() / account_shadowed() smp_mb() pair (6.12 shape)', () => {
      expect(run(TRACK_WRITE_PAIR)).toEqual([]);
    });

    it('kvm_mmu_invalidate_end() smp_wmb() / mmu_invalidate_retry() smp_rmb() pair', () => {
      expect(run(INVALIDATE_PAIR)).toEqual([]);
    });

    it('the count read under mmu_lock is not lockless', () => {
      const code = `
int emulate_locked(struct kvm_vcpu *vcpu, gpa_t gpa, u64 val)
{
	int r = 0;

	kvm_vcpu_write_guest(vcpu, gpa, &val, sizeof(val));
	write_lock(&vcpu->kvm->mmu_lock);
	if (vcpu->kvm->arch.indirect_shadow_pages)
		r = zap_gfn_sptes(vcpu, gpa);
	write_unlock(&vcpu->kvm->mmu_lock);
	return r;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('lockless early exit with no store before it on the path (pure optimisation)', () => {
      const code = `
bool unprotect_and_retry(struct kvm_vcpu *vcpu, gpa_t gpa)
{
	if (!READ_ONCE(vcpu->kvm->arch.indirect_shadow_pages))
		return false;
	write_lock(&vcpu->kvm->mmu_lock);
	zap_gfn(vcpu->kvm, gpa);
	write_unlock(&vcpu->kvm->mmu_lock);
	return true;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('writer only decrements without a barrier (the 1 -> 0 transition is benign)', () => {
      const code = seed003(true, true).replace('kvm->arch.indirect_shadow_pages++; /* WRITE */\n\tsmp_mb();', 'kvm->arch.indirect_shadow_pages++; /* WRITE */\n\tsmp_mb();');
      // account_shadowed() keeps its barrier, unaccount_shadowed() has none: silent.
      expect(code).toContain('kvm->arch.indirect_shadow_pages--;\n\tallow_lpage');
      expect(run(code)).toEqual([]);
    });

    it('a lockless read that decides no early exit (statistics)', () => {
      const code = `
void report_pte_write(struct kvm_vcpu *vcpu, gpa_t gpa, u64 val)
{
	kvm_vcpu_write_guest(vcpu, gpa, &val, sizeof(val));
	trace_pte_write(gpa, READ_ONCE(vcpu->kvm->arch.indirect_shadow_pages));
	vcpu->stat.pte_writes++;
}
`;
      expect(run(code)).toEqual([]);
    });
  });
});
