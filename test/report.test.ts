import { describe, expect, it } from 'vitest';
import type { Finding, RuleMeta, RunResult } from '../src/types.js';
import {
  formatEmail,
  formatJson,
  formatSarif,
  formatText,
  render,
  type ReportOptions,
} from '../src/report/index.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

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

const RULES: RuleMeta[] = [
  {
    id: 'memslots-double-snapshot',
    severity: 'error',
    confidence: 'high',
    summary: 'Two memslots snapshots in one SRCU section',
    docs: 'docs/rules/memslots-double-snapshot.md',
    seeds: ['KVM: fix memslots double snapshot'],
    falsePositives: ['snapshot compared on purpose'],
    messages: { main: 'memslots read twice' },
  },
];

function opts(over: Partial<ReportOptions> = {}): ReportOptions {
  return { color: false, showPreexisting: false, toolVersion: '0.1.0', rules: RULES, ...over };
}

const lines = (s: string) => s.replace(/\n$/, '').split('\n');

describe('text', () => {
  it('prints one finding compiler-style with snippet, caret and related notes', () => {
    const f = mk({
      snippet: '\tslots = kvm_memslots(kvm);\n',
      related: [{ file: 'virt/kvm/kvm_main.c', line: 100, message: 'first snapshot here' }],
    });
    const out = formatText({ findings: [f], errors: [] }, opts());
    expect(lines(out)).toEqual([
      'virt/kvm/kvm_main.c:120:10: error: memslots read twice in one SRCU read-side section [memslots-double-snapshot]',
      ' 120 | \tslots = kvm_memslots(kvm);',
      '     | \t        ^',
      'virt/kvm/kvm_main.c:100: note: first snapshot here',
      '',
      '1 finding (1 error) in 1 function',
    ]);
    expect(out.endsWith('\n')).toBe(true);
  });

  it('puts the caret under the column', () => {
    const out = formatText({ findings: [mk({ line: 7, column: 5, snippet: 'a = READ_ONCE(x);' })], errors: [] }, opts());
    const [, src, caret] = lines(out);
    expect(src).toBe(' 7 | a = READ_ONCE(x);');
    expect(caret!.indexOf('^') - caret!.indexOf('|') - 2).toBe(4);
    expect(src![caret!.indexOf('^')]).toBe('R');
  });

  it('has no ANSI escapes without colour and has them with colour', () => {
    const r: RunResult = { findings: [mk({ snippet: 'x;' })], errors: [{ input: 'a.patch', message: 'bad' }] };
    const plain = formatText(r, opts({ color: false }));
    const coloured = formatText(r, opts({ color: true }));
    expect(plain).not.toMatch(ANSI);
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(ANSI, '')).toBe(plain);
  });

  it('sorts with compareFindings and does not mutate the input', () => {
    const a = mk({ file: 'arch/x86/kvm/mmu/mmu.c', line: 50, column: 1, function: 'f' });
    const b = mk({ file: 'virt/kvm/kvm_main.c', line: 10, column: 3, rule: 'srcu-missing-lock', function: 'g' });
    const c = mk({ file: 'virt/kvm/kvm_main.c', line: 10, column: 3, rule: 'memslots-double-snapshot', function: 'g' });
    const d = mk({ file: 'virt/kvm/kvm_main.c', line: 9, column: 8, function: 'g' });
    const input = [b, d, a, c];
    const out = formatText({ findings: input, errors: [] }, opts());
    const heads = lines(out).filter((l) => /: error: /.test(l)).map((l) => l.replace(/: error: .*\[(.*)\]$/, ' $1'));
    expect(heads).toEqual([
      'arch/x86/kvm/mmu/mmu.c:50:1 memslots-double-snapshot',
      'virt/kvm/kvm_main.c:9:8 memslots-double-snapshot',
      'virt/kvm/kvm_main.c:10:3 memslots-double-snapshot',
      'virt/kvm/kvm_main.c:10:3 srcu-missing-lock',
    ]);
    expect(input).toEqual([b, d, a, c]);
  });

  it('hides pre-existing findings unless asked, and marks them', () => {
    const r: RunResult = { findings: [mk(), mk({ line: 200, preexisting: true, fingerprint: 'fp-1' })], errors: [] };
    const hidden = lines(formatText(r, opts()));
    expect(hidden.filter((l) => l.startsWith('virt/')).map((l) => l.split(':')[1])).toEqual(['120']);
    expect(hidden.at(-1)).toBe('1 finding (1 error) in 1 function, 1 pre-existing not shown');
    const shown = lines(formatText(r, opts({ showPreexisting: true })));
    const heads = shown.filter((l) => l.startsWith('virt/'));
    expect(heads.map((l) => l.split(':')[1])).toEqual(['120', '200']);
    expect(heads[0]).not.toContain('[pre-existing]');
    expect(heads[1]!.endsWith('[memslots-double-snapshot] [pre-existing]')).toBe(true);
  });

  it('groups findings under one header per commit or patch', () => {
    const sha1 = 'aaaaaaaaaaaa1111111111111111111111111111';
    const sha2 = 'bbbbbbbbbbbb2222222222222222222222222222';
    const r: RunResult = {
      findings: [
        mk({ commit: sha2, line: 1 }),
        mk({ commit: sha1, patch: 'KVM: x86: take SRCU', line: 5 }),
        mk({ commit: sha2, line: 3 }),
        mk({ patch: '0001-KVM-fix.patch', line: 9 }),
      ],
      errors: [],
    };
    const out = lines(formatText(r, opts()));
    const shape = out.map((l) => (l.startsWith('virt/') ? `F${l.split(':')[1]}` : l));
    expect(shape).toEqual([
      'patch 0001-KVM-fix.patch',
      'F9',
      '',
      'commit aaaaaaaaaaaa KVM: x86: take SRCU',
      'F5',
      '',
      'commit bbbbbbbbbbbb',
      'F1',
      'F3',
      '',
      '4 findings (4 errors) in 1 function',
    ]);
  });

  it('prints input errors and the summary line', () => {
    const r: RunResult = {
      findings: [
        mk({ function: 'kvm_set_memslot' }),
        mk({ severity: 'warning', line: 130, function: 'kvm_set_memslot' }),
        mk({ severity: 'warning', file: 'arch/x86/kvm/x86.c', function: 'kvm_arch_vcpu_ioctl_run' }),
      ],
      errors: [{ input: 'HEAD~2..HEAD', message: 'unknown revision' }],
    };
    const out = lines(formatText(r, opts()));
    expect(out).toContain('kvmlint: HEAD~2..HEAD: unknown revision');
    expect(out.at(-1)).toBe('3 findings (1 error, 2 warnings) in 2 functions, 1 input not analysed');
    expect(lines(formatText({ findings: [], errors: [] }, opts()))).toEqual(['no findings']);
    expect(lines(formatText({ findings: [mk({ severity: 'note', function: '' })], errors: [] }, opts())).at(-1)).toBe(
      '1 finding (1 note)',
    );
  });

  it('render dispatches to each formatter', () => {
    const r: RunResult = { findings: [mk({ snippet: 'x;' })], errors: [] };
    const o = opts();
    expect(render('text', r, o)).toBe(formatText(r, o));
    expect(render('json', r, o)).toBe(formatJson(r, o));
    expect(render('sarif', r, o)).toBe(formatSarif(r, o));
    expect(render('email', r, o)).toBe(formatEmail(r, o));
  });
});

