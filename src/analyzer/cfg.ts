/**
 * Lowering of a tree-sitter function definition into a CFG of plain-data ops.
 *
 * Built backwards with continuations: `stmt(node, next)` returns the entry node
 * of `node` whose fall-through successor is `next`. Kernel macro shapes:
 *  - `for (ITER(args);;) body` (the preprocessor's rewrite of `ITER(args) body`)
 *    becomes an `iter` node with an `enter` edge into the body, an `exit` edge
 *    out, and a back edge from the body's end;
 *  - `for (scoped_guard(cls, args);;) body` becomes acquire -> body -> release,
 *    and `break` inside it leaves the guard (as in the kernel's for-based macro);
 *  - `guard(cls)(args);` acquires and releases at every exit of the enclosing
 *    block (fall-through, return, break, continue, goto), like __cleanup;
 *  - `&&`, `||` and `!` in conditions are decomposed into branch nodes so that
 *    path refinement sees each test; `likely()`, `unlikely()`, `WARN_ON*()` and
 *    `KVM_BUG_ON()` are transparent in conditions;
 *  - `do { } while (0)` does not loop; constant conditions prune edges.
 */
import { createHash } from 'node:crypto';
import { displayFunctionName, type FunctionInfo, type SyntaxNode } from './frontend/parse.js';
import type { ColumnMap } from './frontend/preprocess.js';
import type {
  AccessOp, ArgInfo, BranchTest, CallOp, CfgNode, EdgeLabel, GuardOp, LoopInfo, LoweredFunction, Op, RhsInfo,
} from './ir.js';
import type { Model } from '../model/index.js';

/** Wrappers whose truth value is their first argument's. */
const TRANSPARENT_COND = new Set([
  'likely', 'unlikely', 'WARN_ON', 'WARN_ON_ONCE', 'KVM_BUG_ON', 'KVM_MMU_WARN_ON', 'WARN', 'WARN_ONCE',
  'WARN_ON_SMP', 'data_race', 'READ_ONCE',
]);

/** Expressions that are not evaluated. */
const UNEVALUATED = new Set(['sizeof_expression', 'offsetof_expression', 'alignof_expression', 'typeof_expression']);

interface Scope {
  kind: 'guard' | 'loop' | 'switch';
  /** For guards: the release ops to run when leaving. */
  release?: GuardOp[];
  /** For guards: the source range (tree byte offsets) the guard covers, to place labels. */
  region?: [number, number];
  /** For loops/switch: targets. */
  breakTo?: number;
  continueTo?: number;
  /** For C loops and iterator macros: the loop's id (break leaves it). */
  loopId?: number;
  id: number;
}

export interface LowerOptions {
  model: Model;
  /** Where the function comes from: its file path and the column map of its (preprocessed) text. */
  file: { path: string; columns: ColumnMap };
  /** Added to every tree row: the function text may start at a line other than 1. */
  lineOffset?: number;
}

export function lowerFunction(fn: FunctionInfo, opts: LowerOptions): LoweredFunction {
  return new Builder(fn, opts).build();
}

class Builder {
  private readonly nodes: CfgNode[] = [];
  private readonly loops: LoopInfo[] = [];
  private readonly labels = new Map<string, number>();
  private readonly labelScopes = new Map<string, number[]>();
  /** Start offset of each label's statement (known before any goto is lowered, unlike labelScopes). */
  private readonly labelPos = new Map<string, number>();
  /** Cleanup chains of gotos lowered before their label (backward gotos): their loops are set at the end. */
  private readonly pendingGotoCleanups: { label: string; from: number; to: number }[] = [];
  /** Loops that contain each label (known once the label is lowered; gotos are mostly forward). */
  private readonly labelLoops = new Map<string, number[]>();
  private readonly callees = new Set<string>();
  private readonly owners: Record<string, string> = {};
  private scopes: Scope[] = [];
  private loopStack: number[] = [];
  private nextCallId = 1;
  private nextScopeId = 1;
  private exitId = -1;

  constructor(
    private readonly fn: FunctionInfo,
    private readonly opts: LowerOptions,
  ) {}

  build(): LoweredFunction {
    const { fn } = this;
    fn.params.forEach((p, i) => {
      const owner = this.opts.model.ownerForType(fn.paramTypes[i] ?? '');
      if (p && owner) this.owners[p] = owner;
    });
    this.collectDeclOwners(fn.body);
    const exit = this.newNode('exit', fn.endLine, '}');
    this.exitId = exit.id;
    // Labels first so that gotos in either direction resolve.
    this.collectLabels(fn.body);
    const bodyEntry = this.stmt(fn.body, exit.id);
    for (const p of this.pendingGotoCleanups) {
      const loops = this.labelLoops.get(p.label) ?? [];
      for (let id = p.from; id !== p.to && this.nodes[id].kind === 'cleanup'; id = this.nodes[id].succs[0].to) this.nodes[id].loops = [...loops];
    }
    const entry = this.newNode('entry', fn.startLine, fn.name);
    this.edge(entry.id, bodyEntry);
    return {
      name: fn.name,
      file: this.opts.file.path,
      startLine: fn.startLine,
      endLine: fn.endLine,
      isStatic: fn.isStatic,
      params: fn.params,
      owners: this.owners,
      nodes: this.nodes,
      entry: entry.id,
      exit: exit.id,
      loops: this.loops,
      callees: [...this.callees].sort(),
      hash: createHash('sha1').update(fn.text).digest('hex'),
    };
  }

