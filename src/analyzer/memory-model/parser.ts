/**
 * Parser for herd7 litmus tests: the C flavour used by the Linux kernel
 * (tools/memory-model) and the LISA flavour used by older LKMM tests.
 */
import { TokenStream, parseNumber, stripComments, tokenize, type Token } from './lexer.js';
import {
  LitmusSyntaxError,
  UnsupportedError,
  type Cond,
  type CondAtom,
  type Expr,
  type InitEntry,
  type InitValue,
  type LitmusTest,
  type Stmt,
  type ThreadAst,
} from './types.js';

const TYPE_WORDS = new Set([
  'int', 'char', 'void', 'long', 'unsigned', 'signed', 'short', 'atomic_t', 'atomic_long_t', 'spinlock_t',
  'struct', 'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'uintptr_t', 'intptr_t', 'bool', 'volatile',
  'const', 'size_t', 'atomic64_t', 'raw_spinlock_t', 'srcu_struct', 'int8_t', 'int16_t', 'int32_t', 'int64_t',
  'uint8_t', 'uint16_t', 'uint32_t', 'uint64_t', 'refcount_t',
]);

export function isTypeWord(t: Token): boolean {
  return t.kind === 'id' && TYPE_WORDS.has(t.text);
}

/** Extracts the value of the first `Result:` line of the test's comments. */
export function extractExpected(text: string): string | undefined {
  const m = /Result:[ \t]*([^\n]*)/.exec(text);
  if (!m) return undefined;
  const v = m[1]!.replace(/\*\)\s*$/, '').replace(/\*\/\s*$/, '').trim();
  return v.length ? v : undefined;
}

/** Parses a litmus test (C or LISA). Throws LitmusSyntaxError / UnsupportedError. */
export function parseLitmus(text: string): LitmusTest {
  const expected = extractExpected(text);
  // Header line: "<ARCH> <name>".
  const lines = text.split('\n');
  let li = 0;
  while (li < lines.length && lines[li]!.trim() === '') li++;
  if (li >= lines.length) throw new LitmusSyntaxError('empty litmus test', 1);
  const header = /^\s*(\S+)\s+(\S+)/.exec(lines[li]!);
  if (!header) throw new LitmusSyntaxError('expected "C <name>" header', li + 1);
  const arch = header[1]!;
  const name = header[2]!;
  if (arch !== 'C' && arch !== 'LISA') throw new UnsupportedError(`architecture ${arch}`);
  const bodyStart = lines.slice(0, li + 1).join('\n').length + 1;
  const rest = text.slice(bodyStart);
  const firstLine = li + 2;
  const test: LitmusTest = {
    arch,
    name,
    init: [],
    threads: [],
    quantifier: 'exists',
    condition: { k: 'true' },
    locations: [],
    expected,
  };
  if (arch === 'C') parseCBody(rest, firstLine, bodyStart, test);
  else parseLisaBody(rest, firstLine, test);
  return test;
}

// ------------------------------------------------------------- helpers ---

/** Skips the optional doc string and key=value header lines up to the init block. */
function skipHeader(ts: TokenStream): void {
  // Anything before the first top-level '{' or 'P0' is header metadata.
  while (ts.peek().kind !== 'eof') {
    const t = ts.peek();
    if (t.kind === 'punct' && t.text === '{') return;
    if (t.kind === 'id' && /^P\d+$/.test(t.text) && ts.is('(', 1)) return;
    ts.next();
  }
}

function parseInit(ts: TokenStream, test: LitmusTest): void {
  if (!ts.accept('{')) return;
  while (!ts.is('}')) {
    if (ts.peek().kind === 'eof') throw new LitmusSyntaxError('unterminated init block', ts.peek().line);
    if (ts.accept(';')) continue;
    test.init.push(parseInitEntry(ts));
    if (!ts.is('}')) {
      if (!ts.accept(';')) ts.expect(';');
    }
  }
  ts.expect('}');
}

