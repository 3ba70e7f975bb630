/**
 * Line-preserving preprocessing of kernel C before tree-sitter sees it.
 *
 * tree-sitter-c parses C, not the kernel's macro dialect. We rewrite the text so
 * that the grammar sees the shape the macros expand to, while every token keeps
 * its line (no newline is ever added or removed) and columns can be mapped back:
 *
 *  - preprocessor directives are blanked; of an `#if/#elif/#else` chain only the
 *    first branch is kept (`#if 0` keeps the `#else` branch instead), so a
 *    directive in the middle of a statement cannot break the parse;
 *  - annotations that take the place of a type or declarator (`__must_check`,
 *    `__acquires(x)`, `__rcu`, ...) are blanked;
 *  - `FNAME(name)` (paging_tmpl.h) becomes the identifier `FNAME_name_`;
 *  - inline assembly `asm volatile(...)` becomes a call `ASM_volatile()` with its
 *    operands blanked;
 *  - a macro used as a whole top-level declaration without `;` is blanked;
 *  - an iterator macro used as a statement head, `for_each_x(args) stmt`, becomes
 *    `for (for_each_x(args);;) stmt`, and `scoped_guard(c, args) stmt` becomes
 *    `for (scoped_guard(c, args);;) stmt`; the CFG builder recognises both.
 *
 * Column shifts introduced by insertions are recorded per line in `ColumnMap`.
 */

export interface Insertion {
  /** 0-based column in the rewritten line where the inserted text starts. */
  newCol: number;
  length: number;
}

export class ColumnMap {
  private readonly byLine = new Map<number, Insertion[]>();

  add(line: number, ins: Insertion): void {
    const list = this.byLine.get(line);
    if (list) list.push(ins);
    else this.byLine.set(line, [ins]);
  }

  /** Map a 0-based (row, column) of the rewritten text to the original column. */
  original(row: number, col: number): number {
    const list = this.byLine.get(row);
    if (!list) return col;
    let shift = 0;
    for (const ins of list) {
      if (ins.newCol + ins.length <= col) shift += ins.length;
      else if (ins.newCol <= col) return Math.max(0, ins.newCol - shift);
    }
    return col - shift;
  }

  /**
   * `text`, which starts at 0-based (row, col) of the rewritten text, without
   * the characters the rewriting inserted on that row (`for (`, `;;)`).
   */
  stripInsertions(row: number, col: number, text: string): string {
    const list = this.byLine.get(row);
    if (!list) return text;
    const bytes = Buffer.from(text, 'utf8');
    const keep: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const c = col + i;
      if (bytes[i] === 10) {
        // Only the first row is mapped; later rows are kept as they are.
        for (let j = i; j < bytes.length; j++) keep.push(j);
        break;
      }
      if (!list.some((ins) => c >= ins.newCol && c < ins.newCol + ins.length)) keep.push(i);
    }
    return Buffer.from(keep.map((i) => bytes[i])).toString('utf8');
  }
}

export interface Preprocessed {
  text: string;
  columns: ColumnMap;
}

/** Identifiers that are pure annotations (no arguments) and can be blanked. */
const ANNOTATIONS = new Set([
  '__init', '__exit', '__initdata', '__initconst', '__read_mostly', '__ro_after_init', '__always_inline',
  'noinline', '__noinline', '__must_check', '__maybe_unused', '__used', '__weak', '__cold', '__hot', '__pure',
  '__visible', 'asmlinkage', 'noinstr', '__noreturn', '__sched', 'notrace', '__rcu', '__user', '__iomem',
  '__percpu', '__force', '__bitwise', '__packed', '__always_unused', '__noclone', '__nocfi', '__flatten',
  '__latent_entropy', '__randomize_layout', '__kprobes', '__irq_entry', '__no_kcsan', '__no_sanitize_address',
  '__ref', '__refdata', '__safe', '__private', '__nocast', '__kernel', 'fastcall', '__naked', '__noendbr',
  '__init_or_module', '__meminit', '__cpuinit', '__head', '__deprecated', '__no_stack_protector',
  '__always_used', '__nostackprotector', 'noinline_for_stack', '__attribute_const__', '__malloc',
  '__init_memblock', '__initdata_or_module', '__no_profile',
]);

