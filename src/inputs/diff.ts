/**
 * Unified-diff parsing shared by every input mode (git log stream, staged
 * diff, mailed patches).
 *
 * The text is first split into per-file sections by a small line scanner that
 * understands git's extended headers (rename/copy, modes, `index`, binary
 * markers) and counts hunk lines, so that hunk boundaries are exact even when
 * a deleted line starts with `-- ` or a mailer stripped the blank of an empty
 * context line. The hunk bodies are then handed to parse-diff, which assigns
 * the old/new line numbers.
 */
import parseDiff from 'parse-diff';
import type { FileChange, Hunk, HunkLine } from './types.js';

export interface ParsedDiff {
  files: FileChange[];
  /** One-line descriptions of malformed parts (e.g. a truncated hunk); the rest is still parsed. */
  problems: string[];
}

interface RawHunk {
  oldStart: number;
  newStart: number;
  section: string;
  /** Body lines, `\ No newline at end of file` markers removed. */
  body: string[];
  oldCount: number;
  newCount: number;
}

interface Section {
  git: boolean;
  gitLine?: string;
  minus?: string;
  plus?: string;
  renameFrom?: string;
  renameTo?: string;
  isNew: boolean;
  isDeleted: boolean;
  oldBlob?: string;
  newBlob?: string;
  binary: boolean;
  hunks: RawHunk[];
}

const HUNK_RE = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$/;
const INDEX_RE = /^index ([0-9a-fA-F]+)\.\.([0-9a-fA-F]+)(?: \d+)?$/;
const FULL_ID_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const ZERO_ID_RE = /^0+$/;

/** Parse a unified diff (git or plain `diff -u`) into file changes. Text around the diff is ignored. */
export function parseUnifiedDiff(text: string): FileChange[] {
  return parseUnifiedDiffDetailed(text).files;
}

/** Like {@link parseUnifiedDiff}, also reporting malformed parts. */
export function parseUnifiedDiffDetailed(text: string): ParsedDiff {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const problems: string[] = [];
  const sections = scan(lines, problems);
  const files: FileChange[] = [];
  for (const s of sections) {
    const fc = toFileChange(s);
    if (fc) files.push(fc);
  }
  return { files, problems };
}

