/**
 * Developer tool: print the lowered CFG of the functions in a C file.
 * Usage: node dist/scripts/cfg-dump.js FILE [FUNCTION]
 */
import { readFileSync } from 'node:fs';
import { CParser } from '../src/analyzer/frontend/parse.js';
import { lowerFunction } from '../src/analyzer/cfg.js';
import { dumpCfg } from '../src/analyzer/cfg-dump.js';
import { Model } from '../src/model/index.js';

const [file, only] = process.argv.slice(2);
if (!file) {
  console.error('usage: cfg-dump FILE [FUNCTION]');
  process.exit(2);
}
const parsed = new CParser().parse(file, readFileSync(file, 'utf8'));
const model = new Model();
const fns = parsed.functions.filter((f) => !only || f.name === only);
if (fns.length === 0) {
  console.error(only ? `no function '${only}' in ${file}` : `no functions in ${file}`);
  process.exit(1);
}
if (parsed.hasErrors) console.error(`warning: ${file} has parse errors`);
console.log(fns.map((f) => dumpCfg(lowerFunction(f, { model, file: parsed }))).join('\n'));
