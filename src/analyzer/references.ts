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

/** Uses of `name` by other functions in view (only functions whose text can reach it are parsed). */
export function usesOf(unit: UnitView, model: Model, name: string): readonly FunctionUse[] {
  return unit.memo(`usesOf:${name}`, () => {
    const out: FunctionUse[] = [];
    // Functions that name it, or use an iterator macro that calls it.
    const words = new Set([name]);
    for (const sp of unit.spans) for (const c of sp.calls) if ((model.iterator(c).calls ?? []).includes(name)) words.add(c);
    const seen = new Set<LoweredFunction>();
    for (const w of [...words].sort()) {
      for (const f of unit.functionsMentioning(w)) {
        if (seen.has(f) || f.name === name) continue;
        seen.add(f);
        for (const n of f.nodes) {
          if (n.iter && (model.iterator(n.iter.macro).calls ?? []).includes(name)) out.push({ user: f, line: n.line, how: 'call' });
          for (const op of n.ops) {
            if (op.k === 'call') {
              if (op.name === name) out.push({ user: f, line: op.line, how: 'call' });
              for (const a of op.args) if (a.ident === name) out.push({ user: f, line: op.line, how: 'value' });
            } else if (op.k === 'write' && op.rhs?.ident === name) {
              out.push({ user: f, line: op.line, how: 'value', member: op.chain });
            } else if (op.k === 'assign' && op.fromVar === name) {
              out.push({ user: f, line: op.line, how: 'value' });
            }
          }
        }
      }
    }
    return out;
  });
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
