/** Shared helpers for rule and engine tests. */
import { Analyzer } from '../src/analyzer/analyze.js';
import { Model } from '../src/model/index.js';
import { ALL_RULES, selectRules } from '../src/rules/index.js';
import type { Finding } from '../src/types.js';

/** Analyse C source with the given rules (default: all); returns findings sorted by line. */
export function analyzeC(code: string, rules?: string[], file = 'test.c', opts: { hunkOnly?: boolean; lines?: [number, number][] } = {}): Finding[] {
  const analyzer = new Analyzer(new Model(), rules ? selectRules(rules) : ALL_RULES);
  const res = analyzer.analyzeSource(file, code, opts);
  return [...res.findings].sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Compact form for assertions: `rule function:line`. */
export function brief(findings: Finding[]): string[] {
  return findings.map((f) => `${f.rule} ${f.function}:${f.line}`);
}

/** 1-based line of the first line containing `marker` (fixtures mark lines with comments like BAD1). */
export function lineOf(code: string, marker: string): number {
  const i = code.split('\n').findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`marker ${marker} not found`);
  return i + 1;
}