  // ---------------------------------------------------------------- nodes

  private newNode(kind: CfgNode['kind'], line: number, text: string, ops: Op[] = []): CfgNode {
    const node: CfgNode = { id: this.nodes.length, kind, ops, line, text, succs: [], loops: [...this.loopStack] };
    this.nodes.push(node);
    return node;
  }

  private edge(from: number, to: number, label: EdgeLabel = 'seq'): void {
    this.nodes[from].succs.push({ to, label });
  }

  private line(n: SyntaxNode): number {
    return n.startPosition.row + 1 + this.offset;
  }

  private col(n: SyntaxNode): number {
    return this.opts.file.columns.original(n.startPosition.row, n.startPosition.column) + 1;
  }

  private get offset(): number {
    return this.opts.lineOffset ?? 0;
  }

  /** First line of a node's source text, as written (the preprocessor's `for (`/`;;)` and `FNAME_x_` undone). */
  private short(n: SyntaxNode): string {
    const t = n.text;
    const nl = t.indexOf('\n');
    const first = this.opts.file.columns.stripInsertions(n.startPosition.row, n.startPosition.column, nl >= 0 ? t.slice(0, nl) : t);
    return first.replace(/\bFNAME_(\w+)_(?!\w)/g, 'FNAME($1)').trim();
  }

  /** A straight-line node for ops, or `next` itself if there are none. */
  private opsNode(n: SyntaxNode, ops: Op[], next: number): number {
    if (ops.length === 0) return next;
    const node = this.newNode('stmt', this.line(n), this.short(n), ops);
    this.edge(node.id, next);
    return node.id;
  }

  // ---------------------------------------------------------------- pre-passes

  private collectDeclOwners(node: SyntaxNode): void {
    const stack: SyntaxNode[] = [node];
    while (stack.length) {
      const n = stack.pop()!;
      if (n.type === 'declaration') {
        const type = n.childForFieldName('type');
        for (const d of n.childrenForFieldName('declarator')) {
          const inner = d.type === 'init_declarator' ? d.childForFieldName('declarator') : d;
          const isPtr = inner?.type === 'pointer_declarator';
          const name = declName(inner);
          const owner = type ? this.opts.model.ownerForType(type.text + (isPtr ? ' *' : '')) : undefined;
          if (name && owner) this.owners[name] = owner;
        }
      }
      for (const c of n.namedChildren) stack.push(c);
    }
  }

  private collectLabels(node: SyntaxNode): void {
    const stack: SyntaxNode[] = [node];
    while (stack.length) {
      const n = stack.pop()!;
      if (n.type === 'labeled_statement') {
        const label = n.childForFieldName('label')?.text ?? '';
        if (label && !this.labels.has(label)) {
          this.labels.set(label, this.newNode('nop', this.line(n), `${label}:`).id);
          this.labelPos.set(label, n.startIndex);
        }
      }
      for (const c of n.namedChildren) stack.push(c);
    }
  }

  // ---------------------------------------------------------------- statements

  private stmt(n: SyntaxNode | null, next: number): number {
    if (!n) return next;
    switch (n.type) {
      case 'compound_statement':
        return this.block(n.namedChildren, next, n);
      case 'expression_statement':
        return this.exprStatement(n, next);
      case 'declaration':
        return this.opsNode(n, this.declOps(n), next);
      case 'if_statement':
        return this.ifStmt(n, next);
      case 'for_statement':
        return this.forStmt(n, next);
      case 'while_statement':
        return this.whileStmt(n, next);
      case 'do_statement':
        return this.doStmt(n, next);
      case 'switch_statement':
        return this.switchStmt(n, next);
      case 'return_statement':
        return this.returnStmt(n);
      case 'break_statement':
        return this.jumpOut('break', n);
      case 'continue_statement':
        return this.jumpOut('continue', n);
      case 'goto_statement':
        return this.gotoStmt(n);
      case 'labeled_statement': {
        const label = n.childForFieldName('label')?.text ?? '';
        const labelNode = this.labels.get(label)!;
        this.labelScopes.set(label, this.scopes.filter((s) => s.kind === 'guard').map((s) => s.id));
        this.labelLoops.set(label, [...this.loopStack]);
        this.nodes[labelNode].loops = [...this.loopStack];
        const inner = n.namedChildren.find((c) => c.type !== 'statement_identifier') ?? null;
        const body = this.stmt(inner, next);
        this.nodes[labelNode].succs = [{ to: body, label: 'seq' }];
        return labelNode;
      }
      case 'case_statement':
        // Handled by switchStmt; a stray one (parse error) is treated as its body.
        return this.block(n.namedChildren.filter((c) => c !== n.childForFieldName('value')), next, n);
      case 'comment':
      case ';':
        return next;
      case 'preproc_ifdef':
      case 'preproc_if':
      case 'preproc_else':
      case 'preproc_elif':
        return this.block(n.namedChildren.filter((c) => c.type !== 'identifier' && c !== n.childForFieldName('condition')), next, n);
      case 'ERROR':
        return this.block(n.namedChildren, next, n);
      default:
        if (n.type.endsWith('_expression') || n.type === 'identifier') return this.opsNode(n, this.expr(n, 'ignored'), next);
        return next;
    }
  }

