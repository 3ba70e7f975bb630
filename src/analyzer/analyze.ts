/**
 * Analysis of one C file (or a reconstructed fragment): parse, lower every
 * function, compute summaries bottom-up and entry contexts top-down, then walk
 * the functions to report on with the rules subscribed.
 */
import { createHash } from 'node:crypto';
import type { Confidence, Finding } from '../types.js';
import type { Model } from '../model/index.js';
import { CParser, type ParsedFile } from './frontend/parse.js';
import { lowerFunction } from './cfg.js';
import { EffectResolver } from './effects.js';
import { walk } from './engine.js';
import type { CallOp, LoweredFunction } from './ir.js';
import type { ReportInput, Rule, RuleContext, RuleHandlers, UnitView } from './rule-api.js';
import { initialState, type State } from './state.js';
import {
  CallSiteCollector, type CallSiteContext, type EntryContext, type Summary, SummaryCollector, bottomUpOrder, entryContext,
} from './summaries.js';
import type { Effect } from '../model/index.js';

export interface AnalyzeOptions {
  /** Report only in functions overlapping these 1-based line ranges (undefined: every function). */
  lines?: readonly [number, number][];
  /** Only hunk-visible code is known: lower confidence, callers unknown. */
  hunkOnly?: boolean;
}

export interface FileAnalysis {
  path: string;
  findings: Finding[];
  functions: { name: string; startLine: number; endLine: number }[];
  /** Functions whose walk hit the state budget. */
  truncated: string[];
  parseErrors: boolean;
}

export interface AnalyzerStats {
  files: number;
  functions: number;
  walks: number;
}

const LOWER: Record<Confidence, Confidence> = { high: 'medium', medium: 'low', low: 'low' };

export class Analyzer {
  readonly parser: CParser;
  readonly stats: AnalyzerStats = { files: 0, functions: 0, walks: 0 };

  constructor(
    readonly model: Model,
    readonly rules: readonly Rule[],
  ) {
    this.parser = new CParser();
  }

  analyzeSource(path: string, source: string, opts: AnalyzeOptions = {}): FileAnalysis {
    const parsed = this.parser.parse(path, source);
    return this.analyzeParsed(parsed, opts);
  }

  analyzeParsed(parsed: ParsedFile, opts: AnalyzeOptions = {}): FileAnalysis {
    this.stats.files++;
    const lowered = parsed.functions.map((f) => lowerFunction(f, { model: this.model, file: parsed }));
    this.stats.functions += lowered.length;
    const unit = new Unit(parsed, lowered, !!opts.hunkOnly, this.model);
    const findings: Finding[] = [];
    const truncated: string[] = [];

    // Pass A, bottom-up: summaries with default entry states.
    const summaries = new Map<string, readonly Effect[]>();
    const order = bottomUpOrder(lowered);
    const inView = new Set(lowered.map((f) => f.name));
    const sitesA = new Map<string, CallSiteContext[]>();
    for (const fn of order) {
      const resolver = new EffectResolver(this.model, summaries);
      const entry = initialState('unknown');
      const collector = new SummaryCollector(fn, this.model, entry);
      const res = walk(fn, [entry], [collector, new CallSiteCollector(inView, sitesA)], { model: this.model, resolver, maxVisits: 50_000 });
      this.stats.walks++;
      if (res.truncated) truncated.push(fn.name);
      const summary = collector.summary();
      unit.summaries.set(fn.name, summary);
      if (!this.model.api(fn.name) && summary.effects.length) summaries.set(fn.name, summary.effects);
    }

    // Pass B, top-down: entry contexts from callers, rules on the functions to report.
    const wanted = (fn: LoweredFunction): boolean =>
      !opts.lines || opts.lines.some(([a, b]) => fn.startLine <= b && fn.endLine >= a);
    const sitesB = new Map<string, CallSiteContext[]>();
    const topDown = [...order].reverse();
    const resolver = new EffectResolver(this.model, summaries);
    const needed = this.callersClosure(topDown, wanted);
    for (const fn of topDown) {
      if (!needed.has(fn)) continue;
      const ctx: EntryContext = opts.hunkOnly
        ? { srcu: 'unknown', locks: {}, callSites: 0 }
        : entryContext(fn, sitesB.get(fn.name) ?? sitesA.get(fn.name));
      const entry: State = initialState(ctx.srcu, ctx.locks);
      const handlers: RuleHandlers[] = [new CallSiteCollector(inView, sitesB)];
      if (wanted(fn)) {
        for (const rule of this.rules) {
          const rctx = this.ruleContext(rule, fn, unit, findings, !!opts.hunkOnly, parsed);
          handlers.push(rule.create(rctx));
        }
      }
      const res = walk(fn, [entry], handlers, { model: this.model, resolver });
      this.stats.walks++;
      if (res.truncated && !truncated.includes(fn.name)) truncated.push(fn.name);
      for (const h of handlers) h.functionEnd?.();
    }
    return {
      path: parsed.path,
      findings: dedupe(findings),
      functions: lowered.map((f) => ({ name: f.name, startLine: f.startLine, endLine: f.endLine })),
      truncated,
      parseErrors: parsed.hasErrors,
    };
  }

