/**
 * Patch input: an mbox (patch series from b4/lore or `git format-patch
 * --stdout`), a single e-mail / format-patch file, `git show`-style output,
 * or a bare unified diff.
 *
 * The small RFC 5322/2045/2047 subset that patches use is implemented here
 * (header unfolding, encoded words, quoted-printable and base64 bodies,
 * multipart with the patch inline or attached); it is synchronous, which
 * keeps this function pure.
 */
import { parseUnifiedDiffDetailed } from './diff.js';
import type { ChangeSet, FileChange, InputError } from './types.js';

export interface PatchInputResult {
  changes: ChangeSet[];
  errors: InputError[];
}

interface Message {
  headers: Map<string, string[]>;
  body: string;
}

interface Candidate {
  cs: ChangeSet;
  order: number;
  version: number;
  reply: boolean;
  cover: boolean;
  problems: string[];
  baseCommit?: string;
}

/** mbox "From " separator: `From <sha> Mon Sep 17 00:00:00 2001`, `From addr Thu Jan  1 00:00:00 2024`. */
const FROM_SEP_RE = /^From \S+ +\S.*\d{1,2}:\d{2}.*\d{4}\s*$/;
const HEADER_RE = /^[!-9;-~]+:/;
const BASE_COMMIT_RE = /^base-commit: *([0-9a-f]{7,64})\s*$/m;
const GIT_SHOW_RE = /^commit ([0-9a-f]{40}|[0-9a-f]{64})(?: .*)?$/;

/**
 * Parse patch input. `name` names the input in ids and error messages.
 * Cover letters (0/N), replies in a series mbox and messages without a diff
 * are skipped, not errors. A series is sorted by its `n/N` index and, when the
 * mbox holds several versions of it, only the highest version is kept.
 */
export function parsePatchInput(text: string, name: string): PatchInputResult {
  const errors: InputError[] = [];
  const fail = (message: string): PatchInputResult => ({
    changes: [],
    errors: [{ input: name, message: oneLine(`${name}: ${message}`) }],
  });
  if (text.trim().length === 0) return fail('empty input, not a patch, mbox or unified diff');
  if (looksBinary(text)) return fail('binary data, not a patch, mbox or unified diff');
  const norm = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const lines = norm.split('\n');

  const mbox = splitMbox(lines);
  const isMail = mbox !== null || looksLikeMail(lines);
  if (!isMail) {
    const commits = splitGitShow(lines);
    if (commits) return finishBare(commits, name);
    const { files, problems } = parseUnifiedDiffDetailed(norm);
    if (files.length === 0) return fail('not a patch, mbox or unified diff');
    const cs: ChangeSet = { id: name, subject: name, files };
    for (const p of problems) errors.push({ input: name, message: oneLine(`${name}: ${p}`) });
    return { changes: [cs], errors };
  }

  const raw = mbox ?? [lines];
  const many = raw.length > 1;
  const cands: Candidate[] = [];
  let seriesBase: string | undefined;
  raw.forEach((msgLines, k) => {
    const msg = parseMessage(msgLines);
    const subjectRaw = decodeWords(header(msg, 'subject') ?? '');
    const subj = parseSubject(subjectRaw);
    const bodyFrom = inBodyFrom(msg.body);
    const body = bodyFrom ? bodyFrom.rest : msg.body;
    const base = BASE_COMMIT_RE.exec(body)?.[1];
    const { files, problems } = parseUnifiedDiffDetailed(body);
    const cover = subj.index === 0;
    if (base && (cover || seriesBase === undefined)) seriesBase = base;
    const cs: ChangeSet = { id: '', subject: subj.subject, files };
    const author = bodyFrom?.author ?? cleanAddress(decodeWords(header(msg, 'from') ?? ''));
    if (author) cs.author = author;
    const mid = firstMsgId(header(msg, 'message-id'));
    if (mid) cs.messageId = mid;
    const irt = firstMsgId(header(msg, 'in-reply-to'));
    if (irt) cs.inReplyTo = irt;
    if (subj.index !== undefined) cs.seriesIndex = subj.index;
    if (subj.total !== undefined) cs.seriesTotal = subj.total;
    const c: Candidate = { cs, order: k, version: subj.version, reply: subj.reply, cover, problems };
    if (base) c.baseCommit = base;
    cands.push(c);
  });

  let patches = cands.filter((c) => !c.cover && c.cs.files.length > 0);
  if (many && patches.some((c) => !c.reply)) patches = patches.filter((c) => !c.reply);
  if (patches.length > 1) {
    const top = Math.max(...patches.map((c) => c.version));
    patches = patches.filter((c) => c.version === top);
    const coverOfTop = cands.find((c) => c.cover && c.version === top && c.baseCommit);
    if (coverOfTop) seriesBase = coverOfTop.baseCommit;
  }
  patches.sort((a, b) => (a.cs.seriesIndex ?? Infinity) - (b.cs.seriesIndex ?? Infinity) || a.order - b.order);

  const changes: ChangeSet[] = [];
  for (const c of patches) {
    const cs = c.cs;
    if (!many) cs.id = name;
    else if (cs.seriesIndex !== undefined) cs.id = `PATCH ${cs.seriesIndex}/${cs.seriesTotal ?? '?'}`;
    else cs.id = `${name}:${c.order + 1}`;
    const base = c.baseCommit ?? seriesBase;
    if (base) cs.baseCommit = base;
    for (const p of c.problems) errors.push({ input: name, message: oneLine(`${name}: ${cs.id}: ${p}`) });
    changes.push(cs);
  }
  return { changes, errors };
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function looksBinary(text: string): boolean {
  const sample = text.slice(0, 8192);
  if (sample.includes('\0')) return true;
  let bad = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 27) || c === 0xfffd || c === 0x7f) bad++;
  }
  return bad > sample.length * 0.05;
}

