/**
 * Analysis of one C file (or a reconstructed fragment): parse, lower every
 * function, compute summaries bottom-up and entry contexts top-down, then walk
 * the functions to report on with the rules subscribed.
 */
import { createHash } from 'node:crypto';
import type { Confidence, Finding } from '../types.js';
import type { Model } from '../model/index.js';
import { CParser } from './frontend/parse.js';
import { wordRe } from './text.js';
import { fileIndex, indexFile, reindex, type FileIndex, type FunctionSpan, type HunkExtent } from './frontend/index-file.js';
import { lowerFunction } from './cfg.js';
import { EffectResolver } from './effects.js';
import { walk } from './engine.js';
import type { CallOp, LoweredFunction } from './ir.js';
import type { ReportInput, Rule, RuleContext, RuleHandlers, UnitView } from './rule-api.js';
import { initialState, type State } from './state.js';
import {
  CallSiteCollector, type CallSiteContext, type EntryContext, type Summary, SummaryCollector, bottomUp, entryContext, withEntryContract,
} from './summaries.js';
import type { Effect } from '../model/index.js';

export interface AnalyzeOptions {
  /** Report only in functions overlapping these 1-based line ranges (undefined: every function). */
  lines?: readonly [number, number][];
  /** Only hunk-visible code is known: lower confidence, callers unknown. */
  hunkOnly?: boolean;
  /**
   * Also report in the direct callers of a function `lines` selects when this
   * returns true for its summary digest: a change to a callee's effects (a dropped
   * barrier, a new snapshot) shows up in its callers.
   */
  callersIf?: (name: string, digest: string) => boolean;
  /** Also report in these functions (by name). */
  functions?: ReadonlySet<string>;
}

export interface FileAnalysis {
  path: string;
  findings: Finding[];
  functions: { name: string; startLine: number; endLine: number }[];
  /** Functions reported on (the selected ones, plus callers added by `callersIf`). */
  targets: string[];
  /** Summary digests of the selected functions (what callers see of them). */
  digests: Record<string, string>;
  /** Functions whose walk hit the state budget. */
  truncated: string[];
  parseErrors: boolean;
}

export interface PersistentCache {
  version: string;
  summaries: [string, Summary][];
  siteWalks: [string, [string, CallSiteContext][]][];
  /** File indexes by content key (path + blob id or hash), without the source text. */
  indexes?: [string, FunctionSpan[]][];
}

/** How many file indexes a persistent cache keeps (the most recently used). */
const PERSISTED_INDEXES = 16;

export interface AnalyzerStats {
  files: number;
  functions: number;
  walks: number;
}

const LOWER: Record<Confidence, Confidence> = { high: 'medium', medium: 'low', low: 'low' };
/** Caller levels walked for entry contexts, and callers per function beyond which none are. */
const MAX_CALLER_DEPTH = 2;
const MAX_CALLERS = 8;
const PURE: Summary = { name: '', effects: [], reasons: {} };

export class Analyzer {
  readonly parser: CParser;
  readonly stats: AnalyzerStats = { files: 0, functions: 0, walks: 0 };
  /** Lowered functions by content hash (relocated when the same text moves). */
  private readonly lowered = new BoundedMap<string, LoweredFunction | null>(20_000);
  private readonly relocated = new BoundedMap<string, LoweredFunction>(4_000);
  /** Summaries by content hash + callee summary keys. */
  private readonly summaryCache = new BoundedMap<string, Summary>(50_000);
  private readonly effectfulCache = new WeakMap<FileIndex, ReadonlySet<FunctionSpan>>();
  /** File indexes by content hash. */
  private readonly indexes = new BoundedMap<string, FileIndex>(256);
  /** Function spans of file indexes read from a persistent cache, by content key. */
  private readonly storedIndexes = new Map<string, FunctionSpan[]>();

  constructor(
    readonly model: Model,
    readonly rules: readonly Rule[],
  ) {
    this.parser = new CParser();
  }

  private readonly shared = new BoundedMap<string, unknown>(2_000);
  /** Call-site contexts found by walking a caller, by its Merkle key and entry context. */
  private readonly siteWalks = new BoundedMap<string, [string, CallSiteContext][]>(20_000);