/** Annotations that take a parenthesised argument list; blanked with their arguments. */
const ANNOTATION_CALLS = new Set([
  '__acquires', '__releases', '__must_hold', '__cond_acquires', '__cond_releases', '__aligned', '__section',
  '__printf', '__scanf', '__counted_by', '__free', '__alloc_size', '__assume_aligned', '__diagnose_as',
  '__nonstring', '__malloc', '__realloc_size', '__no_sanitize_or_inline', '__cleanup',
]);

export interface IteratorTest {
  (name: string): boolean;
}

/** Default iterator recogniser: any `for_each_*` / `*_for_each_*` identifier. */
export function isIteratorName(name: string): boolean {
  return /(^|_)for_each(_|$)/.test(name);
}

const enum Ch {
  NL = 10,
  SPACE = 32,
  TAB = 9,
  CR = 13,
  HASH = 35,
  SLASH = 47,
  STAR = 42,
  BACKSLASH = 92,
  DQUOTE = 34,
  SQUOTE = 39,
  LPAREN = 40,
  RPAREN = 41,
  LBRACE = 123,
  RBRACE = 125,
  SEMI = 59,
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

interface CondFrame {
  /** Whether the currently open branch is kept. */
  keeping: boolean;
  /** Whether a branch of this chain has already been kept. */
  taken: boolean;
  /** Whether the enclosing text is kept at all. */
  parentKeeping: boolean;
}

/**
 * Rewrite kernel C as described in the module comment.
 * `isIterator` decides which `name(args) stmt` heads are loops.
 */
/**
 * Pass 1: blank directives, dead conditional branches and annotations
 * (length-preserving, in a byte-per-char latin1 view so that columns are bytes
 * like tree-sitter's). The result is latin1; convert with `fromLatin1`.
 */
export function preprocessDirectives(src: string): string {
  const buf = Buffer.from(src, 'utf8').toString('latin1');
  const out: string[] = [];
  const n = buf.length;
  let i = 0;
  let lineStart = true;
  const conds: CondFrame[] = [];
  let keeping = true;

  const blank = (s: string): string => s.replace(/[^\n]/g, ' ');

  while (i < n) {
    const c = buf.charCodeAt(i);
    if (lineStart) {
      // Look for a directive: optional whitespace then '#'.
      let j = i;
      while (j < n && (buf.charCodeAt(j) === Ch.SPACE || buf.charCodeAt(j) === Ch.TAB)) j++;
      if (j < n && buf.charCodeAt(j) === Ch.HASH) {
        // Directive runs to an unescaped newline; comments inside may span lines.
        let k = j + 1;
        while (k < n) {
          const d = buf.charCodeAt(k);
          if (d === Ch.BACKSLASH && k + 1 < n && buf.charCodeAt(k + 1) === Ch.NL) {
            k += 2;
            continue;
          }
          if (d === Ch.SLASH && buf.charCodeAt(k + 1) === Ch.STAR) {
            const end = buf.indexOf('*/', k + 2);
            k = end < 0 ? n : end + 2;
            continue;
          }
          if (d === Ch.NL) break;
          k++;
        }
        const directive = buf.slice(j + 1, k).replace(/\\\n/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ').trim();
        const m = /^(\w+)\s*(.*)$/.exec(directive);
        const kw = m ? m[1] : '';
        const arg = m ? m[2].trim() : '';
        if (kw === 'if' || kw === 'ifdef' || kw === 'ifndef') {
          const isZero = kw === 'if' && /^0\b/.test(arg);
          const frame: CondFrame = { keeping: keeping && !isZero, taken: !isZero, parentKeeping: keeping };
          conds.push(frame);
          keeping = frame.keeping;
        } else if (kw === 'elif' || kw === 'else') {
          const frame = conds[conds.length - 1];
          if (frame) {
            frame.keeping = frame.parentKeeping && !frame.taken;
            if (frame.keeping) frame.taken = true;
            keeping = frame.keeping;
          }
        } else if (kw === 'endif') {
          const frame = conds.pop();
          keeping = frame ? frame.parentKeeping : true;
        }
        out.push(blank(buf.slice(i, k)));
        i = k;
        continue;
      }
    }
    if (!keeping) {
      // Dead branch: blank up to and including the end of the line.
      let k = buf.indexOf('\n', i);
      if (k < 0) k = n;
      out.push(blank(buf.slice(i, k)));
      i = k;
      if (i < n) {
        out.push('\n');
        i++;
        lineStart = true;
      }
      continue;
    }
    if (c === Ch.NL) {
      out.push('\n');
      i++;
      lineStart = true;
      continue;
    }
    lineStart = false;
    if (c === Ch.SLASH && buf.charCodeAt(i + 1) === Ch.STAR) {
      const end = buf.indexOf('*/', i + 2);
      const k = end < 0 ? n : end + 2;
      out.push(buf.slice(i, k));
      i = k;
      continue;
    }
    if (c === Ch.SLASH && buf.charCodeAt(i + 1) === Ch.SLASH) {
      let k = buf.indexOf('\n', i);
      if (k < 0) k = n;
      out.push(buf.slice(i, k));
      i = k;
      continue;
    }
    if (c === Ch.DQUOTE || c === Ch.SQUOTE) {
      const k = skipString(buf, i);
      out.push(buf.slice(i, k));
      i = k;
      continue;
    }
    if (isIdentStart(c)) {
      let k = i + 1;
      while (k < n && isIdentChar(buf.charCodeAt(k))) k++;
      const word = buf.slice(i, k);
      if (ANNOTATIONS.has(word)) {
        out.push(' '.repeat(word.length));
        i = k;
        continue;
      }
      if (ANNOTATION_CALLS.has(word)) {
        let p = k;
        while (p < n && (buf.charCodeAt(p) === Ch.SPACE || buf.charCodeAt(p) === Ch.TAB)) p++;
        if (buf.charCodeAt(p) === Ch.LPAREN) {
          const close = matchParen(buf, p);
          if (close > 0) {
            out.push(blank(buf.slice(i, close + 1)));
            i = close + 1;
            continue;
          }
        }
      }
      if (word === 'asm' || word === '__asm__' || word === '__asm') {
        // Inline assembly: operand lists with macros in them (`_ASM_EXTABLE_UA(1b, 2b)`) break the
        // grammar and take the following statements with them. Keep a call with no arguments:
        // `asm volatile(...)` -> `ASM_volatile(   )`, newlines kept.
        let p = k;
        for (;;) {
          while (p < n && (buf.charCodeAt(p) === Ch.SPACE || buf.charCodeAt(p) === Ch.TAB)) p++;
          const m = /^(volatile|__volatile__|goto|inline|__inline__)\b/.exec(buf.slice(p, p + 16));
          if (!m) break;
          p += m[1].length;
        }
        const close = buf.charCodeAt(p) === Ch.LPAREN ? matchParen(buf, p) : -1;
        if (close > 0) {
          out.push(word.toUpperCase(), buf.slice(k, p).replace(/[ \t]/g, '_'), '(', blank(buf.slice(p + 1, close)), ')');
          i = close + 1;
          continue;
        }
      }
      if (word === 'FNAME' && buf.charCodeAt(k) === Ch.LPAREN) {
        const close = matchParen(buf, k);
        const inner = close > 0 ? buf.slice(k + 1, close) : '';
        if (close > 0 && /^\s*\w+\s*$/.test(inner)) {
          const name = inner.trim();
          const replaced = `FNAME_${name}_`;
          const original = buf.slice(i, close + 1);
          out.push(replaced.padEnd(original.length, ' '));
          i = close + 1;
          continue;
        }
      }
      out.push(word);
      i = k;
      continue;
    }
    // A run of characters with no meaning here (punctuation, spaces, digits).
    let k = i + 1;
    while (k < n) {
      const d = buf.charCodeAt(k);
      if (d === Ch.NL || d === Ch.SLASH || d === Ch.DQUOTE || d === Ch.SQUOTE || isIdentStart(d)) break;
      k++;
    }
    out.push(buf.slice(i, k));
    i = k;
  }
  return blankBareTopLevelMacros(blankTypeArguments(out.join('')));
}

/**
 * A macro invocation used as a whole top-level declaration without a `;`
 * (`BUILD_NVMX_MSR_INTERCEPT_HELPER(write)`, `module_init(f)`) glues onto the
 * definition after it, which then parses as one broken function named after the
 * macro. Blank such an invocation: `IDENT(...)` at brace depth 0 that starts a
 * line after a complete declaration (`;`, `}` or the start of the text), ends
 * its line, and is followed by an identifier (the next declaration) or the end.
 * A definition whose name starts a line (`static void\nfoo(int x)\n{`) follows
 * a type name and is left alone.
 */
function blankBareTopLevelMacros(text: string): string {
  const n = text.length;
  let out: string[] | null = null;
  let depth = 0;
  let lastSig = '';
  let lineStart = true;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === Ch.NL) {
      lineStart = true;
      i++;
      continue;
    }
    if (c === Ch.SPACE || c === Ch.TAB || c === Ch.CR) {
      i++;
      continue;
    }
    if (c === Ch.SLASH && text.charCodeAt(i + 1) === Ch.STAR) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === Ch.SLASH && text.charCodeAt(i + 1) === Ch.SLASH) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
      continue;
    }
    const atLineStart = lineStart;
    lineStart = false;
    if (c === Ch.DQUOTE || c === Ch.SQUOTE) {
      i = skipString(text, i);
      lastSig = '"';
      continue;
    }
    if (c === Ch.LBRACE) depth++;
    else if (c === Ch.RBRACE) depth = Math.max(0, depth - 1);
    if (isIdentStart(c)) {
      let k = i + 1;
      while (k < n && isIdentChar(text.charCodeAt(k))) k++;
      if (depth === 0 && atLineStart && (lastSig === '' || lastSig === ';' || lastSig === '}')) {
        let p = k;
        while (p < n && (text.charCodeAt(p) === Ch.SPACE || text.charCodeAt(p) === Ch.TAB)) p++;
        const close = text.charCodeAt(p) === Ch.LPAREN ? matchParen(text, p) : -1;
        if (close > 0) {
          const nl = text.indexOf('\n', close);
          const rest = text.slice(close + 1, nl < 0 ? n : nl);
          const next = nextSignificant(text, close + 1);
          if (/^[ \t\r]*(\/\*.*\*\/[ \t\r]*)?$/.test(rest) && (next === '' || isIdentStart(next.charCodeAt(0)))) {
            out ??= text.split('');
            for (let j = i; j <= close; j++) if (out[j] !== '\n') out[j] = ' ';
            i = close + 1;
            continue;
          }
        }
      }
      lastSig = 'a';
      i = k;
      continue;
    }
    lastSig = text[i];
    i++;
  }
  return out ? out.join('') : text;
}