describe('json', () => {
  const full = mk({
    related: [{ file: 'virt/kvm/kvm_main.c', line: 100, column: 4, message: 'first snapshot' }],
    commit: '0123456789abcdef0123456789abcdef01234567',
    patch: 'KVM: x86: foo',
    snippet: 'slots = kvm_memslots(kvm);',
    path: [{ line: 99, text: 'idx = srcu_read_lock(&kvm->srcu);' }],
    litmus: 'C MP\n{}\n',
    witness: 'P0: W x=1',
  });

  it('has the fixed schema and key order, 2-space indent, trailing newline', () => {
    const out = formatJson({ findings: [full], errors: [{ input: 'x.patch', message: 'no diff' }] }, opts());
    expect(out.endsWith('}\n')).toBe(true);
    expect(out.split('\n')[1]).toBe('  "version": 1,');
    const doc = JSON.parse(out);
    expect(Object.keys(doc)).toEqual(['version', 'tool', 'findings', 'errors']);
    expect(doc.version).toBe(1);
    expect(doc.tool).toBe('kvmlint');
    expect(Object.keys(doc.findings[0])).toEqual([
      'rule', 'severity', 'confidence', 'file', 'line', 'column', 'function', 'message', 'related',
      'commit', 'patch', 'preexisting', 'fingerprint', 'path', 'litmus', 'witness',
    ]);
    expect(Object.keys(doc.findings[0].related[0])).toEqual(['file', 'line', 'message']);
    expect(doc.errors).toEqual([{ input: 'x.patch', message: 'no diff' }]);
  });

  it('omits undefined optional keys', () => {
    const doc = JSON.parse(formatJson({ findings: [mk()], errors: [] }, opts()));
    expect(Object.keys(doc.findings[0])).toEqual([
      'rule', 'severity', 'confidence', 'file', 'line', 'column', 'function', 'message', 'related', 'preexisting', 'fingerprint',
    ]);
  });

  it('round-trips finding data', () => {
    const doc = JSON.parse(formatJson({ findings: [full], errors: [] }, opts()));
    const { snippet: _s, related, ...rest } = full;
    expect(doc.findings[0]).toEqual({ ...rest, related: related.map(({ file, line, message }) => ({ file, line, message })) });
  });

  it('filters pre-existing findings and is independent of input order', () => {
    const fs = [mk({ line: 3 }), mk({ line: 1, preexisting: true }), mk({ line: 2, file: 'arch/x86/kvm/x86.c' })];
    const hidden = JSON.parse(formatJson({ findings: fs, errors: [] }, opts()));
    expect(hidden.findings.map((f: Finding) => `${f.file}:${f.line}`)).toEqual(['arch/x86/kvm/x86.c:2', 'virt/kvm/kvm_main.c:3']);
    const shown = formatJson({ findings: fs, errors: [] }, opts({ showPreexisting: true }));
    expect(JSON.parse(shown).findings.map((f: Finding) => f.line)).toEqual([2, 1, 3]);
    expect(formatJson({ findings: [...fs].reverse(), errors: [] }, opts({ showPreexisting: true }))).toBe(shown);
  });
});

