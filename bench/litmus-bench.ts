/**
 * Times the LKMM engine on a litmus directory (default: the kernel's 47
 * tests in ../shared/litmus/kernel-6.12).
 *
 *   node dist/bench/litmus-bench.js [DIR] [--runs N]
 */
import { existsSync } from 'node:fs';
import { listLitmusFiles, runFile } from '../src/analyzer/memory-model/corpus.js';

function main(argv: string[]): number {
  let dir = '../shared/litmus/kernel-6.12';
  let runs = 3;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else dir = argv[i]!;
  }
  if (!existsSync(dir)) {
    console.error(`litmus-bench: ${dir} not found`);
    return 2;
  }
  const files = listLitmusFiles(dir);
  const totals: number[] = [];
  let slowest: { file: string; ms: number }[] = [];
  for (let r = 0; r < runs; r++) {
    let total = 0;
    const per: { file: string; ms: number }[] = [];
    for (const f of files) {
      const res = runFile(f);
      total += res.ms;
      per.push({ file: f, ms: res.ms });
    }
    totals.push(total);
    slowest = per.sort((a, b) => b.ms - a.ms).slice(0, 5);
  }
  const sorted = totals.slice().sort((a, b) => a - b);
  console.log(`${files.length} tests, ${runs} runs: best ${sorted[0]!.toFixed(0)} ms, median ${sorted[Math.floor(runs / 2)]!.toFixed(0)} ms`);
  console.log('slowest (last run):');
  for (const s of slowest) console.log(`  ${s.ms.toFixed(1)} ms  ${s.file}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