  private block(children: SyntaxNode[], next: number, owner: SyntaxNode): number {
    // Find guard() statements: everything after one is in its scope.
    const idx = children.findIndex((c) => this.guardCall(c) !== null);
    if (idx < 0) return this.seq(children, next);
    const guard = this.guardCall(children[idx])!;
    const before = children.slice(0, idx);
    const after = children.slice(idx + 1);
    const releaseOps = guard.map((g): GuardOp => ({ ...g, phase: 'release' }));
    const release = this.newNode('cleanup', this.endLine(owner), `end of guard(${guard[0]?.cls ?? ''}) scope`, releaseOps);
    this.edge(release.id, next);
    const scope: Scope = { kind: 'guard', release: releaseOps, id: this.nextScopeId++, region: [children[idx].startIndex, owner.endIndex] };
    this.scopes.push(scope);
    const afterEntry = this.block(after, release.id, owner);
    this.scopes.pop();
    const acquire = this.newNode('stmt', this.line(children[idx]), this.short(children[idx]), guard);
    this.edge(acquire.id, afterEntry);
    return this.seq(before, acquire.id);
  }

  private endLine(n: SyntaxNode): number {
    return n.endPosition.row + 1 + this.offset;
  }

  private seq(children: SyntaxNode[], next: number): number {
    let cur = next;
    for (let i = children.length - 1; i >= 0; i--) cur = this.stmt(children[i], cur);
    return cur;
  }

  /** `guard(cls)(args);` -> acquire ops, else null. */
  private guardCall(n: SyntaxNode): GuardOp[] | null {
    if (n.type !== 'expression_statement') return null;
    const e = n.namedChildren[0];
    if (!e || e.type !== 'call_expression') return null;
    const f = e.childForFieldName('function');
    if (!f || f.type !== 'call_expression') return null;
    const g = f.childForFieldName('function');
    if (!g || g.text !== 'guard') return null;
    const cls = f.childForFieldName('arguments')?.namedChildren[0]?.text ?? '';
    const args = this.argInfos(e.childForFieldName('arguments'));
    return [{ k: 'guard', cls, args, phase: 'acquire', line: this.line(n), col: this.col(n), text: this.short(n) }];
  }

  private exprStatement(n: SyntaxNode, next: number): number {
    const e = n.namedChildren[0];
    if (!e) return next;
    const ops = this.expr(e, 'ignored');
    // A call to a function that does not return ends the path.
    const last = ops[ops.length - 1];
    if (last && last.k === 'call' && this.opts.model.effects(last.name).some((x) => x.kind === 'noreturn')) {
      const node = this.newNode('noreturn', this.line(n), this.short(n), ops);
      return node.id;
    }
    return this.opsNode(n, ops, next);
  }

  private declOps(n: SyntaxNode): Op[] {
    const ops: Op[] = [];
    for (const d of n.childrenForFieldName('declarator')) {
      if (d.type !== 'init_declarator') continue;
      const name = declName(d.childForFieldName('declarator'));
      const value = d.childForFieldName('value');
      if (!value) continue;
      ops.push(...this.assignTo(name, value, d));
    }
    return ops;
  }

  private ifStmt(n: SyntaxNode, next: number): number {
    const cons = n.childForFieldName('consequence');
    let alt = n.childForFieldName('alternative');
    if (alt && alt.type === 'else_clause') alt = alt.namedChildren[0] ?? null;
    const thenEntry = this.stmt(cons, next);
    const elseEntry = alt ? this.stmt(alt, next) : next;
    return this.cond(n.childForFieldName('condition'), thenEntry, elseEntry);
  }

  private forStmt(n: SyntaxNode, next: number): number {
    const init = n.childForFieldName('initializer');
    const condition = n.childForFieldName('condition');
    const update = n.childForFieldName('update');
    const body = n.childForFieldName('body');
    const macro = !condition && !update && init ? this.macroHead(init) : null;
    if (macro && macro.name === 'scoped_guard') return this.scopedGuard(n, macro.call, body, next);
    if (macro) return this.iterLoop(n, macro.name, macro.call, body, next);

    const loopId = this.loops.length;
    this.loops.push({ id: loopId, kind: 'for', line: this.line(n) });
    // Loop head placeholder: the condition's entry, filled after the body is built.
    const head = this.newNode('nop', this.line(n), this.short(n));
    this.loopStack.push(loopId);
    const updOps = update ? this.expr(update, 'ignored') : [];
    const updEntry = update ? this.opsNode(update, updOps, head.id) : head.id;
    this.scopes.push({ kind: 'loop', breakTo: next, continueTo: updEntry, loopId, id: this.nextScopeId++ });
    const bodyEntry = this.stmt(body, updEntry);
    this.scopes.pop();
    const condEntry = condition ? this.cond(condition, bodyEntry, next) : bodyEntry;
    this.loopStack.pop();
    head.succs = [{ to: condEntry, label: 'seq' }];
    let initEntry = head.id;
    if (init) {
      const initOps = init.type === 'declaration' ? this.declOps(init) : this.expr(init, 'ignored');
      initEntry = this.opsNode(init, initOps, head.id);
    }
    return initEntry;
  }

  /** `ITER(args)` or `scoped_guard(args)` as the initializer of a rewritten for. */
  private macroHead(init: SyntaxNode): { name: string; call: SyntaxNode } | null {
    let e = init;
    if (e.type === 'expression_statement') e = e.namedChildren[0] ?? e;
    if (e.type !== 'call_expression') return null;
    const f = e.childForFieldName('function');
    if (!f || f.type !== 'identifier') return null;
    const name = f.text;
    if (name === 'scoped_guard' || /(^|_)for_each(_|$)/.test(name)) return { name, call: e };
    return null;
  }

