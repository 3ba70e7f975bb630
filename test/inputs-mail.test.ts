import { describe, expect, it } from 'vitest';
import { decodeWords, parsePatchInput, parseSubject } from '../src/inputs/mail.js';

const BASE = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

function patchBody(file: string, oldLine: string, newLine: string): string[] {
  return [
    '---',
    ` ${file} | 2 +-`,
    ' 1 file changed, 1 insertion(+), 1 deletion(-)',
    '',
    `diff --git a/${file} b/${file}`,
    'index 3b18e512dba79e4c8300dd08aeb37f8e728b8dad..9a2e4bc1f0d1c3e8a7f6b5d4c3b2a1908f7e6d5c 100644',
    `--- a/${file}`,
    `+++ b/${file}`,
    '@@ -20,3 +20,3 @@ static void toy_flush(struct kvm *kvm)',
    ' \tspin_lock(&kvm->mmu_lock);',
    `-${oldLine}`,
    `+${newLine}`,
    ' \tspin_unlock(&kvm->mmu_lock);',
  ];
}

const COVER = [
  'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001',
  'From: Jane Hacker <jane@example.org>',
  'Date: Thu, 4 Jan 2024 10:00:00 +0100',
  'Subject: [PATCH v3 0/3] KVM: toy: fix flushing',
  'Message-Id: <cover.1704358800.git.jane@example.org>',
  '',
  'This series fixes a toy.',
  '',
  'Jane Hacker (3):',
  '  KVM: toy: one',
  '',
  `base-commit: ${BASE}`,
  '-- ',
  '2.43.0',
  '',
];

const P1 = [
  'From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001',
  'From: Jane Hacker <jane@example.org>',
  'Subject: [PATCH v3 1/3] KVM: toy: take the lock',
  'Message-Id: <20240104-1-jane@example.org>',
  'In-Reply-To: <cover.1704358800.git.jane@example.org>',
  'References: <cover.1704358800.git.jane@example.org>',
  '',
  'Take it.',
  '',
  'Signed-off-by: Jane Hacker <jane@example.org>',
  ...patchBody('arch/x86/kvm/toy.c', '\ttoy_zap(kvm);', '\ttoy_zap_locked(kvm);'),
  '-- ',
  '2.43.0',
  '',
];

// real-mbox separator, RFC 2047 subject folded over two lines, encoded author
const P2 = [
  'From jane@example.org Thu Jan  4 10:00:02 2024',
  'From: =?UTF-8?q?J=C3=B6rg_Hacker?= <joerg@example.org>',
  'Subject: =?UTF-8?q?=5BPATCH=20v3=202/3=5D=20KVM:=20toy:=20fix=20m=C3=A9?=',
  ' =?UTF-8?q?moslot_walk?=',
  'Message-ID: <20240104-2-jane@example.org>',
  'In-Reply-To: <cover.1704358800.git.jane@example.org>',
  '',
  'Walk it.',
  '',
  '>From the spec, memslots are per address space.',
  ...patchBody('virt/kvm/toy_slots.c', '\tslot = first(kvm);', '\tslot = first_as(kvm, 0);'),
  '-- ',
  '2.43.0',
  '',
];

// quoted-printable body: =3D, =09 (tab), soft line break
const P3 = [
  'From 3333333333333333333333333333333333333333 Mon Sep 17 00:00:00 2001',
  'From: "Hacker, Jane" <jane@example.org>',
  'Subject: [PATCH v3 3/3] KVM: toy: publish with a',
  ' barrier',
  'Message-Id: <20240104-3-jane@example.org>',
  'In-Reply-To: <cover.1704358800.git.jane@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset="utf-8"',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Publish it, caf=C3=A9.',
  '---',
  'diff --git a/arch/x86/kvm/toy.h b/arch/x86/kvm/toy.h',
  'index 3b18e512dba79e4c8300dd08aeb37f8e728b8dad..9a2e4bc1f0d1c3e8a7f6b5d4c3b2a1908f7e6d5c 100644',
  '--- a/arch/x86/kvm/toy.h',
  '+++ b/arch/x86/kvm/toy.h',
  '@@ -7,2 +7,2 @@ static inline void toy_publish(struct kvm_toy *t, int v)',
  '-=09t->ready =3D v;',
  '+=09smp_store_release(&t->ready, =',
  'v);',
  ' }',
  '-- =20',
  '2.43.0',
  '',
];