function parseInitEntry(ts: TokenStream): InitEntry {
  const line = ts.peek().line;
  // Collect tokens up to '=' or ';' or '}' (at depth 0).
  const lhs: Token[] = [];
  while (!ts.is('=') && !ts.is(';') && !ts.is('}') && ts.peek().kind !== 'eof') lhs.push(ts.next());
  // Find register "N:name" or the last identifier as the name.
  let thread: number | undefined;
  let name: string | undefined;
  let size: number | undefined;
  for (let i = 0; i < lhs.length; i++) {
    const t = lhs[i]!;
    if (t.kind === 'num' && lhs[i + 1]?.text === ':' && lhs[i + 2]?.kind === 'id') {
      thread = parseNumber(t.text);
      name = lhs[i + 2]!.text;
      i += 2;
      continue;
    }
    if (t.kind === 'id' && !TYPE_WORDS.has(t.text)) {
      if (lhs[i - 1]?.text === 'struct') continue; // struct tag
      name = t.text;
    }
    if (t.text === '[' && lhs[i + 1]?.kind === 'num') {
      size = parseNumber(lhs[i + 1]!.text);
    }
  }
  if (name === undefined) throw new LitmusSyntaxError('malformed init entry', line);
  let value: InitValue = { k: 'num', v: 0 };
  if (ts.accept('=')) value = parseInitValue(ts);
  if (size !== undefined && value.k === 'num') value = { k: 'list', vs: new Array<number>(size).fill(value.v) };
  return { thread, name, value, size, line };
}

function parseInitValue(ts: TokenStream): InitValue {
  const t = ts.peek();
  if (ts.accept('{')) {
    const vs: number[] = [];
    while (!ts.is('}')) {
      const neg = ts.accept('-');
      const n = ts.next();
      if (n.kind !== 'num') throw new LitmusSyntaxError('expected number in array initializer', n.line);
      vs.push(neg ? -parseNumber(n.text) : parseNumber(n.text));
      ts.accept(',');
    }
    ts.expect('}');
    return { k: 'list', vs };
  }
  // Skip casts like (int *).
  if (ts.is('(') && isTypeWord(ts.peek(1))) {
    ts.next();
    while (!ts.is(')')) ts.next();
    ts.next();
  }
  if (ts.accept('-')) {
    const n = ts.next();
    if (n.kind !== 'num') throw new LitmusSyntaxError('expected number', n.line);
    return { k: 'num', v: -parseNumber(n.text) };
  }
  if (t.kind === 'num') {
    ts.next();
    return { k: 'num', v: parseNumber(t.text) };
  }
  if (ts.accept('&')) {
    const id = ts.ident();
    return { k: 'ptr', loc: id.text };
  }
  if (t.kind === 'id') {
    ts.next();
    if (t.text === 'ATOMIC_INIT' || t.text === 'ATOMIC_LONG_INIT') {
      ts.expect('(');
      const v = parseInitValue(ts);
      ts.expect(')');
      return v;
    }
    if (t.text === 'NULL') return { k: 'num', v: 0 };
    return { k: 'ptr', loc: t.text };
  }
  throw new LitmusSyntaxError(`unexpected '${t.text}' in init value`, t.line);
}

// -------------------------------------------------------------- C body ---

function parseCBody(src: string, firstLine: number, baseOffset: number, test: LitmusTest): void {
  const ts = new TokenStream(tokenize(src, firstLine, baseOffset));
  skipHeader(ts);
  parseInit(ts, test);
  while (ts.peek().kind === 'id' && /^P\d+$/.test(ts.peek().text)) {
    test.threads.push(parseCThread(ts));
  }
  parseTrailer(ts, test);
}

function parseCThread(ts: TokenStream): ThreadAst {
  const head = ts.ident();
  const index = parseInt(head.text.slice(1), 10);
  const params: string[] = [];
  ts.expect('(');
  while (!ts.is(')')) {
    let last: string | undefined;
    while (!ts.is(',') && !ts.is(')')) {
      const t = ts.next();
      if (t.kind === 'eof') throw new LitmusSyntaxError('unterminated parameter list', t.line);
      if (t.kind === 'id' && !TYPE_WORDS.has(t.text)) last = t.text;
    }
    if (last !== undefined) params.push(last);
    ts.accept(',');
  }
  ts.expect(')');
  ts.expect('{');
  const body: Stmt[] = [];
  while (!ts.is('}')) {
    if (ts.peek().kind === 'eof') throw new LitmusSyntaxError(`unterminated body of ${head.text}`, head.line);
    body.push(...parseStmt(ts));
  }
  ts.expect('}');
  return { index, params, body, line: head.line };
}