  private iterLoop(n: SyntaxNode, macro: string, call: SyntaxNode, body: SyntaxNode | null, next: number): number {
    const loopId = this.loops.length;
    const args = this.argInfos(call.childForFieldName('arguments'));
    this.loops.push({ id: loopId, kind: 'iter', macro, args, line: this.line(n) });
    this.callees.add(macro);
    const head = this.newNode('iter', this.line(n), this.short(n));
    head.iter = { macro, args, loopId };
    // Argument expressions may contain calls (e.g. kvm_memslots(kvm) as the collection).
    const argOps = this.argOps(call.childForFieldName('arguments'));
    this.loopStack.push(loopId);
    head.loops = [...this.loopStack];
    this.scopes.push({ kind: 'loop', breakTo: next, continueTo: head.id, loopId, id: this.nextScopeId++ });
    const bodyEntry = this.stmt(body, head.id);
    this.scopes.pop();
    this.loopStack.pop();
    head.succs = [
      { to: bodyEntry, label: 'enter' },
      { to: next, label: 'exit' },
    ];
    return this.opsNode(call, argOps, head.id);
  }

  private scopedGuard(n: SyntaxNode, call: SyntaxNode, body: SyntaxNode | null, next: number): number {
    const argsNode = call.childForFieldName('arguments');
    const all = argsNode ? argsNode.namedChildren.filter((c) => c.type !== 'comment') : [];
    const cls = all[0]?.text ?? '';
    const args = all.slice(1).map((a) => this.argInfo(a));
    const base = { k: 'guard' as const, cls, args, line: this.line(n), col: this.col(n), text: this.short(n) };
    const releaseOps: GuardOp[] = [{ ...base, phase: 'release' }];
    const release = this.newNode('cleanup', this.endLine(n), `end of scoped_guard(${cls})`, releaseOps);
    this.edge(release.id, next);
    // break and continue inside scoped_guard leave the guard (the macro is a for loop whose
    // increment ends it); jumpOut() runs the guard's release on the way out.
    this.scopes.push({ kind: 'loop', breakTo: next, continueTo: next, id: this.nextScopeId++ });
    this.scopes.push({ kind: 'guard', release: releaseOps, id: this.nextScopeId++, region: [n.startIndex, n.endIndex] });
    const bodyEntry = this.stmt(body, release.id);
    this.scopes.pop();
    this.scopes.pop();
    const acquire = this.newNode('stmt', this.line(n), this.short(n), [{ ...base, phase: 'acquire' }]);
    this.edge(acquire.id, bodyEntry);
    return acquire.id;
  }

  private whileStmt(n: SyntaxNode, next: number): number {
    const loopId = this.loops.length;
    this.loops.push({ id: loopId, kind: 'while', line: this.line(n) });
    const head = this.newNode('nop', this.line(n), this.short(n));
    this.loopStack.push(loopId);
    this.scopes.push({ kind: 'loop', breakTo: next, continueTo: head.id, loopId, id: this.nextScopeId++ });
    const bodyEntry = this.stmt(n.childForFieldName('body'), head.id);
    this.scopes.pop();
    const condEntry = this.cond(n.childForFieldName('condition'), bodyEntry, next);
    this.loopStack.pop();
    head.succs = [{ to: condEntry, label: 'seq' }];
    return head.id;
  }

  private doStmt(n: SyntaxNode, next: number): number {
    const condition = n.childForFieldName('condition');
    const constant = condition ? constantValue(unparen(condition)) : undefined;
    const loopId = this.loops.length;
    this.loops.push({ id: loopId, kind: 'do', line: this.line(n) });
    const head = this.newNode('nop', this.line(n), 'do');
    this.loopStack.push(loopId);
    // The condition is evaluated after the body; `continue` jumps to it.
    const condHolder = this.newNode('nop', condition ? this.line(condition) : this.line(n), 'while');
    this.scopes.push({ kind: 'loop', breakTo: next, continueTo: condHolder.id, loopId, id: this.nextScopeId++ });
    const bodyEntry = this.stmt(n.childForFieldName('body'), condHolder.id);
    this.scopes.pop();
    const condEntry = constant === false ? next : this.cond(condition, head.id, next);
    condHolder.succs = [{ to: condEntry, label: 'seq' }];
    this.loopStack.pop();
    head.succs = [{ to: bodyEntry, label: 'seq' }];
    return head.id;
  }

  private switchStmt(n: SyntaxNode, next: number): number {
    const body = n.childForFieldName('body');
    const cases = body ? body.namedChildren.filter((c) => c.type === 'case_statement') : [];
    const others = body ? body.namedChildren.filter((c) => c.type !== 'case_statement' && c.type !== 'comment') : [];
    this.scopes.push({ kind: 'switch', breakTo: next, id: this.nextScopeId++ });
    // Build case bodies backwards so that each falls through into the next.
    const entries: number[] = [];
    let fall = next;
    let hasDefault = false;
    for (let i = cases.length - 1; i >= 0; i--) {
      const c = cases[i];
      const value = c.childForFieldName('value');
      if (!value) hasDefault = true;
      const stmts = c.namedChildren.filter((s) => s !== value && s.type !== 'comment');
      fall = this.block(stmts, fall, c);
      entries.unshift(fall);
    }
    // Statements outside any case (rare; e.g. labels) are reachable only via goto.
    if (others.length) this.seq(others, next);
    this.scopes.pop();
    const condition = n.childForFieldName('condition');
    const ops = condition ? this.expr(condition, 'other') : [];
    const sw = this.newNode('branch', this.line(n), this.short(n), ops);
    sw.test = { text: condition?.text ?? '' };
    const targets = [...new Set(entries)];
    if (!hasDefault) targets.push(next);
    for (const t of targets) this.edge(sw.id, t, 'seq');
    return sw.id;
  }

