/**
 * Thread semantics: lowering of the litmus AST into a flat per-thread IR and
 * enumeration of a thread's traces (control paths with concrete read values
 * taken from a per-location value domain), including addr/data/ctrl
 * dependency tracking by taint propagation through registers.
 */
import { LKMM_DEF_PRIMITIVES } from './herd-def.js';
import { SYM, T, type TEvent, type Trace } from './events.js';
import { UnsupportedError, type Expr, type Stmt, type ThreadAst, type Val } from './types.js';

/** Pure (memory-free) expression: only num/var/bin/un/cond nodes. */
type PExpr = Expr;

type Order = 'mb' | 'once' | 'acquire' | 'release';

interface RmwSpec {
  kind: 'xchg' | 'cmpxchg' | 'op' | 'op_return' | 'fetch_op' | 'add_unless';
  order: Order;
  opr: string; // arithmetic operator for op/op_return/fetch_op/add_unless
  operand?: PExpr; // V (xchg value, op operand)
  expected?: PExpr; // cmpxchg old / add_unless 'unless'
  test?: '==0' | '<0'; // *_and_test, add_negative
}

type Ins =
  | { op: 'mov'; dst: string; e: PExpr }
  | { op: 'load'; dst: string; addr: PExpr; tags: number; line: number; text: string }
  | { op: 'store'; addr: PExpr; val: PExpr; tags: number; line: number; text: string; mbAfter?: boolean }
  | { op: 'fence'; tags: number; line: number; text: string }
  | { op: 'rmw'; dst: string; addr: PExpr; spec: RmwSpec; line: number; text: string }
  | { op: 'lock' | 'unlock' | 'trylock' | 'islocked'; dst: string; addr: PExpr; line: number; text: string }
  | { op: 'srcu_lock'; dst: string; addr: PExpr; line: number; text: string }
  | { op: 'srcu_unlock'; addr: PExpr; val: PExpr; line: number; text: string }
  | { op: 'sync_srcu'; addr: PExpr; line: number; text: string }
  | { op: 'br'; cond: PExpr; target: number; ifZero: boolean; label?: string; scoped?: boolean }
  | { op: 'endif' }
  | { op: 'jmp'; target: number; label?: string }
  | { op: 'label'; name: string };

export interface ThreadProgram {
  index: number;
  params: Set<string>;
  ins: Ins[];
  regInit: Map<string, Val>;
  /** Registers that the program declares or assigns (for final states). */
  regs: Set<string>;
}

/**
 * Values that stores of the program may write, found statically (for every
 * path, reachable or not): per target location ('*' = unknown pointer), the
 * literal values stored, and whether some store there computes its value.
 */
export interface StoreSeeds {
  literals: Set<number>;
  /** copies: some store there writes a register's value unchanged (a possible symbolic value). */
  byLoc: Map<string, { values: Set<Val>; computed: boolean; copies: boolean }>;
}

function literalsOf(e: Expr, out: Set<number>): void {
  switch (e.k) {
    case 'num':
      out.add(e.v);
      return;
    case 'bin':
      literalsOf(e.a, out);
      literalsOf(e.b, out);
      return;
    case 'un':
      literalsOf(e.a, out);
      if (e.op === '-' && e.a.k === 'num') out.add(-e.a.v);
      return;
    case 'cond':
      literalsOf(e.c, out);
      literalsOf(e.a, out);
      literalsOf(e.b, out);
      return;
    default:
      return;
  }
}

export function storeSeeds(progs: ThreadProgram[]): StoreSeeds {
  const literals = new Set<number>();
  const byLoc = new Map<string, { values: Set<Val>; computed: boolean; copies: boolean }>();
  const at = (addr: PExpr, prog: ThreadProgram): { values: Set<Val>; computed: boolean; copies: boolean } => {
    const loc = addr.k === 'var' && prog.params.has(addr.name) && !prog.regInit.has(addr.name) ? addr.name : '*';
    let s = byLoc.get(loc);
    if (!s) byLoc.set(loc, (s = { values: new Set(), computed: false, copies: false }));
    return s;
  };
  const isCopy = (e: PExpr | undefined, prog: ThreadProgram): boolean =>
    e !== undefined && e.k === 'var' && !(prog.params.has(e.name) && !prog.regs.has(e.name));
  for (const p of progs) {
    for (const x of p.ins) {
      switch (x.op) {
        case 'mov':
          literalsOf(x.e, literals);
          break;
        case 'br':
          literalsOf(x.cond, literals);
          break;
        case 'store': {
          literalsOf(x.val, literals);
          const s = at(x.addr, p);
          if (x.val.k === 'num') s.values.add(x.val.v);
          else if (x.val.k === 'var' && p.params.has(x.val.name) && !p.regs.has(x.val.name)) s.values.add(x.val.name);
          else s.computed = true;
          if (isCopy(x.val, p)) s.copies = true;
          break;
        }
        case 'rmw': {
          if (x.spec.operand) literalsOf(x.spec.operand, literals);
          if (x.spec.expected) literalsOf(x.spec.expected, literals);
          const s = at(x.addr, p);
          s.computed = true;
          if ((x.spec.kind === 'xchg' || x.spec.kind === 'cmpxchg') && isCopy(x.spec.operand, p)) s.copies = true;
          break;
        }
        case 'srcu_unlock': {
          const s = at(x.addr, p);
          s.computed = true;
          if (isCopy(x.val, p)) s.copies = true;
          break;
        }
        case 'lock':
        case 'trylock': {
          const s = at(x.addr, p);
          s.values.add(0);
          s.values.add(1);
          break;
        }
        default:
          break;
      }
    }
  }
  return { literals, byLoc };
}

