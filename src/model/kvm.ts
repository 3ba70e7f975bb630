/**
 * KVM and kernel concurrency APIs as typed data. Names verified against
 * Debian's linux-source-6.12 (virt/kvm, arch/x86/kvm, include/linux/kvm_host.h),
 * plus the older names the seed threads use (5.10 TDP MMU, 3.x memslots).
 * See ../../docs/model.md for the facts behind each entry.
 */
import type { ApiModel, Effect, EntryContract, GuardClassModel, IteratorModel, ProtocolVariable } from './types.js';

const SRCU = { fixed: 'kvm.srcu' } as const;
const MMU_LOCK = { fixed: 'kvm.mmu_lock' } as const;

function api(name: string, effects: Effect[], note?: string): ApiModel {
  return note ? { name, effects, note } : { name, effects };
}

function snapshotHelpers(names: string[], as: string): ApiModel[] {
  return names.map((n) => api(n, [{ kind: 'snapshot', as: { fixed: as }, via: n }]));
}

/**
 * Guest memory as one shared location for the barrier rules: emulated guest writes are
 * stores to it, guest PTE reads are loads from it (seed 003).
 */
export const GUEST_MEMORY = 'guest_memory';
const GUEST = { base: 'guest', chain: GUEST_MEMORY } as const;

/** Guest memory accessors: each looks the memslot up internally and returns guest data only. */
function accessHelpers(names: string[], as: string): ApiModel[] {
  return names.map((n) => {
    const dir = /(^|_)(write|clear)_guest/.test(n) ? 'write' : /(^|_)read_guest/.test(n) ? 'read' : undefined;
    const mem: Effect[] = dir ? [{ kind: 'access', access: dir, order: 'plain', arg: 0, fixed: GUEST }] : [];
    return api(n, [{ kind: 'snapshot', as: { fixed: as }, via: n, access: true }, ...mem]);
  });
}

