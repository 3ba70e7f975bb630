/**
 * `kvmlint explain`: for each finding, the path that leads to it, the other
 * side (related locations) and, for barrier findings, the litmus test whose bad
 * outcome the memory model allows, with a witness execution.
 */
import { z } from 'zod';
import type { Finding, RunResult } from '../types.js';
import { compareFindings } from '../types.js';

/** Schema of a `--format json` result, as read back by `explain --json` (extra keys allowed). */
const FindingSchema = z
  .object({
    rule: z.string(),
    severity: z.enum(['error', 'warning', 'note']),
    confidence: z.enum(['high', 'medium', 'low']),
    file: z.string(),
    line: z.number().int().nonnegative(),
    column: z.number().int().nonnegative(),
    function: z.string(),
    message: z.string(),
    related: z.array(z.object({ file: z.string(), line: z.number(), message: z.string() }).passthrough()),
    commit: z.string().optional(),
    patch: z.string().optional(),
    preexisting: z.boolean(),
    fingerprint: z.string(),
    path: z.array(z.object({ line: z.number(), text: z.string() })).optional(),
    litmus: z.string().optional(),
    witness: z.string().optional(),
  })
  .passthrough();

const ResultSchema = z.object({
  findings: z.array(FindingSchema),
  errors: z.array(z.object({ input: z.string(), message: z.string() })).default([]),
});

/** Parse a kvmlint JSON result; throws a one-line error naming what is wrong. */
export function parseJsonResult(text: string): RunResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const r = ResultSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`not a kvmlint JSON result: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return r.data as RunResult;
}

export interface Explanation {
  text: string;
  /** File name -> litmus text, for --litmus-out. */
  litmus: [string, string][];
}

function indent(s: string, by = '    '): string {
  return s
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

export function litmusFileName(f: Finding): string {
  return `${f.rule}-${f.function.replace(/\W+/g, '_')}-${f.fingerprint.slice(0, 8)}.litmus`;
}

export function explainFinding(f: Finding, n: number, total: number): string {
  const out: string[] = [];
  out.push(`[${n}/${total}] ${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.rule}]`);
  out.push(`    in ${f.function}()${f.commit ? `, commit ${f.commit.slice(0, 12)}` : ''}${f.patch ? `, ${f.patch}` : ''}; confidence ${f.confidence}${f.preexisting ? '; pre-existing' : ''}`);
  if (f.path && f.path.length) {
    out.push('  path:');
    for (const step of f.path) out.push(step.line ? `    ${String(step.line).padStart(5)} | ${step.text}` : `          ${step.text}`);
  }
  if (f.related.length) {
    out.push('  the other side:');
    for (const r of f.related) out.push(`    ${r.file}:${r.line}: ${r.message}`);
  }
  if (f.litmus) {
    out.push('  litmus test (LKMM allows the bad outcome):');
    out.push(indent(f.litmus.trimEnd()));
  }
  if (f.witness) {
    out.push('  witness:');
    out.push(indent(f.witness.trimEnd()));
  }
  return out.join('\n');
}

export function explainResult(result: RunResult): Explanation {
  const findings = [...result.findings].sort(compareFindings);
  const parts = findings.map((f, i) => explainFinding(f, i + 1, findings.length));
  const litmus: [string, string][] = findings.filter((f) => f.litmus).map((f) => [litmusFileName(f), f.litmus!.endsWith('\n') ? f.litmus! : `${f.litmus}\n`]);
  const text = parts.length ? `${parts.join('\n\n')}\n` : 'no findings\n';
  return { text, litmus };
}