const FENCES: Record<string, number> = {
  smp_mb: T.MB,
  smp_rmb: T.RMB,
  smp_wmb: T.WMB,
  smp_mb__before_atomic: T.BEFORE_ATOMIC,
  smp_mb__after_atomic: T.AFTER_ATOMIC,
  smp_mb__after_spinlock: T.AFTER_SPINLOCK,
  smp_mb__after_unlock_lock: T.AFTER_UNLOCK_LOCK,
  smp_mb__after_srcu_read_unlock: T.AFTER_SRCU_UNLOCK,
  barrier: T.BARRIER,
  rcu_read_lock: T.RCU_LOCK,
  rcu_read_unlock: T.RCU_UNLOCK,
  synchronize_rcu: T.SYNC_RCU,
  synchronize_rcu_expedited: T.SYNC_RCU,
};

const LISA_FENCES: Record<string, number> = {
  mb: T.MB,
  rmb: T.RMB,
  wmb: T.WMB,
  barrier: T.BARRIER,
  'rcu-lock': T.RCU_LOCK,
  'rcu-unlock': T.RCU_UNLOCK,
  rcu_read_lock: T.RCU_LOCK,
  rcu_read_unlock: T.RCU_UNLOCK,
  'sync-rcu': T.SYNC_RCU,
  sync: T.SYNC_RCU,
  'before-atomic': T.BEFORE_ATOMIC,
  'after-atomic': T.AFTER_ATOMIC,
  'after-spinlock': T.AFTER_SPINLOCK,
  'after-unlock-lock': T.AFTER_UNLOCK_LOCK,
  // smp_read_barrier_depends() no longer exists: address dependencies order.
  rb_dep: 0,
};

const LISA_READS: Record<string, number> = { once: T.ONCE, lderef: T.ONCE, deref: T.ONCE, acquire: T.ACQUIRE };
const LISA_WRITES: Record<string, number> = { once: T.ONCE, release: T.RELEASE, assign: T.RELEASE };

const SUFFIX_ORDER: Record<string, Order> = { '': 'mb', _relaxed: 'once', _acquire: 'acquire', _release: 'release' };
const OPS: Record<string, string> = { add: '+', sub: '-', inc: '+', dec: '-', and: '&', or: '|', xor: '^', andnot: '&~' };

function exprText(e: Expr): string {
  switch (e.k) {
    case 'num':
      return String(e.v);
    case 'var':
      return e.name;
    case 'deref':
      return `*${exprText(e.e)}`;
    case 'addrof':
      return `&${exprText(e.e)}`;
    case 'index':
      return `${exprText(e.a)}[${exprText(e.i)}]`;
    case 'bin':
      return `${exprText(e.a)} ${e.op} ${exprText(e.b)}`;
    case 'un':
      return `${e.op}${exprText(e.a)}`;
    case 'call':
      return `${e.fn}(${e.args.map(exprText).join(', ')})`;
    case 'cond':
      return `${exprText(e.c)} ? ${exprText(e.a)} : ${exprText(e.b)}`;
  }
}

class Lowerer {
  ins: Ins[] = [];
  tmp = 0;
  regs = new Set<string>();
  constructor(readonly params: Set<string>) {}

  fresh(): string {
    return `$t${this.tmp++}`;
  }

  /** Address denoted by an lvalue argument such as `*x` or `a[1]`. */
  lval(e: Expr): PExpr {
    if (e.k === 'deref') return this.lower(e.e);
    if (e.k === 'index') return { k: 'bin', op: '+', a: this.lower(e.a), b: this.lower(e.i) };
    if (e.k === 'var' && this.params.has(e.name)) throw new UnsupportedError(`non-lvalue argument '${e.name}'`);
    throw new UnsupportedError(`lvalue ${exprText(e)}`);
  }

  /** Pointer argument (e.g. smp_load_acquire(x)). */
  ptr(e: Expr): PExpr {
    return this.lower(e);
  }