describe('email', () => {
  const f1 = mk({
    snippet: '\tslots = kvm_memslots(kvm);',
    related: [{ file: 'virt/kvm/kvm_main.c', line: 100, message: 'the first snapshot is taken here' }],
    litmus: 'C kvm-memslots\n\n{}\n\nP0(int *x)\n{\n\tWRITE_ONCE(*x, 1);\n}\n',
    message:
      'The memslots array is read twice in the same SRCU read-side critical section; the two snapshots can differ if a memslot update completes in between, which makes the lookups inconsistent.',
  });
  const f2 = mk({ file: 'arch/x86/kvm/mmu/mmu.c', line: 7000, column: 2, rule: 'mmu-lock-missing', snippet: 'kvm_zap_gfn_range(kvm, 0, ~0ULL);', fingerprint: 'fp-2' });

  it('quotes the snippet, counts findings, lists related and litmus', () => {
    const out = lines(formatEmail({ findings: [f1, f2], errors: [] }, opts()));
    expect(out[0]).toMatch(/^kvmlint found 2 possible concurrency issues in this patch\.$/);
    expect(out).toContain('> \tslots = kvm_memslots(kvm);');
    expect(out).toContain('> kvm_zap_gfn_range(kvm, 0, ~0ULL);');
    // sorted: arch/ before virt/
    expect(out.findIndex((l) => l.startsWith('[1/2] arch/x86/kvm/mmu/mmu.c:7000'))).toBeGreaterThan(0);
    expect(out.findIndex((l) => l.startsWith('[2/2] virt/kvm/kvm_main.c:120 in kvm_set_memslot()'))).toBeGreaterThan(0);
    expect(out).toContain('  virt/kvm/kvm_main.c:100: the first snapshot is taken here');
    expect(out).toContain('    C kvm-memslots');
    expect(out).toContain('    \tWRITE_ONCE(*x, 1);');
    expect(out).toContain('-- ');
    expect(out.slice(out.indexOf('-- ')).join(' ')).toContain('0.1.0');
  });

  it('keeps prose within 78 columns, never colours and is deterministic', () => {
    const r: RunResult = { findings: [f1, f2], errors: [{ input: 'series.mbox', message: 'patch 3/5 does not apply' }] };
    const out = formatEmail(r, opts({ color: true }));
    expect(out).not.toMatch(ANSI);
    for (const l of lines(out)) if (!l.startsWith('>') && !l.startsWith('    ')) expect(l.length).toBeLessThanOrEqual(78);
    expect(formatEmail({ findings: [f2, f1], errors: r.errors }, opts({ color: true }))).toBe(out);
  });

  it('writes reply headers when asked', () => {
    const out = lines(
      formatEmail({ findings: [f1], errors: [] }, { ...opts(), subject: '[PATCH v2 1/3] KVM: x86: foo', to: ['kvm@vger.kernel.org', 'a@example.org'], inReplyTo: '20240101.abc@example.org' }),
    );
    expect(out.slice(0, 4)).toEqual([
      'To: kvm@vger.kernel.org, a@example.org',
      'Subject: Re: [PATCH v2 1/3] KVM: x86: foo',
      'In-Reply-To: <20240101.abc@example.org>',
      'References: <20240101.abc@example.org>',
    ]);
    const blank = out.indexOf('');
    expect(out[blank + 1]).toMatch(/^kvmlint found 1 possible concurrency issue in this patch\.$/);
    const re = lines(formatEmail({ findings: [], errors: [] }, { ...opts(), subject: 'Re: [PATCH] x' }));
    expect(re[0]).toBe('Subject: Re: [PATCH] x');
    expect(lines(formatEmail({ findings: [f1], errors: [] }, opts()))[0]).toMatch(/^kvmlint found/);
  });

  it('leaves out pre-existing findings unless asked', () => {
    const old = mk({ line: 5, preexisting: true, snippet: 'old_code();' });
    expect(formatEmail({ findings: [f1, old], errors: [] }, opts())).not.toContain('> old_code();');
    expect(formatEmail({ findings: [f1, old], errors: [] }, opts({ showPreexisting: true }))).toContain('> old_code();');
  });
});