function parseStmt(ts: TokenStream): Stmt[] {
  const t = ts.peek();
  if (ts.accept(';')) return [];
  if (ts.accept('{')) {
    const out: Stmt[] = [];
    while (!ts.is('}')) {
      if (ts.peek().kind === 'eof') throw new LitmusSyntaxError('unterminated block', t.line);
      out.push(...parseStmt(ts));
    }
    ts.expect('}');
    return out;
  }
  if (t.kind === 'id') {
    switch (t.text) {
      case 'if': {
        ts.next();
        ts.expect('(');
        const cond = parseExpr(ts);
        ts.expect(')');
        const then = parseStmt(ts);
        let els: Stmt[] | undefined;
        if (ts.accept('else')) els = parseStmt(ts);
        return [{ k: 'if', cond, then, else: els, line: t.line }];
      }
      case 'while':
      case 'for':
      case 'do':
      case 'switch':
      case 'goto':
      case 'return':
      case 'break':
      case 'continue':
        throw new UnsupportedError(`'${t.text}' statement`);
      default:
        break;
    }
    if (isTypeWord(t) && !(ts.is('(', 1))) return parseDecl(ts);
  }
  // Expression or assignment statement.
  const lhs = parseExpr(ts);
  const op = ts.peek();
  if (op.kind === 'punct' && ['=', '+=', '-=', '|=', '&=', '^='].includes(op.text)) {
    ts.next();
    let rhs = parseExpr(ts);
    if (op.text !== '=') rhs = { k: 'bin', op: op.text.slice(0, -1), a: lhs, b: rhs };
    ts.expect(';');
    return [{ k: 'assign', lhs, rhs, line: t.line }];
  }
  if (op.kind === 'punct' && (op.text === '++' || op.text === '--')) {
    ts.next();
    ts.expect(';');
    return [{ k: 'assign', lhs, rhs: { k: 'bin', op: op.text[0]!, a: lhs, b: { k: 'num', v: 1 } }, line: t.line }];
  }
  ts.expect(';');
  return [{ k: 'expr', e: lhs, line: t.line }];
}

function parseDecl(ts: TokenStream): Stmt[] {
  const line = ts.peek().line;
  while (isTypeWord(ts.peek())) {
    const w = ts.next();
    if (w.text === 'struct') ts.ident();
  }
  const out: Stmt[] = [];
  for (;;) {
    while (ts.accept('*')) {
      /* pointer declarator */
    }
    const name = ts.ident().text;
    if (ts.is('[')) throw new UnsupportedError('local array');
    let init: Expr | undefined;
    if (ts.accept('=')) init = parseExpr(ts);
    out.push({ k: 'decl', name, init, line });
    if (ts.accept(',')) continue;
    ts.expect(';');
    return out;
  }
}

// Binary operator precedence (higher binds tighter).
const BINOPS: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6,
  '<': 7, '>': 7, '<=': 7, '>=': 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

export function parseExpr(ts: TokenStream): Expr {
  const c = parseBinary(ts, 1);
  if (ts.accept('?')) {
    const a = parseExpr(ts);
    ts.expect(':');
    const b = parseExpr(ts);
    return { k: 'cond', c, a, b };
  }
  return c;
}

function parseBinary(ts: TokenStream, minPrec: number): Expr {
  let lhs = parseUnary(ts);
  for (;;) {
    const t = ts.peek();
    const p = t.kind === 'punct' ? BINOPS[t.text] : undefined;
    if (p === undefined || p < minPrec) return lhs;
    ts.next();
    const rhs = parseBinary(ts, p + 1);
    lhs = { k: 'bin', op: t.text, a: lhs, b: rhs };
  }
}