  lower(e: Expr): PExpr {
    switch (e.k) {
      case 'num':
      case 'var':
        return e;
      case 'deref':
      case 'index': {
        const dst = this.fresh();
        const addr = this.lval(e);
        this.ins.push({ op: 'load', dst, addr, tags: 0, line: 0, text: `${exprText(e)}` });
        return { k: 'var', name: dst };
      }
      case 'addrof': {
        if (e.e.k === 'deref') return this.lower(e.e.e);
        if (e.e.k === 'index') return this.lval(e.e);
        throw new UnsupportedError(`address-of ${exprText(e.e)}`);
      }
      case 'bin':
        return { k: 'bin', op: e.op, a: this.lower(e.a), b: this.lower(e.b) };
      case 'un':
        return { k: 'un', op: e.op, a: this.lower(e.a) };
      case 'cond': {
        const before = this.ins.length;
        const c = this.lower(e.c);
        const mark = this.ins.length;
        const a = this.lower(e.a);
        const b = this.lower(e.b);
        if (this.ins.length !== mark) throw new UnsupportedError('memory access inside ?:');
        void before;
        return { k: 'cond', c, a, b };
      }
      case 'call':
        return this.call(e);
    }
  }

  call(e: Extract<Expr, { k: 'call' }>): PExpr {
    const { fn, args, line } = e;
    const text = exprText(e);
    const dst = this.fresh();
    const ret: PExpr = { k: 'var', name: dst };
    const arity = (n: number): void => {
      if (args.length !== n) throw new UnsupportedError(`${fn} with ${args.length} arguments`);
    };
    const zero: PExpr = { k: 'num', v: 0 };
    const push = (i: Ins): PExpr => {
      this.ins.push(i);
      return ret;
    };
    if (fn in FENCES) {
      arity(0);
      return push({ op: 'fence', tags: FENCES[fn]!, line, text });
    }
    if (fn.startsWith('lisa:')) return this.lisa(fn, args, line, dst);
    switch (fn) {
      case 'READ_ONCE':
      case 'rcu_dereference':
      case 'lockless_dereference':
      case 'rcu_dereference_raw':
      case 'srcu_dereference':
      case 'rcu_access_pointer':
        if (fn !== 'srcu_dereference') arity(1);
        return push({ op: 'load', dst, addr: this.lval(args[0]!), tags: T.ONCE, line, text });
      case 'WRITE_ONCE':
      case 'rcu_assign_pointer':
      case 'smp_store_mb': {
        arity(2);
        const addr = this.lval(args[0]!);
        const val = this.lower(args[1]!);
        const tags = fn === 'rcu_assign_pointer' ? T.RELEASE : T.ONCE;
        push({ op: 'store', addr, val, tags, line, text });
        if (fn === 'smp_store_mb') push({ op: 'fence', tags: T.MB, line, text: 'smp_mb()' });
        return zero;
      }
      case 'smp_load_acquire':
      case 'atomic_read_acquire':
        arity(1);
        return push({ op: 'load', dst, addr: this.ptr(args[0]!), tags: T.ACQUIRE, line, text });
      case 'smp_store_release':
      case 'atomic_set_release': {
        arity(2);
        const addr = this.ptr(args[0]!);
        this.ins.push({ op: 'store', addr, val: this.lower(args[1]!), tags: T.RELEASE, line, text });
        return zero;
      }
      case 'atomic_read':
      case 'atomic_long_read':
      case 'atomic64_read':
        arity(1);
        return push({ op: 'load', dst, addr: this.ptr(args[0]!), tags: T.ONCE, line, text });
      case 'atomic_set':
      case 'atomic_long_set':
      case 'atomic64_set': {
        arity(2);
        const addr = this.ptr(args[0]!);
        this.ins.push({ op: 'store', addr, val: this.lower(args[1]!), tags: T.ONCE, line, text });
        return zero;
      }
      case 'spin_lock':
      case 'raw_spin_lock':
        arity(1);
        this.ins.push({ op: 'lock', dst, addr: this.ptr(args[0]!), line, text });
        return zero;
      case 'spin_unlock':
      case 'raw_spin_unlock':
        arity(1);
        this.ins.push({ op: 'unlock', dst, addr: this.ptr(args[0]!), line, text });
        return zero;
      case 'spin_trylock':
      case 'raw_spin_trylock':
        arity(1);
        return push({ op: 'trylock', dst, addr: this.ptr(args[0]!), line, text });
      case 'spin_is_locked':
        arity(1);
        return push({ op: 'islocked', dst, addr: this.ptr(args[0]!), line, text });
      case 'srcu_read_lock':
      case 'srcu_down_read':
        arity(1);
        return push({ op: 'srcu_lock', dst, addr: this.ptr(args[0]!), line, text });
      case 'srcu_read_unlock':
      case 'srcu_up_read': {
        arity(2);
        const addr = this.ptr(args[0]!);
        this.ins.push({ op: 'srcu_unlock', addr, val: this.lower(args[1]!), line, text });
        return zero;
      }
      case 'synchronize_srcu':
      case 'synchronize_srcu_expedited':
        arity(1);
        this.ins.push({ op: 'sync_srcu', addr: this.ptr(args[0]!), line, text });
        return zero;
      default:
        break;
    }
    const spec = rmwSpec(fn);
    if (spec) {
      // Argument layout per family.
      let addrArg: Expr;
      const s: RmwSpec = { ...spec.spec };
      switch (spec.layout) {
        case 'X':
          arity(1);
          addrArg = args[0]!;
          s.operand = { k: 'num', v: 1 };
          break;
        case 'VX':
          arity(2);
          s.operand = this.lower(args[0]!);
          addrArg = args[1]!;
          break;
        case 'XV':
          arity(2);
          addrArg = args[0]!;
          s.operand = this.lower(args[1]!);
          break;
        case 'XOV':
          arity(3);
          addrArg = args[0]!;
          s.expected = this.lower(args[1]!);
          s.operand = this.lower(args[2]!);
          break;
        case 'XAU':
          arity(3);
          addrArg = args[0]!;
          s.operand = this.lower(args[1]!);
          s.expected = this.lower(args[2]!);
          break;
        case 'XNZ':
          arity(1);
          addrArg = args[0]!;
          s.operand = { k: 'num', v: 1 };
          s.expected = { k: 'num', v: 0 };
          break;
      }
      return push({ op: 'rmw', dst, addr: this.ptr(addrArg), spec: s, line, text });
    }
    throw new UnsupportedError(
      LKMM_DEF_PRIMITIVES.includes(fn) ? `${fn}()` : `${fn}() (not in linux-kernel.def: herd7 stops on "Unknown macro" too)`,
    );
  }

