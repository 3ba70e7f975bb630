/**
 * Compiler-style text output:
 *
 *   virt/kvm/kvm_main.c:120:9: error: memslots read twice [memslots-double-snapshot]
 *     120 | 	slots = kvm_memslots(kvm);
 *         | 	        ^
 *   virt/kvm/kvm_main.c:100: note: first snapshot here
 */
import { Chalk, type ChalkInstance } from 'chalk';
import type { Finding, RunResult, Severity } from '../types.js';
import type { ReportOptions } from './options.js';
import {
  caretPadding,
  cleanSnippet,
  groupFindings,
  hiddenPreexisting,
  selectFindings,
  summaryLine,
} from './common.js';

interface Palette {
  bold: (s: string) => string;
  dim: (s: string) => string;
  severity: (sev: Severity, s: string) => string;
  caret: (s: string) => string;
  header: (s: string) => string;
}

function palette(color: boolean): Palette {
  // A private instance at a fixed level: output never depends on the terminal.
  const c: ChalkInstance = new Chalk({ level: color ? 1 : 0 });
  const sev: Record<Severity, ChalkInstance> = { error: c.red.bold, warning: c.yellow.bold, note: c.cyan.bold };
  return {
    bold: (s) => c.bold(s),
    dim: (s) => c.dim(s),
    severity: (s, text) => sev[s](text),
    caret: (s) => c.green.bold(s),
    header: (s) => c.bold.underline(s),
  };
}

function findingLines(f: Finding, p: Palette): string[] {
  const lines: string[] = [];
  let head = `${p.bold(`${f.file}:${f.line}:${f.column}:`)} ${p.severity(f.severity, `${f.severity}:`)} ${f.message} ${p.dim(`[${f.rule}]`)}`;
  if (f.preexisting) head += ` ${p.dim('[pre-existing]')}`;
  lines.push(head);
  if (f.snippet !== undefined) {
    const src = cleanSnippet(f.snippet);
    const num = String(f.line);
    const gutter = ' '.repeat(num.length);
    lines.push(` ${num} | ${src}`);
    lines.push(` ${gutter} | ${caretPadding(src, f.column)}${p.caret('^')}`);
  }
  for (const r of f.related) {
    lines.push(`${p.bold(`${r.file}:${r.line}:`)} ${p.severity('note', 'note:')} ${r.message}`);
  }
  return lines;
}

export function formatText(result: RunResult, opts: ReportOptions): string {
  const p = palette(opts.color);
  const findings = selectFindings(result, opts.showPreexisting);
  const out: string[] = [];
  for (const group of groupFindings(findings)) {
    if (group.header !== '') {
      if (out.length > 0) out.push('');
      out.push(p.header(group.header));
    }
    for (const f of group.findings) out.push(...findingLines(f, p));
  }
  if (result.errors.length > 0 && out.length > 0) out.push('');
  for (const e of result.errors) out.push(`${p.bold('kvmlint:')} ${e.input}: ${e.message}`);
  if (out.length > 0) out.push('');
  out.push(summaryLine(findings, hiddenPreexisting(result, opts.showPreexisting), result.errors.length));
  return out.join('\n') + '\n';
}
