/**
 * Resolution of a call's modelled effects: the model's table for kernel APIs,
 * then summaries of functions defined in view. Lock, domain and address-space
 * references are resolved against the call's arguments.
 */
import type { Effect, LockRef, AddressSpaceRef, Model } from '../model/index.js';
import type { ArgInfo, CallOp, GuardOp } from './ir.js';

/** An effect with its references resolved at one call site. */
export type Resolved =
  | { kind: 'srcu-lock' | 'srcu-unlock' | 'sync' | 'deferred-free' | 'assert-srcu'; domain: string }
  | { kind: 'lock'; lock: string; mode: 'write' | 'read' | 'excl'; cond?: 'true' }
  | { kind: 'unlock'; lock: string }
  | { kind: 'assert-held'; lock: string; mode?: 'write' | 'read' | 'excl' }
  | { kind: 'snapshot'; as: string; via?: string; access?: boolean; covered?: boolean }
  | { kind: 'inner-sync'; domain: string }
  | { kind: 'inner-lock'; lock: string; mode?: 'write' | 'read' | 'excl' }
  | { kind: 'rcu-assign'; target: ArgInfo; value: ArgInfo; publishes?: string }
  | { kind: 'rcu-deref'; arg: ArgInfo }
  | { kind: 'free'; arg: ArgInfo }
  | { kind: 'invalidate-begin' | 'invalidate-end' | 'zap-range-self-protected' | 'rmap-access' | 'rmap-alloc' | 'noreturn' }
  | { kind: 'rmap-guard'; when: boolean }
  | { kind: 'zap-range'; afterSync: boolean }
  | { kind: 'assert-cond'; arg: ArgInfo }
  | { kind: 'held-test'; lock: string }
  | { kind: 'yield'; lock: string }
  | { kind: 'root-get'; arg: ArgInfo; mustCheck: boolean }
  | { kind: 'root-put'; arg: ArgInfo; returnsLast: boolean }
  | { kind: 'root-free'; arg: ArgInfo }
  | { kind: 'barrier'; barrier: string }
  | { kind: 'access'; access: 'read' | 'write' | 'rmw'; order: string; arg: ArgInfo; base?: string; chain?: string };

export type ResolvedKind = Resolved['kind'];

const NO_ARG: ArgInfo = { text: '' };

/** Canonical id of a lock or domain argument: `&vcpu->kvm->srcu` -> `kvm.srcu`. */
export function canonicalLock(arg: ArgInfo | undefined): string {
  if (!arg) return '?';
  if (arg.chain && arg.base) return `${arg.base}.${arg.chain}`;
  if (arg.ident) return arg.ident;
  return arg.text.replace(/\s+/g, '');
}

/** Canonical address-space key: numbers as written, else the expression text. */
export function canonicalAs(text: string): string {
  const t = text.replace(/\s+/g, '');
  return /^\d+[uUlL]*$/.test(t) ? String(parseInt(t, 10)) : t;
}

export class EffectResolver {
  constructor(
    private readonly model: Model,
    /** Summaries of functions in view (name -> effects); the model wins for modelled names. */
    private readonly summaries: ReadonlyMap<string, readonly Effect[]>,
  ) {}

  /** Effects of a call name, unresolved. */
  raw(name: string): readonly Effect[] {
    const m = this.model.api(name);
    if (m) return m.effects;
    return this.summaries.get(name) ?? [];
  }

  isModelled(name: string): boolean {
    return this.model.api(name) !== undefined;
  }

  forCall(op: CallOp): Resolved[] {
    const raw = this.raw(op.name);
    if (raw.length === 0) return [];
    return raw.map((e) => this.resolve(e, op.args, op.name)).filter((x): x is Resolved => x !== null);
  }

  forGuard(op: GuardOp): Resolved[] {
    const g = this.model.guardClass(op.cls);
    if (!g) return [];
    const list = op.phase === 'acquire' ? g.acquire : g.release;
    return list.map((e) => this.resolve(e, op.args, `guard(${op.cls})`)).filter((x): x is Resolved => x !== null);
  }