  lisa(fn: string, args: Expr[], line: number, dst: string): PExpr {
    const [, kind, annot] = fn.split(':') as [string, string, string];
    const text = `${kind}[${annot}] ${args.map(exprText).join(' ')}`;
    const ret: PExpr = { k: 'var', name: dst };
    if (kind === 'r') {
      const tags = LISA_READS[annot];
      if (tags === undefined) throw new UnsupportedError(`LISA r[${annot}]`);
      this.ins.push({ op: 'load', dst, addr: this.lower(args[0]!), tags, line, text });
      return ret;
    }
    if (kind === 'w') {
      const tags = LISA_WRITES[annot];
      if (tags === undefined) throw new UnsupportedError(`LISA w[${annot}]`);
      this.ins.push({ op: 'store', addr: this.lower(args[0]!), val: this.lower(args[1]!), tags, line, text });
      return { k: 'num', v: 0 };
    }
    const tags = LISA_FENCES[annot];
    if (tags === undefined) throw new UnsupportedError(`LISA f[${annot}]`);
    if (tags !== 0) this.ins.push({ op: 'fence', tags, line, text });
    return { k: 'num', v: 0 };
  }

  stmt(s: Stmt): void {
    switch (s.k) {
      case 'decl':
        this.regs.add(s.name);
        if (s.init) this.assignReg(s.name, s.init, s.line);
        return;
      case 'assign':
        if (s.lhs.k === 'var') {
          if (this.params.has(s.lhs.name)) throw new UnsupportedError(`assignment to parameter '${s.lhs.name}'`);
          this.regs.add(s.lhs.name);
          this.assignReg(s.lhs.name, s.rhs, s.line);
          return;
        }
        {
          const addr = this.lval(s.lhs);
          const val = this.lower(s.rhs);
          this.fixLines(s.line);
          this.ins.push({ op: 'store', addr, val, tags: 0, line: s.line, text: `${exprText(s.lhs)} = ${exprText(s.rhs)}` });
        }
        return;
      case 'expr':
        this.lower(s.e);
        this.fixLines(s.line);
        return;
      case 'if': {
        const c = this.lower(s.cond);
        this.fixLines(s.line);
        // herd7's C ctrl dependency covers the then- and else-clauses only:
        // the taint is pushed at the branch and popped at the join (endif).
        const br: Ins = { op: 'br', cond: c, target: -1, ifZero: true, scoped: true };
        this.ins.push(br);
        for (const t of s.then) this.stmt(t);
        if (s.else && s.else.length) {
          const j: Ins = { op: 'jmp', target: -1 };
          this.ins.push(j);
          br.target = this.ins.length;
          for (const t of s.else) this.stmt(t);
          j.target = this.ins.length;
        } else br.target = this.ins.length;
        this.ins.push({ op: 'endif' });
        return;
      }
      case 'label':
        this.ins.push({ op: 'label', name: s.name });
        return;
      case 'goto':
        if (s.cond) this.ins.push({ op: 'br', cond: this.lower(s.cond), target: -1, ifZero: false, label: s.label });
        else this.ins.push({ op: 'jmp', target: -1, label: s.label });
        return;
    }
  }

