/**
 * The lowered form of a function that the engine runs on: a CFG whose nodes
 * carry plain-data operations (calls, field accesses, assignments, guard
 * acquire/release) in evaluation order. Nothing here refers to tree-sitter, so
 * lowered functions can be cached by content and moved across workers.
 */

export interface ArgInfo {
  /** Source text of the argument. */
  text: string;
  /** Canonical owner/base of a member access inside the argument (`kvm`, `vcpu`, a variable). */
  base?: string;
  /** Member chain, e.g. `arch.indirect_shadow_pages`, `memslots[]`. */
  chain?: string;
  /** The argument is a plain identifier. */
  ident?: string;
  /** The argument is a call: its callee name. */
  call?: string;
}

export interface OpBase {
  /** 1-based line and column in the original source. */
  line: number;
  col: number;
}

export interface CallOp extends OpBase {
  k: 'call';
  /** Unique within the function; branch tests refer to it. */
  id: number;
  name: string;
  args: ArgInfo[];
  text: string;
  /** How the result is used. */
  use: 'ignored' | 'assigned' | 'cond' | 'return' | 'arg' | 'other';
  /** Variable the result is assigned to (use === 'assigned'). */
  resultVar?: string;
  /** The call's result is dereferenced as a struct (e.g. `kvm_memslots(kvm)->generation`). */
  memberOfResult?: string;
}

export interface AccessOp extends OpBase {
  k: 'read' | 'write';
  base: string;
  chain: string;
  text: string;
  /** Part of a read-modify-write (`x++`, `x += 1`). */
  rmw?: boolean;
  /** For writes by assignment: the stored right-hand side's text. */
  value?: string;
  /** For writes: the assignment or update operator (`=`, `+=`, `-=`, `++`, `--` ...). */
  operator?: string;
  /** Only the element's address is computed (`&p->a[i][j]`): the array pointer `p->a[i]` is loaded, the element is not. */
  addr?: boolean;
  /** For writes by plain assignment (`x->f = rhs`, or `.f = rhs` in an initializer): what the right-hand side is. */
  rhs?: RhsInfo;
}

/** The right-hand side of an assignment, as far as the lowering can tell. */
export interface RhsInfo {
  /** A plain identifier (a variable, or a function used as a value). */
  ident?: string;
  /** A call, or a member of a call's result (`kvm_memslots(kvm)->generation`): the call op. */
  call?: string;
  callId?: number;
  /** A member chain (`slots->generation` -> base `slots`, chain `generation`). */
  chain?: { base: string; chain: string };
}

export interface AssignOp extends OpBase {
  k: 'assign';
  /** Local variable assigned. */
  target: string;
  /** Callee name when the right-hand side is a call. */
  fromCall?: string;
  /** Id of that call op. */
  fromCallId?: number;
  /** The right-hand side is a plain identifier. */
  fromVar?: string;
  /** The right-hand side reads a member chain. */
  fromChain?: { base: string; chain: string };
  rhs: string;
}

export interface GuardOp extends OpBase {
  k: 'guard';
  cls: string;
  args: ArgInfo[];
  phase: 'acquire' | 'release';
  text: string;
}

export type Op = CallOp | AccessOp | AssignOp | GuardOp;

export interface BranchTest {
  text: string;
  /** Id of the call whose result is tested (through likely()/unlikely()/WARN_ON() wrappers). */
  callId?: number;
  /** Plain variable tested. */
  var?: string;
  /** Constant condition value, if known. */
  constant?: boolean;
}

export interface IterInfo {
  macro: string;
  args: ArgInfo[];
  /** Loop identity within the function. */
  loopId: number;
}

export type NodeKind =
  | 'entry'
  | 'exit'
  | 'stmt'
  | 'branch'
  | 'return'
  | 'iter'
  | 'nop'
  | 'cleanup'
  | 'noreturn';

export type EdgeLabel = 'true' | 'false' | 'enter' | 'exit' | 'seq';

export interface Edge {
  to: number;
  label: EdgeLabel;
}

export interface CfgNode {
  id: number;
  kind: NodeKind;
  ops: Op[];
  line: number;
  /** Short source text for paths and explanations. */
  text: string;
  succs: Edge[];
  test?: BranchTest;
  iter?: IterInfo;
  /** For return nodes: the returned expression text. */
  ret?: string;
  /** Ids of the loops (iterator or plain) that contain this node, innermost last. */
  loops: number[];
  /** For the node of a `break`, `continue` or `goto` statement: which jump it is. */
  jump?: 'break' | 'continue' | 'goto';
}

export interface LoopInfo {
  id: number;
  /** 'iter' for iterator macros, else the C loop keyword. */
  kind: 'iter' | 'for' | 'while' | 'do';
  macro?: string;
  args?: ArgInfo[];
  line: number;
}

export interface LoweredFunction {
  name: string;
  file: string;
  startLine: number;
  endLine: number;
  isStatic: boolean;
  params: string[];
  /** Parameter/local variable -> canonical owner (`kvm`, `vcpu`) from declared types. */
  owners: Record<string, string>;
  nodes: CfgNode[];
  entry: number;
  exit: number;
  loops: LoopInfo[];
  /** Names of all functions called (for the call graph). */
  callees: string[];
  /** Hash of the definition text: the cache key. */
  hash: string;
}
