/**
 * Types shared by every layer of kvmlint. Everything here is plain data and
 * JSON-serialisable: findings travel from the engine to the reporters, to the
 * bot's state store and across processes.
 */

export type Severity = 'error' | 'warning' | 'note';

/** How sure a rule is. Hunk-only analysis lowers a rule's base confidence by one step. */
export type Confidence = 'high' | 'medium' | 'low';

export interface Location {
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

export interface RelatedLocation {
  file: string;
  line: number;
  column?: number;
  message: string;
}

/** One step of the path that leads to a finding (for `kvmlint explain`). */
export interface PathStep {
  line: number;
  text: string;
}

export interface Finding {
  rule: string;
  severity: Severity;
  confidence: Confidence;
  file: string;
  line: number;
  column: number;
  /** Enclosing function name ('' for file scope). */
  function: string;
  message: string;
  related: RelatedLocation[];
  /** Commit the finding belongs to (range/staged/patch-with-tree). */
  commit?: string;
  /** Patch subject or file name (patch mode). */
  patch?: string;
  /** Position of the commit or patch in the run (range and series order); orders output. */
  seq?: number;
  /** True when the same finding exists in the pre-image (shown only with --all). */
  preexisting: boolean;
  /**
   * Line-independent identity: rule + function + rule-specific key (e.g. the
   * snapshot expressions), hashed. Stable when code moves.
   */
  fingerprint: string;
  /** The source line the finding points at (for text/email output). */
  snippet?: string;
  /** Path from function entry to the finding, as source lines. */
  path?: PathStep[];
  /** For barrier findings: the litmus program whose bad outcome the LKMM allows. */
  litmus?: string;
  /** A witness execution for the litmus program, printed readably. */
  witness?: string;
}

/** An input that could not be analysed; never fatal for the other inputs. */
export interface InputError {
  input: string;
  message: string;
}

export interface RunResult {
  findings: Finding[];
  errors: InputError[];
}

/** Deterministic order for findings: file, line, column, rule, message. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.seq ?? 0) - (b.seq ?? 0) ||
    cmp(a.commit ?? '', b.commit ?? '') ||
    cmp(a.patch ?? '', b.patch ?? '') ||
    cmp(a.file, b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    cmp(a.rule, b.rule) ||
    cmp(a.message, b.message)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Metadata of a rule, as listed by `kvmlint rules` and emitted in SARIF. */
export interface RuleMeta {
  id: string;
  severity: Severity;
  confidence: Confidence;
  /** One line. */
  summary: string;
  /** Relative path of the rule's documentation, e.g. docs/rules/<id>.md */
  docs: string;
  /** Seed thread subject(s) the rule comes from. */
  seeds: string[];
  /** Known causes of false positives (Coccinelle-style header). */
  falsePositives: string[];
  /** Message templates keyed by message id; `{name}` placeholders. */
  messages: Record<string, string>;
}
