/**
 * Where a function in view is used: direct calls, and uses as a value (passed
 * as an argument, stored in a struct member or a designated initializer, assigned
 * to a variable). Rules whose obligation travels to callers through summaries use
 * this to decide whether a function is a root (nothing in view reaches it, so it
 * reports itself) or is covered by its users.
 */
import type { LoweredFunction } from './ir.js';
import type { UnitView } from './rule-api.js';
import type { Model } from '../model/index.js';

export interface FunctionUse {
  user: LoweredFunction;
  line: number;
  how: 'call' | 'value';
  /** For a value stored into a member: the member chain (`handler`, `on_lock`). */
  member?: string;
}

const cache = new WeakMap<UnitView, Map<string, FunctionUse[]>>();

function build(unit: UnitView, iterCalls: (macro: string) => readonly string[]): Map<string, FunctionUse[]> {
  const names = new Set(unit.functions.map((f) => f.name));
  const out = new Map<string, FunctionUse[]>();
  const add = (name: string | undefined, u: FunctionUse): void => {
    if (!name || !names.has(name) || name === u.user.name) return;
    const list = out.get(name) ?? [];
    list.push(u);
    out.set(name, list);
  };
  for (const f of unit.functions) {
    for (const n of f.nodes) {
      if (n.iter) for (const c of iterCalls(n.iter.macro)) add(c, { user: f, line: n.line, how: 'call' });
      for (const op of n.ops) {
        if (op.k === 'call') {
          add(op.name, { user: f, line: op.line, how: 'call' });
          for (const a of op.args) add(a.ident, { user: f, line: op.line, how: 'value' });
        } else if (op.k === 'write' && op.rhs?.ident) {
          add(op.rhs.ident, { user: f, line: op.line, how: 'value', member: op.chain });
        } else if (op.k === 'assign' && op.fromVar) {
          add(op.fromVar, { user: f, line: op.line, how: 'value' });
        }
      }
    }
  }
  return out;
}

/** Uses of `name` by other functions in view. */
export function usesOf(unit: UnitView, model: Model, name: string): readonly FunctionUse[] {
  let m = cache.get(unit);
  if (!m) {
    m = build(unit, (macro) => model.iterator(macro).calls ?? []);
    cache.set(unit, m);
  }
  return m.get(name) ?? [];
}

/**
 * The call chain behind a summarised effect, following each summary's reason
 * (`... via NAME() at line N`) down to the modelled API: `a() -> b() -> kvm_unmap_gfn_range()`.
 */
export function effectChain(unit: UnitView, name: string, key: string, max = 8): string {
  const out = [`${name}()`];
  let cur = name;
  const seen = new Set([name]);
  for (let i = 0; i < max; i++) {
    const reason = unit.summary(cur)?.reasons[key];
    const m = reason ? /via (\w+)\(\)/.exec(reason) : null;
    if (!m || seen.has(m[1])) {
      if (reason && !m) out.push(reason);
      break;
    }
    cur = m[1];
    seen.add(cur);
    out.push(`${cur}()`);
  }
  return out.join(' -> ');
}