  assignReg(name: string, rhs: Expr, line: number): void {
    const v = this.lower(rhs);
    this.fixLines(line);
    this.ins.push({ op: 'mov', dst: name, e: v });
  }

  /** Give instructions emitted without a line the statement's line. */
  fixLines(line: number): void {
    for (let i = this.ins.length - 1; i >= 0; i--) {
      const x = this.ins[i]!;
      if ('line' in x) {
        if (x.line === 0) x.line = line;
        else break;
      }
    }
  }
}

function rmwSpec(fn: string): { spec: RmwSpec; layout: 'X' | 'VX' | 'XV' | 'XOV' | 'XAU' | 'XNZ' } | undefined {
  let m = /^(?:atomic|atomic_long|atomic64)_(xchg|cmpxchg)(_relaxed|_acquire|_release)?$/.exec(fn) ?? /^(xchg|cmpxchg)(_relaxed|_acquire|_release)?$/.exec(fn);
  if (m) {
    const order = SUFFIX_ORDER[m[2] ?? '']!;
    return m[1] === 'xchg'
      ? { spec: { kind: 'xchg', order, opr: '' }, layout: 'XV' }
      : { spec: { kind: 'cmpxchg', order, opr: '' }, layout: 'XOV' };
  }
  m = /^(?:atomic|atomic_long|atomic64)_(add|sub|inc|dec|and|or|xor|andnot)$/.exec(fn);
  if (m) {
    const k = m[1]!;
    return { spec: { kind: 'op', order: 'once', opr: OPS[k]! }, layout: k === 'inc' || k === 'dec' ? 'X' : 'VX' };
  }
  m = /^(?:atomic|atomic_long|atomic64)_(add|sub|inc|dec)_return(_relaxed|_acquire|_release)?$/.exec(fn);
  if (m) {
    const k = m[1]!;
    return {
      spec: { kind: 'op_return', order: SUFFIX_ORDER[m[2] ?? '']!, opr: OPS[k]! },
      layout: k === 'inc' || k === 'dec' ? 'X' : 'VX',
    };
  }
  m = /^(?:atomic|atomic_long|atomic64)_fetch_(add|sub|inc|dec|and|or|xor|andnot)(_relaxed|_acquire|_release)?$/.exec(fn);
  if (m) {
    const k = m[1]!;
    return {
      spec: { kind: 'fetch_op', order: SUFFIX_ORDER[m[2] ?? '']!, opr: OPS[k]! },
      layout: k === 'inc' || k === 'dec' ? 'X' : 'VX',
    };
  }
  m = /^(?:atomic|atomic_long|atomic64)_(sub|dec|inc)_and_test$/.exec(fn);
  if (m) {
    const k = m[1]!;
    return { spec: { kind: 'op_return', order: 'mb', opr: OPS[k]!, test: '==0' }, layout: k === 'sub' ? 'VX' : 'X' };
  }
  if (/^(?:atomic|atomic_long|atomic64)_add_negative$/.test(fn)) {
    return { spec: { kind: 'op_return', order: 'mb', opr: '+', test: '<0' }, layout: 'VX' };
  }
  if (/^(?:atomic|atomic_long|atomic64)_add_unless$/.test(fn)) {
    return { spec: { kind: 'add_unless', order: 'mb', opr: '+' }, layout: 'XAU' };
  }
  if (/^(?:atomic|atomic_long|atomic64)_inc_not_zero$/.test(fn)) {
    return { spec: { kind: 'add_unless', order: 'mb', opr: '+' }, layout: 'XNZ' };
  }
  return undefined;
}

export function compileThread(t: ThreadAst, regInit: Map<string, Val>): ThreadProgram {
  const params = new Set(t.params);
  const L = new Lowerer(params);
  for (const s of t.body) L.stmt(s);
  // Resolve labels.
  const labels = new Map<string, number>();
  L.ins.forEach((x, i) => {
    if (x.op === 'label') labels.set(x.name, i);
  });
  for (const x of L.ins) {
    if ((x.op === 'br' || x.op === 'jmp') && x.label !== undefined) {
      const tgt = labels.get(x.label);
      if (tgt === undefined) throw new UnsupportedError(`undefined label ${x.label}`);
      x.target = tgt;
    }
  }
  for (const r of regInit.keys()) L.regs.add(r);
  return { index: t.index, params, ins: L.ins, regInit, regs: L.regs };
}

// ---------------------------------------------------------- execution ---

interface TV {
  v: Val;
  t: number[]; // taint: local indices of reads
}

function mergeTaint(a: number[], b: number[]): number[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) {
      out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}

/** Thrown when a path computes an address that is not a shared location. */
class BadAddress extends Error {}