function parseUnary(ts: TokenStream): Expr {
  const t = ts.peek();
  if (t.kind === 'punct') {
    if (t.text === '*') {
      ts.next();
      return { k: 'deref', e: parseUnary(ts) };
    }
    if (t.text === '&') {
      ts.next();
      return { k: 'addrof', e: parseUnary(ts) };
    }
    if (t.text === '-' || t.text === '!' || t.text === '~') {
      ts.next();
      const a = parseUnary(ts);
      if (t.text === '-' && a.k === 'num') return { k: 'num', v: -a.v };
      return { k: 'un', op: t.text, a };
    }
    if (t.text === '(' && isTypeWord(ts.peek(1))) {
      // Cast: ignored (values are untyped).
      ts.next();
      while (!ts.is(')')) {
        if (ts.peek().kind === 'eof') throw new LitmusSyntaxError('unterminated cast', t.line);
        ts.next();
      }
      ts.next();
      return parseUnary(ts);
    }
  }
  return parsePostfix(ts);
}

function parsePostfix(ts: TokenStream): Expr {
  let e = parsePrimary(ts);
  for (;;) {
    if (ts.is('[')) {
      ts.next();
      const i = parseExpr(ts);
      ts.expect(']');
      e = { k: 'index', a: e, i };
      continue;
    }
    if (ts.is('->') || ts.is('.')) throw new UnsupportedError('struct member access');
    return e;
  }
}

function parsePrimary(ts: TokenStream): Expr {
  const t = ts.next();
  if (t.kind === 'num') return { k: 'num', v: parseNumber(t.text) };
  if (t.kind === 'id') {
    if (ts.is('(')) {
      ts.next();
      const args: Expr[] = [];
      while (!ts.is(')')) {
        args.push(parseExpr(ts));
        if (!ts.is(')')) ts.expect(',');
      }
      ts.expect(')');
      return { k: 'call', fn: t.text, args, line: t.line };
    }
    if (t.text === 'NULL') return { k: 'num', v: 0 };
    if (t.text === 'true') return { k: 'num', v: 1 };
    if (t.text === 'false') return { k: 'num', v: 0 };
    return { k: 'var', name: t.text };
  }
  if (t.kind === 'punct' && t.text === '(') {
    const e = parseExpr(ts);
    ts.expect(')');
    return e;
  }
  throw new LitmusSyntaxError(`unexpected '${t.text}' in expression`, t.line);
}

// ------------------------------------------------------------ trailer ---

function parseTrailer(ts: TokenStream, test: LitmusTest): void {
  let sawCond = false;
  while (ts.peek().kind !== 'eof') {
    const t = ts.peek();
    if (ts.accept('locations')) {
      ts.expect('[');
      let cur = '';
      while (!ts.is(']')) {
        const x = ts.next();
        if (x.kind === 'eof') throw new LitmusSyntaxError('unterminated locations', x.line);
        if (x.text === ';') {
          if (cur) test.locations.push(cur);
          cur = '';
        } else cur += x.text;
      }
      if (cur) test.locations.push(cur);
      ts.expect(']');
      continue;
    }
    if (ts.accept('filter')) {
      test.filter = parseCond(ts);
      continue;
    }
    if (ts.is('exists') || ts.is('forall') || (ts.is('~') && ts.is('exists', 1))) {
      if (ts.accept('~')) {
        ts.next();
        test.quantifier = '~exists';
      } else test.quantifier = ts.next().text as 'exists' | 'forall';
      test.condition = parseCond(ts);
      sawCond = true;
      ts.accept(';');
      continue;
    }
    if (t.kind === 'id' && /^P\d+$/.test(t.text)) throw new LitmusSyntaxError(`unexpected thread ${t.text}`, t.line);
    throw new LitmusSyntaxError(`unexpected '${t.text}' after threads`, t.line);
  }
  // A test without a final condition (e.g. a pure deadlock check) observes
  // every execution: treat it as `exists (true)`.
  void sawCond;
}

export function parseCond(ts: TokenStream): Cond {
  let a = parseConj(ts);
  while (ts.is('\\/')) {
    ts.next();
    a = { k: 'or', a, b: parseConj(ts) };
  }
  if (ts.accept('=>')) a = { k: 'implies', a, b: parseCond(ts) };
  return a;
}

function parseConj(ts: TokenStream): Cond {
  let a = parseCondUnary(ts);
  while (ts.is('/\\')) {
    ts.next();
    a = { k: 'and', a, b: parseCondUnary(ts) };
  }
  return a;
}

