/**
 * Helpers shared by the reporters. Everything here is pure: reporters never
 * mutate the RunResult they are given.
 */
import { compareFindings, type Finding, type RunResult, type Severity } from '../types.js';

/** The findings a report shows, in the deterministic order of compareFindings. */
export function selectFindings(result: RunResult, showPreexisting: boolean): Finding[] {
  return result.findings.filter((f) => showPreexisting || !f.preexisting).sort(compareFindings);
}

/** How many pre-existing findings a report leaves out. */
export function hiddenPreexisting(result: RunResult, showPreexisting: boolean): number {
  return showPreexisting ? 0 : result.findings.filter((f) => f.preexisting).length;
}

/** `1 error`, `2 warnings`. */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'note'];

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, note: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** Number of distinct named functions (file + function) the findings are in. */
export function countFunctions(findings: readonly Finding[]): number {
  const keys = new Set<string>();
  for (const f of findings) if (f.function !== '') keys.add(`${f.file}\0${f.function}`);
  return keys.size;
}

/**
 * `3 findings (1 error, 2 warnings) in 2 functions`, or `no findings`.
 * Hidden pre-existing findings and input errors are appended when present.
 */
export function summaryLine(findings: readonly Finding[], hidden: number, inputErrors: number): string {
  let line: string;
  if (findings.length === 0) {
    line = 'no findings';
  } else {
    const counts = countBySeverity(findings);
    const parts = SEVERITIES.filter((s) => counts[s] > 0).map((s) => plural(counts[s], s));
    line = `${plural(findings.length, 'finding')} (${parts.join(', ')})`;
    const fns = countFunctions(findings);
    if (fns > 0) line += ` in ${plural(fns, 'function')}`;
  }
  if (hidden > 0) line += `, ${hidden} pre-existing not shown`;
  if (inputErrors > 0) line += `, ${plural(inputErrors, 'input')} not analysed`;
  return line;
}

/** Identity of the commit/patch group a finding belongs to ('' for none). */
export function groupKey(f: Finding): string {
  return f.commit === undefined && f.patch === undefined ? '' : `${f.commit ?? ''}\0${f.patch ?? ''}`;
}

/** `commit 0123456789ab <subject>` or `patch <name>`; '' when neither is set. */
export function groupHeader(f: Finding): string {
  if (f.commit !== undefined) {
    const sha = f.commit.slice(0, 12);
    return f.patch !== undefined && f.patch !== '' ? `commit ${sha} ${f.patch}` : `commit ${sha}`;
  }
  if (f.patch !== undefined) return `patch ${f.patch}`;
  return '';
}

/** Splits sorted findings into runs that share a commit/patch. */
export function groupFindings(findings: readonly Finding[]): { header: string; findings: Finding[] }[] {
  const groups: { key: string; header: string; findings: Finding[] }[] = [];
  for (const f of findings) {
    const key = groupKey(f);
    const last = groups[groups.length - 1];
    if (last !== undefined && last.key === key) last.findings.push(f);
    else groups.push({ key, header: groupHeader(f), findings: [f] });
  }
  return groups.map(({ header, findings: fs }) => ({ header, findings: fs }));
}

/** A source line without its line terminator. */
export function cleanSnippet(snippet: string): string {
  return (snippet.split('\n')[0] ?? '').replace(/\r$/, '');
}

/**
 * The whitespace that puts a caret under 1-based `column` of `line`: tabs in
 * the source are kept so the caret lines up whatever the tab width.
 */
export function caretPadding(line: string, column: number): string {
  let pad = '';
  for (let i = 0; i < Math.max(0, column - 1); i++) pad += line[i] === '\t' ? '\t' : ' ';
  return pad;
}

/** Greedy word wrap; words longer than `width` stay whole on their own line. */
export function wrap(text: string, width: number, indent = ''): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    const words = para.split(/[ \t]+/).filter((w) => w !== '');
    if (words.length === 0) {
      out.push('');
      continue;
    }
    let line = indent;
    for (const w of words) {
      if (line.length > indent.length && line.length + 1 + w.length > width) {
        out.push(line);
        line = indent;
      }
      line += line.length > indent.length ? ` ${w}` : w;
    }
    out.push(line);
  }
  return out;
}