/**
 * herd7's symbolic value for a class of reads and writes whose values are
 * only equated with each other through an rf cycle of plain copies
 * (`*a = *b` || `*b = *a`): herd7's solver merges such `var = var`
 * equations into one free variable (printed `S<n>`) and keeps the
 * execution, with that variable in the final state. It never equals a
 * constant. Any computation on it (arithmetic, comparison, branch,
 * dereference) leaves an equation herd7 cannot solve, and herd7 drops the
 * candidate ("Candidate rejected for remaining equations").
 */
export { SYM };

/** Thrown when a path computes on the symbolic value (herd7 rejects it). */
class Unsolvable extends Error {}

function noSym(v: Val): Val {
  if (v === SYM) throw new Unsolvable();
  return v;
}

function truthy(v: Val): boolean {
  return v !== 0;
}

function ptrAdd(p: string, n: number): string {
  if (n === 0) return p;
  const m = /^(.*)\[(\d+)\]$/.exec(p);
  if (m) return `${m[1]}[${parseInt(m[2]!, 10) + n}]`;
  throw new UnsupportedError('pointer arithmetic');
}

export function applyOp(op: string, a: Val, b: Val): Val {
  if (op === '==') return a === b ? 1 : 0;
  if (op === '!=') return a !== b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') {
    switch (op) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        if (b === 0) throw new UnsupportedError('division by zero');
        return Math.trunc(a / b);
      case '%':
        if (b === 0) throw new UnsupportedError('division by zero');
        return a % b;
      case '&':
        return a & b;
      case '&~':
        return a & ~b;
      case '|':
        return a | b;
      case '^':
        return a ^ b;
      case '<<':
        return a << b;
      case '>>':
        return a >> b;
      case '<':
        return a < b ? 1 : 0;
      case '>':
        return a > b ? 1 : 0;
      case '<=':
        return a <= b ? 1 : 0;
      case '>=':
        return a >= b ? 1 : 0;
      case '&&':
        return a !== 0 && b !== 0 ? 1 : 0;
      case '||':
        return a !== 0 || b !== 0 ? 1 : 0;
    }
    throw new UnsupportedError(`operator ${op}`);
  }
  // Pointer operands.
  if (op === '&&') return truthy(a) && truthy(b) ? 1 : 0;
  if (op === '||') return truthy(a) || truthy(b) ? 1 : 0;
  if ((op === '^' || op === '-') && a === b) return 0;
  if (op === '+' && typeof a === 'string' && typeof b === 'number') return ptrAdd(a, b);
  if (op === '+' && typeof b === 'string' && typeof a === 'number') return ptrAdd(b, a);
  if (op === '-' && typeof a === 'string' && typeof b === 'number') return ptrAdd(a, -b);
  if ((op === '&' || op === '*') && (a === 0 || b === 0)) return 0;
  throw new UnsupportedError(`operator ${op} on pointers`);
}

export interface EnumLimits {
  maxTraces: number;
  maxSteps: number;
}

export class TooLarge extends Error {}

/**
 * Enumerates all traces of a thread, reading values from `dom(loc)`.
 */