export const APIS: readonly ApiModel[] = [
  // --- SRCU read side ---------------------------------------------------------------
  api('srcu_read_lock', [{ kind: 'srcu-lock', domain: { arg: 0 } }]),
  api('srcu_read_unlock', [{ kind: 'srcu-unlock', domain: { arg: 0 } }]),
  api('srcu_read_lock_nmisafe', [{ kind: 'srcu-lock', domain: { arg: 0 } }]),
  api('srcu_read_unlock_nmisafe', [{ kind: 'srcu-unlock', domain: { arg: 0 } }]),
  api('kvm_vcpu_srcu_read_lock', [{ kind: 'srcu-lock', domain: SRCU }]),
  api('kvm_vcpu_srcu_read_unlock', [{ kind: 'srcu-unlock', domain: SRCU }]),
  api('srcu_dereference_check', [{ kind: 'assert-srcu', domain: { arg: 1 } }, { kind: 'rcu-deref', arg: 0 }]),
  api('srcu_dereference', [{ kind: 'assert-srcu', domain: { arg: 1 } }, { kind: 'rcu-deref', arg: 0 }]),
  api('synchronize_srcu', [{ kind: 'sync', domain: { arg: 0 } }]),
  api('synchronize_srcu_expedited', [{ kind: 'sync', domain: { arg: 0 } }]),
  api('call_srcu', [{ kind: 'deferred-free', domain: { arg: 0 } }]),
  api('smp_mb__after_srcu_read_unlock', [{ kind: 'barrier', barrier: 'mb__after_srcu_read_unlock' }]),

  // --- memslot snapshots ---------------------------------------------------------------
  api('kvm_memslots', [{ kind: 'snapshot', as: { fixed: '0' } }]),
  api('__kvm_memslots', [{ kind: 'snapshot', as: { arg: 1 } }]),
  api('kvm_vcpu_memslots', [{ kind: 'snapshot', as: { fixed: 'vcpu' } }]),
  ...snapshotHelpers(
    [
      'gfn_to_memslot', 'gfn_to_hva', 'gfn_to_hva_prot', 'kvm_is_visible_gfn', 'gfn_to_pfn', 'gfn_to_pfn_prot',
      'gfn_to_page', 'kvm_host_page_size', 'kvm_current_mmio_generation', 'kvm_gfn_to_hva_cache_init',
    ],
    '0',
  ),
  ...accessHelpers(
    [
      'kvm_read_guest', 'kvm_read_guest_page', 'kvm_read_guest_atomic', 'kvm_write_guest', 'kvm_write_guest_page',
      'kvm_clear_guest', 'mark_page_dirty', 'kvm_read_guest_cached', 'kvm_write_guest_cached',
      'kvm_write_guest_offset_cached', 'kvm_read_guest_offset_cached',
    ],
    '0',
  ),
  ...snapshotHelpers(
    [
      'kvm_vcpu_gfn_to_memslot', 'kvm_vcpu_gfn_to_hva', 'kvm_vcpu_gfn_to_hva_prot', 'kvm_vcpu_gfn_to_pfn',
      'kvm_vcpu_gfn_to_pfn_atomic', 'kvm_vcpu_is_visible_gfn', 'kvm_vcpu_map', 'kvm_vcpu_map_readonly',
      'kvm_vcpu_gfn_to_page',
    ],
    'vcpu',
  ),
  ...accessHelpers(
    [
      'kvm_vcpu_read_guest', 'kvm_vcpu_read_guest_page', 'kvm_vcpu_read_guest_atomic', 'kvm_vcpu_write_guest',
      'kvm_vcpu_write_guest_page', 'kvm_vcpu_mark_page_dirty',
    ],
    'vcpu',
  ),

  // --- memslot publish side ------------------------------------------------------------
  // rcu_assign_pointer() publishes when its target is kvm->memslots[...]; see PUBLISH_TARGETS.
  api('rcu_assign_pointer', [{ kind: 'rcu-assign', target: { arg: 0 }, value: { arg: 1 } }]),
  api('rcu_dereference', [{ kind: 'rcu-deref', arg: 0 }]),
  api('rcu_dereference_protected', [{ kind: 'rcu-deref', arg: 0 }]),
  api('kfree', [{ kind: 'free', arg: 0 }]),
  api('kvfree', [{ kind: 'free', arg: 0 }]),
  api('vfree', [{ kind: 'free', arg: 0 }]),
  api('kvm_free_memslots', [{ kind: 'free', arg: 1 }]),
  api('kvm_free_memslot', [{ kind: 'free', arg: 1 }]),
  api('kvm_arch_free_memslot', [{ kind: 'free', arg: 1 }]),
  api('memcpy', []),

  // --- locks ---------------------------------------------------------------------------------
  api('mutex_lock', [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }]),
  api('mutex_lock_killable', [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }]),
  api('mutex_lock_interruptible', [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }]),
  api('mutex_lock_nested', [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }]),
  api('mutex_trylock', [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl', cond: 'true' }]),
  api('mutex_unlock', [{ kind: 'unlock', lock: { arg: 0 } }]),
  api('spin_lock', [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }]),
  api('spin_lock_irq', [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }]),
  api('spin_lock_irqsave', [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }]),
  api('spin_lock_bh', [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }]),
  api('raw_spin_lock', [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }]),
  api('raw_spin_lock_irqsave', [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }]),
  api('spin_trylock', [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl', cond: 'true' }]),
  api('spin_unlock', [{ kind: 'unlock', lock: { arg: 0 } }]),
  api('spin_unlock_irq', [{ kind: 'unlock', lock: { arg: 0 } }]),
  api('spin_unlock_irqrestore', [{ kind: 'unlock', lock: { arg: 0 } }]),
  api('spin_unlock_bh', [{ kind: 'unlock', lock: { arg: 0 } }]),
  api('raw_spin_unlock', [{ kind: 'unlock', lock: { arg: 0 } }]),
  api('raw_spin_unlock_irqrestore', [{ kind: 'unlock', lock: { arg: 0 } }]),
  api('write_lock', [{ kind: 'lock', lock: { arg: 0 }, mode: 'write' }]),
  api('write_unlock', [{ kind: 'unlock', lock: { arg: 0 }, mode: 'write' }]),
  api('read_lock', [{ kind: 'lock', lock: { arg: 0 }, mode: 'read' }]),
  api('read_unlock', [{ kind: 'unlock', lock: { arg: 0 }, mode: 'read' }]),
  api('write_trylock', [{ kind: 'lock', lock: { arg: 0 }, mode: 'write', cond: 'true' }]),
  api('read_trylock', [{ kind: 'lock', lock: { arg: 0 }, mode: 'read', cond: 'true' }]),
  api('down_read', [{ kind: 'lock', lock: { arg: 0 }, mode: 'read' }]),
  api('up_read', [{ kind: 'unlock', lock: { arg: 0 }, mode: 'read' }]),
  api('down_write', [{ kind: 'lock', lock: { arg: 0 }, mode: 'write' }]),
  api('up_write', [{ kind: 'unlock', lock: { arg: 0 }, mode: 'write' }]),
  api('KVM_MMU_LOCK', [{ kind: 'lock', lock: MMU_LOCK, mode: 'write' }]),
  api('KVM_MMU_UNLOCK', [{ kind: 'unlock', lock: MMU_LOCK, mode: 'write' }]),
  api('lockdep_assert_held', [{ kind: 'assert-held', lock: { arg: 0 } }]),
  api('lockdep_assert_held_once', [{ kind: 'assert-held', lock: { arg: 0 } }]),
  api('lockdep_assert_held_write', [{ kind: 'assert-held', lock: { arg: 0 }, mode: 'write' }]),
  api('lockdep_assert_held_read', [{ kind: 'assert-held', lock: { arg: 0 }, mode: 'read' }]),
  api('lockdep_assert_held_write_once', [{ kind: 'assert-held', lock: { arg: 0 }, mode: 'write' }]),

  // --- MMU invalidation --------------------------------------------------------------------------
  api('kvm_mmu_invalidate_begin', [{ kind: 'invalidate-begin' }]),
  api('kvm_mmu_invalidate_end', [{ kind: 'invalidate-end' }]),
  api('kvm_unmap_gfn_range', [{ kind: 'zap-range' }]),
  api('kvm_tdp_mmu_unmap_gfn_range', [{ kind: 'zap-range' }]),
  api('kvm_arch_pre_set_memory_attributes', []),
  api('kvm_zap_gfn_range', [{ kind: 'zap-range-self-protected' }]),
  api('kvm_arch_flush_shadow_memslot', [{ kind: 'zap-range' }], 'zaps the SPTEs of a memslot being deleted or moved'),

  // --- yields -----------------------------------------------------------------------------------
  api('cond_resched_rwlock_write', [{ kind: 'yield', lock: { arg: 0 } }]),
  api('cond_resched_rwlock_read', [{ kind: 'yield', lock: { arg: 0 } }]),
  api('cond_resched_lock', [{ kind: 'yield', lock: { arg: 0 } }]),
  api('tdp_mmu_iter_cond_resched', [{ kind: 'yield', lock: MMU_LOCK }]),

  // --- TDP MMU roots ----------------------------------------------------------------------------
  api('kvm_tdp_mmu_get_root', [{ kind: 'root-get', arg: 0, mustCheck: true }]),
  api('kvm_mmu_get_root', [{ kind: 'root-get', arg: 1, mustCheck: false }], '5.10 name; could not fail'),
  api('kvm_tdp_mmu_put_root', [{ kind: 'root-put', arg: 1, returnsLast: false }]),
  api('kvm_mmu_put_root', [{ kind: 'root-put', arg: 1, returnsLast: true }], '5.10: returns true on the last reference'),
  api('kvm_tdp_mmu_free_root', [{ kind: 'root-free', arg: 1 }]),

  // --- barriers and marked accesses ------------------------------------------------------------
  api('smp_mb', [{ kind: 'barrier', barrier: 'mb' }]),
  api('mb', [{ kind: 'barrier', barrier: 'mb' }]),
  api('smp_rmb', [{ kind: 'barrier', barrier: 'rmb' }]),
  api('rmb', [{ kind: 'barrier', barrier: 'rmb' }]),
  api('smp_wmb', [{ kind: 'barrier', barrier: 'wmb' }]),
  api('wmb', [{ kind: 'barrier', barrier: 'wmb' }]),
  api('smp_mb__before_atomic', [{ kind: 'barrier', barrier: 'mb__before_atomic' }]),
  api('smp_mb__after_atomic', [{ kind: 'barrier', barrier: 'mb__after_atomic' }]),
  api('smp_mb__after_spinlock', [{ kind: 'barrier', barrier: 'mb__after_spinlock' }]),
  api('smp_mb__after_unlock_lock', [{ kind: 'barrier', barrier: 'mb__after_unlock_lock' }]),
  api('barrier', [{ kind: 'barrier', barrier: 'compiler' }]),
  api('READ_ONCE', [{ kind: 'access', access: 'read', order: 'once', arg: 0 }]),
  api('WRITE_ONCE', [{ kind: 'access', access: 'write', order: 'once', arg: 0, valueArg: 1 }]),
  api('smp_load_acquire', [{ kind: 'access', access: 'read', order: 'acquire', arg: 0 }]),
  api('smp_store_release', [{ kind: 'access', access: 'write', order: 'release', arg: 0, valueArg: 1 }]),
  api('smp_store_mb', [{ kind: 'access', access: 'write', order: 'once', arg: 0, valueArg: 1 }, { kind: 'barrier', barrier: 'mb' }]),
  api('atomic_read', [{ kind: 'access', access: 'read', order: 'once', arg: 0 }]),
  api('atomic64_read', [{ kind: 'access', access: 'read', order: 'once', arg: 0 }]),
  api('atomic_read_acquire', [{ kind: 'access', access: 'read', order: 'acquire', arg: 0 }]),
  api('atomic_set', [{ kind: 'access', access: 'write', order: 'once', arg: 0, valueArg: 1 }]),
  api('atomic64_set', [{ kind: 'access', access: 'write', order: 'once', arg: 0, valueArg: 1 }]),
  api('atomic_set_release', [{ kind: 'access', access: 'write', order: 'release', arg: 0, valueArg: 1 }]),
  api('atomic_inc', [{ kind: 'access', access: 'rmw', order: 'relaxed', arg: 0 }]),
  api('atomic_dec', [{ kind: 'access', access: 'rmw', order: 'relaxed', arg: 0, lowers: true }]),
  api('atomic_add', [{ kind: 'access', access: 'rmw', order: 'relaxed', arg: 1 }]),
  api('atomic_sub', [{ kind: 'access', access: 'rmw', order: 'relaxed', arg: 1, lowers: true }]),
  api('atomic64_inc', [{ kind: 'access', access: 'rmw', order: 'relaxed', arg: 0 }]),
  api('atomic64_dec', [{ kind: 'access', access: 'rmw', order: 'relaxed', arg: 0, lowers: true }]),
  api('atomic_inc_return', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 0 }]),
  api('atomic_dec_return', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 0 }]),
  api('atomic_dec_and_test', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 0 }]),
  api('atomic_inc_not_zero', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 0 }]),
  api('atomic_xchg', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 0 }]),
  api('atomic_cmpxchg', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 0 }]),
  api('xchg', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 0 }]),
  api('cmpxchg', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 0 }]),
  api('try_cmpxchg', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 0 }]),
  api('test_and_set_bit', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 1 }]),
  api('test_and_clear_bit', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 1 }]),
  api('set_bit', [{ kind: 'access', access: 'rmw', order: 'relaxed', arg: 1 }]),
  api('clear_bit', [{ kind: 'access', access: 'rmw', order: 'relaxed', arg: 1, lowers: true }]),
  api('test_bit', [{ kind: 'access', access: 'read', order: 'once', arg: 1 }]),
  api('refcount_inc_not_zero', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 0 }]),
  api('refcount_dec_and_test', [{ kind: 'access', access: 'rmw', order: 'mb', arg: 0 }]),

  // --- rmaps (x86) -------------------------------------------------------------------------------
  api('__gfn_to_rmap', [{ kind: 'rmap-access' }]),
  api('gfn_to_rmap', [{ kind: 'rmap-access' }]),
  api('kvm_memslots_have_rmaps', [{ kind: 'rmap-guard' }]),
  api('kvm_shadow_root_allocated', [{ kind: 'rmap-guard' }]),
  api('is_tdp_mmu_page', [{ kind: 'rmap-guard', when: false }], 'false: a shadow-MMU page, which exists only once the rmaps do'),
  api('memslot_rmap_alloc', [{ kind: 'rmap-alloc' }], 'x86: allocates a slot\'s rmap arrays (no-op for arrays already present)'),

  // --- assertions of a condition (seed 001: lockdep_assert_once(in_progress || lockdep_is_held(slots_lock))) ---
  api('lockdep_assert', [{ kind: 'assert-cond', arg: 0 }]),
  api('lockdep_assert_once', [{ kind: 'assert-cond', arg: 0 }]),
  api('lockdep_is_held', [{ kind: 'held-test', lock: { arg: 0 } }]),

  // --- statements that do not return on true ---------------------------------------------------------
  api('BUG', [{ kind: 'noreturn' }]),
  api('panic', [{ kind: 'noreturn' }]),
];

