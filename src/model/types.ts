/**
 * The vocabulary of modelled effects. A KVM or kernel API (or a summarised
 * function in view) is described by the effects a call has on the concurrency
 * state; the engine's trackers apply them, rules observe them.
 */

/** Which argument of a call (0-based) an effect refers to. */
export interface ArgRef {
  arg: number;
}

/**
 * A lock or SRCU domain: either fixed (e.g. `kvm.srcu` for
 * `kvm_vcpu_srcu_read_lock(vcpu)`) or named by an argument expression, which is
 * canonicalised (`&vcpu->kvm->mmu_lock` -> `kvm.mmu_lock`).
 */
export type LockRef = { fixed: string } | ArgRef;

export type LockMode = 'write' | 'read' | 'excl';

/** Address space of a memslot snapshot. */
export type AddressSpaceRef = { fixed: string } | ArgRef;

export type BarrierKind =
  | 'mb'
  | 'rmb'
  | 'wmb'
  | 'mb__before_atomic'
  | 'mb__after_atomic'
  | 'mb__after_spinlock'
  | 'mb__after_unlock_lock'
  | 'mb__after_srcu_read_unlock'
  | 'compiler';

export type AccessOrder = 'once' | 'plain' | 'acquire' | 'release' | 'relaxed' | 'mb';

export type Effect =
  /** Enter an SRCU read-side section. */
  | { kind: 'srcu-lock'; domain: LockRef }
  | { kind: 'srcu-unlock'; domain: LockRef }
  /** Acquire a lock. `cond`: only when the call returns true (trylock). */
  | { kind: 'lock'; lock: LockRef; mode: LockMode; cond?: 'true' }
  | { kind: 'unlock'; lock: LockRef; mode?: LockMode }
  /** lockdep_assert_held & co: the function requires the lock at this point. */
  | { kind: 'assert-held'; lock: LockRef; mode?: LockMode }
  /** Assertion that the caller is in an SRCU read-side section (or holds the alternative lock). */
  | { kind: 'assert-srcu'; domain: LockRef }
  /**
   * A fresh snapshot of `kvm->memslots[as]`; `via` names the helper that took it internally.
   * `access`: a self-contained guest access (kvm_read_guest() & co) whose result is guest data,
   * not memslot-derived state (memslot, slots array, hva, pfn, generation).
   * `covered`: (summaries) the helper takes it, on every path, inside its own SRCU read-side
   * section or under slots_lock, so it needs nothing from the caller.
   */
  | { kind: 'snapshot'; as: AddressSpaceRef; via?: string; access?: boolean; covered?: boolean }
  /** Publication of a new memslots array with rcu_assign_pointer(). */
  | { kind: 'publish'; object: string; target: ArgRef; value: ArgRef }
  /** End of an SRCU grace period on a domain. */
  | { kind: 'sync'; domain: LockRef }
  /**
   * (summaries) On some path, and still in the caller's context (the helper has not dropped the
   * caller's SRCU section nor opened its own), the helper waits for a grace period on `domain`
   * (`inner-sync`) or acquires `lock` and releases it again (`inner-lock`). The state is unchanged;
   * lock-order rules read these.
   */
  | { kind: 'inner-sync'; domain: LockRef }
  | { kind: 'inner-lock'; lock: LockRef; mode?: LockMode }
  /** Deferred free after a grace period: legal after a publish. */
  | { kind: 'deferred-free'; domain: LockRef }
  /** Free (or hand back for reuse) the object passed as `arg`. */
  | { kind: 'free'; arg: number }
  | { kind: 'invalidate-begin' }
  | { kind: 'invalidate-end' }
  /**
   * Zaps SPTEs of a gfn range; needs mmu_invalidate_in_progress elevated, or (memslot deletion)
   * slots_lock held after an SRCU grace period. `afterSync`: a helper that zaps after its own
   * synchronize_srcu(), so the caller only has to hold slots_lock.
   */
  | { kind: 'zap-range'; afterSync?: boolean }
  /** Zap that protects itself (takes mmu_lock and begins an invalidation internally). */
  | { kind: 'zap-range-self-protected' }
  /** May drop and re-take `lock` (yield point). */
  | { kind: 'yield'; lock: LockRef }
  /** Takes a TDP MMU root reference; `mustCheck`: the result says whether it succeeded. */
  | { kind: 'root-get'; arg: number; mustCheck: boolean }
  /** Puts a TDP MMU root reference; `returnsLast`: true result = last reference, caller must free. */
  | { kind: 'root-put'; arg: number; returnsLast: boolean }
  | { kind: 'root-free'; arg: number }
  /** A memory barrier. */
  | { kind: 'barrier'; barrier: BarrierKind }
  /** A marked access through a macro (READ_ONCE, smp_load_acquire, atomic_read ...). */
  | {
      kind: 'access'; access: 'read' | 'write' | 'rmw'; order: AccessOrder; arg: number; valueArg?: number; fixed?: { base: string; chain: string };
      /** The update moves the value down (atomic_dec, atomic_sub, clear_bit): never a 0 -> non-zero transition. */
      lowers?: boolean;
    }
  /** An access to an rmap array. */
  | { kind: 'rmap-access' }
  /**
   * Returns `when` (default true) only if all rmaps are visible: ends in a load-acquire of the
   * rmap flag, or tells that a shadow-MMU page exists (shadow pages are created only after the rmaps).
   */
  | { kind: 'rmap-guard'; when?: boolean }
  /** Allocates (and stores) the rmap arrays of a memslot; they become visible to readers only via the rmap flag. */
  | { kind: 'rmap-alloc' }
  /** A lockdep assertion of an arbitrary condition (lockdep_assert(cond), lockdep_assert_once(cond)). */
  | { kind: 'assert-cond'; arg: number }
  /** Evaluates to whether `lock` is held (lockdep_is_held()); only meaningful inside an assertion. */
  | { kind: 'held-test'; lock: LockRef }
  /** Annotates an RCU pointer read or publish (for the misleading-annotation rule). */
  | { kind: 'rcu-deref'; arg: number }
  | { kind: 'rcu-assign'; target: ArgRef; value: ArgRef }
  /** Not a call at all but a statement-like macro (e.g. BUG_ON) that does not return on true. */
  | { kind: 'noreturn' };