/** Messages of an mbox (mboxrd `>From ` unquoted), or null if the text does not start with a separator. */
function splitMbox(lines: string[]): string[][] | null {
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  if (!isSeparator(lines, i)) return null;
  const out: string[][] = [];
  let cur: string[] | null = null;
  for (; i < lines.length; i++) {
    if (isSeparator(lines, i)) {
      cur = [];
      out.push(cur);
      continue;
    }
    const l = lines[i]!;
    cur!.push(/^>+From /.test(l) ? l.slice(1) : l);
  }
  return out;
}

function isSeparator(lines: string[], i: number): boolean {
  const l = lines[i];
  if (l === undefined || !l.startsWith('From ') || !FROM_SEP_RE.test(l)) return false;
  const next = lines[i + 1];
  return next !== undefined && HEADER_RE.test(next);
}

function looksLikeMail(lines: string[]): boolean {
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  if (i >= lines.length || !HEADER_RE.test(lines[i]!) || lines[i]!.startsWith('diff ')) return false;
  let known = false;
  for (; i < lines.length && lines[i] !== ''; i++) {
    const l = lines[i]!;
    if (/^[ \t]/.test(l)) continue;
    if (!HEADER_RE.test(l)) return false;
    if (/^(from|subject|date|message-id|to):/i.test(l)) known = true;
  }
  return known;
}

function parseMessage(lines: string[]): Message {
  const headers = new Map<string, string[]>();
  let i = 0;
  let last: { key: string; idx: number } | null = null;
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') {
      i++;
      break;
    }
    if (/^[ \t]/.test(l) && last) {
      const arr = headers.get(last.key)!;
      arr[last.idx] += l; // unfold: drop the line break, keep the whitespace
      continue;
    }
    const colon = l.indexOf(':');
    if (colon <= 0) continue;
    const key = l.slice(0, colon).trim().toLowerCase();
    const value = l.slice(colon + 1).replace(/^[ \t]+/, '');
    const arr = headers.get(key) ?? [];
    arr.push(value);
    headers.set(key, arr);
    last = { key, idx: arr.length - 1 };
  }
  return { headers, body: decodeEntity(headers, lines.slice(i).join('\n'), 0) };
}

function header(msg: Message | { headers: Map<string, string[]> }, key: string): string | undefined {
  return msg.headers.get(key)?.[0]?.trim();
}

