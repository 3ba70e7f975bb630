/**
 * The reply the mailing-list bot sends to a patch: plain text, no colour,
 * prose wrapped at 72 columns (code is quoted unwrapped), deterministic.
 * When a subject, recipients or a Message-ID are given, RFC 5322 headers come
 * first; Date and Message-ID are left to the mailer.
 */
import type { Finding, RunResult } from '../types.js';
import type { EmailOptions } from './options.js';
import { cleanSnippet, groupFindings, hiddenPreexisting, plural, selectFindings, wrap } from './common.js';

const WIDTH = 72;
const HEADER_WIDTH = 78;

function isAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s);
}

/** RFC 2047 B-encoded words of at most 75 characters each. */
function encodeWords(value: string): string[] {
  const words: string[] = [];
  let chunk = '';
  for (const ch of value) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk !== '') words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`);
}

/** `Name: value`, folded at whitespace to stay within 78 columns where possible. */
export function foldHeader(name: string, value: string): string {
  const tokens = isAscii(value) ? value.split(' ').filter((t) => t !== '') : encodeWords(value);
  let line = `${name}:`;
  const lines: string[] = [];
  for (const t of tokens) {
    if (line.length + 1 + t.length > HEADER_WIDTH && line.length > name.length + 1) {
      lines.push(line);
      line = '';
    }
    line += ` ${t}`;
  }
  lines.push(line);
  return lines.join('\n');
}

function angle(id: string): string {
  const t = id.trim();
  return t.startsWith('<') ? t : `<${t}>`;
}

function headers(opts: EmailOptions): string[] {
  const h: string[] = [];
  if (opts.to !== undefined && opts.to.length > 0) h.push(foldHeader('To', opts.to.join(', ')));
  if (opts.subject !== undefined) {
    const s = opts.subject.trim();
    h.push(foldHeader('Subject', /^re:/i.test(s) ? s : `Re: ${s}`));
  }
  if (opts.inReplyTo !== undefined && opts.inReplyTo.trim() !== '') {
    h.push(`In-Reply-To: ${angle(opts.inReplyTo)}`);
    h.push(`References: ${angle(opts.inReplyTo)}`);
  }
  if (h.length === 0) return h;
  h.push('MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
  return h;
}

function findingBlock(f: Finding, n: number, total: number): string[] {
  const out: string[] = [];
  const where = f.function !== '' ? ` in ${f.function}()` : '';
  out.push(`[${n}/${total}] ${f.file}:${f.line}${where}`);
  out.push(`${f.rule} (${f.severity}, ${f.confidence} confidence)${f.preexisting ? ', pre-existing' : ''}`);
  if (f.snippet !== undefined) {
    out.push('');
    out.push(`> ${cleanSnippet(f.snippet)}`.trimEnd());
  }
  out.push('');
  out.push(...wrap(f.message, WIDTH));
  if (f.preexisting) {
    out.push(...wrap('This issue already exists before the patch; it is reported for completeness.', WIDTH));
  }
  if (f.related.length > 0) {
    out.push('');
    out.push('Related:');
    for (const r of f.related) {
      const lines = wrap(`${r.file}:${r.line}: ${r.message}`, WIDTH, '    ');
      lines[0] = `  ${lines[0]!.slice(4)}`;
      out.push(...lines);
    }
  }
  if (f.litmus !== undefined && f.litmus.trim() !== '') {
    out.push('');
    out.push('Litmus test (the Linux kernel memory model allows the bad outcome):');
    out.push('');
    out.push(...indentBlock(f.litmus));
  }
  if (f.witness !== undefined && f.witness.trim() !== '') {
    out.push('');
    out.push('Witness execution:');
    out.push('');
    out.push(...indentBlock(f.witness));
  }
  return out;
}

function indentBlock(text: string): string[] {
  return text
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => (l.trim() === '' ? '' : `    ${l.replace(/\s+$/, '')}`));
}

export function formatEmail(result: RunResult, opts: EmailOptions): string {
  const findings = selectFindings(result, opts.showPreexisting);
  const groups = groupFindings(findings);
  const series = groups.length > 1;
  const out: string[] = headers(opts);
  if (out.length > 0) out.push('');

  const what = series ? 'this series' : 'this patch';
  const issues = findings.length === 0 ? 'no possible concurrency issues' : `${plural(findings.length, 'possible concurrency issue')}`;
  out.push(...wrap(`kvmlint found ${issues} in ${what}.`, WIDTH));
  const hidden = hiddenPreexisting(result, opts.showPreexisting);
  if (hidden > 0) {
    out.push(...wrap(`${plural(hidden, 'issue')} that already existed before ${what} ${hidden === 1 ? 'is' : 'are'} not listed.`, WIDTH));
  }

  let n = 0;
  for (const g of groups) {
    if (series && g.header !== '') {
      out.push('');
      out.push(g.header);
      out.push('-'.repeat(Math.min(g.header.length, WIDTH)));
    }
    for (const f of g.findings) {
      out.push('');
      out.push(...findingBlock(f, ++n, findings.length));
    }
  }

  if (result.errors.length > 0) {
    out.push('');
    out.push('kvmlint could not analyse:');
    for (const e of result.errors) {
      const lines = wrap(`${e.input}: ${e.message}`, WIDTH, '    ');
      lines[0] = `  ${lines[0]!.slice(4)}`;
      out.push(...lines);
    }
  }

  out.push('');
  out.push('-- ');
  out.push(
    ...wrap(
      `This is an automated review by kvmlint ${opts.toolVersion}; findings can be false positives. ` +
        'To reproduce locally: "kvmlint patch <mbox> --tree <kernel tree>" (or "b4 am -o - <msgid> | kvmlint patch -"); "kvmlint explain" shows each path and litmus test.',
      WIDTH,
    ),
  );
  return out.join('\n') + '\n';
}
