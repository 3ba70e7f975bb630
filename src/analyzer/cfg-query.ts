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
