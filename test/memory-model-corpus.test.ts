import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listLitmusFiles, observationLine, runFile } from '../src/analyzer/memory-model/corpus.js';
import { litmusCommand } from '../src/cli/litmus-command.js';

// The corpus is external GPL data: use it when present, never copy it.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'litmus');
const kernel = join(root, 'kernel-6.12');

describe.skipIf(!existsSync(kernel))('kernel 6.12 litmus tests', () => {
  it('agree with every Result: line', () => {
    const files = listLitmusFiles(kernel);
    expect(files.length).toBe(47);
    const bad: string[] = [];
    const t0 = performance.now();
    for (const f of files) {
      const r = runFile(f);
      if (r.match !== true) bad.push(`${f}: expected ${r.result.expected}, got ${observationLine(r.result)}`);
    }
    const ms = performance.now() - t0;
    expect(bad).toEqual([]);
    expect(ms).toBeLessThan(10_000);
  });
  it('the litmus command reports 47 passed', async () => {
    const lines: string[] = [];
    const code = await litmusCommand([kernel], { expect: true, out: (s) => lines.push(s) });
    expect(code).toBe(0);
    expect(lines).toContain('47 passed, 0 failed, 0 unsupported');
  });
});