  /** Memo for pure functions of a key, shared by all files this Analyzer sees. */
  sharedMemo<T>(key: string, compute: () => T): T {
    if (this.shared.has(key)) return this.shared.get(key) as T;
    const v = compute();
    this.shared.set(key, v);
    return v;
  }

  /**
   * The pure, content-keyed caches (summaries and call-site walks) as JSON-able
   * data, for a persistent cache between runs (the pre-commit hook). Keys are
   * Merkle hashes of function texts and callee effects; `version` must change
   * whenever the model, engine or rules do.
   */
  exportCache(version: string): PersistentCache {
    const indexes = [
      ...[...this.indexes.entries()].reverse().map(([k, v]): [string, FunctionSpan[]] => [k, v.functions]),
      ...this.storedIndexes.entries(),
    ]
      .filter(([k], i, all) => all.findIndex(([k2]) => k2 === k) === i)
      .slice(0, PERSISTED_INDEXES);
    return { version, summaries: [...this.summaryCache.entries()], siteWalks: [...this.siteWalks.entries()], indexes };
  }

  importCache(data: PersistentCache, version: string): boolean {
    if (!data || data.version !== version || !Array.isArray(data.summaries) || !Array.isArray(data.siteWalks)) return false;
    for (const [k, v] of data.summaries) this.summaryCache.set(k, v);
    for (const [k, v] of data.siteWalks) this.siteWalks.set(k, v);
    if (Array.isArray(data.indexes)) for (const [k, v] of data.indexes) if (Array.isArray(v)) this.storedIndexes.set(k, v);
    return true;
  }

  index(path: string, source: string, blob?: string): FileIndex {
    const key = this.indexKey(path, source, blob);
    let idx = this.indexes.get(key);
    if (!idx) {
      const stored = this.storedIndexes.get(key);
      // A persisted index is keyed by content, so it only lacks the text itself.
      idx = stored ? fileIndex(path, source, stored) : indexFile(path, source);
      this.indexes.set(key, idx);
    }
    return idx;
  }

  /** Index of a post-image, incrementally from the (cached) pre-image's when possible. */
  indexPost(path: string, pre: string | undefined, post: string, hunks: readonly HunkExtent[], blobs: { pre?: string; post?: string } = {}): FileIndex {
    const key = this.indexKey(path, post, blobs.post);
    let idx = this.indexes.get(key);
    if (!idx) {
      idx = pre !== undefined ? reindex(this.index(path, pre, blobs.pre), path, post, hunks) : indexFile(path, post);
      this.indexes.set(key, idx);
    }
    return idx;
  }

  /** Cache key of a file's content: its git blob id when known (no hashing), else a content hash. */
  private indexKey(path: string, source: string, blob?: string): string {
    return `${path}\0${blob ?? createHash('sha1').update(source).digest('hex')}`;
  }

  analyzeSource(path: string, source: string, opts: AnalyzeOptions = {}): FileAnalysis {
    return this.analyzeIndex(this.index(path, source), opts);
  }

  /** Lower one indexed function (cached by content, relocated to its lines). */
  lower(index: FileIndex, span: FunctionSpan): LoweredFunction | null {
    const key = `${span.hash}\0${index.path}`;
    let base = this.lowered.get(key);
    if (base === undefined) {
      const parsed = this.parser.parseFunction(span);
      base = parsed ? lowerFunction(parsed.info, { model: this.model, file: { path: index.path, columns: parsed.columns }, lineOffset: span.startLine - 1 }) : null;
      this.lowered.set(key, base);
      this.stats.functions++;
    }
    if (!base) return null;
    if (base.startLine === span.startLine) return base;
    // Same text at another position: relocate once per position.
    const at = `${key}@${span.startLine}`;
    let moved = this.relocated.get(at);
    if (!moved) {
      moved = relocate(base, span.startLine - base.startLine);
      this.relocated.set(at, moved);
    }
    return moved;
  }