  private returnStmt(n: SyntaxNode): number {
    const value = n.namedChildren.find((c) => c.type !== 'comment') ?? null;
    const ops = value ? this.expr(value, 'return') : [];
    const ret = this.newNode('return', this.line(n), this.short(n), ops);
    ret.ret = value?.text ?? '';
    const after = this.cleanupsTo(this.exitId, () => true, []);
    this.edge(ret.id, after);
    return ret.id;
  }

  /** Chain of cleanup nodes for the guard scopes selected, ending in `target`. */
  private cleanupsTo(target: number, include: (s: Scope, depthFromTop: number) => boolean, loops?: number[]): number {
    let cur = target;
    // Outermost cleanup runs last, so build from the outermost scope inwards.
    for (let i = 0; i < this.scopes.length; i++) {
      const s = this.scopes[i];
      if (s.kind !== 'guard' || !include(s, this.scopes.length - 1 - i)) continue;
      const node = this.newNode('cleanup', s.release![0]?.line ?? 0, `leave guard(${s.release![0]?.cls ?? ''})`, s.release!);
      // Cleanups of a jump run after the jump left its loops: the jump's own node is the loop exit.
      if (loops) node.loops = [...loops];
      this.edge(node.id, cur);
      cur = node.id;
    }
    return cur;
  }

