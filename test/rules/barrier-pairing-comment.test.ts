import { describe, expect, it } from 'vitest';
import { analyzeC, brief, lineOf } from '../helpers.js';
import { INVALIDATE_PAIR, TRACK_WRITE_PAIR } from './barrier-fixtures.js';

const RULE = 'barrier-pairing-comment';
const run = (code: string) => analyzeC(code, [RULE]);

describe(RULE, () => {
  describe('bad', () => {
    it('smp_wmb() on kvm state with no comment at all', () => {
      const code = `
void publish_request(struct kvm_vcpu *vcpu, u32 req)
{
	vcpu->arch.pending_req = req;
	smp_wmb(); /* BAD */
	vcpu->arch.req_valid = true;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} publish_request:${lineOf(code, 'BAD')}`]);
      expect(f[0].severity).toBe('note');
      expect(f[0].message).toContain('arch.pending_req');
    });

    it('a comment above an earlier block is not the barrier\'s', () => {
      const code = `
int leave_guest(struct kvm_vcpu *vcpu)
{
	/* Ensure the debug registers are restored first. */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();

	vcpu->arch.last_tsc = read_tsc(vcpu);
	vcpu->mode = OUTSIDE_GUEST_MODE;
	smp_wmb();
	return handle_exit(vcpu);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} leave_guest:${lineOf(code, 'smp_wmb')}`]);
    });

    it('a comment that names no pairing side', () => {
      const code = `
void set_exit_flag(struct kvm_vcpu *vcpu)
{
	vcpu->arch.exit_flag = 1;
	/* Update the flag first. */
	smp_mb(); /* BAD */
	if (READ_ONCE(vcpu->arch.kick_pending))
		kick(vcpu);
}
`;
      expect(brief(run(code))).toEqual([`${RULE} set_exit_flag:${lineOf(code, 'BAD')}`]);
    });

    it('names a function in view that has no barrier at all (warning)', () => {
      const code = `
static bool read_flag(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.req_valid && vcpu->arch.pending_req;
}

void publish_request(struct kvm_vcpu *vcpu, u32 req)
{
	vcpu->arch.pending_req = req;
	/* Pairs with the smp_rmb() in read_flag(). */
	smp_wmb(); /* BAD */
	vcpu->arch.req_valid = true;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} publish_request:${lineOf(code, 'BAD')}`]);
      expect(f[0].severity).toBe('warning');
      expect(f[0].related[0].line).toBe(lineOf(code, 'static bool read_flag'));
    });

    it('names a function whose only barrier cannot pair (wmb with wmb)', () => {
      const code = `
void consume_request(struct kvm_vcpu *vcpu)
{
	vcpu->arch.req_valid = false;
	smp_wmb(); /* Pairs with the smp_wmb() in publish_request(). */
	vcpu->arch.pending_req = 0;
}

void publish_request(struct kvm_vcpu *vcpu, u32 req)
{
	vcpu->arch.pending_req = req;
	/* Pairs with the smp_wmb() in consume_request(). */
	smp_wmb(); /* BAD */
	vcpu->arch.req_valid = true;
}
`;
      const f = run(code);
      expect(brief(f)).toEqual([`${RULE} consume_request:${lineOf(code, 'smp_wmb(); /* Pairs')}`, `${RULE} publish_request:${lineOf(code, 'BAD')}`]);
    });

    it('stale name: the named function is gone, the pairing barrier in view names us back', () => {
      const code = TRACK_WRITE_PAIR.replace('Pairs with the smp_mb() in kvm_mmu_track_write().', 'Pairs with the smp_mb() in kvm_mmu_pte_write().')
        .replace('	kvm->arch.indirect_shadow_pages++;\n', '	kvm->arch.indirect_shadow_pages++; /* ACC */\n');
      const f = run(code);
      const line = lineOf(code, 'ACC') + 5;
      expect(brief(f)).toEqual([`${RULE} account_shadowed:${line}`]);
      expect(f[0].message).toContain('kvm_mmu_track_write()');
      expect(f[0].message).toContain('stale');
    });

    it('names a function that orders other variables, while another function in view pairs on ours', () => {
      const code = `
static void other_side(struct kvm *kvm)
{
	if (READ_ONCE(kvm->arch.other_flag)) {
		smp_rmb();
		use(kvm->arch.other_data);
	}
}

static void real_side(struct kvm *kvm)
{
	if (READ_ONCE(kvm->arch.ready)) {
		smp_rmb();
		use(kvm->arch.payload);
	}
}

void publish(struct kvm *kvm, int v)
{
	kvm->arch.payload = v;
	/* Pairs with the smp_rmb() in other_side(). */
	smp_wmb(); /* BAD */
	WRITE_ONCE(kvm->arch.ready, true);
}
`;
      const f = run(code).filter((x) => x.function === 'publish');
      expect(brief(f)).toEqual([`${RULE} publish:${lineOf(code, 'BAD')}`]);
      expect(f[0].message).toContain('real_side()');
    });
  });

  describe('good', () => {
    it('kvm_mmu_track_write() / account_shadowed() name each other', () => {
      expect(run(TRACK_WRITE_PAIR)).toEqual([]);
    });

    it('kvm_mmu_invalidate_end() comment below the smp_wmb(), mmu_invalidate_retry() smp_rmb()', () => {
      expect(run(INVALIDATE_PAIR)).toEqual([]);
    });

    it('named function not in view (another file): no finding', () => {
      const code = `
void vcpu_set_mode(struct kvm_vcpu *vcpu)
{
	vcpu->mode = IN_GUEST_MODE;
	/* Pairs with the smp_mb() in kvm_vcpu_exiting_guest_mode(). */
	smp_mb();
	if (kvm_request_pending(vcpu))
		vcpu->mode = OUTSIDE_GUEST_MODE;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('named function in view orders through a callee not in view', () => {
      const code = `
static void flush_all(struct kvm *kvm)
{
	kvm_make_all_cpus_request(kvm, KVM_REQ_TLB_FLUSH);
}

void walk_end(struct kvm_vcpu *vcpu)
{
	/* Pairs with the IPI sent by flush_all(). */
	smp_store_release(&vcpu->mode, OUTSIDE_GUEST_MODE);
}
`;
      expect(run(code)).toEqual([]);
    });

    it('barrier ordering a guest-shared page (seqcount for the guest): no function to name', () => {
      const code = `
void update_guest_clock(struct pvclock_vcpu_time_info *guest_hv_clock, u32 version)
{
	guest_hv_clock->version = version + 1;
	smp_wmb();
	guest_hv_clock->tsc_timestamp = rdtsc();
	smp_wmb();
	guest_hv_clock->version = version + 2;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('comment above the store the barrier ends (mode store, SRCU unlock, barrier)', () => {
      const code = `
int enter_guest_loop(struct kvm_vcpu *vcpu)
{
	local_irq_disable();

	/*
	 * Set mode before the last check of the requests; see the comment
	 * in kvm_vcpu_exiting_guest_mode().
	 */
	vcpu->mode = IN_GUEST_MODE;

	kvm_vcpu_srcu_read_unlock(vcpu);
	smp_mb__after_srcu_read_unlock();

	if (kvm_request_pending(vcpu))
		return 1;
	return 0;
}
`;
      expect(run(code)).toEqual([]);
    });

    it('a typo next to the right name: the right one is enough', () => {
      const code = `
static void clear_loaded(struct loaded_vmcs *lv)
{
	list_del(&lv->loaded_vmcss_on_cpu_link);
	/* Pairs with the smp_rmb() in load_vmcs(). */
	smp_wmb();
	lv->cpu = -1;
}

void load_vmcs(struct vcpu_vmx *vmx, int cpu)
{
	if (vmx->loaded_vmcs->cpu != cpu) {
		/* Pairs with the smb_wmb() in clear_loaded(). */
		smp_rmb();
		list_add(&vmx->loaded_vmcs->loaded_vmcss_on_cpu_link, &per_cpu(loaded_vmcss_on_cpu, cpu));
	}
}
`;
      expect(run(code)).toEqual([]);
    });
  });
});