  /** The wanted functions plus every function in view that (transitively) calls one. */
  private callersClosure(fns: LoweredFunction[], wanted: (f: LoweredFunction) => boolean): Set<LoweredFunction> {
    const out = new Set(fns.filter(wanted));
    let changed = true;
    while (changed) {
      changed = false;
      const names = new Set([...out].map((f) => f.name));
      for (const f of fns) {
        if (out.has(f)) continue;
        if (f.callees.some((c) => names.has(c))) {
          out.add(f);
          changed = true;
        }
      }
    }
    return out;
  }

  private ruleContext(rule: Rule, fn: LoweredFunction, unit: Unit, out: Finding[], hunkOnly: boolean, parsed: ParsedFile): RuleContext {
    const model = this.model;
    return {
      fn,
      unit,
      model,
      report(r: ReportInput): void {
        const template = rule.meta.messages[r.messageId] ?? r.messageId;
        const message = template.replace(/\{(\w+)\}/g, (_, k: string) => String(r.data?.[k] ?? `{${k}}`));
        const base = r.confidence ?? rule.meta.confidence;
        const f: Finding = {
          rule: rule.meta.id,
          severity: r.severity ?? rule.meta.severity,
          confidence: hunkOnly ? LOWER[base] : base,
          file: parsed.path,
          line: r.line,
          column: r.col,
          function: fn.name,
          message,
          related: (r.related ?? []).map((x) => ({ file: x.file ?? parsed.path, line: x.line, message: x.message })),
          preexisting: false,
          fingerprint: fingerprint(rule.meta.id, fn.name, r.key),
          snippet: parsed.lines[r.line - 1] ?? '',
        };
        if (r.path) f.path = r.path;
        if (r.litmus) f.litmus = r.litmus;
        if (r.witness) f.witness = r.witness;
        out.push(f);
      },
    };
  }
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
  private readonly byName = new Map<string, LoweredFunction>();
  private callers?: Map<string, { caller: LoweredFunction; op: CallOp }[]>;

  constructor(
    private readonly parsed: ParsedFile,
    readonly functions: readonly LoweredFunction[],
    readonly hunkOnly: boolean,
    private readonly model: Model,
  ) {
    for (const f of functions) if (!this.byName.has(f.name)) this.byName.set(f.name, f);
  }

  get path(): string {
    return this.parsed.path;
  }

  get lines(): readonly string[] {
    return this.parsed.lines;
  }

  function(name: string): LoweredFunction | undefined {
    return this.byName.get(name);
  }

  summary(name: string): Summary | undefined {
    return this.summaries.get(name);
  }

  effectsOf(name: string): readonly Effect[] {
    return this.model.api(name)?.effects ?? this.summaries.get(name)?.effects ?? [];
  }

  callersOf(name: string): { caller: LoweredFunction; op: CallOp }[] {
    if (!this.callers) {
      const m = new Map<string, { caller: LoweredFunction; op: CallOp }[]>();
      for (const f of this.functions) {
        for (const n of f.nodes) {
          for (const op of n.ops) {
            if (op.k !== 'call') continue;
            const list = m.get(op.name) ?? [];
            list.push({ caller: f, op });
            m.set(op.name, list);
          }
        }
      }
      this.callers = m;
    }
    return this.callers.get(name) ?? [];
  }

  commentAbove(line: number): string {
    // Collect a /* */ or // comment block that ends on `line` or on the lines just above it.
    const lines = this.parsed.lines;
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
