/**
 * The contract between the engine and rules (ESLint-style): a rule is `meta`
 * plus `create(context)`, which returns handlers for engine events. Handlers
 * observe states; they never change them. The core knows no rule.
 */
import type { Confidence, PathStep, RuleMeta, Severity } from '../types.js';
import type { Model } from '../model/index.js';
import type { Resolved } from './effects.js';
import type { CfgNode, Edge, LoweredFunction, Op, CallOp } from './ir.js';
import type { State } from './state.js';
import type { Summary } from './summaries.js';
import type { Effect } from '../model/index.js';

export interface ReportInput {
  line: number;
  col: number;
  messageId: string;
  data?: Record<string, string | number>;
  related?: { line: number; col?: number; message: string; file?: string }[];
  /** Line-independent identity of the finding within the function (expressions, names). */
  key: string;
  severity?: Severity;
  confidence?: Confidence;
  path?: PathStep[];
  litmus?: string;
  witness?: string;
}

/** What a rule can see of the whole analysed file. */
export interface UnitView {
  path: string;
  lines: readonly string[];
  functions: readonly LoweredFunction[];
  function(name: string): LoweredFunction | undefined;
  /**
   * Functions of the file whose text mentions `word` (an identifier, matched as a
   * whole word), lowered on demand. Prefer this to `functions`, which lowers the
   * whole file: in a diff only the touched functions are parsed otherwise.
   */
  functionsMentioning(word: string): readonly LoweredFunction[];
  /** Memoise a value for the lifetime of this file analysis (replaces module-level caches). */
  memo<T>(key: string, compute: () => T): T;
  /** Memoise a pure function of `key` for the lifetime of the Analyzer (bounded; e.g. litmus verdicts). */
  sharedMemo<T>(key: string, compute: () => T): T;
  /** Every function of the file as index entries (name, lines, calls) without parsing. */
  readonly spans: readonly { name: string; startLine: number; endLine: number; calls: readonly string[] }[];
  summary(name: string): Summary | undefined;
  /** Modelled effects of a callee: the model's table, else its summary in view. */
  effectsOf(name: string): readonly Effect[];
  /** Call sites of a function in view: caller and the call op. */
  callersOf(name: string): { caller: LoweredFunction; op: CallOp }[];
  /** True when only hunk-visible lines are known (no kernel tree). */
  hunkOnly: boolean;
  /** Comment text ending on or just above a line (joined lines), '' if none. */
  commentAbove(line: number): string;
}

export interface RuleContext {
  readonly fn: LoweredFunction;
  readonly unit: UnitView;
  readonly model: Model;
  report(r: ReportInput): void;
}

export interface OpEvent {
  node: CfgNode;
  op: Op;
  effects: readonly Resolved[];
  pre: State;
  post: State;
  /** Path from the function entry to this point, as source lines. */
  path(): PathStep[];
}

export interface EdgeEvent {
  node: CfgNode;
  edge: Edge;
  pre: State;
  post: State;
  path(): PathStep[];
}

export interface ExitEvent {
  node: CfgNode;
  state: State;
  /** 'return' for return statements, 'end' for falling off the end. */
  how: 'return' | 'end';
  path(): PathStep[];
}

export interface RuleHandlers {
  op?(ev: OpEvent): void;
  edge?(ev: EdgeEvent): void;
  exit?(ev: ExitEvent): void;
  /** After all paths of the function were walked. */
  functionEnd?(): void;
}

export interface Rule {
  meta: RuleMeta;
  create(ctx: RuleContext): RuleHandlers;
}
