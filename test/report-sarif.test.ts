import { describe, expect, it } from 'vitest';
import type { Finding, RuleMeta, RunResult } from '../src/types.js';
import { FINGERPRINT_KEY, formatSarif, type ReportOptions } from '../src/report/index.js';
import { validateSarif } from '../src/report/sarif-schema.js';

function mk(over: Partial<Finding> = {}): Finding {
  return {
    rule: 'memslots-double-snapshot',
    severity: 'error',
    confidence: 'high',
    file: 'virt/kvm/kvm_main.c',
    line: 120,
    column: 10,
    function: 'kvm_set_memslot',
    message: 'memslots read twice in one SRCU read-side section',
    related: [],
    preexisting: false,
    fingerprint: 'fp-0',
    ...over,
  };
}

function rule(id: string, over: Partial<RuleMeta> = {}): RuleMeta {
  return {
    id,
    severity: 'warning',
    confidence: 'medium',
    summary: `summary of ${id}`,
    docs: `docs/rules/${id}.md`,
    seeds: [`seed thread for ${id}`],
    falsePositives: [],
    messages: {},
    ...over,
  };
}

// Deliberately not sorted by id: the driver sorts its rules.
const RULES: RuleMeta[] = [
  rule('tdp-mmu-root-leak'),
  rule('memslots-double-snapshot', { severity: 'error', confidence: 'high', falsePositives: ['intentional re-read'] }),
  rule('barrier-missing-smp-mb', { severity: 'note', confidence: 'low' }),
];

