/**
 * Path queries over a lowered function's CFG, shared by rules.
 */
import type { CfgNode, LoweredFunction, Op } from './ir.js';

/**
 * Does every path from just after `op` (in `node`) to the function's exit pass
 * an op satisfying `pred`? Paths ending in a noreturn call need not.
 */
export function mustFollow(fn: LoweredFunction, node: CfgNode, op: Op, pred: (o: Op) => boolean): boolean {
  const idx = node.ops.indexOf(op);
  if (node.ops.slice(idx + 1).some(pred)) return true;
  const seen = new Set<number>();
  const todo = node.succs.map((e) => e.to);
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = fn.nodes[id];
    if (n.ops.some(pred)) continue;
    if (id === fn.exit) return false;
    if (n.kind === 'noreturn') continue;
    todo.push(...n.succs.map((e) => e.to));
  }
  return true;
}

/** Does every path from the entry to `op` (in `node`) pass an op satisfying `pred` first? */
export function mustPrecede(fn: LoweredFunction, node: CfgNode, op: Op, pred: (o: Op) => boolean): boolean {
  const idx = node.ops.indexOf(op);
  if (node.ops.slice(0, idx).some(pred)) return true;
  const preds = new Map<number, number[]>();
  for (const n of fn.nodes) for (const e of n.succs) preds.set(e.to, [...(preds.get(e.to) ?? []), n.id]);
  const seen = new Set<number>();
  const todo = [...(preds.get(node.id) ?? [])];
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = fn.nodes[id];
    if (n.ops.some(pred)) continue;
    if (id === fn.entry) return false;
    todo.push(...(preds.get(id) ?? []));
  }
  return true;
}
