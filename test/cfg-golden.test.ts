/**
 * Golden CFG fixtures: one small C file per kernel macro shape in
 * fixtures/c/cfg/, with the expected dump next to it (<shape>.cfg).
 * `UPDATE_GOLDEN=1 npx vitest run test/cfg-golden.test.ts` rewrites the dumps;
 * every rewritten dump must then be reviewed by hand (see fixtures/c/cfg/README.md).
 */
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CParser } from '../src/analyzer/frontend/parse.js';
import { lowerFunction } from '../src/analyzer/cfg.js';
import { dumpCfg } from '../src/analyzer/cfg-dump.js';
import { indexFile } from '../src/analyzer/frontend/index-file.js';
import { Model } from '../src/model/index.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'c', 'cfg');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const parser = new CParser();
const model = new Model();

function dumpFile(file: string): { dump: string; hasErrors: boolean } {
  const parsed = parser.parse(file, readFileSync(join(DIR, file), 'utf8'));
  const dump = parsed.functions.map((f) => dumpCfg(lowerFunction(f, { model, file: parsed }))).join('\n');
  return { dump, hasErrors: parsed.hasErrors };
}

const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.c')).sort();

describe('golden CFG dumps', () => {
  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(20);
  });

  for (const file of fixtures) {
    it(file, () => {
      const { dump, hasErrors } = dumpFile(file);
      expect(hasErrors, `${file} does not parse cleanly`).toBe(false);
      const golden = join(DIR, file.replace(/\.c$/, '.cfg'));
      if (UPDATE || !existsSync(golden)) {
        if (!UPDATE) throw new Error(`missing golden ${golden}; run with UPDATE_GOLDEN=1 and review it`);
        writeFileSync(golden, dump);
        return;
      }
      expect(dump).toBe(readFileSync(golden, 'utf8'));
    });
  }

  // The analyzer lowers each function on its own (index, then parse the span); it must
  // give the same CFG as lowering from the whole-file parse.
  it('per-function lowering (the analyzer\'s path) matches the whole-file dumps', () => {
    for (const file of fixtures) {
      const source = readFileSync(join(DIR, file), 'utf8');
      const index = indexFile(file, source);
      const dumps = index.functions.map((span) => {
        const parsed = parser.parseFunction(span);
        expect(parsed, `${file}: ${span.name}`).not.toBeNull();
        expect(parsed!.hasErrors, `${file}: ${span.name} parses`).toBe(false);
        return dumpCfg(lowerFunction(parsed!.info, { model, file: { path: file, columns: parsed!.columns }, lineOffset: span.startLine - 1 }));
      });
      expect(dumps.join('\n'), file).toBe(dumpFile(file).dump);
    }
  });

  it('is deterministic across parses', () => {
    for (const file of fixtures) expect(dumpFile(file).dump).toBe(dumpFile(file).dump);
  });
});