/** Barrier kinds that order everything before against everything after (LKMM strong fences). */
export const FULL_BARRIERS: readonly string[] = [
  'mb', 'mb__after_spinlock', 'mb__after_unlock_lock', 'mb__after_srcu_read_unlock', 'mb__before_atomic', 'mb__after_atomic',
];

/** Members whose address, as an rcu_assign_pointer() target, is a memslots publish. */
export const PUBLISH_TARGETS: readonly { chain: RegExp; object: string }[] = [
  { chain: /(^|\.)memslots(\[\])?$/, object: 'memslots' },
];

/** Member chains of rmap arrays (the per-level pointers, `slot->arch.rmap[level]`, and their elements). */
export const RMAP_CHAINS: readonly RegExp[] = [/(^|\.)arch\.rmap(\[\])*$/];

/** The counter that kvm_mmu_invalidate_begin()/end() raise and lower (older: mmu_notifier_count). */
export const INVALIDATION_COUNTERS: readonly RegExp[] = [/(^|\.)(mmu_invalidate_in_progress|mmu_notifier_count)$/];

/**
 * Dispatch structures whose dispatcher (__kvm_handle_hva_range(), kvm_handle_gfn_range())
 * calls the `before` member under mmu_lock before the `handler` member for each range.
 */
export const DISPATCH_MEMBERS: readonly { handler: string; before: string }[] = [{ handler: 'handler', before: 'on_lock' }];