  private lockRef(ref: LockRef, args: ArgInfo[]): string {
    return 'fixed' in ref ? ref.fixed : canonicalLock(args[ref.arg]);
  }

  private asRef(ref: AddressSpaceRef, args: ArgInfo[]): string {
    if ('fixed' in ref) return ref.fixed;
    const a = args[ref.arg];
    return a ? canonicalAs(a.text) : '?';
  }

  resolve(e: Effect, args: ArgInfo[], callee: string): Resolved | null {
    switch (e.kind) {
      case 'srcu-lock':
      case 'srcu-unlock':
      case 'sync':
      case 'deferred-free':
      case 'assert-srcu':
        return { kind: e.kind, domain: this.lockRef(e.domain, args) };
      case 'lock':
        return e.cond ? { kind: 'lock', lock: this.lockRef(e.lock, args), mode: e.mode, cond: e.cond } : { kind: 'lock', lock: this.lockRef(e.lock, args), mode: e.mode };
      case 'unlock':
        return { kind: 'unlock', lock: this.lockRef(e.lock, args) };
      case 'assert-held':
        return e.mode ? { kind: 'assert-held', lock: this.lockRef(e.lock, args), mode: e.mode } : { kind: 'assert-held', lock: this.lockRef(e.lock, args) };
      case 'snapshot': {
        const r: Resolved = { kind: 'snapshot', as: this.asRef(e.as, args), via: e.via ?? callee };
        if (e.access) r.access = true;
        if (e.covered) r.covered = true;
        return r;
      }
      case 'inner-sync':
        return { kind: 'inner-sync', domain: this.lockRef(e.domain, args) };
      case 'inner-lock':
        return e.mode ? { kind: 'inner-lock', lock: this.lockRef(e.lock, args), mode: e.mode } : { kind: 'inner-lock', lock: this.lockRef(e.lock, args) };
      case 'rcu-assign': {
        const target = args[e.target.arg] ?? NO_ARG;
        const value = args[e.value.arg] ?? NO_ARG;
        const publishes = target.chain ? this.model.isPublishTarget(target.chain) : undefined;
        return publishes ? { kind: 'rcu-assign', target, value, publishes } : { kind: 'rcu-assign', target, value };
      }
      case 'publish':
        return { kind: 'rcu-assign', target: args[e.target.arg] ?? NO_ARG, value: args[e.value.arg] ?? NO_ARG, publishes: e.object };
      case 'rcu-deref':
        return { kind: 'rcu-deref', arg: args[e.arg] ?? NO_ARG };
      case 'free':
        return { kind: 'free', arg: args[e.arg] ?? NO_ARG };
      case 'invalidate-begin':
      case 'invalidate-end':
      case 'zap-range-self-protected':
      case 'rmap-access':
      case 'rmap-alloc':
      case 'noreturn':
        return { kind: e.kind };
      case 'rmap-guard':
        return { kind: 'rmap-guard', when: e.when ?? true };
      case 'zap-range':
        return { kind: 'zap-range', afterSync: !!e.afterSync };
      case 'assert-cond':
        return { kind: 'assert-cond', arg: args[e.arg] ?? NO_ARG };
      case 'held-test':
        return { kind: 'held-test', lock: this.lockRef(e.lock, args) };
      case 'yield':
        return { kind: 'yield', lock: this.lockRef(e.lock, args) };
      case 'root-get':
        return { kind: 'root-get', arg: args[e.arg] ?? NO_ARG, mustCheck: e.mustCheck };
      case 'root-put':
        return { kind: 'root-put', arg: args[e.arg] ?? NO_ARG, returnsLast: e.returnsLast };
      case 'root-free':
        return { kind: 'root-free', arg: args[e.arg] ?? NO_ARG };
      case 'barrier':
        return { kind: 'barrier', barrier: e.barrier };
      case 'access': {
        const a = args[e.arg] ?? NO_ARG;
        const r: Resolved = { kind: 'access', access: e.access, order: e.order, arg: a };
        if (e.fixed) {
          r.base = e.fixed.base;
          r.chain = e.fixed.chain;
        } else if (a.chain) {
          r.base = a.base;
          r.chain = a.chain;
        }
        return r;
      }
    }
  }
}
