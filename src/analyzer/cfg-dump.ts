/**
 * Deterministic text dump of a lowered function's CFG, for golden tests and for
 * looking at what the lowering made of a macro shape.
 *
 * Nodes are renumbered in breadth-first order from the entry (successors in
 * edge order); nodes no path reaches (label placeholders of unused labels,
 * code after a `return`) follow in creation order, marked `unreachable`. One
 * line per node:
 *
 *   n3 branch L12 "if (!slot)" [call gfn_to_memslot(kvm, gfn)@9] -> true:n4 false:n5
 *
 * `in:0.1` lists the loops (iterator or C loop ids, outermost first) a node is in.
 * Ops: `call name(args)` (`=> v` when the result is stored), `read base.chain`,
 * `write base.chain` (`rmw` for x++ / x += y), `assign v`, `guard+ cls(args)`,
 * `guard- cls(args)`. Each op ends in `@col`, or `@line:col` when it is not on
 * the node's line (columns are 1-based, in the original source). Iterator nodes
 * show `iter MACRO#loopId`; branch nodes their test (`?var`, `?call#id`).
 */
import type { CfgNode, LoweredFunction, Op } from './ir.js';

export function dumpCfg(fn: LoweredFunction): string {
  const order: number[] = [];
  const num = new Map<number, number>();
  const queue = [fn.entry];
  num.set(fn.entry, 0);
  while (queue.length) {
    const id = queue.shift()!;
    order.push(id);
    for (const e of fn.nodes[id].succs) {
      if (num.has(e.to)) continue;
      num.set(e.to, num.size);
      queue.push(e.to);
    }
  }
  const reachable = new Set(order);
  for (const n of fn.nodes) {
    if (num.has(n.id)) continue;
    num.set(n.id, num.size);
    order.push(n.id);
  }
  const lines = [`function ${fn.name}${fn.isStatic ? ' static' : ''} (${fn.params.join(', ')}) L${fn.startLine}-${fn.endLine}`];
  for (const id of order) lines.push(nodeLine(fn.nodes[id], num, reachable.has(id)));
  return lines.join('\n') + '\n';
}

function nodeLine(n: CfgNode, num: Map<number, number>, reachable: boolean): string {
  const parts = [`n${num.get(n.id)}`, n.kind, `L${n.line}`];
  if (n.kind !== 'entry' && n.kind !== 'exit') parts.push(JSON.stringify(clip(n.text)));
  if (n.iter) parts.push(`iter ${n.iter.macro}#${n.iter.loopId}(${n.iter.args.map((a) => a.text).join(', ')})`);
  if (n.test) {
    const t = n.test.callId !== undefined ? `?call#${n.test.callId}` : n.test.var !== undefined ? `?${n.test.var}` : '?';
    parts.push(t);
  }
  if (n.loops.length) parts.push(`in:${n.loops.join('.')}`);
  if (n.ops.length) parts.push(`[${n.ops.map((o) => opText(o, n.line)).join('; ')}]`);
  if (!reachable) parts.push('unreachable');
  if (n.succs.length) {
    parts.push('->', n.succs.map((e) => (e.label === 'seq' ? `n${num.get(e.to)}` : `${e.label}:n${num.get(e.to)}`)).join(' '));
  }
  return parts.join(' ');
}

function clip(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

function where(op: Op, line: number): string {
  return op.line === line ? `@${op.col}` : `@${op.line}:${op.col}`;
}

export function opText(op: Op, line: number): string {
  switch (op.k) {
    case 'call': {
      const args = op.args.map((a) => clip(a.text)).join(', ');
      const id = `#${op.id}`;
      return `call ${op.name}${id}(${args})${op.resultVar ? ` => ${op.resultVar}` : ''}${where(op, line)}`;
    }
    case 'read':
    case 'write':
      return `${op.k} ${op.base}.${op.chain}${op.rmw ? ' rmw' : ''}${where(op, line)}`;
    case 'assign':
      return `assign ${op.target}${where(op, line)}`;
    case 'guard':
      return `guard${op.phase === 'acquire' ? '+' : '-'} ${op.cls}(${op.args.map((a) => clip(a.text)).join(', ')})${where(op, line)}`;
  }
}