  private jumpOut(kind: 'break' | 'continue', n: SyntaxNode): number {
    // Find the innermost target scope.
    let targetIdx = -1;
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const s = this.scopes[i];
      if (s.kind === 'loop' || (kind === 'break' && s.kind === 'switch')) {
        targetIdx = i;
        break;
      }
    }
    if (targetIdx < 0) return this.exitId;
    const s = this.scopes[targetIdx];
    const target = kind === 'break' ? s.breakTo! : s.continueTo!;
    const inner = new Set(this.scopes.slice(targetIdx + 1).map((x) => x.id));
    const at = kind === 'break' && s.loopId !== undefined ? this.loopStack.indexOf(s.loopId) : -1;
    const entry = this.cleanupsTo(target, (x) => inner.has(x.id), at >= 0 ? this.loopStack.slice(0, at) : undefined);
    if (entry === target) {
      const node = this.newNode('nop', this.line(n), this.short(n));
      node.jump = kind;
      this.edge(node.id, target);
      return node.id;
    }
    // The first guard cleanup on the way out stands for the jump.
    this.nodes[entry].jump = kind;
    return entry;
  }

  private gotoStmt(n: SyntaxNode): number {
    const label = n.childForFieldName('label')?.text ?? '';
    const target = this.labels.get(label) ?? this.exitId;
    const labelGuards = new Set(this.labelScopes.get(label) ?? []);
    // A guard whose range holds the label stays held; this also works for a backward goto,
    // lowered before its label (the CFG is built from the end).
    const pos = this.labelPos.get(label);
    const staysHeld = (s: Scope): boolean => labelGuards.has(s.id) || (pos !== undefined && !!s.region && pos >= s.region[0] && pos < s.region[1]);
    const entry = this.cleanupsTo(target, (s) => !staysHeld(s), this.labelLoops.get(label) ?? []);
    if (!this.labelLoops.has(label) && this.labels.has(label)) this.pendingGotoCleanups.push({ label, from: entry, to: target });
    const node = this.newNode('nop', this.line(n), this.short(n));
    node.jump = 'goto';
    this.edge(node.id, entry);
    return node.id;
  }

  // ---------------------------------------------------------------- conditions

  /** Build the decision for `e` with branch targets; returns the entry node. */
  private cond(e: SyntaxNode | null, t: number, f: number): number {
    if (!e) return t;
    const n = unparen(e);
    if (n.type === 'unary_expression' && n.childForFieldName('operator')?.text === '!') {
      return this.cond(n.childForFieldName('argument'), f, t);
    }
    if (n.type === 'binary_expression') {
      const op = n.childForFieldName('operator')?.text;
      const left = n.childForFieldName('left');
      const right = n.childForFieldName('right');
      if (op === '&&') return this.cond(left, this.cond(right, t, f), f);
      if (op === '||') return this.cond(left, t, this.cond(right, t, f));
      if ((op === '==' || op === '!=') && right && left) {
        const r = unparen(right);
        if (r.type === 'number_literal' && r.text === '0' || r.text === 'NULL' || r.text === 'false') {
          return op === '==' ? this.cond(left, f, t) : this.cond(left, t, f);
        }
      }
    }
    if (n.type === 'call_expression') {
      const fname = n.childForFieldName('function')?.text ?? '';
      const args = n.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
      if (TRANSPARENT_COND.has(fname) && args.length >= 1 && fname !== 'READ_ONCE') {
        // WARN_ON(x) etc. are evaluated (the call stays as an op) but branch on x.
        return this.cond(args[0], t, f);
      }
    }
    const constant = constantValue(n);
    if (constant !== undefined) return constant ? t : f;
    const ops = this.expr(n, 'cond');
    const node = this.newNode('branch', this.line(n), this.short(n), ops);
    const test: BranchTest = { text: n.text };
    const last = ops[ops.length - 1];
    if (n.type === 'call_expression' && last && last.k === 'call') test.callId = last.id;
    else if (n.type === 'identifier') test.var = n.text;
    node.test = test;
    this.edge(node.id, t, 'true');
    this.edge(node.id, f, 'false');
    return node.id;
  }

  // ---------------------------------------------------------------- expressions

  private argInfos(args: SyntaxNode | null): ArgInfo[] {
    if (!args) return [];
    return args.namedChildren.filter((c) => c.type !== 'comment').map((a) => this.argInfo(a));
  }

  private argInfo(a: SyntaxNode): ArgInfo {
    const info: ArgInfo = { text: a.text };
    const inner = stripAddr(a);
    if (inner.type === 'identifier') info.ident = inner.text;
    const ch = this.chainOf(inner);
    if (ch) {
      info.base = ch.base;
      info.chain = ch.chain;
    }
    if (inner.type === 'call_expression') info.call = calleeName(inner);
    return info;
  }

  private argOps(args: SyntaxNode | null): Op[] {
    const ops: Op[] = [];
    if (!args) return ops;
    for (const a of args.namedChildren) ops.push(...this.expr(a, 'arg'));
    return ops;
  }

  /**
   * Member chain of an lvalue-ish expression: `vcpu->kvm->arch.x` ->
   * {base:'kvm', chain:'arch.x'}; `kvm->memslots[i]` -> {base:'kvm', chain:'memslots[]'}.
   */
  chainOf(e: SyntaxNode): { base: string; chain: string } | null {
    const members: string[] = [];
    let cur: SyntaxNode | null = unparen(e);
    while (cur) {
      if (cur.type === 'field_expression') {
        members.unshift(cur.childForFieldName('field')?.text ?? '?');
        cur = unparen(cur.childForFieldName('argument')!);
      } else if (cur.type === 'subscript_expression') {
        // a->f[i][j]: one [] per subscript, attached to the member being indexed.
        let inner = unparen(cur.childForFieldName('argument')!);
        let dims = 1;
        while (inner.type === 'subscript_expression') {
          dims++;
          inner = unparen(inner.childForFieldName('argument')!);
        }
        if (inner.type !== 'field_expression' && members.length === 0) return null;
        if (inner.type === 'field_expression') {
          const f = inner.childForFieldName('field')?.text ?? '?';
          members.unshift(`${f}${'[]'.repeat(dims)}`);
          cur = unparen(inner.childForFieldName('argument')!);
        } else {
          cur = inner;
        }
      } else if (cur.type === 'pointer_expression' && cur.childForFieldName('operator')?.text === '*') {
        cur = unparen(cur.childForFieldName('argument')!);
      } else if (cur.type === 'cast_expression') {
        cur = unparen(cur.childForFieldName('value')!);
      } else {
        break;
      }
    }
    if (!cur || members.length === 0) return null;
    let base = cur.type === 'identifier' ? (this.owners[cur.text] ?? cur.text) : cur.type === 'call_expression' ? `${calleeName(cur)}()` : cur.text;
    // Restart at the last owner hop: x->kvm->arch.y is kvm's arch.y.
    for (let i = members.length - 1; i >= 0; i--) {
      const owner = this.opts.model.ownerMembers[members[i]];
      if (owner && i < members.length - 1) {
        base = owner;
        members.splice(0, i + 1);
        break;
      }
    }
    return { base, chain: members.join('.') };
  }

  /** What an assignment's right-hand side is, given the ops it lowered to. */
  private rhsInfo(right: SyntaxNode, rightOps: Op[]): RhsInfo {
    const r = stripCasts(right);
    const info: RhsInfo = {};
    if (r.type === 'identifier') {
      info.ident = r.text;
      return info;
    }
    let base: SyntaxNode = r;
    while (base.type === 'field_expression') base = stripCasts(base.childForFieldName('argument')!);
    if (base.type === 'call_expression') {
      const name = calleeName(base);
      const call = [...rightOps].reverse().find((o): o is CallOp => o.k === 'call' && o.name === name);
      if (call) {
        info.call = call.name;
        info.callId = call.id;
      }
    }
    if (r.type !== 'call_expression') {
      const ch = this.chainOf(r);
      if (ch) info.chain = ch;
    }
    return info;
  }

  /** `.f = x` members of a struct initializer, as writes to `name.f` (function pointers stored for a dispatcher, for instance). */
  private initializerWrites(name: string, list: SyntaxNode, ops: Op[]): void {
    for (const pair of list.namedChildren) {
      if (pair.type !== 'initializer_pair') continue;
      const designators = pair.childrenForFieldName('designator');
      const value = pair.childForFieldName('value');
      if (!value || designators.length === 0 || designators.some((d) => d.type !== 'field_designator')) continue;
      const chain = designators.map((d) => d.text.replace(/^\./, '').trim()).join('.');
      const w: AccessOp = { k: 'write', base: this.owners[name] ?? name, chain, text: `${name}.${chain}`, line: this.line(pair), col: this.col(pair) };
      w.value = value.text;
      w.operator = '=';
      w.rhs = this.rhsInfo(value, ops);
      ops.push(w);
    }
  }

  private assignTo(name: string, value: SyntaxNode, at: SyntaxNode): Op[] {
    const ops = this.expr(value, 'assigned', name);
    const v = unparen(value);
    if (v.type === 'initializer_list') this.initializerWrites(name, v, ops);
    const a: Op = { k: 'assign', target: name, rhs: value.text, line: this.line(at), col: this.col(at) };
    const last = ops[ops.length - 1];
    const callNode = stripCasts(v);
    let memberBase: SyntaxNode = callNode;
    while (memberBase.type === 'field_expression') memberBase = stripCasts(memberBase.childForFieldName('argument')!);
    if (memberBase !== callNode && memberBase.type === 'call_expression') {
      // x = call(...)->member: x holds state derived from the call's result.
      const callee = calleeName(memberBase);
      for (let i = ops.length - 1; i >= 0; i--) {
        const o = ops[i];
        if (o.k === 'call' && o.name === callee) {
          o.resultVar = name;
          break;
        }
      }
    }
    // Every call whose result feeds the assigned value (x = f(g(...))) derives x.
    for (const o of ops) if (o.k === 'call' && o.resultVar === undefined && o.use !== 'ignored') o.resultVar = name;
    if (callNode.type === 'call_expression' && last && last.k === 'call') {
      a.fromCall = last.name;
      a.fromCallId = last.id;
    } else if (v.type === 'identifier') {
      a.fromVar = v.text;
    } else {
      const ch = this.chainOf(v);
      if (ch) a.fromChain = ch;
    }
    ops.push(a);
    return ops;
  }

  /** Ops of an expression in evaluation order. */
  expr(e: SyntaxNode, use: CallOp['use'], resultVar?: string): Op[] {
    const ops: Op[] = [];
    this.exprInto(e, use, ops, resultVar);
    return ops;
  }

  private exprInto(e: SyntaxNode, use: CallOp['use'], ops: Op[], resultVar?: string): void {
    const n = e;
    switch (n.type) {
      case 'parenthesized_expression':
        for (const c of n.namedChildren) this.exprInto(c, use, ops, resultVar);
        return;
      case 'call_expression':
        this.callInto(n, use, ops, resultVar);
        return;
      case 'assignment_expression': {
        const left = n.childForFieldName('left')!;
        const right = n.childForFieldName('right')!;
        const op = n.childForFieldName('operator')?.text ?? '=';
        const l = unparen(left);
        if (l.type === 'identifier') {
          if (op !== '=') {
            this.exprInto(right, 'other', ops);
            ops.push({ k: 'assign', target: l.text, rhs: n.text, line: this.line(n), col: this.col(n) });
          } else {
            ops.push(...this.assignTo(l.text, right, n));
          }
          return;
        }
        const rhsFrom = ops.length;
        this.exprInto(right, 'other', ops);
        const rhs = op === '=' ? this.rhsInfo(right, ops.slice(rhsFrom)) : undefined;
        this.lvalueSubexprs(l, ops);
        const ch = this.chainOf(l);
        if (ch) {
          if (op !== '=') ops.push(this.access('read', ch, l, true));
          const w = this.access('write', ch, l, op !== '=');
          w.value = right.text;
          w.operator = op;
          if (rhs) w.rhs = rhs;
          ops.push(w);
        }
        return;
      }
      case 'update_expression': {
        const arg = unparen(n.childForFieldName('argument')!);
        if (arg.type === 'identifier') {
          ops.push({ k: 'assign', target: arg.text, rhs: n.text, line: this.line(n), col: this.col(n) });
          return;
        }
        this.lvalueSubexprs(arg, ops);
        const ch = this.chainOf(arg);
        if (ch) {
          ops.push(this.access('read', ch, arg, true));
          const w = this.access('write', ch, arg, true);
          w.operator = n.text.trimStart().startsWith('--') || n.text.trimEnd().endsWith('--') ? '--' : '++';
          ops.push(w);
        }
        return;
      }
      case 'field_expression':
      case 'subscript_expression': {
        this.lvalueSubexprs(n, ops);
        const ch = this.chainOf(n);
        if (ch) ops.push(this.access('read', ch, n, false));
        return;
      }
      case 'pointer_expression': {
        const op = n.childForFieldName('operator')?.text;
        const arg = n.childForFieldName('argument')!;
        if (op === '&') {
          // Address-of: no read of the member itself, but index expressions are evaluated.
          const inner = unparen(arg);
          this.lvalueSubexprs(inner, ops);
          // &p->a[i][j] loads the array pointer p->a[i] to compute the element's address.
          if (inner.type === 'subscript_expression' && unparen(inner.childForFieldName('argument')!).type === 'subscript_expression') {
            const ch = this.chainOf(inner);
            if (ch) {
              const r = this.access('read', ch, inner, false);
              r.addr = true;
              ops.push(r);
            }
          }
          return;
        }
        this.exprInto(arg, 'other', ops);
        return;
      }
      case 'compound_statement':
        // Statement expression ({ ... }): flatten its statements' ops.
        for (const c of n.namedChildren) {
          if (c.type === 'expression_statement' && c.namedChildren[0]) this.exprInto(c.namedChildren[0], 'other', ops);
          else if (c.type === 'declaration') ops.push(...this.declOps(c));
        }
        return;
      default:
        if (UNEVALUATED.has(n.type)) return;
        if (n.type === 'cast_expression') {
          const v = n.childForFieldName('value');
          const isVoid = n.childForFieldName('type')?.text === 'void';
          if (v) this.exprInto(v, isVoid ? 'ignored' : use, ops, resultVar);
          return;
        }
        for (const c of n.namedChildren) {
          if (c.type === 'comment') continue;
          this.exprInto(c, use === 'ignored' || use === 'assigned' ? 'other' : use === 'cond' ? 'other' : use, ops);
        }
    }
  }

  /** Evaluate sub-expressions inside an lvalue (indices, call bases) without reading the member itself. */
  private lvalueSubexprs(l: SyntaxNode, ops: Op[]): void {
    let cur: SyntaxNode | null = l;
    while (cur) {
      if (cur.type === 'field_expression') {
        cur = unparen(cur.childForFieldName('argument')!);
      } else if (cur.type === 'subscript_expression') {
        const idx = cur.childForFieldName('index');
        if (idx) this.exprInto(idx, 'other', ops);
        cur = unparen(cur.childForFieldName('argument')!);
      } else if (cur.type === 'pointer_expression') {
        cur = unparen(cur.childForFieldName('argument')!);
      } else if (cur.type === 'call_expression') {
        this.callInto(cur, 'other', ops);
        return;
      } else {
        return;
      }
    }
  }

  private access(k: 'read' | 'write', ch: { base: string; chain: string }, n: SyntaxNode, rmw: boolean): AccessOp {
    const op: AccessOp = { k, base: ch.base, chain: ch.chain, text: n.text, line: this.line(n), col: this.col(n) };
    if (rmw) op.rmw = true;
    return op;
  }

  private callInto(n: SyntaxNode, use: CallOp['use'], ops: Op[], resultVar?: string): void {
    const f = n.childForFieldName('function');
    const argsNode = n.childForFieldName('arguments');
    // guard(cls)(args) outside statement position is still a guard; static_call(x)(args) calls x.
    if (f && f.type === 'call_expression') {
      const inner = f.childForFieldName('function')?.text;
      if (inner === 'guard') return; // handled at statement level
    }
    const name = calleeName(n);
    if (name === 'sizeof' || name === 'typeof' || name === '__builtin_expect' && false) return;
    // The target of a marked store (WRITE_ONCE(x, v), atomic_set(&x, v)) is written by the call, not read.
    const stored = new Set(this.opts.model.effects(name).flatMap((e) => (e.kind === 'access' && e.access === 'write' && !e.fixed ? [e.arg] : [])));
    let argIdx = 0;
    for (const a of argsNode?.namedChildren ?? []) {
      if (a.type === 'comment') continue;
      if (stored.has(argIdx++)) this.lvalueSubexprs(unparen(a), ops);
      else this.exprInto(a, 'arg', ops);
    }
    const op: CallOp = {
      k: 'call',
      id: this.nextCallId++,
      name,
      args: this.argInfos(argsNode),
      text: this.short(n),
      use,
      line: this.line(n),
      col: this.col(n),
    };
    if ((use === 'assigned' || use === 'return') && resultVar) op.resultVar = resultVar;
    const parent = n.parent;
    if (parent && parent.type === 'field_expression' && parent.childForFieldName('argument')?.id === n.id) {
      op.memberOfResult = parent.childForFieldName('field')?.text;
      op.use = 'other';
    }
    if (name) this.callees.add(name);
    ops.push(op);
  }
}