  /**
   * Functions that may have a modelled effect: they call a modelled API, use
   * guard()/scoped_guard(), or call such a function in view (fixpoint over the
   * index's call lists; no parsing). Everything else summarises to nothing.
   */
  effectful(index: FileIndex): ReadonlySet<FunctionSpan> {
    const cached = this.effectfulCache.get(index);
    if (cached) return cached;
    const set = new Set<FunctionSpan>();
    const names = new Set<string>();
    for (const sp of index.functions) names.add(sp.name);
    const work: FunctionSpan[] = [];
    for (const sp of index.functions) {
      const direct = this.spanTest('effectful', sp, () =>
        sp.calls.some((c) => this.model.isModelled(c) || this.model.iteratorHasEffect(c) || c === 'guard' || c === 'scoped_guard') || this.model.effectfulText.test(sp.text));
      if (direct) {
        set.add(sp);
        work.push(sp);
      }
    }
    const callers = new Map<string, FunctionSpan[]>();
    for (const sp of index.functions) {
      for (const c of sp.calls) {
        if (!names.has(c)) continue;
        const list = callers.get(c);
        if (list) list.push(sp);
        else callers.set(c, [sp]);
      }
    }
    while (work.length) {
      const sp = work.pop()!;
      for (const caller of callers.get(sp.name) ?? []) {
        if (!set.has(caller)) {
          set.add(caller);
          work.push(caller);
        }
      }
    }
    this.effectfulCache.set(index, set);
    return set;
  }

  private readonly callersCache = new WeakMap<FileIndex, Map<string, FunctionSpan[]>>();
  /** Results of pure tests of a function's text (regex scans), by test and content hash. */
  private readonly spanTests = new Map<string, BoundedMap<string, boolean>>();

  /**
   * A pure test of a span's text and call list (both determined by its content hash), cached.
   * One map per test, keyed by the hash string itself (no per-lookup key string to build and hash).
   */
  spanTest(test: string, sp: FunctionSpan, compute: () => boolean): boolean {
    let byHash = this.spanTests.get(test);
    if (!byHash) {
      byHash = new BoundedMap<string, boolean>(50_000);
      this.spanTests.set(test, byHash);
    }
    let v = byHash.get(sp.hash);
    if (v === undefined) {
      v = compute();
      byHash.set(sp.hash, v);
    }
    return v;
  }

  /** Function name -> functions of the file that call it (from the index's call lists). */
  private callersIndex(index: FileIndex, byName: ReadonlyMap<string, FunctionSpan>): Map<string, FunctionSpan[]> {
    const hit = this.callersCache.get(index);
    if (hit) return hit;
    const callersOf = new Map<string, FunctionSpan[]>();
    for (const sp of index.functions) {
      for (const c of sp.calls) {
        if (!byName.has(c) || c === sp.name) continue;
        const list = callersOf.get(c) ?? [];
        list.push(sp);
        callersOf.set(c, list);
      }
    }
    this.callersCache.set(index, callersOf);
    return callersOf;
  }