/** Lists and hash chains that hold only shadow-MMU pages (TDP MMU pages live on tdp_mmu_roots). */
export const SHADOW_PAGE_LISTS: readonly RegExp[] = [/(^|\.)arch\.(active_mmu_pages|zapped_obsolete_pages|mmu_page_hash\[\])$/];

/** Member chains of rmap array *elements* (`slot->arch.rmap[level][idx]`): indexing needs the arrays to exist. */
export const RMAP_ELEMENT_CHAINS: readonly RegExp[] = [/(^|\.)arch\.rmap\[\]\[\]$/];

/**
 * Globals whose value implies that every memslot has rmaps (kvm_memslots_have_rmaps() is
 * `!tdp_mmu_enabled || kvm_shadow_root_allocated(kvm)`): with the TDP MMU off (or TDP off
 * altogether) the rmaps are allocated with the memslot, before it is published.
 */
export const RMAP_IMPLYING_VARS: readonly { name: string; when: boolean }[] = [
  { name: 'tdp_mmu_enabled', when: false },
  { name: 'tdp_enabled', when: false },
];

/**
 * Entry contracts of functions that generic code calls (often from another file), as
 * documented at their call sites in virt/kvm/kvm_main.c and arch code.
 */
export const ENTRY_CONTRACTS: readonly EntryContract[] = [
  {
    name: 'kvm_arch_flush_shadow_memslot',
    locks: ['kvm.slots_lock'],
    synced: true,
    note: 'memslot deletion/move: kvm_invalidate_memslot() calls it under slots_lock after kvm_swap_active_memslots() published the INVALID slot and waited with synchronize_srcu_expedited()',
  },
  {
    name: 'kvm_arch_pre_set_memory_attributes',
    locks: ['kvm.mmu_lock'],
    invalidating: true,
    note: 'called by kvm_vm_set_mem_attributes() through kvm_handle_gfn_range() with on_lock = kvm_mmu_invalidate_begin',
  },
];

