/** C fixtures shared by the barrier rule tests (kernel-style, written for kvmlint). */

/** Seed 003 store-buffering shape; WRITER_MB / READER_MB are replaced by smp_mb(); or nothing. */
export const SEED003 = `
static void account_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	kvm->arch.indirect_shadow_pages++; /* WRITE */
	WRITER_MB
	protect_gfn(kvm, sp->gfn);
}

static void unaccount_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	kvm->arch.indirect_shadow_pages--;
	allow_lpage(kvm, sp->gfn);
}

static inline bool kvm_mmu_has_indirect_shadow_pages(struct kvm *kvm)
{
	READER_MB
	return kvm->arch.indirect_shadow_pages; /* READ */
}

static void kvm_mmu_pte_write(struct kvm_vcpu *vcpu, gpa_t gpa, const u8 *new, int bytes)
{
	if (!kvm_mmu_has_indirect_shadow_pages(vcpu->kvm))
		return;

	write_lock(&vcpu->kvm->mmu_lock);
	zap_written_sptes(vcpu, gpa, new, bytes);
	write_unlock(&vcpu->kvm->mmu_lock);
}

static int emulator_write_phys(struct kvm_vcpu *vcpu, gpa_t gpa, const void *val, int bytes)
{
	int ret;

	ret = kvm_vcpu_write_guest(vcpu, gpa, val, bytes); /* STORE */
	if (ret < 0)
		return 0;
	kvm_mmu_pte_write(vcpu, gpa, val, bytes); /* CALL */
	return 1;
}
`;

export function seed003(writerMb: boolean, readerMb: boolean): string {
  return SEED003.replace('WRITER_MB', writerMb ? 'smp_mb();' : '').replace('READER_MB', readerMb ? 'smp_mb();' : '');
}

/** The 6.12 shape: the emulated write happens in the caller, smp_mb() opens the tracker; account/unaccount. */
export const TRACK_WRITE_PAIR = `
static void account_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	kvm->arch.indirect_shadow_pages++;
	/*
	 * Make the elevated count visible before re-reading the guest PTEs.
	 * Pairs with the smp_mb() in kvm_mmu_track_write().
	 */
	smp_mb();
	protect_gfn(kvm, sp->gfn);
}

static void unaccount_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	kvm->arch.indirect_shadow_pages--;
	allow_lpage(kvm, sp->gfn);
}

void kvm_mmu_track_write(struct kvm_vcpu *vcpu, gpa_t gpa, const u8 *new, int bytes)
{
	/*
	 * Make the emulated guest write visible before checking the count.
	 * Pairs with the smp_mb() in account_shadowed().
	 */
	smp_mb();
	if (!vcpu->kvm->arch.indirect_shadow_pages)
		return;

	write_lock(&vcpu->kvm->mmu_lock);
	zap_written_sptes(vcpu, gpa, new, bytes);
	write_unlock(&vcpu->kvm->mmu_lock);
}

static int emulator_write_phys(struct kvm_vcpu *vcpu, gpa_t gpa, const void *val, int bytes)
{
	if (kvm_vcpu_write_guest(vcpu, gpa, val, bytes) < 0)
		return 0;
	kvm_mmu_track_write(vcpu, gpa, val, bytes);
	return 1;
}
`;

/** kvm_mmu_invalidate_end() smp_wmb() vs mmu_invalidate_retry() smp_rmb() (comment below the wmb, as in kvm_main.c). */
export const INVALIDATE_PAIR = `
void kvm_mmu_invalidate_end(struct kvm *kvm)
{
	lockdep_assert_held_write(&kvm->mmu_lock);

	kvm->mmu_invalidate_seq++;
	smp_wmb();
	/*
	 * The sequence increase must be visible before the count decrease,
	 * which the smp_wmb above ensures together with the smp_rmb in
	 * mmu_invalidate_retry().
	 */
	kvm->mmu_invalidate_in_progress--;
}

static inline int mmu_invalidate_retry(struct kvm *kvm, unsigned long mmu_seq)
{
	if (unlikely(kvm->mmu_invalidate_in_progress))
		return 1;
	/*
	 * Read the sequence after the count; pairs with the smp_wmb() in
	 * kvm_mmu_invalidate_end().
	 */
	smp_rmb();
	if (kvm->mmu_invalidate_seq != mmu_seq)
		return 1;
	return 0;
}

static int fault_in(struct kvm_vcpu *vcpu, struct fault *fault)
{
	fault->mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	/* Pairs with the smp_wmb() in kvm_mmu_invalidate_end(). */
	smp_rmb();
	fault->pfn = faultin_pfn(vcpu, fault->gfn);

	write_lock(&vcpu->kvm->mmu_lock);
	if (mmu_invalidate_retry(vcpu->kvm, fault->mmu_seq)) {
		write_unlock(&vcpu->kvm->mmu_lock);
		return -EAGAIN;
	}
	map_pfn(vcpu, fault);
	write_unlock(&vcpu->kvm->mmu_lock);
	return 0;
}
`;
