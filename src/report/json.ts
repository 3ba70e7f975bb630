/**
 * Stable JSON schema (version 1). Key order is fixed by construction; optional
 * keys are omitted rather than written as null.
 */
import type { Finding, RunResult } from '../types.js';
import type { ReportOptions } from './options.js';
import { selectFindings } from './common.js';

export const JSON_SCHEMA_VERSION = 1;

function jsonFinding(f: Finding): Record<string, unknown> {
  const o: Record<string, unknown> = {
    rule: f.rule,
    severity: f.severity,
    confidence: f.confidence,
    file: f.file,
    line: f.line,
    column: f.column,
    function: f.function,
    message: f.message,
    related: f.related.map((r) => ({ file: r.file, line: r.line, message: r.message })),
  };
  if (f.commit !== undefined) o.commit = f.commit;
  if (f.patch !== undefined) o.patch = f.patch;
  o.preexisting = f.preexisting;
  o.fingerprint = f.fingerprint;
  if (f.path !== undefined) o.path = f.path.map((s) => ({ line: s.line, text: s.text }));
  if (f.litmus !== undefined) o.litmus = f.litmus;
  if (f.witness !== undefined) o.witness = f.witness;
  return o;
}

export function formatJson(result: RunResult, opts: ReportOptions): string {
  const doc = {
    version: JSON_SCHEMA_VERSION,
    tool: 'kvmlint',
    findings: selectFindings(result, opts.showPreexisting).map(jsonFinding),
    errors: result.errors.map((e) => ({ input: e.input, message: e.message })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
