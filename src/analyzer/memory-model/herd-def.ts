/**
 * The primitives that Linux 6.12's tools/memory-model/linux-kernel.def
 * defines for herd7 (names only). A litmus test calling anything else stops
 * herd7 with "Unknown macro"; kvmlint's own litmus output must stay inside
 * this list so that it runs unchanged under `herd7 -conf linux-kernel.cfg`.
 */
export const LKMM_DEF_PRIMITIVES: readonly string[] = Object.freeze([
  'READ_ONCE', 'WRITE_ONCE', 'smp_store_release', 'smp_load_acquire', 'rcu_assign_pointer', 'rcu_dereference',
  'smp_store_mb', 'smp_mb', 'smp_rmb', 'smp_wmb', 'smp_mb__before_atomic', 'smp_mb__after_atomic',
  'smp_mb__after_spinlock', 'smp_mb__after_unlock_lock', 'smp_mb__after_srcu_read_unlock', 'barrier',
  'xchg', 'xchg_relaxed', 'xchg_release', 'xchg_acquire', 'cmpxchg', 'cmpxchg_relaxed', 'cmpxchg_acquire',
  'cmpxchg_release', 'spin_lock', 'spin_unlock', 'spin_trylock', 'spin_is_locked', 'rcu_read_lock',
  'rcu_read_unlock', 'synchronize_rcu', 'synchronize_rcu_expedited', 'srcu_read_lock', 'srcu_read_unlock',
  'srcu_down_read', 'srcu_up_read', 'synchronize_srcu', 'synchronize_srcu_expedited', 'atomic_read', 'atomic_set',
  'atomic_read_acquire', 'atomic_set_release', 'atomic_add', 'atomic_sub', 'atomic_inc', 'atomic_dec',
  'atomic_add_return', 'atomic_add_return_relaxed', 'atomic_add_return_acquire', 'atomic_add_return_release',
  'atomic_fetch_add', 'atomic_fetch_add_relaxed', 'atomic_fetch_add_acquire', 'atomic_fetch_add_release',
  'atomic_inc_return', 'atomic_inc_return_relaxed', 'atomic_inc_return_acquire', 'atomic_inc_return_release',
  'atomic_fetch_inc', 'atomic_fetch_inc_relaxed', 'atomic_fetch_inc_acquire', 'atomic_fetch_inc_release',
  'atomic_sub_return', 'atomic_sub_return_relaxed', 'atomic_sub_return_acquire', 'atomic_sub_return_release',
  'atomic_fetch_sub', 'atomic_fetch_sub_relaxed', 'atomic_fetch_sub_acquire', 'atomic_fetch_sub_release',
  'atomic_dec_return', 'atomic_dec_return_relaxed', 'atomic_dec_return_acquire', 'atomic_dec_return_release',
  'atomic_fetch_dec', 'atomic_fetch_dec_relaxed', 'atomic_fetch_dec_acquire', 'atomic_fetch_dec_release',
  'atomic_xchg', 'atomic_xchg_relaxed', 'atomic_xchg_release', 'atomic_xchg_acquire', 'atomic_cmpxchg',
  'atomic_cmpxchg_relaxed', 'atomic_cmpxchg_acquire', 'atomic_cmpxchg_release', 'atomic_sub_and_test',
  'atomic_dec_and_test', 'atomic_inc_and_test', 'atomic_add_negative',
]);
