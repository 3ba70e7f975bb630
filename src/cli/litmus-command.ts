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

export async function litmusCommand(paths: string[], opts: { expect?: boolean; out: (s: string) => void }): Promise<number> {
  const files: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) {
      opts.out(`error: no such file or directory: ${p}`);
      return 1;
    }
    files.push(...listLitmusFiles(p));
  }
  const results: FileResult[] = [];
  for (const f of files) {
    const r = runFile(f);
    results.push(r);
    let line = observationLine(r.result);
    if (opts.expect) {
      if (isUnsupported(r.result)) line += '  [unsupported]';
      else if (r.match === true) line += '  [ok]';
      else if (r.match === false) line += `  [FAIL: expected ${describeExpected(r.result)}]`;
      else line += r.result.expected ? `  [skipped: Result: ${r.result.expected}]` : '  [skipped: no Result: line]';
    }
    opts.out(line);
  }
  if (!opts.expect) return results.some((r) => r.result.verdict === 'error') ? 1 : 0;
  const s = summarize(results);
  opts.out(`${s.passed} passed, ${s.failed} failed, ${s.unsupported} unsupported`);
  opts.out(`${s.skipped} skipped (no comparable Result: line)${s.errors ? `, of which ${s.errors} could not be run (error)` : ''}`);
  return s.failed > 0 ? 1 : 0;
}