/**
 * Full preprocessing of a file or function text: directives and annotations
 * (pass 1), then iterator and scoped_guard rewriting (pass 2).
 */
export function preprocess(src: string, isIterator: IteratorTest = isIteratorName): Preprocessed {
  return rewriteIterators(preprocessDirectives(src), isIterator);
}

/**
 * Type names passed as macro arguments (`container_of(p, struct kvm, member)`,
 * `max_t(unsigned long, a, b)`, `DEFINE_PER_CPU(struct kvm_vcpu *, v)`) are not
 * expressions; replace them with a same-length identifier so the call parses.
 * Only type-only arguments match: a declaration like `struct kvm *kvm` has a name.
 */
const TYPE_ARG = /([(,]\s*)((?:struct|union|enum)\s+\w+(?:\s*\*)*|(?:(?:unsigned|signed|long|short|int|char|_Bool|bool|void|float|double)\b\s*)+(?:\s*\*)*)(?=\s*[,)])/g;

function blankTypeArguments(text: string): string {
  // GNU case ranges `case A ... B:` and designated ranges `[A ... B]`: keep A, blank the rest.
  // Blank with spaces but keep newlines: a range split over two lines must not shift later lines.
  text = text.replace(/(\bcase\s+[^:\n]*?)(\s*\.\.\.\s*[^:\n]*?)(?=:)/g, (_m, a: string, b: string) => a + b.replace(/[^\n]/g, ' '));
  text = text.replace(/(\[[^\]\n]*?)(\s*\.\.\.\s*[^\]\n]*?)(?=\])/g, (_m, a: string, b: string) => a + b.replace(/[^\n]/g, ' '));
  return text.replace(TYPE_ARG, (m: string, lead: string, type: string) => {
    // `(void)`: an empty parameter list or a void cast, never a macro's type argument.
    if (type.trim() === 'void') return m;
    const tag = /^(?:struct|union|enum)\s+(\w+)/.exec(type);
    if (tag) {
      const start = type.indexOf(tag[1], tag[0].length - tag[1].length);
      return lead + ' '.repeat(start) + tag[1] + type.slice(start + tag[1].length).replace(/[^\n]/g, ' ');
    }
    return lead + 'T' + type.slice(1).replace(/[^\n]/g, ' ');
  });
}