  analyzeIndex(index: FileIndex, opts: AnalyzeOptions = {}): FileAnalysis {
    this.stats.files++;
    const unit = new Unit(index, this, !!opts.hunkOnly);
    const findings: Finding[] = [];
    const truncated: string[] = [];
    const spans = index.functions;
    const byName = unit.spansByName;
    const wantedSpan = (sp: FunctionSpan): boolean =>
      (!opts.lines && !opts.functions) ||
      !!opts.lines?.some(([a, b]) => sp.startLine <= b && sp.endLine >= a) ||
      !!opts.functions?.has(sp.name);
    const selected = spans.filter(wantedSpan);
    const targets = [...selected];

    const effectful = this.effectful(index);
    // A function that can have no modelled effect and touches no protocol state cannot produce a finding.
    const interesting = (sp: FunctionSpan): boolean => effectful.has(sp) || this.spanTest('interesting', sp, () => this.model.interestingMembers.test(sp.text));
    // Callers of the targets (for entry contexts), a few levels up, bounded.
    const callersOf = this.callersIndex(index, byName);
    const walkSet = new Set<FunctionSpan>(targets.filter(interesting));
    if (opts.lines) {
      let frontier = [...walkSet];
      for (let depth = 0; depth < MAX_CALLER_DEPTH && frontier.length; depth++) {
        const next: FunctionSpan[] = [];
        for (const sp of frontier) {
          const callers = callersOf.get(sp.name) ?? [];
          // A function with many callers in view gets an entry context only from its own assertions.
          if (callers.length > MAX_CALLERS) continue;
          for (const c of callers) {
            if (!walkSet.has(c)) {
              walkSet.add(c);
              next.push(c);
            }
          }
        }
        frontier = next;
      }
    }

    // Pass A, bottom-up over everything the walked functions call (transitively): summaries.
    const summaries = new Map<string, readonly Effect[]>();
    const summaryKeys = new Map<string, string>();
    const inView = new Set(byName.keys());
    const sitesA = new Map<string, CallSiteContext[]>();
    const visiting = new Set<string>();
    const digests = new Map<string, string>();
    const summarise = (sp: FunctionSpan): string => {
      const done = summaryKeys.get(sp.name);
      if (done !== undefined) return done;
      if (visiting.has(sp.name)) return 'cycle';
      visiting.add(sp.name);
      const calleeKeys: string[] = [];
      if (effectful.has(sp)) {
        for (const c of sp.calls) {
          const callee = byName.get(c);
          if (callee && callee !== sp && effectful.has(callee)) {
            summarise(callee);
            // The callee's effects, not its key: an edit that leaves a callee's summary
            // unchanged does not invalidate its callers' summaries.
            calleeKeys.push(`${c}=${digests.get(c) ?? 'cycle'}`);
          }
        }
      }
      visiting.delete(sp.name);
      const key = effectful.has(sp) ? createHash('sha1').update(`${sp.hash}|${calleeKeys.join(',')}`).digest('hex').slice(0, 20) : 'pure';
      let summary = key === 'pure' ? PURE : this.summaryCache.get(key);
      if (!summary) {
        const fn = this.lower(index, sp);
        if (!fn) {
          summary = { name: sp.name, effects: [], reasons: {} };
        } else {
          const resolver = new EffectResolver(this.model, summaries);
          const entry = withEntryContract(initialState('unknown'), fn.name, fn.startLine, this.model);
          const collector = new SummaryCollector(fn, this.model, entry, (n) => unit.summaries.get(n));
          const res = walk(fn, [entry], [collector, new CallSiteCollector(inView, sitesA)], { model: this.model, resolver, maxVisits: 50_000 });
          this.stats.walks++;
          if (res.truncated) truncated.push(fn.name);
          summary = collector.summary();
        }
        this.summaryCache.set(key, summary);
      }
      unit.summaries.set(sp.name, summary);
      digests.set(sp.name, summary.effects.length ? createHash('sha1').update(JSON.stringify(summary.effects)).digest('hex').slice(0, 16) : '-');
      if (!this.model.api(sp.name) && summary.effects.length) summaries.set(sp.name, summary.effects);
      summaryKeys.set(sp.name, key);
      return key;
    };
    // Callers of selected functions whose summary (what callers see) is of interest.
    const selectedDigests: Record<string, string> = {};
    for (const sp of selected) {
      summarise(sp);
      selectedDigests[sp.name] = digests.get(sp.name) ?? '-';
    }
    if (opts.callersIf) {
      for (const sp of selected) {
        if (!opts.callersIf(sp.name, selectedDigests[sp.name])) continue;
        const callers = callersOf.get(sp.name) ?? [];
        if (callers.length > MAX_CALLERS) continue;
        for (const c of callers) {
          if (targets.includes(c) || !interesting(c)) continue;
          targets.push(c);
          walkSet.add(c);
          const up = callersOf.get(c.name) ?? [];
          if (up.length <= MAX_CALLERS) for (const cc of up) walkSet.add(cc);
        }
      }
    }
    const walkOrder = [...walkSet].sort((a, b) => a.startLine - b.startLine);
    for (const sp of walkOrder) summarise(sp);

    // Pass B, top-down: entry contexts from callers, rules on the targets.
    const order = bottomUp(walkOrder, (sp) => sp.calls).reverse();
    const sitesB = new Map<string, CallSiteContext[]>();
    const resolver = new EffectResolver(this.model, summaries);
    const targetSet = new Set(targets.filter(interesting));
    for (const sp of order) {
      const ctx: EntryContext = opts.hunkOnly
        ? { srcu: 'unknown', locks: {}, callSites: 0 }
        : entryContext(sp, sitesB.get(sp.name) ?? sitesA.get(sp.name));
      // A caller walked only for its call sites: a pure function of its Merkle summary key
      // (its text and its callees' summaries) and its entry context, so cached.
      const siteKey = targetSet.has(sp)
        ? undefined
        : `${summaryKeys.get(sp.name) === 'pure' ? sp.hash : summaryKeys.get(sp.name)}|${ctx.srcu}|${Object.entries(ctx.locks).map(([k, v]) => `${k}:${v.mode}`).sort().join(',')}`;
      const cachedSites = siteKey ? this.siteWalks.get(siteKey) : undefined;
      if (cachedSites) {
        for (const [callee, c] of cachedSites) sitesB.set(callee, [...(sitesB.get(callee) ?? []), c]);
        continue;
      }
      const fn = this.lower(index, sp);
      if (!fn) continue;
      const entry: State = withEntryContract(initialState(ctx.srcu, ctx.locks), fn.name, fn.startLine, this.model);
      const mySites = new Map<string, CallSiteContext[]>();
      const handlers: RuleHandlers[] = [new CallSiteCollector(inView, siteKey ? mySites : sitesB)];
      if (targetSet.has(sp)) {
        for (const rule of this.rules) handlers.push(rule.create(this.ruleContext(rule, fn, unit, findings, !!opts.hunkOnly, index)));
      }
      const res = walk(fn, [entry], handlers, { model: this.model, resolver });
      this.stats.walks++;
      if (res.truncated && !truncated.includes(fn.name)) truncated.push(fn.name);
      for (const h of handlers) h.functionEnd?.();
      if (siteKey) {
        const flat: [string, CallSiteContext][] = [...mySites].flatMap(([callee, list]) => list.map((c): [string, CallSiteContext] => [callee, c]));
        this.siteWalks.set(siteKey, flat);
        for (const [callee, c] of flat) sitesB.set(callee, [...(sitesB.get(callee) ?? []), c]);
      }
    }
    return {
      path: index.path,
      findings: dedupe(findings),
      functions: spans.map((f) => ({ name: f.name, startLine: f.startLine, endLine: f.endLine })),
      targets: [...new Set([...targetSet].map((t) => t.name))].sort(),
      digests: selectedDigests,
      truncated,
      parseErrors: false,
    };
  }