function parseCondUnary(ts: TokenStream): Cond {
  if (ts.accept('~') || ts.accept('not')) return { k: 'not', a: parseCondUnary(ts) };
  if (ts.accept('(')) {
    const c = parseCond(ts);
    ts.expect(')');
    return c;
  }
  if (ts.accept('true')) return { k: 'true' };
  if (ts.accept('false')) return { k: 'false' };
  const lhs = parseAtom(ts);
  const op = ts.next();
  if (op.text !== '=' && op.text !== '==' && op.text !== '!=') {
    throw new LitmusSyntaxError(`expected '=' in condition but found '${op.text}'`, op.line);
  }
  const rhs = parseAtom(ts);
  return { k: 'eq', neg: op.text === '!=', lhs, rhs };
}

function parseAtom(ts: TokenStream): CondAtom {
  const t = ts.next();
  if (t.kind === 'num') {
    if (ts.is(':')) {
      ts.next();
      const r = ts.ident();
      return { k: 'reg', thread: parseNumber(t.text), reg: r.text };
    }
    return { k: 'num', v: parseNumber(t.text) };
  }
  if (t.kind === 'punct' && t.text === '-') {
    const n = ts.next();
    if (n.kind !== 'num') throw new LitmusSyntaxError('expected number', n.line);
    return { k: 'num', v: -parseNumber(n.text) };
  }
  if (t.kind === 'punct' && t.text === '&') return { k: 'sym', name: ts.ident().text };
  if (t.kind === 'punct' && t.text === '*') {
    throw new UnsupportedError('dereference in condition');
  }
  if (t.kind === 'id') {
    if (ts.is('[')) {
      ts.next();
      const n = ts.next();
      ts.expect(']');
      return { k: 'mem', loc: `${t.text}[${parseNumber(n.text)}]` };
    }
    return { k: 'sym', name: t.text };
  }
  throw new LitmusSyntaxError(`unexpected '${t.text}' in condition`, t.line);
}

// ------------------------------------------------------------ LISA body ---

const LISA_OPS: Record<string, string> = {
  add: '+', sub: '-', xor: '^', and: '&', or: '|', eq: '==', neq: '!=', mul: '*', lt: '<', gt: '>', le: '<=', ge: '>=',
};

function isLisaReg(name: string): boolean {
  return /^r\d+$/.test(name);
}

function parseLisaBody(src: string, firstLine: number, test: LitmusTest): void {
  const clean = stripComments(src);
  const lines = clean.split('\n');
  // Locate the init block and the thread table.
  const ts0 = new TokenStream(tokenize(clean, firstLine));
  skipHeader(ts0);
  const initStartTok = ts0.peek();
  parseInit(ts0, test);
  const afterInitLine = ts0.peek().line; // line (absolute) of the first token after init
  let li = afterInitLine - firstLine;
  if (initStartTok.kind === 'eof') throw new LitmusSyntaxError('missing init block', initStartTok.line);
  // The header of the table is the line starting with P0.
  // The '}' of the init may share the line with nothing else; start scanning at afterInitLine.
  const headerLine = lines[li] ?? '';
  const cols = headerLine
    .replace(/;\s*$/, '')
    .split('|')
    .map((s) => s.trim());
  if (!cols.every((c) => /^P\d+$/.test(c))) {
    throw new LitmusSyntaxError('expected LISA thread header "P0 | P1 ;"', afterInitLine);
  }
  const bodies: Stmt[][] = cols.map(() => []);
  li++;
  for (; li < lines.length; li++) {
    const raw = lines[li]!;
    const trimmed = raw.trim();
    if (trimmed === '') continue;
    if (/^(exists|~\s*exists|forall|locations|filter)\b/.test(trimmed)) break;
    const cells = trimmed.replace(/;\s*$/, '').split('|');
    cells.forEach((cell, ci) => {
      const c = cell.trim();
      if (c === '' || ci >= bodies.length) return;
      bodies[ci]!.push(...parseLisaInstr(c, firstLine + li));
    });
  }
  // LISA threads implicitly reference every shared symbol.
  const symbols = new Set<string>();
  for (const e of test.init) if (e.thread === undefined) symbols.add(e.name);
  const collect = (e: Expr): void => {
    if (e.k === 'var' && !isLisaReg(e.name)) symbols.add(e.name);
    if (e.k === 'bin') {
      collect(e.a);
      collect(e.b);
    }
    if (e.k === 'call') e.args.forEach(collect);
  };
  for (const b of bodies)
    for (const s of b) {
      if (s.k === 'assign') collect(s.rhs);
      if (s.k === 'expr') collect(s.e);
    }
  const params = [...symbols].sort();
  cols.forEach((c, i) => test.threads.push({ index: parseInt(c.slice(1), 10), params, body: bodies[i]!, line: afterInitLine }));
  const trailer = lines.slice(li).join('\n');
  const ts = new TokenStream(tokenize(trailer, firstLine + li));
  parseTrailer(ts, test);
}