/** Decode a body according to its Content-Transfer-Encoding / Content-Type (multipart: text parts joined). */
function decodeEntity(headers: Map<string, string[]>, body: string, depth: number): string {
  const ctype = headers.get('content-type')?.[0] ?? 'text/plain';
  const mediaType = ctype.split(';')[0]!.trim().toLowerCase();
  if (mediaType.startsWith('multipart/') && depth < 5) {
    const boundary = param(ctype, 'boundary');
    if (boundary) {
      const texts: string[] = [];
      for (const part of splitMultipart(body, boundary)) {
        const pm = parsePart(part, depth + 1);
        if (pm !== null) texts.push(pm);
      }
      return texts.join('\n');
    }
  }
  const cte = (headers.get('content-transfer-encoding')?.[0] ?? '').trim().toLowerCase();
  const charset = param(ctype, 'charset') ?? 'utf-8';
  if (cte === 'quoted-printable') return decodeBytes(decodeQuotedPrintable(body), charset);
  if (cte === 'base64') return decodeBytes(Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'), charset);
  return body;
}

function splitMultipart(body: string, boundary: string): string[] {
  const lines = body.split('\n');
  const parts: string[] = [];
  let cur: string[] | null = null;
  for (const l of lines) {
    const t = l.trimEnd();
    if (t === `--${boundary}--`) {
      if (cur) parts.push(cur.join('\n'));
      cur = null;
      break;
    }
    if (t === `--${boundary}`) {
      if (cur) parts.push(cur.join('\n'));
      cur = [];
      continue;
    }
    cur?.push(l);
  }
  if (cur) parts.push(cur.join('\n'));
  return parts;
}

/** Text of one MIME part if it can hold a patch, else null. */
function parsePart(part: string, depth: number): string | null {
  const lines = part.split('\n');
  const headers = new Map<string, string[]>();
  let i = 0;
  let lastKey: string | null = null;
  for (; i < lines.length && lines[i] !== ''; i++) {
    const l = lines[i]!;
    if (/^[ \t]/.test(l) && lastKey) {
      const arr = headers.get(lastKey)!;
      arr[arr.length - 1] += l;
      continue;
    }
    const colon = l.indexOf(':');
    if (colon <= 0) continue;
    lastKey = l.slice(0, colon).trim().toLowerCase();
    const arr = headers.get(lastKey) ?? [];
    arr.push(l.slice(colon + 1).trim());
    headers.set(lastKey, arr);
  }
  const body = lines.slice(i + 1).join('\n');
  const ctype = (headers.get('content-type')?.[0] ?? 'text/plain').toLowerCase();
  const media = ctype.split(';')[0]!.trim();
  const filename = param(headers.get('content-disposition')?.[0] ?? '', 'filename') ?? param(ctype, 'name') ?? '';
  const ok =
    media.startsWith('multipart/') ||
    (media.startsWith('text/') && media !== 'text/html') ||
    /^application\/(x-)?(patch|diff)$/.test(media) ||
    /\.(patch|diff)$/i.test(filename);
  return ok ? decodeEntity(headers, body, depth) : null;
}

function param(value: string, key: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${key}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i');
  const m = re.exec(value);
  return m ? (m[1] ?? m[2]) : undefined;
}

export function decodeQuotedPrintable(s: string): Buffer {
  const bytes: number[] = [];
  const lines = s.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!.replace(/[ \t]+$/, '');
    let soft = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (c === '=') {
        if (i === line.length - 1) {
          soft = true;
          break;
        }
        const hex = line.slice(i + 1, i + 3);
        if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
          bytes.push(parseInt(hex, 16));
          i += 2;
          continue;
        }
      }
      const code = c.charCodeAt(0);
      if (code < 0x80) bytes.push(code);
      else for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
    }
    if (!soft && li < lines.length - 1) bytes.push(10);
  }
  return Buffer.from(bytes);
}

function decodeBytes(buf: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase()).decode(buf);
  } catch {
    return buf.toString('utf8');
  }
}

/** RFC 2047 encoded words (`=?utf-8?q?...?=`, `=?UTF-8?B?...?=`); whitespace between adjacent words is dropped. */
export function decodeWords(value: string): string {
  const re = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
  let out = '';
  let pos = 0;
  let charset = '';
  let bytes: Buffer[] = [];
  const flush = () => {
    if (bytes.length > 0) out += decodeBytes(Buffer.concat(bytes), charset);
    bytes = [];
  };
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    const between = value.slice(pos, m.index);
    const cs = m[1]!.split('*')[0]!.toLowerCase();
    const b = m[2]!.toLowerCase() === 'b' ? Buffer.from(m[3]!, 'base64') : decodeQuotedPrintable(m[3]!.replace(/_/g, ' '));
    const adjacent = bytes.length > 0 && /^[ \t]*$/.test(between);
    if (!(adjacent && cs === charset)) {
      flush();
      if (!adjacent) out += between;
      charset = cs;
    }
    bytes.push(b);
    pos = m.index + m[0].length;
  }
  flush();
  out += value.slice(pos);
  return out.replace(/[ \t]+/g, ' ').trim();
}