/** The flag that publishes the rmaps (store-release by the allocator, load-acquire by readers). */
export const RMAP_FLAGS: readonly RegExp[] = [/(^|\.)arch\.(shadow_root_allocated|memslots_have_rmaps)$/];

/** Member chains of memslot generation counters. */
export const GENERATION_CHAINS: readonly RegExp[] = [/(^|\.)generation$/];

/** Lists of TDP MMU roots. */
export const ROOT_LISTS: readonly RegExp[] = [/(^|\.)arch\.tdp_mmu_roots$/];

export const ITERATORS: readonly IteratorModel[] = [
  { name: 'for_each_tdp_mmu_root', kind: 'tdp-root', cursorArg: 1 },
  { name: 'for_each_valid_tdp_mmu_root', kind: 'tdp-root', cursorArg: 1 },
  { name: '__for_each_tdp_mmu_root', kind: 'tdp-root', cursorArg: 1 },
  { name: 'for_each_tdp_mmu_root_yield_safe', kind: 'tdp-root-yield-safe', cursorArg: 1, holdsRef: true, yieldSafe: true },
  { name: 'for_each_valid_tdp_mmu_root_yield_safe', kind: 'tdp-root-yield-safe', cursorArg: 1, holdsRef: true, yieldSafe: true },
  { name: '__for_each_tdp_mmu_root_yield_safe', kind: 'tdp-root-yield-safe', cursorArg: 1, holdsRef: true, yieldSafe: true },
  // 5.16-6.2: walked the invalidated roots, same reference protocol.
  { name: 'for_each_invalid_tdp_mmu_root_yield_safe', kind: 'tdp-root-yield-safe', cursorArg: 1, holdsRef: true, yieldSafe: true },
  { name: 'list_for_each_entry', kind: 'list', cursorArg: 0, headArg: 1 },
  { name: 'list_for_each_entry_rcu', kind: 'list', cursorArg: 0, headArg: 1 },
  { name: 'list_for_each_entry_reverse', kind: 'list', cursorArg: 0, headArg: 1 },
  { name: 'list_for_each_entry_continue', kind: 'list', cursorArg: 0, headArg: 1 },
  { name: 'list_for_each_entry_safe', kind: 'list-safe', cursorArg: 0, headArg: 2 },
  { name: 'list_for_each_entry_safe_reverse', kind: 'list-safe', cursorArg: 0, headArg: 2 },
  { name: 'hlist_for_each_entry', kind: 'list', cursorArg: 0, headArg: 1 },
  { name: 'hlist_for_each_entry_safe', kind: 'list-safe', cursorArg: 0, headArg: 2 },
  { name: 'kvm_for_each_memslot', kind: 'memslot', cursorArg: 0 },
  { name: 'kvm_for_each_memslot_in_gfn_range', kind: 'memslot', cursorArg: 0 },
  { name: 'kvm_for_each_memslot_in_hva_range', kind: 'memslot', cursorArg: 0 },
  { name: 'kvm_for_each_vcpu', kind: 'vcpu', cursorArg: 1 },
  { name: 'for_each_tdp_pte', kind: 'spte', cursorArg: 0 },
  { name: 'for_each_tdp_pte_min_level', kind: 'spte', cursorArg: 0 },
  { name: 'tdp_root_for_each_pte', kind: 'spte', cursorArg: 0 },
  { name: 'tdp_root_for_each_leaf_pte', kind: 'spte', cursorArg: 0 },
  { name: 'tdp_mmu_for_each_pte', kind: 'spte', cursorArg: 0 },
  // Shadow-MMU page-table walks and shadow-page hash lookups: only shadow (non-TDP-MMU) pages.
  { name: 'for_each_shadow_entry', kind: 'spte', cursorArg: 2, shadowPages: true },
  { name: 'for_each_shadow_entry_using_root', kind: 'spte', cursorArg: 3, shadowPages: true },
  { name: 'for_each_shadow_entry_lockless', kind: 'spte', cursorArg: 2, shadowPages: true },
  { name: 'for_each_valid_sp', kind: 'generic', cursorArg: 1, shadowPages: true },
  { name: 'for_each_gfn_valid_sp', kind: 'generic', cursorArg: 1, shadowPages: true },
  { name: 'for_each_gfn_valid_sp_with_gptes', kind: 'generic', cursorArg: 1, shadowPages: true },
  { name: 'for_each_rmap_spte', kind: 'rmap', cursorArg: 1 },
  {
    name: 'for_each_slot_rmap_range', kind: 'rmap', cursorArg: 5, accessesRmaps: true,
    calls: ['slot_rmap_walk_init', 'slot_rmap_walk_okay', 'slot_rmap_walk_next'],
  },
];

