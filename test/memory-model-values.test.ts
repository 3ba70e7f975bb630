import { describe, expect, it } from 'vitest';
import { expectationMatches, expectationMatchesStrict, runLitmus, type LitmusResult } from '../src/analyzer/memory-model/index.js';

// herd7 solves value equations per candidate: a read's value is the value of
// the write it reads from, a write's value is computed from reads already
// determined. It never invents a constant; a cycle of plain copies is one
// free symbolic value; any computation in (or on) a cycle rejects the
// candidate.

function copyCycle(cond: string): string {
  return `C copy-cycle
{}
P0(int *a, int *b)
{
\tint r0;
\tr0 = *a;
\t*b = r0;
}
P1(int *a, int *b)
{
\tint r1;
\tr1 = *b;
\t*a = r1;
}
exists (${cond})
`;
}

describe('herd7 value semantics', () => {
  it('never produces a constant that only the condition mentions (thin air)', () => {
    const r = runLitmus(copyCycle('a=42'));
    expect(r.verdict).toBe('Never');
    // init/init, init/copy, copy/init and the symbolic copy cycle.
    expect([r.positive, r.negative]).toEqual([0, 4]);
    expect(r.datarace).toBe(true);
  });

  it('keeps the copy cycle as one symbolic execution, equal to no constant', () => {
    const r = runLitmus(copyCycle('~a=0'));
    expect(r.verdict).toBe('Sometimes');
    expect([r.positive, r.negative]).toEqual([1, 3]);
    expect(r.witness).toContain('S (symbolic)');
    expect(runLitmus(copyCycle('0:r0=1:r1 /\\ ~0:r0=0')).verdict).toBe('Sometimes');
  });

  it('rejects a cycle whose value is computed, even when it is a fixpoint', () => {
    // v = v & 3 holds for v = 3, but herd7 cannot solve the cyclic equation
    // (plain accesses: the LKMM itself does not forbid the cycle).
    const t = `C and-cycle
{}
P0(int *x, int *y)
{
\tint r0;
\tr0 = *x;
\t*y = r0 & 3;
}
P1(int *x, int *y)
{
\tint r1;
\tr1 = *y;
\t*x = r1;
}
exists (0:r0=3)
`;
    const r = runLitmus(t);
    expect(r.verdict).toBe('Never');
    expect(r.positive + r.negative).toBe(3);
  });

  it('rejects a branch on the symbolic value', () => {
    const t = `C branch-on-cycle
{}
P0(int *x, int *y, int *z)
{
\tint r0;
\tr0 = *x;
\tif (r0 == 1)
\t\tWRITE_ONCE(*z, 1);
\t*y = r0;
}
P1(int *x, int *y)
{
\tint r1;
\tr1 = *y;
\t*x = r1;
}
exists (z=1)
`;
    const r = runLitmus(t);
    expect(r.verdict).toBe('Never');
    // The symbolic cycle is rejected by the branch; three determined executions remain.
    expect(r.positive + r.negative).toBe(3);
  });

  it('still finds values that are computed from determined reads', () => {
    const t = `C chain
{}
P0(int *x, int *y)
{
\tint r0;
\tr0 = READ_ONCE(*x);
\tWRITE_ONCE(*y, r0 + 1);
}
P1(int *x, int *y)
{
\tint r1;
\tr1 = READ_ONCE(*y);
\tWRITE_ONCE(*x, r1 + 5);
}
exists (0:r0=6)
`;
    // P1 reads y=1 (P0 read 0 from init), writes 6; but then P0 read x before
    // P1 wrote it: 0:r0=6 needs the cycle, so Never; 1:r1=1 is reachable.
    expect(runLitmus(t).verdict).toBe('Never');
    expect(runLitmus(t.replace('exists (0:r0=6)', 'exists (1:r1=1 /\\ x=6)')).verdict).toBe('Sometimes');
  });

  it('keeps LB with data dependencies forbidden by the model, symbolic or not', () => {
    const t = `C LB+datas
{}
P0(int *x, int *y)
{
\tint r0;
\tr0 = READ_ONCE(*x);
\tWRITE_ONCE(*y, r0);
}
P1(int *x, int *y)
{
\tint r1;
\tr1 = READ_ONCE(*y);
\tWRITE_ONCE(*x, r1);
}
exists (~0:r0=0)
`;
    const r = runLitmus(t);
    expect(r.verdict).toBe('Never');
    expect(r.positive + r.negative).toBe(3);
  });
});

describe('Result: comparison (judgelitmus.sh rules)', () => {
  const res = (over: Partial<LitmusResult>): LitmusResult => ({
    name: 't',
    verdict: 'Sometimes',
    positive: 1,
    negative: 1,
    datarace: false,
    deadlock: false,
    ...over,
  });
  it('requires DATARACE and the data-race flag to go together', () => {
    expect(expectationMatches(res({ expected: 'Sometimes DATARACE' }))).toBe(false);
    expect(expectationMatches(res({ expected: 'Sometimes', datarace: true }))).toBe(false);
    expect(expectationMatches(res({ expected: 'Sometimes DATARACE', datarace: true }))).toBe(true);
  });
  it('forgives the verdict word when the data race is modeled', () => {
    const r = res({ expected: 'Never DATARACE', datarace: true });
    expect(expectationMatches(r)).toBe(true);
    expect(expectationMatchesStrict(r)).toBe(false);
    expect(expectationMatches(res({ expected: 'Never' }))).toBe(false);
  });
  it('treats DEADLOCK as "Never 0 0", and an unexpected Never 0 0 as a failure', () => {
    const dead = res({ verdict: 'Never', positive: 0, negative: 0, deadlock: true });
    expect(expectationMatches({ ...dead, expected: 'DEADLOCK' })).toBe(true);
    expect(expectationMatches({ ...dead, expected: 'Never' })).toBe(false);
    expect(expectationMatches(res({ expected: 'DEADLOCK' }))).toBe(false);
  });
  it('does not compare Maybe or caveated results', () => {
    expect(expectationMatches(res({ expected: 'Maybe' }))).toBeUndefined();
    expect(expectationMatches(res({ expected: 'Sometimes (but requires modeling the compiler)' }))).toBeUndefined();
    expect(expectationMatches(res({ verdict: 'too large', expected: 'Never' }))).toBeUndefined();
  });
});