function skipString(buf: string, i: number): number {
  const q = buf.charCodeAt(i);
  let k = i + 1;
  while (k < buf.length) {
    const d = buf.charCodeAt(k);
    if (d === Ch.BACKSLASH) {
      k += 2;
      continue;
    }
    if (d === q || d === Ch.NL) return k + 1;
    k++;
  }
  return k;
}

/** Index of the ')' matching the '(' at `open`, skipping comments and strings; -1 if none. */
export function matchParen(buf: string, open: number): number {
  let depth = 0;
  for (let k = open; k < buf.length; k++) {
    const d = buf.charCodeAt(k);
    if (d === Ch.LPAREN) depth++;
    else if (d === Ch.RPAREN) {
      depth--;
      if (depth === 0) return k;
    } else if (d === Ch.DQUOTE || d === Ch.SQUOTE) {
      k = skipString(buf, k) - 1;
    } else if (d === Ch.SLASH && buf.charCodeAt(k + 1) === Ch.STAR) {
      const end = buf.indexOf('*/', k + 2);
      if (end < 0) return -1;
      k = end + 1;
    } else if (d === Ch.SLASH && buf.charCodeAt(k + 1) === Ch.SLASH) {
      const end = buf.indexOf('\n', k);
      if (end < 0) return -1;
      k = end;
    } else if (d === Ch.LBRACE && depth === 1 && buf.charCodeAt(k - 1) !== Ch.LPAREN) {
      // A '{' directly inside a macro argument list is unusual but legal (statement expressions).
      continue;
    }
  }
  return -1;
}