const REPLY = [
  'From bob@example.org Thu Jan  4 12:00:00 2024',
  'From: Bob Reviewer <bob@example.org>',
  'Subject: Re: [PATCH v3 1/3] KVM: toy: take the lock',
  'Message-Id: <reply-1@example.org>',
  'In-Reply-To: <20240104-1-jane@example.org>',
  '',
  '> -\ttoy_zap(kvm);',
  '> +\ttoy_zap_locked(kvm);',
  '',
  'Reviewed-by: Bob Reviewer <bob@example.org>',
  '',
];

describe('parsePatchInput', () => {
  it('parses a 3-patch mbox series with cover letter, RFC 2047 subject, QP body and base-commit', () => {
    // out of order on purpose: the series must come back sorted
    const mbox = [...COVER, ...P3, ...REPLY, ...P1, ...P2].join('\n');
    const { changes, errors } = parsePatchInput(mbox, 'series.mbox');
    expect(errors).toEqual([]);
    expect(changes.map((c) => [c.id, c.seriesIndex, c.seriesTotal, c.subject])).toEqual([
      ['PATCH 1/3', 1, 3, 'KVM: toy: take the lock'],
      ['PATCH 2/3', 2, 3, 'KVM: toy: fix mémoslot walk'],
      ['PATCH 3/3', 3, 3, 'KVM: toy: publish with a barrier'],
    ]);
    for (const c of changes) {
      expect(c.baseCommit).toBe(BASE);
      expect(c.inReplyTo).toBe('cover.1704358800.git.jane@example.org');
    }
    expect(changes.map((c) => c.messageId)).toEqual([
      '20240104-1-jane@example.org',
      '20240104-2-jane@example.org',
      '20240104-3-jane@example.org',
    ]);
    expect(changes.map((c) => c.author)).toEqual([
      'Jane Hacker <jane@example.org>',
      'Jörg Hacker <joerg@example.org>',
      'Hacker, Jane <jane@example.org>',
    ]);
    const f1 = changes[0]!.files[0]!;
    expect(f1.newPath).toBe('arch/x86/kvm/toy.c');
    expect(f1.oldBlob).toBe('3b18e512dba79e4c8300dd08aeb37f8e728b8dad');
    expect(f1.hunks[0]!.lines.map((l) => [l.kind, l.oldLine, l.newLine, l.text])).toEqual([
      ['ctx', 20, 20, '\tspin_lock(&kvm->mmu_lock);'],
      ['del', 21, undefined, '\ttoy_zap(kvm);'],
      ['add', undefined, 21, '\ttoy_zap_locked(kvm);'],
      ['ctx', 22, 22, '\tspin_unlock(&kvm->mmu_lock);'],
    ]);
    const f3 = changes[2]!.files[0]!;
    expect(f3.newPath).toBe('arch/x86/kvm/toy.h');
    expect(f3.hunks[0]!.lines.map((l) => [l.kind, l.text])).toEqual([
      ['del', '\tt->ready = v;'],
      ['add', '\tsmp_store_release(&t->ready, v);'],
      ['ctx', '}'],
    ]);
  });

  it('parses a single format-patch file, keeping its name as id', () => {
    const text = [...P1].join('\n');
    const { changes, errors } = parsePatchInput(text, '0001-KVM-toy-take-the-lock.patch');
    expect(errors).toEqual([]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      id: '0001-KVM-toy-take-the-lock.patch',
      subject: 'KVM: toy: take the lock',
      seriesIndex: 1,
      seriesTotal: 3,
      author: 'Jane Hacker <jane@example.org>',
    });
    expect(changes[0]!.baseCommit).toBeUndefined();
  });

  it('parses a single e-mail without mbox separator (b4 on stdin), CRLF line ends', () => {
    const text = P1.slice(1).join('\r\n');
    const { changes, errors } = parsePatchInput(text, '<stdin>');
    expect(errors).toEqual([]);
    expect(changes.map((c) => [c.id, c.subject, c.files[0]!.hunks[0]!.lines.length])).toEqual([
      ['<stdin>', 'KVM: toy: take the lock', 4],
    ]);
  });

  it('parses a bare unified diff', () => {
    const diff = patchBody('virt/kvm/toy.c', 'a', 'b').slice(4).join('\n') + '\n';
    const { changes, errors } = parsePatchInput(diff, 'fix.diff');
    expect(errors).toEqual([]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ id: 'fix.diff', subject: 'fix.diff' });
    expect(changes[0]!.files[0]!.newPath).toBe('virt/kvm/toy.c');
  });

  it('parses git show output', () => {
    const text = [
      'commit 4444444444444444444444444444444444444444',
      'Author: Jane Hacker <jane@example.org>',
      'Date:   Thu Jan 4 10:00:00 2024 +0100',
      '',
      '    KVM: toy: shown',
      '',
      ...patchBody('virt/kvm/toy.c', 'a', 'b').slice(4),
    ].join('\n');
    const { changes, errors } = parsePatchInput(text, 'show.txt');
    expect(errors).toEqual([]);
    expect(changes.map((c) => [c.id, c.subject, c.author])).toEqual([
      ['4444444444444444444444444444444444444444', 'KVM: toy: shown', 'Jane Hacker <jane@example.org>'],
    ]);
  });

  it('skips a cover letter alone and mails without a diff, without errors', () => {
    expect(parsePatchInput(COVER.join('\n'), 'cover.mbox')).toEqual({ changes: [], errors: [] });
    expect(parsePatchInput(REPLY.slice(1).join('\n'), 'reply.eml')).toEqual({ changes: [], errors: [] });
  });

  it('keeps only the newest version of a series', () => {
    const v2 = P1.map((l) => l.replace('[PATCH v3 1/3]', '[PATCH v2 1/3]').replace('toy_zap_locked', 'toy_zap_old'));
    const { changes } = parsePatchInput([...v2, ...P2, ...P1].join('\n'), 'thread.mbox');
    expect(changes.map((c) => c.id)).toEqual(['PATCH 1/3', 'PATCH 2/3']);
    expect(changes[0]!.files[0]!.hunks[0]!.lines[2]!.text).toBe('\ttoy_zap_locked(kvm);');
  });

  it('reports garbage and binary input with one-line errors naming the input', () => {
    for (const [text, name] of [
      ['Dear list,\nplease pull.\n--- not a diff\nthanks\n', 'notes.txt'],
      ['\u0000\u0001\u0002ELF\u0000\u0000binary', 'vmlinux'],
      ['   \n', 'empty.patch'],
    ] as const) {
      const r = parsePatchInput(text, name);
      expect(r.changes).toEqual([]);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]!.input).toBe(name);
      expect(r.errors[0]!.message).toContain(name);
      expect(r.errors[0]!.message).not.toMatch(/\n/);
    }
  });

  it('reports a truncated patch in a series but keeps the other patches', () => {
    const broken = P1.slice(0, P1.length - 4); // cut inside the hunk
    const { changes, errors } = parsePatchInput([...broken, '', ...P2].join('\n'), 'cut.mbox');
    expect(changes.map((c) => c.id)).toEqual(['PATCH 1/3', 'PATCH 2/3']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^cut\.mbox: PATCH 1\/3: truncated hunk/);
  });
});

describe('subject helpers', () => {
  it('parses bracket prefixes', () => {
    expect(parseSubject('[RFC PATCH v2 02/10] KVM: x86/mmu: Zap')).toEqual({
      subject: 'KVM: x86/mmu: Zap',
      index: 2,
      total: 10,
      version: 2,
      reply: false,
    });
    expect(parseSubject('Re: [PATCH] KVM: x')).toMatchObject({ subject: 'KVM: x', reply: true, version: 1 });
    expect(parseSubject('[PATCH 0/3] cover')).toMatchObject({ index: 0, total: 3 });
  });

  it('decodes RFC 2047 words, joining adjacent ones', () => {
    expect(decodeWords('=?utf-8?B?S1ZNOiDDqQ==?= =?utf-8?Q?t=C3=A9?= end')).toBe('KVM: été end');
    expect(decodeWords('=?ISO-8859-1?Q?J=F6rg?= <j@x>')).toBe('Jörg <j@x>');
    expect(decodeWords('plain subject')).toBe('plain subject');
  });
});
