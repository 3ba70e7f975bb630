/**
 * `kvmlint litmus FILE|DIR...`: runs litmus tests through the LKMM engine and
 * prints herd7-style observation lines; with `expect`, compares each verdict
 * with the file's `Result:` header line.
 */
import { existsSync } from 'node:fs';
import {
  describeExpected,
  isUnsupported,
  listLitmusFiles,
  observationLine,
  runFile,
  summarize,
  type FileResult,
} from '../analyzer/memory-model/corpus.js';

/**
 * Exit code: 2 when some input could not be run (a missing path, a file that
 * does not parse: one line on `err` each, naming it; the other files still
 * run), else 1 when --expect found a disagreement, else 0.
 */
export async function litmusCommand(
  paths: string[],
  opts: { expect?: boolean; out: (s: string) => void; err?: (s: string) => void },
): Promise<number> {
  const err = opts.err ?? opts.out;
  let badInput = false;
  const files: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) {
      err(`kvmlint: ${p}: no such file or directory`);
      badInput = true;
      continue;
    }
    files.push(...listLitmusFiles(p));
  }
  const results: FileResult[] = [];
  for (const f of files) {
    const r = runFile(f);
    results.push(r);
    if (r.result.verdict === 'error') {
      err(`kvmlint: ${f}: ${r.result.detail ?? 'cannot be run'}`);
      badInput = true;
      continue;
    }
    let line = observationLine(r.result);
    if (opts.expect) {
      if (isUnsupported(r.result)) line += '  [unsupported]';
      else if (r.match === true) line += '  [ok]';
      else if (r.match === false) line += `  [FAIL: expected ${describeExpected(r.result)}]`;
      else line += r.result.expected ? `  [skipped: Result: ${r.result.expected}]` : '  [skipped: no Result: line]';
    }
    opts.out(line);
  }
  if (opts.expect) {
    const s = summarize(results);
    opts.out(`${s.passed} passed, ${s.failed} failed, ${s.unsupported} unsupported`);
    opts.out(`${s.skipped} skipped (no comparable Result: line)${s.errors ? `, of which ${s.errors} could not be run (error)` : ''}`);
    if (badInput) return 2;
    return s.failed > 0 ? 1 : 0;
  }
  return badInput ? 2 : 0;
}