export const GUARD_CLASSES: readonly GuardClassModel[] = [
  { cls: 'srcu', acquire: [{ kind: 'srcu-lock', domain: { arg: 0 } }], release: [{ kind: 'srcu-unlock', domain: { arg: 0 } }] },
  { cls: 'mutex', acquire: [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }], release: [{ kind: 'unlock', lock: { arg: 0 } }] },
  { cls: 'spinlock', acquire: [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }], release: [{ kind: 'unlock', lock: { arg: 0 } }] },
  { cls: 'spinlock_irq', acquire: [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }], release: [{ kind: 'unlock', lock: { arg: 0 } }] },
  { cls: 'spinlock_irqsave', acquire: [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }], release: [{ kind: 'unlock', lock: { arg: 0 } }] },
  { cls: 'raw_spinlock', acquire: [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }], release: [{ kind: 'unlock', lock: { arg: 0 } }] },
  { cls: 'raw_spinlock_irqsave', acquire: [{ kind: 'lock', lock: { arg: 0 }, mode: 'excl' }], release: [{ kind: 'unlock', lock: { arg: 0 } }] },
  { cls: 'write_lock', acquire: [{ kind: 'lock', lock: { arg: 0 }, mode: 'write' }], release: [{ kind: 'unlock', lock: { arg: 0 }, mode: 'write' }] },
  { cls: 'read_lock', acquire: [{ kind: 'lock', lock: { arg: 0 }, mode: 'read' }], release: [{ kind: 'unlock', lock: { arg: 0 }, mode: 'read' }] },
  { cls: 'rwsem_read', acquire: [{ kind: 'lock', lock: { arg: 0 }, mode: 'read' }], release: [{ kind: 'unlock', lock: { arg: 0 }, mode: 'read' }] },
  { cls: 'rwsem_write', acquire: [{ kind: 'lock', lock: { arg: 0 }, mode: 'write' }], release: [{ kind: 'unlock', lock: { arg: 0 }, mode: 'write' }] },
];