/** Previous significant character before `i` (skipping whitespace and comments). */
function prevSignificant(buf: string, i: number): { ch: string; word: string } {
  let k = i - 1;
  for (;;) {
    while (k >= 0 && /\s/.test(buf[k])) k--;
    if (k >= 1 && buf[k] === '/' && buf[k - 1] === '*') {
      const start = buf.lastIndexOf('/*', k - 2);
      if (start < 0) break;
      k = start - 1;
      continue;
    }
    break;
  }
  if (k < 0) return { ch: '', word: '' };
  if (isIdentChar(buf.charCodeAt(k))) {
    let s = k;
    while (s > 0 && isIdentChar(buf.charCodeAt(s - 1))) s--;
    return { ch: buf[k], word: buf.slice(s, k + 1) };
  }
  return { ch: buf[k], word: '' };
}

function nextSignificant(buf: string, i: number): string {
  let k = i;
  for (;;) {
    while (k < buf.length && /\s/.test(buf[k])) k++;
    if (buf[k] === '/' && buf[k + 1] === '*') {
      const end = buf.indexOf('*/', k + 2);
      if (end < 0) return '';
      k = end + 2;
      continue;
    }
    if (buf[k] === '/' && buf[k + 1] === '/') {
      const end = buf.indexOf('\n', k);
      if (end < 0) return '';
      k = end;
      continue;
    }
    break;
  }
  return buf[k] ?? '';
}