interface SubjectInfo {
  subject: string;
  index?: number;
  total?: number;
  version: number;
  reply: boolean;
}

/** `Re: [PATCH v3 2/8] KVM: x86: foo` -> index 2, total 8, version 3, subject `KVM: x86: foo`. */
export function parseSubject(raw: string): SubjectInfo {
  let s = raw.trim();
  let reply = false;
  const info: SubjectInfo = { subject: '', version: 1, reply: false };
  for (;;) {
    const re = /^(?:re|aw|sv|fwd?)\s*:\s*/i.exec(s);
    if (re) {
      reply = true;
      s = s.slice(re[0].length);
      continue;
    }
    const br = /^\[([^\]]*)\]\s*/.exec(s);
    if (!br) break;
    s = s.slice(br[0].length);
    for (const tok of br[1]!.split(/[\s,]+/)) {
      const n = /^0*(\d+)\/0*(\d+)$/.exec(tok);
      if (n) {
        info.index = Number(n[1]);
        info.total = Number(n[2]);
        continue;
      }
      const v = /^v(\d+)$/i.exec(tok);
      if (v) info.version = Number(v[1]);
    }
  }
  info.subject = s.trim();
  info.reply = reply;
  return info;
}

function firstMsgId(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const m = /<([^<>\s]+)>/.exec(v);
  if (m) return m[1];
  const t = v.trim().split(/\s+/)[0];
  return t || undefined;
}

function cleanAddress(v: string): string | undefined {
  let s = v.trim();
  if (!s) return undefined;
  const m = /^"((?:[^"\\]|\\.)*)"\s*(<[^>]*>)$/.exec(s);
  if (m) s = `${m[1]!.replace(/\\(.)/g, '$1')} ${m[2]}`;
  return s;
}

/** An in-body `From:` line (patch forwarded by someone else), as `git am` honours it. */
function inBodyFrom(body: string): { author: string | undefined; rest: string } | null {
  const m = /^\s*From:[ \t]*(.+)\n(?:\n|(?=Subject:|Date:))/.exec(body);
  if (!m) return null;
  return { author: cleanAddress(decodeWords(m[1]!)), rest: body.slice(m[0].length) };
}

/** `git show` / `git log -p` output: one ChangeSet per `commit <sha>` block, or null. */
function splitGitShow(lines: string[]): { sha: string; subject: string; parent?: string; author?: string; body: string }[] | null {
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  if (i >= lines.length || !GIT_SHOW_RE.test(lines[i]!)) return null;
  const out: { sha: string; subject: string; author?: string; body: string }[] = [];
  let start = i;
  const flush = (end: number) => {
    const block = lines.slice(start, end);
    const sha = GIT_SHOW_RE.exec(block[0]!)![1]!;
    let j = 1;
    let author: string | undefined;
    for (; j < block.length && block[j] !== ''; j++) {
      const a = /^Author:\s*(.*)$/.exec(block[j]!);
      if (a) author = a[1]!.trim();
    }
    let subject = '';
    for (; j < block.length; j++) {
      if (/^ {4}\S/.test(block[j]!)) {
        subject = block[j]!.trim();
        break;
      }
      if (block[j]!.startsWith('diff ')) break;
    }
    const item: { sha: string; subject: string; author?: string; body: string } = { sha, subject, body: block.join('\n') };
    if (author) item.author = author;
    out.push(item);
  };
  for (let k = i + 1; k < lines.length; k++) {
    if (GIT_SHOW_RE.test(lines[k]!) && (k + 1 >= lines.length || /^(Author|Merge|Date):/.test(lines[k + 1]!))) {
      flush(k);
      start = k;
    }
  }
  flush(lines.length);
  return out;
}

function finishBare(commits: { sha: string; subject: string; author?: string; body: string }[], name: string): PatchInputResult {
  const changes: ChangeSet[] = [];
  const errors: InputError[] = [];
  for (const c of commits) {
    const { files, problems } = parseUnifiedDiffDetailed(c.body);
    for (const p of problems) errors.push({ input: name, message: oneLine(`${name}: ${c.sha}: ${p}`) });
    if (files.length === 0) continue;
    const cs: ChangeSet = { id: c.sha, subject: c.subject || c.sha, files: files as FileChange[] };
    if (c.author) cs.author = c.author;
    changes.push(cs);
  }
  if (changes.length === 0 && errors.length === 0) {
    errors.push({ input: name, message: `${name}: no diff in git show output` });
  }
  return { changes, errors };
}