function unparen(n: SyntaxNode): SyntaxNode {
  let cur = n;
  while (cur.type === 'parenthesized_expression' && cur.namedChildren.length === 1) cur = cur.namedChildren[0];
  return cur;
}

function stripCasts(n: SyntaxNode): SyntaxNode {
  let cur = unparen(n);
  while (cur.type === 'cast_expression') cur = unparen(cur.childForFieldName('value')!);
  return cur;
}

function stripAddr(n: SyntaxNode): SyntaxNode {
  let cur = stripCasts(n);
  while (cur.type === 'pointer_expression' && cur.childForFieldName('operator')?.text === '&') {
    cur = stripCasts(cur.childForFieldName('argument')!);
  }
  return cur;
}

function declName(d: SyntaxNode | null): string {
  let cur = d;
  while (cur) {
    if (cur.type === 'identifier') return cur.text;
    if (cur.type === 'parenthesized_declarator') {
      cur = cur.namedChildren[0] ?? null;
      continue;
    }
    cur = cur.childForFieldName('declarator');
  }
  return '';
}

/** Callee name: identifier, `static_call(x)(...)` -> x, `ops->fn(...)` -> fn. */
export function calleeName(call: SyntaxNode): string {
  return displayFunctionName(rawCalleeName(call));
}

function rawCalleeName(call: SyntaxNode): string {
  const f = call.childForFieldName('function');
  if (!f) return '';
  if (f.type === 'identifier') return f.text;
  if (f.type === 'field_expression') return f.childForFieldName('field')?.text ?? '';
  if (f.type === 'call_expression') {
    const inner = f.childForFieldName('function')?.text;
    const arg0 = f.childForFieldName('arguments')?.namedChildren[0]?.text ?? '';
    if (inner === 'static_call' || inner === 'INDIRECT_CALL_INSTANCES') return arg0;
    return inner ?? '';
  }
  if (f.type === 'parenthesized_expression') {
    const inner = unparen(f);
    if (inner.type === 'identifier') return inner.text;
    if (inner.type === 'pointer_expression') return inner.childForFieldName('argument')?.text ?? '';
  }
  return '';
}

function constantValue(n: SyntaxNode): boolean | undefined {
  if (n.type === 'number_literal') return !/^0+[uUlL]*$/.test(n.text) && !/^0x0+$/i.test(n.text);
  if (n.type === 'true') return true;
  if (n.type === 'false') return false;
  if (n.type === 'identifier' && (n.text === 'true' || n.text === 'false')) return n.text === 'true';
  return undefined;
}