/**
 * Canonical owners for lock/field expressions: a base that is (or ends in) one
 * of these names is replaced by the canonical name, so `vcpu->kvm->mmu_lock`
 * and `kvm->mmu_lock` are the same lock `kvm.mmu_lock`.
 */
export const CANONICAL_OWNERS: readonly { type: RegExp; name: string }[] = [
  { type: /^struct\s+kvm\s*\*$/, name: 'kvm' },
  { type: /^struct\s+kvm_vcpu\s*\*$/, name: 'vcpu' },
];

/** Member names that hop to an owner: `x->kvm` is a struct kvm. */
export const OWNER_MEMBERS: Readonly<Record<string, string>> = { kvm: 'kvm', vcpu: 'vcpu' };

/** Locks that must not be taken inside a kvm->srcu read-side section (locking.rst). */
export const NOT_UNDER_SRCU: readonly string[] = ['kvm.lock', 'kvm.slots_lock', 'vcpu.mutex'];

/** The SRCU domain protecting memslots and the lock that is a legal alternative for readers. */
export const MEMSLOTS_DOMAIN = 'kvm.srcu';
export const MEMSLOTS_WRITER_LOCK = 'kvm.slots_lock';
export const MMU_LOCK_ID = 'kvm.mmu_lock';

/** Lockless-protocol counters the seed threads discuss. */
export const PROTOCOL_VARIABLES: readonly ProtocolVariable[] = [
  {
    chain: 'arch.indirect_shadow_pages', writersHold: 'kvm.mmu_lock', sbPartners: [GUEST_MEMORY],
    note: 'counted under mmu_lock, read locklessly by the emulator after its guest write (store buffering with account_shadowed())',
  },
  { chain: 'mmu_invalidate_in_progress', writersHold: 'kvm.mmu_lock' },
  { chain: 'mmu_invalidate_seq', writersHold: 'kvm.mmu_lock' },
  { chain: 'arch.shadow_root_allocated', writersHold: 'kvm.slots_arch_lock' },
];