  private ruleContext(rule: Rule, fn: LoweredFunction, unit: Unit, out: Finding[], hunkOnly: boolean, index: FileIndex): RuleContext {
    const model = this.model;
    return {
      fn,
      unit,
      model,
      report(r: ReportInput): void {
        const template = rule.meta.messages[r.messageId] ?? r.messageId;
        const message = template.replace(/\{(\w+)\}/g, (_, k: string) => String(r.data?.[k] ?? `{${k}}`));
        const base = r.confidence ?? rule.meta.confidence;
        const snippet = index.lines[r.line - 1] ?? '';
        // Statement-level reports (col 1) point at the statement's first token.
        const column = r.col <= 1 ? (snippet.search(/\S/) + 1 || 1) : r.col;
        const f: Finding = {
          rule: rule.meta.id,
          severity: r.severity ?? rule.meta.severity,
          confidence: hunkOnly ? LOWER[base] : base,
          file: index.path,
          line: r.line,
          column,
          function: fn.name,
          message,
          related: (r.related ?? []).map((x) => ({ file: x.file ?? index.path, line: x.line, message: x.message })),
          preexisting: false,
          fingerprint: fingerprint(rule.meta.id, fn.name, r.key),
          snippet,
        };
        if (r.path) f.path = r.path;
        if (r.litmus) f.litmus = r.litmus;
        if (r.witness) f.witness = r.witness;
        out.push(f);
      },
    };
  }
}


/** A Map that forgets its oldest entries past a size. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(k: K, v: V): this {
    if (this.size >= this.max && !this.has(k)) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(k, v);
  }
}

/** A copy of `fn` with every line shifted by `delta`. */
export function relocate(fn: LoweredFunction, delta: number): LoweredFunction {
  return {
    ...fn,
    startLine: fn.startLine + delta,
    endLine: fn.endLine + delta,
    nodes: fn.nodes.map((n) => ({
      ...n,
      line: n.line + delta,
      ops: n.ops.map((o) => ({ ...o, line: o.line + delta })),
    })),
    loops: fn.loops.map((l) => ({ ...l, line: l.line + delta })),
  };
}

