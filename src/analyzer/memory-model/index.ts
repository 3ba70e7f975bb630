/**
 * Linux-kernel memory model (LKMM) engine: parses herd7 litmus tests (C and
 * LISA), enumerates candidate executions and checks them against the LKMM
 * axioms (tools/memory-model/linux-kernel.cat), herd7-style.
 */
import { runTest, DEFAULT_MAX_STATES, type RunOptions } from './engine.js';
import { extractExpected, parseLitmus as parseLitmusImpl } from './parser.js';
import { TooLarge } from './thread.js';
import { LitmusSyntaxError, UnsupportedError, type LitmusResult, type LitmusTest } from './types.js';

export type { LitmusResult, LitmusTest, Verdict, Cond, CondAtom, Expr, Stmt, ThreadAst, InitEntry } from './types.js';
export { LitmusSyntaxError, UnsupportedError } from './types.js';
export { buildLitmus, type AbstractAccess, type AbstractThread } from './build.js';
export { DEFAULT_MAX_STATES };
export { LKMM_DEF_PRIMITIVES } from './herd-def.js';

/** Parses a litmus test; throws LitmusSyntaxError (with line) or UnsupportedError. */
export function parseLitmus(text: string): LitmusTest {
  return parseLitmusImpl(text);
}

function nameOf(text: string): string {
  const m = /^\s*\S+\s+(\S+)/.exec(text);
  return m ? m[1]! : '<unnamed>';
}

/** Parses and runs a litmus test; never throws. */
export function runLitmus(text: string, opts: Pick<RunOptions, 'maxStates' | 'prune' | 'decideStates'> = {}): LitmusResult {
  const expected = extractExpected(text);
  const fail = (verdict: LitmusResult['verdict'], detail: string): LitmusResult => ({
    name: nameOf(text),
    verdict,
    positive: 0,
    negative: 0,
    datarace: false,
    detail,
    expected,
  });
  try {
    const test = parseLitmusImpl(text);
    return runTest(test, opts);
  } catch (e) {
    if (e instanceof UnsupportedError) return fail('unsupported', e.construct);
    if (e instanceof TooLarge) return fail('too large', e.message);
    if (e instanceof LitmusSyntaxError) return fail('error', e.message);
    return fail('error', e instanceof Error ? e.message : String(e));
  }
}

/** herd7's observation line: "Observation <name> Never|Sometimes|Always <pos> <neg>". */
export function formatHerdObservation(r: LitmusResult): string {
  if (r.verdict === 'Never' || r.verdict === 'Sometimes' || r.verdict === 'Always') {
    return `Observation ${r.name} ${r.verdict} ${formatCounts(r)}`;
  }
  return `Observation ${r.name} ${r.verdict}${r.detail ? ` (${r.detail})` : ''}`;
}

/**
 * "<pos> <neg>"; when the executions were too many to count (countsBounded),
 * a count that is only a lower bound carries a "+" (a 0 is exact: the
 * verdict says no such execution exists).
 */
export function formatCounts(r: LitmusResult): string {
  const c = (k: number): string => (r.countsBounded && k > 0 ? `${k}+` : String(k));
  return `${c(r.positive)} ${c(r.negative)}`;
}

export interface ParsedExpectation {
  verdict: 'Never' | 'Sometimes' | 'Always' | 'DEADLOCK';
  datarace: boolean;
}

/**
 * Parses a `Result:` value. Values that do not name a herd7 outcome
 * ("Maybe", "Flag ...", or an outcome qualified by a parenthesised caveat
 * such as "Sometimes (but requires modeling the compiler)") are not
 * comparable and yield undefined.
 */
export function parseExpectation(expected: string | undefined): ParsedExpectation | undefined {
  if (expected === undefined) return undefined;
  const m = /^(Never|Sometimes|Always|DEADLOCK)\b\s*(DATARACE)?\s*([^]*)$/.exec(expected.trim());
  if (!m) return undefined;
  const rest = m[3]!.trim();
  if (rest !== '' && !/^[.;,]*$/.test(rest)) return undefined;
  return { verdict: m[1] as ParsedExpectation['verdict'], datarace: m[2] !== undefined };
}

/**
 * Compares a result with its `Result:` header, with the rules of the LKMM's
 * own judge (tools/memory-model/scripts/judgelitmus.sh), which is how the
 * corpus' `Result:` lines are maintained:
 *
 * 1. `DATARACE` in the Result line and herd7's `Flag data-race` must go
 *    together ("Predicted data race not modeled" / "Unexpected data race
 *    modeled" are failures).
 * 2. `DEADLOCK` means herd7's `Never 0 0` (no allowed execution), and a
 *    `Never 0 0` observation for any other Result is a failure.
 * 3. Otherwise the Never/Sometimes/Always word must match, except that a
 *    mismatch is forgiven when the data race is modeled: for racy tests the
 *    Result line states what compilers may do (tearing, load replication,
 *    ...), which the LKMM does not predict (explanation.txt: the LKMM
 *    "makes no predictions about the program's outcome").
 *
 * undefined when the test has no comparable Result line or the engine gave
 * no verdict (unsupported, too large).
 */
export function expectationMatches(r: LitmusResult): boolean | undefined {
  const exp = parseExpectation(r.expected);
  if (!exp) return undefined;
  if (r.verdict === 'unsupported' || r.verdict === 'too large') return undefined;
  if (r.verdict === 'error') return false;
  if (exp.datarace !== r.datarace) return false;
  if (exp.verdict === 'DEADLOCK') return r.deadlock === true;
  if (r.deadlock === true) return false;
  return exp.verdict === r.verdict || r.datarace;
}

/**
 * The stricter comparison (verdict word and flag both equal, no
 * forgiveness), reported next to the judged agreement.
 */
export function expectationMatchesStrict(r: LitmusResult): boolean | undefined {
  const exp = parseExpectation(r.expected);
  if (!exp) return undefined;
  if (r.verdict === 'unsupported' || r.verdict === 'too large') return undefined;
  if (r.verdict === 'error') return false;
  if (exp.verdict === 'DEADLOCK') return r.deadlock === true && !r.datarace && !exp.datarace;
  return exp.verdict === r.verdict && exp.datarace === r.datarace && r.deadlock !== true;
}