function opts(over: Partial<ReportOptions> = {}): ReportOptions {
  return { color: false, showPreexisting: false, toolVersion: '0.1.0', rules: RULES, ...over };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Log = any;

const RICH: RunResult = {
  findings: [
    mk({
      snippet: '\tslots = kvm_memslots(kvm);',
      related: [
        { file: 'virt/kvm/kvm_main.c', line: 100, column: 9, message: 'first snapshot' },
        { file: 'include/linux/kvm_host.h', line: 1000, message: 'kvm_memslots() reads kvm->memslots' },
      ],
      commit: '0123456789abcdef0123456789abcdef01234567',
      patch: 'KVM: x86: foo',
      path: [
        { line: 98, text: '\tidx = srcu_read_lock(&kvm->srcu);' },
        { line: 100, text: '\told = kvm_memslots(kvm);' },
      ],
    }),
    mk({ rule: 'barrier-missing-smp-mb', severity: 'note', confidence: 'low', file: 'arch/x86/kvm/x86.c', line: 9000, column: 2, function: 'vcpu_enter_guest', fingerprint: 'fp-b', litmus: 'C SB\n{}\n' }),
    mk({ rule: 'tdp-mmu-root-leak', severity: 'warning', file: 'arch/x86/kvm/mmu/tdp_mmu.c', line: 50, column: 1, function: '', preexisting: true, fingerprint: 'fp-c' }),
    mk({ rule: 'not-in-registry', severity: 'warning', file: 'virt/kvm/eventfd.c', line: 3, column: 1, fingerprint: 'fp-d' }),
  ],
  errors: [{ input: 'broken.patch', message: 'no hunks' }],
};

describe('sarif', () => {
  it('validates against the SARIF 2.1.0 schema', () => {
    for (const o of [opts(), opts({ showPreexisting: true }), opts({ cwd: '/home/dev/linux' })]) {
      const res = validateSarif(formatSarif(RICH, o));
      expect(res.errors).toEqual([]);
      expect(res.valid).toBe(true);
    }
    expect(validateSarif(formatSarif({ findings: [], errors: [] }, opts({ rules: [] })))).toEqual({ valid: true, errors: [] });
  });

  it('the validator rejects broken logs', () => {
    const good: Log = JSON.parse(formatSarif(RICH, opts()));
    const broken = (mutate: (log: Log) => void): string => {
      const copy = structuredClone(good);
      mutate(copy);
      return JSON.stringify(copy);
    };
    const cases = [
      broken((l) => delete l.version),
      broken((l) => (l.version = '2.0.0')),
      broken((l) => (l.runs[0].results[0].level = 'fatal')),
      broken((l) => (l.runs[0].results[0].locations[0].physicalLocation.region.startLine = 'one')),
      broken((l) => (l.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0)),
      broken((l) => (l.runs[0].results[0].baselineState = 'old')),
      broken((l) => delete l.runs[0].tool.driver.name),
      broken((l) => (l.runs[0].tool.driver.rules[0].helpUri = 'docs/rules/x.md')),
      broken((l) => (l.runs[0].bogus = true)),
    ];
    for (const c of cases) {
      const res = validateSarif(c);
      expect(res.valid, c.slice(0, 80)).toBe(false);
      expect(res.errors.length).toBeGreaterThan(0);
    }
    expect(validateSarif('{ not json').valid).toBe(false);
  });

  it('has one run, the tool driver and every known rule sorted by id', () => {
    const log: Log = JSON.parse(formatSarif(RICH, opts()));
    expect(log.version).toBe('2.1.0');
    expect(typeof log.$schema).toBe('string');
    expect(log.runs).toHaveLength(1);
    const driver = log.runs[0].tool.driver;
    expect(driver.name).toBe('kvmlint');
    expect(driver.version).toBe('0.1.0');
    expect(driver.rules.map((r: Log) => r.id)).toEqual([
      'barrier-missing-smp-mb',
      'memslots-double-snapshot',
      'tdp-mmu-root-leak',
      'not-in-registry',
    ]);
    const ms = driver.rules[1];
    expect(ms.name).toBe('MemslotsDoubleSnapshot');
    expect(ms.shortDescription.text).toBe('summary of memslots-double-snapshot');
    expect(ms.defaultConfiguration.level).toBe('error');
    expect(ms.properties).toMatchObject({
      confidence: 'high',
      docs: 'docs/rules/memslots-double-snapshot.md',
      falsePositives: ['intentional re-read'],
      seeds: ['seed thread for memslots-double-snapshot'],
    });
  });

  it('ruleIndex points at the rule of each result; order follows compareFindings', () => {
    const log: Log = JSON.parse(formatSarif(RICH, opts({ showPreexisting: true })));
    const run = log.runs[0];
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex].id).toBe(r.ruleId);
    expect(run.results.map((r: Log) => [r.ruleId, r.locations[0].physicalLocation.artifactLocation.uri, r.locations[0].physicalLocation.region.startLine])).toEqual([
      ['tdp-mmu-root-leak', 'arch/x86/kvm/mmu/tdp_mmu.c', 50],
      ['barrier-missing-smp-mb', 'arch/x86/kvm/x86.c', 9000],
      ['not-in-registry', 'virt/kvm/eventfd.c', 3],
      ['memslots-double-snapshot', 'virt/kvm/kvm_main.c', 120],
    ]);
  });

  it('sets baselineState and includes pre-existing results only when asked', () => {
    const hidden: Log = JSON.parse(formatSarif(RICH, opts()));
    expect(hidden.runs[0].results.map((r: Log) => r.ruleId)).not.toContain('tdp-mmu-root-leak');
    expect(new Set(hidden.runs[0].results.map((r: Log) => r.baselineState))).toEqual(new Set(['new']));
    const shown: Log = JSON.parse(formatSarif(RICH, opts({ showPreexisting: true })));
    const states = Object.fromEntries(shown.runs[0].results.map((r: Log) => [r.ruleId, r.baselineState]));
    expect(states).toEqual({
      'tdp-mmu-root-leak': 'unchanged',
      'barrier-missing-smp-mb': 'new',
      'not-in-registry': 'new',
      'memslots-double-snapshot': 'new',
    });
  });

  it('fills locations, related locations, fingerprints, properties and code flows', () => {
    const log: Log = JSON.parse(formatSarif(RICH, opts()));
    const r = log.runs[0].results.find((x: Log) => x.ruleId === 'memslots-double-snapshot');
    expect(r.level).toBe('error');
    expect(r.message.text).toBe('memslots read twice in one SRCU read-side section');
    expect(r.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: 'virt/kvm/kvm_main.c', uriBaseId: 'SRCROOT' },
      region: { startLine: 120, startColumn: 10, snippet: { text: '\tslots = kvm_memslots(kvm);' } },
    });
    expect(r.locations[0].logicalLocations).toEqual([{ name: 'kvm_set_memslot', kind: 'function' }]);
    expect(r.relatedLocations.map((l: Log) => [l.id, l.physicalLocation.artifactLocation.uri, l.physicalLocation.region.startLine, l.message.text])).toEqual([
      [1, 'virt/kvm/kvm_main.c', 100, 'first snapshot'],
      [2, 'include/linux/kvm_host.h', 1000, 'kvm_memslots() reads kvm->memslots'],
    ]);
    expect(r.partialFingerprints).toEqual({ [FINGERPRINT_KEY]: 'fp-0' });
    expect(FINGERPRINT_KEY).toBe('kvmlint/v1');
    expect(r.properties).toEqual({
      function: 'kvm_set_memslot',
      confidence: 'high',
      commit: '0123456789abcdef0123456789abcdef01234567',
      patch: 'KVM: x86: foo',
    });
    const steps = r.codeFlows[0].threadFlows[0].locations;
    expect(steps.map((s: Log) => s.location.physicalLocation.region.startLine)).toEqual([98, 100]);
    const b = log.runs[0].results.find((x: Log) => x.ruleId === 'barrier-missing-smp-mb');
    expect(b.codeFlows).toBeUndefined();
    expect(b.relatedLocations).toBeUndefined();
  });

  it('reports input errors as tool execution notifications', () => {
    const log: Log = JSON.parse(formatSarif(RICH, opts()));
    const inv = log.runs[0].invocations;
    expect(inv).toHaveLength(1);
    expect(inv[0].executionSuccessful).toBe(false);
    expect(inv[0].toolExecutionNotifications).toHaveLength(1);
    expect(inv[0].toolExecutionNotifications[0].level).toBe('error');
    expect(inv[0].toolExecutionNotifications[0].properties.input).toBe('broken.patch');
    const ok: Log = JSON.parse(formatSarif({ findings: [], errors: [] }, opts()));
    expect(ok.runs[0].invocations[0].executionSuccessful).toBe(true);
    expect(ok.runs[0].results).toEqual([]);
  });

  it('makes paths relative to cwd and declares SRCROOT', () => {
    const r: RunResult = {
      findings: [mk({ file: '/home/dev/linux/virt/kvm/kvm_main.c' }), mk({ file: '/elsewhere/x.c', fingerprint: 'fp-9' })],
      errors: [],
    };
    const text = formatSarif(r, opts({ cwd: '/home/dev/linux' }));
    expect(validateSarif(text).valid).toBe(true);
    const log: Log = JSON.parse(text);
    expect(log.runs[0].originalUriBaseIds).toEqual({ SRCROOT: { uri: 'file:///home/dev/linux/' } });
    const locs = log.runs[0].results.map((x: Log) => x.locations[0].physicalLocation.artifactLocation);
    expect(locs).toEqual([{ uri: 'file:///elsewhere/x.c' }, { uri: 'virt/kvm/kvm_main.c', uriBaseId: 'SRCROOT' }]);
  });

  it('is deterministic whatever the input order', () => {
    const shuffled: RunResult = { findings: [...RICH.findings].reverse(), errors: RICH.errors };
    expect(formatSarif(shuffled, opts({ rules: [...RULES].reverse() }))).toBe(formatSarif(RICH, opts()));
  });
});
