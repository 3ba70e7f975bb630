/**
 * Shared types of the LKMM engine: the litmus-test AST produced by the
 * parsers, the flat per-thread instruction IR, and the engine's result.
 */

/**
 * A runtime value: an integer, or (as a string) the address of a shared
 * location such as `x` or `a[1]`.
 */
export type Val = number | string;

export class LitmusSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'LitmusSyntaxError';
  }
}

/** A construct the engine deliberately does not model. */
export class UnsupportedError extends Error {
  constructor(readonly construct: string) {
    super(`unsupported: ${construct}`);
    this.name = 'UnsupportedError';
  }
}

// ---------------------------------------------------------------- AST ----

export type Expr =
  | { k: 'num'; v: number }
  | { k: 'var'; name: string }
  | { k: 'deref'; e: Expr }
  | { k: 'addrof'; e: Expr }
  | { k: 'index'; a: Expr; i: Expr }
  | { k: 'bin'; op: string; a: Expr; b: Expr }
  | { k: 'un'; op: string; a: Expr }
  | { k: 'call'; fn: string; args: Expr[]; line: number }
  | { k: 'cond'; c: Expr; a: Expr; b: Expr };

export type Stmt =
  | { k: 'decl'; name: string; init?: Expr; line: number }
  | { k: 'assign'; lhs: Expr; rhs: Expr; line: number }
  | { k: 'expr'; e: Expr; line: number }
  | { k: 'if'; cond: Expr; then: Stmt[]; else?: Stmt[]; line: number }
  | { k: 'label'; name: string; line: number }
  | { k: 'goto'; cond?: Expr; label: string; line: number };

/** An initial-state entry: a location, or a thread register. */
export interface InitEntry {
  thread?: number; // register init when set
  name: string;
  value: InitValue;
  /** Number of cells when the location is an array. */
  size?: number;
  line: number;
}

export type InitValue = { k: 'num'; v: number } | { k: 'ptr'; loc: string } | { k: 'list'; vs: number[] };

export interface ThreadAst {
  index: number;
  params: string[];
  body: Stmt[];
  line: number;
}

export type Cond =
  | { k: 'true' }
  | { k: 'false' }
  | { k: 'not'; a: Cond }
  | { k: 'and'; a: Cond; b: Cond }
  | { k: 'or'; a: Cond; b: Cond }
  | { k: 'implies'; a: Cond; b: Cond }
  | { k: 'eq'; neg: boolean; lhs: CondAtom; rhs: CondAtom };

export type CondAtom =
  | { k: 'reg'; thread: number; reg: string }
  | { k: 'mem'; loc: string }
  | { k: 'num'; v: number }
  | { k: 'sym'; name: string };

export interface LitmusTest {
  /** 'C' or 'LISA'. */
  arch: string;
  name: string;
  init: InitEntry[];
  threads: ThreadAst[];
  quantifier: 'exists' | '~exists' | 'forall';
  condition: Cond;
  filter?: Cond;
  locations: string[];
  /** The value of the `Result:` header line, if any. */
  expected?: string;
}

// -------------------------------------------------------------- Result ---

export type Verdict = 'Never' | 'Sometimes' | 'Always' | 'unsupported' | 'too large' | 'error';

export interface LitmusResult {
  name: string;
  verdict: Verdict;
  positive: number;
  negative: number;
  datarace: boolean;
  /** herd7's `Flag <name>` lines (data-race, mixed-accesses, ...), sorted. */
  flags?: string[];
  deadlock?: boolean;
  detail?: string;
  witness?: string;
  expected?: string;
  /**
   * Set when the candidate executions were too many to count: the verdict
   * (and deadlock, flags) is exact, the counts are only those seen (lower
   * bounds). Says why.
   */
  countsBounded?: string;
}