/** Convert a latin1 (byte-per-char) view back to a JS string. */
export function fromLatin1(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

/**
 * Pass 2: wrap statement-head iterator macros and scoped_guard in `for (...;;)`.
 * Input in the latin1 view (pass 1 output); output converted back to a JS string.
 */
export function rewriteIterators(text: string, isIterator: IteratorTest = isIteratorName): Preprocessed {
  const columns = new ColumnMap();
  const n = text.length;
  const out: string[] = [];
  let depth = 0; // brace depth: only rewrite inside function bodies
  let i = 0;
  let row = 0;
  let lastNl = -1; // index of the last newline in `text` before i
  let outCol = 0; // current column in the rewritten line
  // Pending closers: index in `text` of the ')' after which to insert ';;)'
  const closers: number[] = [];

  const emit = (s: string): void => {
    out.push(s);
    const nl = s.lastIndexOf('\n');
    if (nl >= 0) outCol = s.length - nl - 1;
    else outCol += s.length;
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === Ch.NL) {
      emit('\n');
      row++;
      lastNl = i;
      i++;
      continue;
    }
    if (c === Ch.SLASH && text.charCodeAt(i + 1) === Ch.STAR) {
      const end = text.indexOf('*/', i + 2);
      const k = end < 0 ? n : end + 2;
      const chunk = text.slice(i, k);
      const nls = chunk.split('\n').length - 1;
      if (nls) {
        row += nls;
        lastNl = i + chunk.lastIndexOf('\n');
      }
      emit(chunk);
      i = k;
      continue;
    }
    if (c === Ch.SLASH && text.charCodeAt(i + 1) === Ch.SLASH) {
      let k = text.indexOf('\n', i);
      if (k < 0) k = n;
      emit(text.slice(i, k));
      i = k;
      continue;
    }
    if (c === Ch.DQUOTE || c === Ch.SQUOTE) {
      const k = skipString(text, i);
      emit(text.slice(i, k));
      i = k;
      continue;
    }
    if (c === Ch.LBRACE) depth++;
    else if (c === Ch.RBRACE) depth = Math.max(0, depth - 1);
    if (isIdentStart(c)) {
      let k = i + 1;
      while (k < n && isIdentChar(text.charCodeAt(k))) k++;
      const word = text.slice(i, k);
      if (depth > 0 && (word === 'scoped_guard' || isIterator(word))) {
        let p = k;
        while (p < n && (text[p] === ' ' || text[p] === '\t')) p++;
        if (text.charCodeAt(p) === Ch.LPAREN) {
          const close = matchParen(text, p);
          const after = close > 0 ? nextSignificant(text, close + 1) : ';';
          const prev = prevSignificant(text, i);
          const statementHead =
            prev.ch === '' || prev.ch === ';' || prev.ch === '{' || prev.ch === '}' || prev.ch === ')' ||
            prev.ch === ':' || prev.word === 'else' || prev.word === 'do';
          if (close > 0 && statementHead && after !== ';' && after !== ')' && after !== ',' && after !== '' &&
              after !== '.' && after !== '-' && after !== '?' && after !== '=' && after !== '[') {
            columns.add(row, { newCol: outCol, length: 5 });
            emit('for (');
            closers.push(close);
          }
        }
      }
      emit(word);
      i = k;
      continue;
    }
    if (closers.length && closers[closers.length - 1] === i) {
      emit(')');
      // Multiple closers can end at the same ')' only if nested heads share it (impossible); pop one.
      closers.pop();
      columns.add(row, { newCol: outCol, length: 3 });
      emit(';;)');
      i++;
      continue;
    }
    const nextCloser = closers.length ? closers[closers.length - 1] : n;
    let k = i + 1;
    while (k < n && k < nextCloser) {
      const d = text.charCodeAt(k);
      if (d === Ch.NL || d === Ch.SLASH || d === Ch.DQUOTE || d === Ch.SQUOTE || d === Ch.LBRACE || d === Ch.RBRACE || isIdentStart(d)) break;
      k++;
    }
    emit(text.slice(i, k));
    i = k;
  }
  void lastNl;
  const rewritten = out.join('');
  return { text: Buffer.from(rewritten, 'latin1').toString('utf8'), columns };
}