export interface ApiModel {
  name: string;
  effects: Effect[];
  /** Short note for explanations. */
  note?: string;
}

export type IteratorKind =
  | 'tdp-root'
  | 'tdp-root-yield-safe'
  | 'list'
  | 'list-safe'
  | 'memslot'
  | 'vcpu'
  | 'spte'
  | 'rmap'
  | 'generic';

export interface IteratorModel {
  name: string;
  kind: IteratorKind;
  /** Argument naming the loop cursor. */
  cursorArg: number;
  /** Argument naming the list/collection (for list iterators). */
  headArg?: number;
  /** The loop holds a reference on the cursor during each iteration. */
  holdsRef?: boolean;
  /** The loop tolerates the lock being dropped inside its body. */
  yieldSafe?: boolean;
  /** Entering the loop indexes a memslot's rmap arrays (e.g. for_each_slot_rmap_range). */
  accessesRmaps?: boolean;
  /**
   * The loop visits shadow-MMU (non-TDP-MMU) pages or their SPTEs: inside it, a shadow page
   * exists, so the rmaps do (they are allocated before the first shadow root).
   */
  shadowPages?: boolean;
  /** Functions the macro's expansion calls (their only callers are hidden in the macro). */
  calls?: string[];
}

/**
 * What a function's callers guarantee at entry, by KVM's documented contract
 * (arch hooks called from generic code in another file, for instance).
 */
export interface EntryContract {
  name: string;
  /** Canonical lock ids held by every caller. */
  locks?: string[];
  /** An SRCU grace period on kvm->srcu completed since the memslot was made invalid. */
  synced?: boolean;
  /** mmu_invalidate_in_progress is elevated by the caller. */
  invalidating?: boolean;
  note: string;
}

/** `guard(cls)(args)` / `scoped_guard(cls, args)`: what the class acquires. */
export interface GuardClassModel {
  cls: string;
  acquire: Effect[];
  release: Effect[];
}

/** A shared variable of a lockless protocol (for barrier rules). */
export interface ProtocolVariable {
  /** Member chain suffix identifying the field, e.g. `arch.indirect_shadow_pages`. */
  chain: string;
  /** Lock that writers hold, canonical id. */
  writersHold?: string;
  /**
   * Store-buffering partners: locations a lockless reader stores before it reads this
   * variable, and that the writer side re-reads after raising it (seed 003: guest memory
   * written by the emulator vs. guest PTEs re-read by the shadow-paging fault path).
   * Each side needs a full barrier between its store and its load.
   */
  sbPartners?: string[];
  note?: string;
}
