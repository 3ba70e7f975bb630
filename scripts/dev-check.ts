/**
 * Developer tool: run rules over C files and print `file:line function rule: message`.
 * Usage: node dist/scripts/dev-check.js [--rules a,b] FILE|DIR...
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Analyzer } from '../src/analyzer/analyze.js';
import { Model } from '../src/model/index.js';
import { selectRules } from '../src/rules/index.js';

function* files(p: string): Generator<string> {
  if (statSync(p).isDirectory()) {
    for (const e of readdirSync(p).sort()) yield* files(join(p, e));
  } else if (/\.[ch]$/.test(p)) yield p;
}

const args = process.argv.slice(2);
let ids: string[] | undefined;
const ri = args.indexOf('--rules');
if (ri >= 0) {
  ids = args[ri + 1].split(',');
  args.splice(ri, 2);
}
const analyzer = new Analyzer(new Model(), selectRules(ids));
const t0 = Date.now();
let n = 0;
for (const a of args) {
  for (const f of files(a)) {
    try {
      const r = analyzer.analyzeSource(f, readFileSync(f, 'utf8'));
      for (const x of r.findings) {
        n++;
        console.log(`${f}:${x.line} ${x.function} ${x.rule} [${x.severity}/${x.confidence}]: ${x.message}`);
      }
    } catch (e) {
      console.log(`${f}: CRASH ${(e as Error).stack}`);
    }
  }
}
console.error(`${n} findings, ${analyzer.stats.files} files, ${analyzer.stats.functions} functions, ${Date.now() - t0} ms`);