function scan(lines: string[], problems: string[]): Section[] {
  const sections: Section[] = [];
  let cur: Section | null = null;
  let hunk: RawHunk | null = null;
  let remOld = 0;
  let remNew = 0;
  const newSection = (git: boolean): Section => {
    const s: Section = { git, isNew: false, isDeleted: false, binary: false, hunks: [] };
    sections.push(s);
    return s;
  };
  const endHunk = () => {
    if (hunk && (remOld > 0 || remNew > 0)) {
      problems.push(
        `truncated hunk @@ -${hunk.oldStart} +${hunk.newStart} @@ in ${displayPath(cur)} (${remOld} old/${remNew} new lines missing)`,
      );
    }
    hunk = null;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (hunk !== null) {
      const line = raw;
      const h: RawHunk = hunk;
      if (remOld > 0 || remNew > 0) {
        const c = line.length === 0 ? ' ' : line[0];
        if (c === ' ' && remOld > 0 && remNew > 0) {
          remOld--;
          remNew--;
          h.body.push(line);
          h.oldCount++;
          h.newCount++;
          continue;
        }
        if (c === '-' && remOld > 0) {
          remOld--;
          h.body.push(line);
          h.oldCount++;
          continue;
        }
        if (c === '+' && remNew > 0) {
          remNew--;
          h.body.push(line);
          h.newCount++;
          continue;
        }
        if (c === '\\') continue;
        endHunk(); // malformed: fall through and treat the line as a header/junk line
      } else {
        if (line.startsWith('\\')) continue;
        hunk = null;
      }
    }

    const line = stripCr(raw);
    if (line.startsWith('diff --git ')) {
      cur = newSection(true);
      cur.gitLine = line.slice('diff --git '.length);
      continue;
    }
    if (line.startsWith('diff --cc ') || line.startsWith('diff --combined ')) {
      cur = null; // combined (merge) diffs are not supported; their hunks start with @@@ and are skipped
      continue;
    }
    if (line.startsWith('--- ') && i + 1 < lines.length && lines[i + 1]!.startsWith('+++ ')) {
      const gitHeader = cur !== null && cur.git && cur.minus === undefined && cur.hunks.length === 0 && !cur.binary;
      if (!gitHeader) {
        // A plain `diff -u` file header must be followed by a hunk, or it is prose.
        if (!(i + 2 < lines.length && HUNK_RE.test(stripCr(lines[i + 2]!)))) continue;
        cur = newSection(false);
      }
      cur!.minus = line.slice(4);
      cur!.plus = stripCr(lines[i + 1]!).slice(4);
      i++;
      continue;
    }
    const m = HUNK_RE.exec(line);
    if (m) {
      if (cur === null) continue;
      const oldLines = m[2] === undefined ? 1 : Number(m[2]);
      const newLines = m[4] === undefined ? 1 : Number(m[4]);
      hunk = {
        oldStart: Number(m[1]),
        newStart: Number(m[3]),
        section: m[5]!.replace(/^ /, '').trimEnd(),
        body: [],
        oldCount: 0,
        newCount: 0,
      };
      cur.hunks.push(hunk);
      remOld = oldLines;
      remNew = newLines;
      continue;
    }
    if (cur === null || !cur.git || cur.hunks.length > 0) continue;
    // git extended header lines
    if (line.startsWith('new file mode ')) cur.isNew = true;
    else if (line.startsWith('deleted file mode ')) cur.isDeleted = true;
    else if (line.startsWith('rename from ') || line.startsWith('copy from ')) {
      cur.renameFrom = unquote(line.slice(line.indexOf(' from ') + 6));
    } else if (line.startsWith('rename to ') || line.startsWith('copy to ')) {
      cur.renameTo = unquote(line.slice(line.indexOf(' to ') + 4));
    } else if (line.startsWith('index ')) {
      const im = INDEX_RE.exec(line);
      if (im) {
        const a = im[1]!.toLowerCase();
        const b = im[2]!.toLowerCase();
        if (FULL_ID_RE.test(a) && !ZERO_ID_RE.test(a)) cur.oldBlob = a;
        if (FULL_ID_RE.test(b) && !ZERO_ID_RE.test(b)) cur.newBlob = b;
        if (ZERO_ID_RE.test(a)) cur.isNew = true;
        if (ZERO_ID_RE.test(b)) cur.isDeleted = true;
      }
    } else if (line === 'GIT binary patch' || (line.startsWith('Binary files ') && line.endsWith(' differ'))) {
      cur.binary = true;
    }
  }
  if (hunk !== null) endHunk();
  return sections;
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

function displayPath(s: Section | null): string {
  if (!s) return '?';
  const p = (s.plus !== undefined ? headerPath(s.plus) : null) ?? (s.minus !== undefined ? headerPath(s.minus) : null);
  if (p !== null) return p.replace(/^[ab]\//, '');
  return s.gitLine ?? '?';
}

function toFileChange(s: Section): FileChange | null {
  let oldPath: string | null | undefined;
  let newPath: string | null | undefined;
  if (s.minus !== undefined) oldPath = headerPath(s.minus);
  if (s.plus !== undefined) newPath = headerPath(s.plus);
  if (s.renameFrom !== undefined) oldPath = s.renameFrom;
  if (s.renameTo !== undefined) newPath = s.renameTo;
  if ((oldPath === undefined || newPath === undefined) && s.gitLine !== undefined) {
    const [a, b] = splitGitLine(s.gitLine);
    if (oldPath === undefined) oldPath = a;
    if (newPath === undefined) newPath = b;
  }
  if (s.isNew) oldPath = null;
  if (s.isDeleted) newPath = null;
  if (oldPath === undefined) oldPath = null;
  if (newPath === undefined) newPath = null;
  if (oldPath === null && newPath === null) return null;

  // Prefix stripping: git diffs always carry a one-component prefix (a/, b/ or
  // a mnemonic one) unless made with --no-prefix; plain diffs are -p1 by kernel
  // convention but may also be in-tree, so only strip what is clearly a prefix.
  if (s.git) {
    const fromHeaders = s.renameFrom === undefined && s.renameTo === undefined;
    if (fromHeaders) {
      oldPath = oldPath === null ? null : stripGitPrefix(oldPath, 'old');
      newPath = newPath === null ? null : stripGitPrefix(newPath, 'new');
    }
  } else {
    [oldPath, newPath] = stripPlainPrefixes(oldPath, newPath);
  }

  const fc: FileChange = { oldPath, newPath, hunks: convertHunks(s.hunks) };
  if (s.oldBlob && oldPath !== null) fc.oldBlob = s.oldBlob;
  if (s.newBlob && newPath !== null) fc.newBlob = s.newBlob;
  if (s.binary) fc.binary = true;
  return fc;
}

function headerPath(raw: string): string | null {
  let p = raw;
  if (p.startsWith('"')) {
    const end = findQuoteEnd(p, 0);
    p = unquote(p.slice(0, end + 1));
  } else {
    const tab = p.indexOf('\t');
    if (tab >= 0) p = p.slice(0, tab);
    else {
      // plain diffs may append a timestamp after spaces
      const ts = /\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [+-]\d{4})?\s*$/.exec(p);
      if (ts) p = p.slice(0, ts.index);
    }
    p = p.trimEnd();
  }
  if (p === '/dev/null') return null;
  return p;
}

const GIT_PREFIX_RE = /^[abciwo12]\//;

function stripGitPrefix(p: string, side: 'old' | 'new'): string {
  if (side === 'old' && p.startsWith('a/')) return p.slice(2);
  if (side === 'new' && p.startsWith('b/')) return p.slice(2);
  return GIT_PREFIX_RE.test(p) ? p.slice(2) : p;
}

function stripPlainPrefixes(a: string | null, b: string | null): [string | null, string | null] {
  const strip = (p: string | null, pre: string) => (p !== null && p.startsWith(pre) ? p.slice(pre.length) : p);
  if ((a === null || a.startsWith('a/')) && (b === null || b.startsWith('b/'))) return [strip(a, 'a/'), strip(b, 'b/')];
  // `--- linux-6.1.orig/x.c` / `+++ linux-6.1/x.c`: same tail below different top directories
  if (a !== null && b !== null) {
    const ia = a.indexOf('/');
    const ib = b.indexOf('/');
    if (ia > 0 && ib > 0 && a.slice(0, ia) !== b.slice(0, ib) && a.slice(ia) === b.slice(ib)) {
      return [a.slice(ia + 1), b.slice(ib + 1)];
    }
  }
  return [a, b];
}

/** Split the `a/x b/y` tail of a `diff --git` line (paths keep their prefixes). */
function splitGitLine(rest: string): [string | null, string | null] {
  if (rest.startsWith('"')) {
    const end = findQuoteEnd(rest, 0);
    const a = unquote(rest.slice(0, end + 1));
    const b = unquote(rest.slice(end + 1).trim());
    return [a, b];
  }
  if (rest.endsWith('"')) {
    const start = rest.lastIndexOf(' "');
    if (start >= 0) return [rest.slice(0, start), unquote(rest.slice(start + 1))];
  }
  // Unrenamed: "P1 P2" with P1 and P2 equal after their one-component prefixes.
  if ((rest.length - 1) % 2 === 0) {
    const half = (rest.length - 1) / 2;
    const a = rest.slice(0, half);
    const b = rest.slice(half + 1);
    if (rest[half] === ' ' && a.slice(a.indexOf('/') + 1) === b.slice(b.indexOf('/') + 1)) return [a, b];
  }
  const sp = rest.indexOf(' b/');
  if (sp >= 0) return [rest.slice(0, sp), rest.slice(sp + 1)];
  const mid = rest.indexOf(' ');
  return mid < 0 ? [rest, rest] : [rest.slice(0, mid), rest.slice(mid + 1)];
}

function findQuoteEnd(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return s.length - 1;
}

/** Undo git's C-style path quoting (`"a/t\303\244st\tx"`); unquoted input is returned as is. */
export function unquote(s: string): string {
  if (!(s.length >= 2 && s.startsWith('"') && s.endsWith('"'))) return s;
  const body = s.slice(1, -1);
  const bytes: number[] = [];
  const pushStr = (t: string) => {
    for (const b of Buffer.from(t, 'utf8')) bytes.push(b);
  };
  const esc: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, '"': 34 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      pushStr(c);
      continue;
    }
    const n = body[i + 1];
    if (n !== undefined && /[0-7]/.test(n)) {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i + 1))![0];
      bytes.push(parseInt(oct, 8) & 0xff);
      i += oct.length;
    } else if (n !== undefined && n in esc) {
      bytes.push(esc[n]!);
      i++;
    } else if (n !== undefined) {
      pushStr(n);
      i++;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function convertHunks(raw: RawHunk[]): Hunk[] {
  const useful = raw.filter((h) => h.oldCount + h.newCount > 0);
  if (useful.length === 0) return [];
  // Re-emit the hunks with their actual line counts (a truncated hunk keeps
  // what it has) and let parse-diff number the lines.
  const parts: string[] = ['--- a/f', '+++ b/f'];
  for (const h of useful) {
    parts.push(`@@ -${h.oldStart},${h.oldCount} +${h.newStart},${h.newCount} @@`);
    for (const l of h.body) parts.push(l);
  }
  const parsed = parseDiff(parts.join('\n'));
  const chunks = parsed[0]?.chunks ?? [];
  const out: Hunk[] = [];
  for (let k = 0; k < useful.length; k++) {
    const h = useful[k]!;
    const chunk = chunks[k];
    const lines: HunkLine[] = [];
    if (chunk) {
      for (const c of chunk.changes) {
        if (c.content.startsWith('\\')) continue; // parse-diff duplicates "\ No newline" markers
        const text = stripCr(c.content.slice(1));
        if (c.type === 'normal') lines.push({ kind: 'ctx', text, oldLine: c.ln1, newLine: c.ln2 });
        else if (c.type === 'del') lines.push({ kind: 'del', text, oldLine: c.ln });
        else lines.push({ kind: 'add', text, newLine: c.ln });
      }
    }
    out.push({
      oldStart: h.oldStart,
      oldLines: h.oldCount,
      newStart: h.newStart,
      newLines: h.newCount,
      section: h.section,
      lines,
    });
  }
  return out;
}

/**
 * Render file changes back into a unified diff that `git apply` accepts
 * (used to apply a mailed patch onto a tree). Lost on the way: binary parts
 * and "\ No newline at end of file" markers.
 */
export function renderUnifiedDiff(files: readonly import('./types.js').FileChange[]): string {
  const out: string[] = [];
  for (const fc of files) {
    if (fc.binary) continue;
    const a = fc.oldPath ?? fc.newPath ?? '';
    const b = fc.newPath ?? fc.oldPath ?? '';
    out.push(`diff --git a/${a} b/${b}`);
    if (fc.oldPath === null) out.push('new file mode 100644');
    if (fc.newPath === null) out.push('deleted file mode 100644');
    out.push(fc.oldPath === null ? '--- /dev/null' : `--- a/${fc.oldPath}`);
    out.push(fc.newPath === null ? '+++ /dev/null' : `+++ b/${fc.newPath}`);
    for (const h of fc.hunks) {
      out.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@${h.section ? ` ${h.section}` : ''}`);
      for (const l of h.lines) out.push(`${l.kind === 'add' ? '+' : l.kind === 'del' ? '-' : ' '}${l.text}`);
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
