/**
 * herd7 compatibility of the litmus tests kvmlint writes (`explain
 * --litmus-out`, finding.litmus): herd7 itself is not available here, so this
 * checks what makes herd7 reject a C litmus test — primitives outside
 * linux-kernel.def ("Unknown macro"), a malformed header, comments where
 * herd7's lexer does not take them — and that the text runs in our engine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSrcuPublishFree } from '../src/analyzer/protocol.js';
import { LKMM_DEF_PRIMITIVES, buildLitmus, parseLitmus, runLitmus, type AbstractAccess } from '../src/analyzer/memory-model/index.js';
import { analyzeC } from './helpers.js';

const ROOT = join(__dirname, '..');
const DEF = new Set(LKMM_DEF_PRIMITIVES);

/** Reasons herd7 would refuse the text (empty when none). */
function herdProblems(text: string): string[] {
  const problems: string[] = [];
  const lines = text.split('\n');
  if (!/^C [A-Za-z0-9_+.\-]+$/.test(lines[0] ?? '')) problems.push(`bad header line '${lines[0]}'`);
  // Strip the (* ... *) comments and the // comments herd7 accepts after P headers.
  const body = text.replace(/\(\*[^]*?\*\)/g, ' ').replace(/\/\/[^\n]*/g, ' ');
  if (/\/\*/.test(body)) problems.push('C block comment');
  const threadStart = body.search(/^P\d+\s*\(/m);
  if (threadStart < 0) problems.push('no threads');
  const code = body.slice(threadStart);
  for (const m of code.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)) {
    const name = m[1]!;
    if (/^P\d+$/.test(name) || name === 'exists' || name === 'forall' || name === 'filter') continue;
    if (!DEF.has(name)) problems.push(`${name}() is not in linux-kernel.def`);
  }
  const ps = [...code.matchAll(/^P(\d+)\s*\(/gm)].map((m) => Number(m[1]));
  if (ps.some((p, i) => p !== i)) problems.push(`threads not numbered P0..P${ps.length - 1}`);
  if (!/^(exists|~exists|forall)\b/m.test(code)) problems.push('no final condition');
  return problems;
}

function expectHerdReady(text: string): void {
  expect(herdProblems(text)).toEqual([]);
  parseLitmus(text);
  expect(['Never', 'Sometimes', 'Always']).toContain(runLitmus(text).verdict);
}

describe('litmus tests written by kvmlint are herd7-ready', () => {
  it('the checker itself rejects what herd7 rejects', () => {
    expect(herdProblems('C ok\n{}\nP0(int *x) { smp_memb(); }\nexists (x=0)\n')).toEqual(['smp_memb() is not in linux-kernel.def']);
    expect(herdProblems('C two words\n{}\nP0(int *x) { }\nexists (x=0)\n')[0]).toMatch(/bad header/);
    expect(herdProblems('C t\n{}\nP1(int *x) { }\nexists (x=0)\n')).toContain('threads not numbered P0..P0');
  });

  it('buildLitmus output for every access order', () => {
    const stores: AbstractAccess['order'][] = ['once', 'plain', 'release', 'mb', 'rmw-mb'];
    const loads: AbstractAccess['order'][] = ['once', 'plain', 'acquire', 'mb', 'rmw-mb'];
    const fences: AbstractAccess['order'][] = ['mb', 'rmb', 'wmb', 'mb__after_atomic', 'mb__before_atomic'];
    for (const s of stores)
      for (const l of loads)
        for (const f of fences) {
          const text = buildLitmus(
            `t-${s}-${l}-${f}`,
            [
              { name: 'writer', accesses: [{ kind: 'store', variable: 'a', order: s }, { kind: 'fence', order: f }, { kind: 'load', variable: 'b', order: l }] },
              { name: 'reader', accesses: [{ kind: 'store', variable: 'b', order: s }, { kind: 'fence', order: f }, { kind: 'load', variable: 'a', order: l }] },
            ],
            '0:r0=0 /\\ 1:r0=0',
            'comment with a *) inside',
          );
          expectHerdReady(text);
        }
  });

  it('the SRCU publish-and-free test, with and without synchronize_srcu()', () => {
    for (const withSync of [true, false]) {
      const c = checkSrcuPublishFree('writer', { text: 'rcu_assign_pointer(...)', line: 3 }, { text: 'kvfree(old)', line: 5 }, withSync);
      expectHerdReady(c.litmus);
      expect(c.verdict).toBe(withSync ? 'Never' : 'Sometimes');
    }
  });

  it('every litmus test attached to a finding on the bundled fixtures', () => {
    const files = ['fixtures/c/lockless-count.c', 'fixtures/c/memslots-demo.c'];
    let n = 0;
    for (const f of files) {
      for (const finding of analyzeC(readFileSync(join(ROOT, f), 'utf8'), undefined, f)) {
        if (!finding.litmus) continue;
        n++;
        expectHerdReady(finding.litmus);
      }
    }
    expect(n).toBeGreaterThan(0);
  });
});