export function enumerateTraces(
  prog: ThreadProgram,
  dom: (loc: string) => readonly Val[],
  limits: EnumLimits,
): { traces: Trace[]; badAddress: boolean; writes: [string, Val][] } {
  const traces: Trace[] = [];
  // Every write emitted on any path, even one pruned later (value-domain fixpoint).
  const writes: [string, Val][] = [];
  let badAddress = false;
  const ins = prog.ins;

  const evalP = (e: PExpr, regs: Map<string, TV>): TV => {
    switch (e.k) {
      case 'num':
        return { v: e.v, t: [] };
      case 'var': {
        const r = regs.get(e.name);
        if (r) return r;
        if (prog.params.has(e.name)) return { v: e.name, t: [] };
        return { v: 0, t: [] };
      }
      case 'bin': {
        const a = evalP(e.a, regs);
        const b = evalP(e.b, regs);
        return { v: applyOp(e.op, noSym(a.v), noSym(b.v)), t: mergeTaint(a.t, b.t) };
      }
      case 'un': {
        const a = evalP(e.a, regs);
        noSym(a.v);
        let v: Val;
        if (e.op === '!') v = truthy(a.v) ? 0 : 1;
        else if (typeof a.v !== 'number') throw new UnsupportedError(`operator ${e.op} on pointer`);
        else v = e.op === '-' ? -a.v : ~a.v;
        return { v, t: a.t };
      }
      case 'cond': {
        const c = evalP(e.c, regs);
        const x = truthy(noSym(c.v)) ? evalP(e.a, regs) : evalP(e.b, regs);
        return { v: x.v, t: mergeTaint(c.t, x.t) };
      }
      default:
        throw new UnsupportedError(`expression ${e.k}`);
    }
  };

  const addrOf = (e: PExpr, regs: Map<string, TV>): { loc: string; t: number[] } => {
    const a = evalP(e, regs);
    noSym(a.v);
    if (typeof a.v !== 'string') throw new BadAddress();
    return { loc: a.v, t: a.t };
  };

  interface St {
    pc: number;
    regs: Map<string, TV>;
    evs: TEvent[];
    ctrl: number[];
    ctrlStack: number[][];
    steps: number;
  }

  const ev = (st: St, e: Omit<TEvent, 'ctrl'>): number => {
    if (e.kind === 'W') writes.push([e.loc!, e.val!]);
    st.evs.push({ ...e, ctrl: st.ctrl });
    return st.evs.length - 1;
  };
  const fence = (st: St, tags: number, line: number, text: string): void => {
    ev(st, { kind: 'F', tags, addr: [], data: [], line, text });
  };
  const fork = (st: St): St => ({
    pc: st.pc,
    regs: new Map(st.regs),
    evs: st.evs.slice(),
    ctrl: st.ctrl,
    ctrlStack: st.ctrlStack.slice(),
    steps: st.steps,
  });

  const run = (st: St): void => {
    for (;;) {
      if (++st.steps > limits.maxSteps) throw new UnsupportedError('loop (backward branch)');
      if (st.pc >= ins.length) {
        const regs = new Map<string, Val>();
        for (const [k, v] of st.regs) if (!k.startsWith('$')) regs.set(k, v.v);
        traces.push({ thread: prog.index, events: st.evs, regs });
        if (traces.length > limits.maxTraces) throw new TooLarge(`thread P${prog.index} has more than ${limits.maxTraces} paths`);
        return;
      }
      const x = ins[st.pc]!;
      st.pc++;
      switch (x.op) {
        case 'label':
          break;
        case 'mov':
          st.regs.set(x.dst, evalP(x.e, st.regs));
          break;
        case 'jmp':
          st.pc = x.target;
          break;
        case 'endif':
          st.ctrl = st.ctrlStack.pop() ?? [];
          break;
        case 'br': {
          const c = evalP(x.cond, st.regs);
          noSym(c.v);
          if (x.scoped) st.ctrlStack.push(st.ctrl);
          st.ctrl = mergeTaint(st.ctrl, c.t);
          if (truthy(c.v) !== x.ifZero) st.pc = x.target;
          break;
        }
        case 'fence':
          fence(st, x.tags, x.line, x.text);
          break;
        case 'store': {
          const a = addrOf(x.addr, st.regs);
          const v = evalP(x.val, st.regs);
          ev(st, { kind: 'W', loc: a.loc, val: v.v, tags: x.tags, addr: a.t, data: v.t, line: x.line, text: x.text });
          break;
        }
        case 'sync_srcu': {
          const a = addrOf(x.addr, st.regs);
          ev(st, { kind: 'S', loc: a.loc, tags: T.SYNC_SRCU, addr: a.t, data: [], line: x.line, text: x.text });
          break;
        }
        case 'srcu_unlock': {
          const a = addrOf(x.addr, st.regs);
          const v = evalP(x.val, st.regs);
          ev(st, { kind: 'W', loc: a.loc, val: v.v, tags: T.SRCU_UNLOCK, addr: a.t, data: v.t, line: x.line, text: x.text });
          break;
        }
        case 'unlock': {
          const a = addrOf(x.addr, st.regs);
          ev(st, { kind: 'W', loc: a.loc, val: 0, tags: T.UL, addr: a.t, data: [], line: x.line, text: x.text });
          break;
        }
        case 'load':
        case 'srcu_lock': {
          const a = addrOf(x.addr, st.regs);
          const tags = x.op === 'load' ? x.tags : T.SRCU_LOCK;
          const vals = dom(a.loc);
          for (let k = 0; k < vals.length; k++) {
            const s2 = k === vals.length - 1 ? st : fork(st);
            const id = ev(s2, { kind: 'R', loc: a.loc, val: vals[k]!, tags, addr: a.t, data: [], line: x.line, text: x.text });
            s2.regs.set(x.dst, { v: vals[k]!, t: [id] });
            guarded(s2);
          }
          return;
        }
        case 'lock': {
          const a = addrOf(x.addr, st.regs);
          const r = ev(st, { kind: 'R', loc: a.loc, val: 0, tags: T.LKR, addr: a.t, data: [], line: x.line, text: x.text });
          ev(st, { kind: 'W', loc: a.loc, val: 1, tags: T.LKW, addr: a.t, data: [], rmwWith: r, line: x.line, text: x.text });
          break;
        }
        case 'trylock': {
          const a = addrOf(x.addr, st.regs);
          const s2 = fork(st);
          const r = ev(st, { kind: 'R', loc: a.loc, val: 0, tags: T.LKR, addr: a.t, data: [], line: x.line, text: x.text });
          ev(st, { kind: 'W', loc: a.loc, val: 1, tags: T.LKW, addr: a.t, data: [], rmwWith: r, line: x.line, text: x.text });
          st.regs.set(x.dst, { v: 1, t: [r] });
          guarded(st);
          const f = ev(s2, { kind: 'R', loc: a.loc, val: 1, tags: T.LF, addr: a.t, data: [], line: x.line, text: x.text });
          s2.regs.set(x.dst, { v: 0, t: [f] });
          guarded(s2);
          return;
        }
        case 'islocked': {
          const a = addrOf(x.addr, st.regs);
          const s2 = fork(st);
          const r = ev(st, { kind: 'R', loc: a.loc, val: 1, tags: T.RL, addr: a.t, data: [], line: x.line, text: x.text });
          st.regs.set(x.dst, { v: 1, t: [r] });
          guarded(st);
          const u = ev(s2, { kind: 'R', loc: a.loc, val: 0, tags: T.RU, addr: a.t, data: [], line: x.line, text: x.text });
          s2.regs.set(x.dst, { v: 0, t: [u] });
          guarded(s2);
          return;
        }
        case 'rmw': {
          const a = addrOf(x.addr, st.regs);
          const sp = x.spec;
          const opnd = sp.operand ? evalP(sp.operand, st.regs) : { v: 0 as Val, t: [] };
          const expv = sp.expected ? evalP(sp.expected, st.regs) : undefined;
          // Only xchg/cmpxchg store their operand unchanged; the expected value is compared.
          if (sp.kind !== 'xchg' && sp.kind !== 'cmpxchg') noSym(opnd.v);
          if (expv) noSym(expv.v);
          const vals = dom(a.loc);
          for (let k = 0; k < vals.length; k++) {
            const s2 = k === vals.length - 1 ? st : fork(st);
            const old = vals[k]!;
            if (old === SYM && sp.kind !== 'xchg') {
              // cmpxchg/add_unless compare it, the others compute with it.
              continue;
            }
            let success = true;
            if (sp.kind === 'cmpxchg') success = old === expv!.v;
            if (sp.kind === 'add_unless') success = old !== expv!.v;
            const mb = sp.order === 'mb';
            if (!success) {
              const rt = T.RMW | (sp.order === 'acquire' ? T.ACQUIRE : T.ONCE);
              const id = ev(s2, { kind: 'R', loc: a.loc, val: old, tags: rt, addr: a.t, data: [], line: x.line, text: x.text });
              s2.regs.set(x.dst, { v: sp.kind === 'add_unless' ? 0 : old, t: [id] });
              guarded(s2);
              continue;
            }
            let nv: Val;
            let dataDep = false;
            if (sp.kind === 'xchg' || sp.kind === 'cmpxchg') nv = opnd.v;
            else {
              nv = applyOp(sp.opr, old, opnd.v);
              dataDep = true;
            }
            if (mb) fence(s2, T.MB, x.line, 'smp_mb() [implicit]');
            const rtags = T.RMW | (sp.kind === 'op' ? T.NORETURN : sp.order === 'acquire' ? T.ACQUIRE : T.ONCE);
            const wtags = T.RMW | (sp.order === 'release' ? T.RELEASE : T.ONCE);
            const id = ev(s2, { kind: 'R', loc: a.loc, val: old, tags: rtags, addr: a.t, data: [], line: x.line, text: x.text });
            ev(s2, {
              kind: 'W',
              loc: a.loc,
              val: nv,
              tags: wtags,
              addr: a.t,
              data: mergeTaint(opnd.t, dataDep ? [id] : []),
              rmwWith: id,
              line: x.line,
              text: x.text,
            });
            if (mb) fence(s2, T.MB, x.line, 'smp_mb() [implicit]');
            let ret: Val;
            switch (sp.kind) {
              case 'op_return':
                ret = nv;
                break;
              case 'add_unless':
                ret = 1;
                break;
              case 'op':
                ret = 0;
                break;
              default:
                ret = old;
            }
            if (sp.test === '==0') ret = ret === 0 ? 1 : 0;
            if (sp.test === '<0') ret = typeof ret === 'number' && ret < 0 ? 1 : 0;
            s2.regs.set(x.dst, { v: ret, t: [id] });
            guarded(s2);
          }
          return;
        }
      }
    }
  };

  const guarded = (st: St): void => {
    try {
      run(st);
    } catch (e) {
      if (e instanceof BadAddress) {
        badAddress = true;
        return;
      }
      if (e instanceof Unsolvable) return;
      throw e;
    }
  };

  const regs = new Map<string, TV>();
  for (const [k, v] of prog.regInit) regs.set(k, { v, t: [] });
  guarded({ pc: 0, regs, evs: [], ctrl: [], ctrlStack: [], steps: 0 });
  return { traces, badAddress, writes };
}