export function fingerprint(rule: string, fn: string, key: string): string {
  return createHash('sha1').update(`${rule}\0${fn}\0${key}`).digest('hex').slice(0, 16);
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of findings) {
    const k = `${f.rule}|${f.line}|${f.column}|${f.fingerprint}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return out;
}

class Unit implements UnitView {
  readonly summaries = new Map<string, Summary>();
  readonly spansByName = new Map<string, FunctionSpan>();
  private all?: LoweredFunction[];
  private readonly loweredByName = new Map<string, LoweredFunction | null>();
  private callers?: Map<string, { caller: LoweredFunction; op: CallOp }[]>;

  constructor(
    private readonly index: FileIndex,
    private readonly analyzer: Analyzer,
    readonly hunkOnly: boolean,
  ) {
    for (const f of index.functions) if (!this.spansByName.has(f.name)) this.spansByName.set(f.name, f);
  }

  get path(): string {
    return this.index.path;
  }

  get lines(): readonly string[] {
    return this.index.lines;
  }

  /** All functions of the file, lowered on first use. */
  get functions(): readonly LoweredFunction[] {
    if (!this.all) {
      this.all = [];
      for (const sp of this.index.functions) {
        const f = this.analyzer.lower(this.index, sp);
        if (f) this.all.push(f);
      }
    }
    return this.all;
  }

  private readonly memos = new Map<string, unknown>();

  memo<T>(key: string, compute: () => T): T {
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const v = compute();
    this.memos.set(key, v);
    return v;
  }

  sharedMemo<T>(key: string, compute: () => T): T {
    return this.analyzer.sharedMemo(key, compute);
  }

  get spans(): readonly FunctionSpan[] {
    return this.index.functions;
  }

  functionsMentioning(word: string): readonly LoweredFunction[] {
    const w = word.replace(/[^\w]/g, '');
    const re = wordRe(w);
    const out: LoweredFunction[] = [];
    for (const sp of this.index.functions) {
      if (!this.analyzer.spanTest(`mentions:${w}`, sp, () => re.test(sp.text))) continue;
      const f = this.analyzer.lower(this.index, sp);
      if (f) out.push(f);
    }
    return out;
  }

  function(name: string): LoweredFunction | undefined {
    if (!this.loweredByName.has(name)) {
      const sp = this.spansByName.get(name);
      this.loweredByName.set(name, sp ? this.analyzer.lower(this.index, sp) : null);
    }
    return this.loweredByName.get(name) ?? undefined;
  }

  summary(name: string): Summary | undefined {
    return this.summaries.get(name);
  }

  effectsOf(name: string): readonly Effect[] {
    return this.analyzer.model.api(name)?.effects ?? this.summaries.get(name)?.effects ?? [];
  }

  callersOf(name: string): { caller: LoweredFunction; op: CallOp }[] {
    if (!this.callers) this.callers = new Map();
    let list = this.callers.get(name);
    if (!list) {
      list = [];
      for (const sp of this.index.functions) {
        if (!sp.calls.includes(name)) continue;
        const f = this.analyzer.lower(this.index, sp);
        if (!f) continue;
        for (const n of f.nodes) for (const op of n.ops) if (op.k === 'call' && op.name === name) list.push({ caller: f, op });
      }
      this.callers.set(name, list);
    }
    return list;
  }

  commentAbove(line: number): string {
    // Collect a /* */ or // comment block that ends on `line` or on the lines just above it.
    const lines = this.index.lines;
    let i = line - 1;
    const out: string[] = [];
    // Same-line trailing comment.
    const same = lines[i] ?? '';
    const m = /\/\*(.*?)\*\/|\/\/(.*)$/.exec(same);
    if (m) out.push((m[1] ?? m[2] ?? '').trim());
    i--;
    // Skip blank lines directly above.
    while (i >= 0 && lines[i].trim() === '') i--;
    if (i >= 0 && /\*\/\s*$/.test(lines[i])) {
      const block: string[] = [];
      while (i >= 0) {
        block.unshift(lines[i]);
        if (/\/\*/.test(lines[i])) break;
        i--;
      }
      out.unshift(block.join('\n').replace(/^\s*\/?\*+\/?/gm, '').trim());
    } else {
      const block: string[] = [];
      while (i >= 0 && /^\s*\/\//.test(lines[i])) {
        block.unshift(lines[i].replace(/^\s*\/\/\s?/, ''));
        i--;
      }
      if (block.length) out.unshift(block.join('\n'));
    }
    return out.join('\n');
  }
}
