/** Running litmus files and directories (shared by the CLI and eval script). */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { expectationMatches, expectationMatchesStrict, formatCounts, parseExpectation, runLitmus, type LitmusResult } from './index.js';

export interface FileResult {
  file: string;
  result: LitmusResult;
  /** true/false: compared with the Result: line (judgelitmus.sh rules); undefined: not comparable. */
  match: boolean | undefined;
  /** Same, requiring the verdict word to match even for racy tests. */
  strict: boolean | undefined;
  ms: number;
}

/** All `*.litmus` files under a directory, recursively, sorted. */
export function listLitmusFiles(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else if (name.endsWith('.litmus')) out.push(p);
    }
  };
  walk(path);
  return out.sort();
}

export function runFile(file: string, maxStates?: number): FileResult {
  const text = readFileSync(file, 'utf8');
  const t0 = performance.now();
  const result = runLitmus(text, { maxStates });
  const ms = performance.now() - t0;
  return { file, result, match: expectationMatches(result), strict: expectationMatchesStrict(result), ms };
}

export function isUnsupported(r: LitmusResult): boolean {
  return r.verdict === 'unsupported' || r.verdict === 'too large';
}

export function observationLine(r: LitmusResult): string {
  if (r.verdict === 'Never' || r.verdict === 'Sometimes' || r.verdict === 'Always') {
    let s = `Observation ${r.name} ${r.verdict} ${formatCounts(r)}`;
    if (r.datarace) s += ' DATARACE';
    const other = (r.flags ?? []).filter((f) => f !== 'data-race');
    if (other.length > 0) s += ` Flag ${other.join(',')}`;
    if (r.deadlock) s += ' (no allowed executions: DEADLOCK)';
    if (r.countsBounded) s += ` (${r.countsBounded}: verdict decided without counting them all; counts are lower bounds)`;
    return s;
  }
  return `Observation ${r.name} ${r.verdict}${r.detail ? `: ${r.detail}` : ''}`;
}

export function describeExpected(r: LitmusResult): string {
  const e = parseExpectation(r.expected);
  if (!e) return r.expected ?? '';
  return e.verdict + (e.datarace ? ' DATARACE' : '');
}

export interface Summary {
  passed: number;
  failed: number;
  unsupported: number;
  skipped: number;
  errors: number;
  /** Passed under the strict comparison (verdict word and flag equal). */
  strictPassed: number;
}

export function summarize(rs: FileResult[]): Summary {
  const s: Summary = { passed: 0, failed: 0, unsupported: 0, skipped: 0, errors: 0, strictPassed: 0 };
  for (const r of rs) {
    if (!isUnsupported(r.result) && r.strict === true) s.strictPassed++;
    if (isUnsupported(r.result)) s.unsupported++;
    else if (r.match === true) s.passed++;
    else if (r.match === false) s.failed++;
    else {
      s.skipped++;
      if (r.result.verdict === 'error') s.errors++;
    }
  }
  return s;
}

export function groupByDir(rs: FileResult[], root: string): Map<string, FileResult[]> {
  const m = new Map<string, FileResult[]>();
  for (const r of rs) {
    const d = relative(root, dirname(r.file)) || '.';
    if (!m.has(d)) m.set(d, []);
    m.get(d)!.push(r);
  }
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
