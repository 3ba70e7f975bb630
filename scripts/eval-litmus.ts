/**
 * Runs a litmus corpus through the LKMM engine and reports agreement with
 * the tests' `Result:` lines.
 *
 *   node dist/scripts/eval-litmus.js DIR [--floor PCT] [--strict] [--max-states N]
 */
import { existsSync } from 'node:fs';
import {
  describeExpected,
  groupByDir,
  isUnsupported,
  listLitmusFiles,
  observationLine,
  runFile,
  summarize,
} from '../src/analyzer/memory-model/corpus.js';

function main(argv: string[]): number {
  let dir: string | undefined;
  let floor: number | undefined;
  let strict = false;
  let maxStates: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--floor') floor = Number(argv[++i]);
    else if (a === '--strict') strict = true;
    else if (a === '--max-states') maxStates = Number(argv[++i]);
    else if (!dir) dir = a;
    else {
      console.error(`unexpected argument ${a}`);
      return 2;
    }
  }
  if (!dir || !existsSync(dir)) {
    console.error('usage: eval-litmus DIR [--floor PCT] [--strict] [--max-states N]');
    return 2;
  }
  const t0 = performance.now();
  const results = listLitmusFiles(dir).map((f) => runFile(f, maxStates));
  const total = performance.now() - t0;
  console.log('Per-directory agreement (tests with a comparable Result: line):');
  for (const [d, rs] of groupByDir(results, dir)) {
    const s = summarize(rs);
    const cmp = s.passed + s.failed;
    const pct = cmp ? ((100 * s.passed) / cmp).toFixed(1) + '%' : '-';
    console.log(`  ${d}: ${s.passed}/${cmp} agree (${pct}); ${rs.length} tests, ${s.unsupported} unsupported`);
  }
  const bad = results.filter((r) => r.match === false);
  console.log(`\nDisagreements (${bad.length}):`);
  for (const r of bad) console.log(`  ${r.file}: expected ${describeExpected(r.result)}, got ${observationLine(r.result)}`);
  const forgiven = results.filter((r) => r.match === true && r.strict === false);
  console.log(`\nVerdict differs but forgiven because the data race is modeled, as judgelitmus.sh does (${forgiven.length}):`);
  for (const r of forgiven) console.log(`  ${r.file}: expected ${describeExpected(r.result)}, got ${observationLine(r.result)}`);
  const uns = results.filter((r) => isUnsupported(r.result));
  console.log(`\nUnsupported (${uns.length}):`);
  for (const r of uns) console.log(`  ${r.file}: ${r.result.verdict}: ${r.result.detail ?? ''}`);
  const errs = results.filter((r) => r.result.verdict === 'error' && r.match === undefined);
  if (errs.length) {
    console.log(`\nErrors without a comparable Result: line (${errs.length}):`);
    for (const r of errs) console.log(`  ${r.file}: ${r.result.detail ?? ''}`);
  }
  const slow = results.filter((r) => r.ms > 1000).sort((a, b) => b.ms - a.ms);
  if (slow.length) {
    console.log(`\nSlowest tests:`);
    for (const r of slow.slice(0, 10)) console.log(`  ${r.file}: ${(r.ms / 1000).toFixed(2)} s`);
  }
  const s = summarize(results);
  const cmp = s.passed + s.failed;
  const agreement = cmp ? (100 * s.passed) / cmp : 100;
  console.log(
    `\n${results.length} tests in ${(total / 1000).toFixed(1)} s; agreement ${agreement.toFixed(2)}% on ${cmp} tests with a Result: line; ` +
      `unsupported ${((100 * s.unsupported) / Math.max(1, results.length)).toFixed(1)}%; ${s.skipped} skipped`,
  );
  console.log(`${s.passed} passed, ${s.failed} failed, ${s.unsupported} unsupported`);
  console.log(`strict (verdict word and flag equal, no forgiveness): ${s.strictPassed}/${cmp} = ${cmp ? ((100 * s.strictPassed) / cmp).toFixed(2) : '100.00'}%`);
  if (floor !== undefined && agreement < floor) {
    console.log(`agreement ${agreement.toFixed(2)}% is below the floor ${floor}%`);
    return 1;
  }
  if (strict && s.failed > 0) return 1;
  return 0;
}

process.exitCode = main(process.argv.slice(2));