function lisaOperand(tok: string, line: number): Expr {
  const plus = /^([A-Za-z_][A-Za-z0-9_]*)\+([A-Za-z_][A-Za-z0-9_]*|\d+)$/.exec(tok);
  if (plus) return { k: 'bin', op: '+', a: lisaOperand(plus[1]!, line), b: lisaOperand(plus[2]!, line) };
  if (/^-?\d+$/.test(tok)) return { k: 'num', v: parseInt(tok, 10) };
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(tok)) return { k: 'var', name: tok };
  throw new LitmusSyntaxError(`bad LISA operand '${tok}'`, line);
}

function parseLisaExpr(ts: TokenStream, line: number): Expr {
  if (ts.accept('(')) {
    const op = ts.ident().text;
    const bop = LISA_OPS[op];
    if (!bop) throw new UnsupportedError(`LISA operator ${op}`);
    const a = parseLisaExpr(ts, line);
    const b = parseLisaExpr(ts, line);
    ts.expect(')');
    return { k: 'bin', op: bop, a, b };
  }
  const t = ts.next();
  if (t.kind === 'punct' && t.text === '-') return lisaOperand('-' + ts.next().text, line);
  if (ts.is('+')) {
    ts.next();
    return { k: 'bin', op: '+', a: lisaOperand(t.text, line), b: lisaOperand(ts.next().text, line) };
  }
  return lisaOperand(t.text, line);
}

function parseLisaInstr(text: string, line: number): Stmt[] {
  const lab = /^([A-Za-z_][A-Za-z0-9_]*):$/.exec(text);
  if (lab) return [{ k: 'label', name: lab[1]!, line }];
  const ts = new TokenStream(tokenize(text, line));
  const op = ts.ident().text;
  let annot = '';
  if (ts.accept('[')) {
    while (!ts.is(']')) {
      const t = ts.next();
      if (t.kind === 'eof') throw new LitmusSyntaxError('unterminated annotation', line);
      annot += t.text;
    }
    ts.expect(']');
  }
  const rd = (): Expr => parseLisaExpr(ts, line);
  let out: Stmt[];
  switch (op) {
    case 'r': {
      const reg = ts.ident().text;
      out = [{ k: 'assign', lhs: { k: 'var', name: reg }, rhs: { k: 'call', fn: `lisa:r:${annot}`, args: [rd()], line }, line }];
      break;
    }
    case 'w': {
      const addr = rd();
      const val = rd();
      out = [{ k: 'expr', e: { k: 'call', fn: `lisa:w:${annot}`, args: [addr, val], line }, line }];
      break;
    }
    case 'f':
      out = [{ k: 'expr', e: { k: 'call', fn: `lisa:f:${annot}`, args: [], line }, line }];
      break;
    case 'mov': {
      const reg = ts.ident().text;
      out = [{ k: 'assign', lhs: { k: 'var', name: reg }, rhs: rd(), line }];
      break;
    }
    case 'b': {
      const a = ts.ident().text;
      if (ts.peek().kind === 'eof') out = [{ k: 'goto', label: a, line }];
      else out = [{ k: 'goto', cond: { k: 'var', name: a }, label: ts.ident().text, line }];
      break;
    }
    default:
      throw new UnsupportedError(`LISA instruction ${op}[${annot}]`);
  }
  if (ts.peek().kind !== 'eof') throw new LitmusSyntaxError(`trailing tokens in LISA instruction '${text}'`, line);
  return out;
}
