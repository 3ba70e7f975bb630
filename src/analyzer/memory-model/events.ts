/** Event tags (a bitmask) and per-thread trace events. */
import type { Val } from './types.js';

export const T = {
  ONCE: 1 << 0,
  ACQUIRE: 1 << 1,
  RELEASE: 1 << 2,
  NORETURN: 1 << 3,
  RMW: 1 << 4, // event of an atomic RMW instruction (herd's RMW class)
  LKR: 1 << 5,
  LKW: 1 << 6,
  UL: 1 << 7,
  LF: 1 << 8,
  RL: 1 << 9,
  RU: 1 << 10,
  SRCU_LOCK: 1 << 11,
  SRCU_UNLOCK: 1 << 12,
  SYNC_SRCU: 1 << 13,
  // fences
  MB: 1 << 14,
  RMB: 1 << 15,
  WMB: 1 << 16,
  BARRIER: 1 << 17,
  RCU_LOCK: 1 << 18,
  RCU_UNLOCK: 1 << 19,
  SYNC_RCU: 1 << 20,
  BEFORE_ATOMIC: 1 << 21,
  AFTER_ATOMIC: 1 << 22,
  AFTER_SPINLOCK: 1 << 23,
  AFTER_UNLOCK_LOCK: 1 << 24,
  AFTER_SRCU_UNLOCK: 1 << 25,
  INIT: 1 << 26,
} as const;

export const TAG_NAMES: [number, string][] = [
  [T.ONCE, 'once'],
  [T.ACQUIRE, 'acquire'],
  [T.RELEASE, 'release'],
  [T.NORETURN, 'noreturn'],
  [T.LKR, 'LKR'],
  [T.LKW, 'LKW'],
  [T.UL, 'UL'],
  [T.LF, 'LF'],
  [T.RL, 'RL'],
  [T.RU, 'RU'],
  [T.SRCU_LOCK, 'srcu-lock'],
  [T.SRCU_UNLOCK, 'srcu-unlock'],
  [T.SYNC_SRCU, 'sync-srcu'],
  [T.MB, 'mb'],
  [T.RMB, 'rmb'],
  [T.WMB, 'wmb'],
  [T.BARRIER, 'barrier'],
  [T.RCU_LOCK, 'rcu-lock'],
  [T.RCU_UNLOCK, 'rcu-unlock'],
  [T.SYNC_RCU, 'sync-rcu'],
  [T.BEFORE_ATOMIC, 'before-atomic'],
  [T.AFTER_ATOMIC, 'after-atomic'],
  [T.AFTER_SPINLOCK, 'after-spinlock'],
  [T.AFTER_UNLOCK_LOCK, 'after-unlock-lock'],
  [T.AFTER_SRCU_UNLOCK, 'after-srcu-read-unlock'],
];

/** R: read, W: write, F: fence, S: synchronize_srcu (non-memory event with a location). */
export type EvKind = 'R' | 'W' | 'F' | 'S';

export interface TEvent {
  kind: EvKind;
  loc?: string;
  val?: Val;
  tags: number;
  /** Local indices (in the trace) of the reads this event depends on. */
  addr: number[];
  data: number[];
  ctrl: number[];
  /** For the write of an RMW pair: local index of its read. */
  rmwWith?: number;
  /** Source line and a short description, for witnesses. */
  line: number;
  text: string;
}

export interface Trace {
  thread: number;
  events: TEvent[];
  regs: Map<string, Val>;
}

/**
 * herd7's symbolic value (a free `var = var` class of its solver, printed
 * `S<n>`); see thread.ts. Not a location name: those are C identifiers.
 */
export const SYM = '?S';

export function fmtVal(v: Val | undefined): string {
  if (v === undefined) return '?';
  if (v === SYM) return 'S (symbolic)';
  return typeof v === 'number' ? String(v) : v;
}
