/**
 * SARIF 2.1.0 output: one run, every known rule in tool.driver.rules, one
 * result per shown finding. Paths are relative to %SRCROOT%.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding, InputError, PathStep, RelatedLocation, RuleMeta, RunResult } from '../types.js';
import type { ReportOptions } from './options.js';
import { cleanSnippet, selectFindings } from './common.js';

export const SARIF_SCHEMA_URI =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';
export const SRCROOT = 'SRCROOT';
/** Key of the kvmlint fingerprint in result.partialFingerprints. */
export const FINGERPRINT_KEY = 'kvmlint/v1';

type Json = Record<string, unknown>;

/** 'memslots-double-snapshot' -> 'MemslotsDoubleSnapshot'. */
export function ruleName(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/**
 * artifactLocation for a file: relative paths become percent-encoded URI
 * references against SRCROOT; absolute paths outside `cwd` become file: URLs.
 */
export function artifactLocation(file: string, cwd?: string): Json {
  let rel = file.replace(/\\/g, '/');
  if (path.isAbsolute(file)) {
    const r = cwd === undefined ? '' : path.relative(cwd, file).replace(/\\/g, '/');
    if (r === '' || r.startsWith('../') || r === '..' || path.isAbsolute(r)) {
      return { uri: pathToFileURL(file).href };
    }
    rel = r;
  }
  rel = rel.replace(/^(\.\/)+/, '');
  return { uri: rel.split('/').map(encodeURIComponent).join('/'), uriBaseId: SRCROOT };
}

function ruleDescriptor(r: RuleMeta): Json {
  let full = r.summary;
  if (r.falsePositives.length > 0) full += ` Known causes of false positives: ${r.falsePositives.join('; ')}.`;
  return {
    id: r.id,
    name: ruleName(r.id),
    shortDescription: { text: r.summary },
    fullDescription: { text: full },
    defaultConfiguration: { level: r.severity },
    properties: {
      confidence: r.confidence,
      precision: r.confidence,
      docs: r.docs,
      falsePositives: [...r.falsePositives],
      seeds: [...r.seeds],
      tags: ['concurrency'],
    },
  };
}

/** Descriptor for a rule id that appears in a finding but not in opts.rules. */
function unknownRuleDescriptor(id: string, f: Finding): Json {
  return {
    id,
    name: ruleName(id),
    shortDescription: { text: id },
    defaultConfiguration: { level: f.severity },
    properties: { confidence: f.confidence, falsePositives: [], seeds: [], tags: ['concurrency'] },
  };
}

/** Known rules sorted by id, then rules only findings mention, sorted by id. */
function driverRules(rules: readonly RuleMeta[], findings: readonly Finding[]): { descriptors: Json[]; index: Map<string, number> } {
  const known = [...rules].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const descriptors: Json[] = [];
  const index = new Map<string, number>();
  for (const r of known) {
    if (index.has(r.id)) continue;
    index.set(r.id, descriptors.length);
    descriptors.push(ruleDescriptor(r));
  }
  const extra = new Map<string, Finding>();
  for (const f of findings) if (!index.has(f.rule) && !extra.has(f.rule)) extra.set(f.rule, f);
  for (const id of [...extra.keys()].sort()) {
    index.set(id, descriptors.length);
    descriptors.push(unknownRuleDescriptor(id, extra.get(id)!));
  }
  return { descriptors, index };
}

function relatedLocation(r: RelatedLocation, id: number, cwd?: string): Json {
  const region: Json = { startLine: r.line };
  if (r.column !== undefined) region.startColumn = r.column;
  return {
    id,
    physicalLocation: { artifactLocation: artifactLocation(r.file, cwd), region },
    message: { text: r.message },
  };
}

function codeFlow(f: Finding, steps: readonly PathStep[], cwd?: string): Json {
  return {
    threadFlows: [
      {
        locations: steps.map((s) => ({
          location: {
            physicalLocation: {
              artifactLocation: artifactLocation(f.file, cwd),
              region: { startLine: s.line, snippet: { text: s.text } },
            },
            message: { text: s.text.trim() },
          },
        })),
      },
    ],
  };
}

function result(f: Finding, ruleIndex: number, cwd?: string): Json {
  const region: Json = { startLine: f.line, startColumn: f.column };
  if (f.snippet !== undefined) region.snippet = { text: cleanSnippet(f.snippet) };
  const location: Json = { physicalLocation: { artifactLocation: artifactLocation(f.file, cwd), region } };
  if (f.function !== '') location.logicalLocations = [{ name: f.function, kind: 'function' }];
  const res: Json = {
    ruleId: f.rule,
    ruleIndex,
    level: f.severity,
    message: { text: f.message },
    locations: [location],
  };
  if (f.related.length > 0) res.relatedLocations = f.related.map((r, i) => relatedLocation(r, i + 1, cwd));
  if (f.path !== undefined && f.path.length > 0) res.codeFlows = [codeFlow(f, f.path, cwd)];
  res.partialFingerprints = { [FINGERPRINT_KEY]: f.fingerprint };
  res.baselineState = f.preexisting ? 'unchanged' : 'new';
  const props: Json = { function: f.function, confidence: f.confidence };
  if (f.commit !== undefined) props.commit = f.commit;
  if (f.patch !== undefined) props.patch = f.patch;
  if (f.litmus !== undefined) props.litmus = f.litmus;
  if (f.witness !== undefined) props.witness = f.witness;
  res.properties = props;
  return res;
}

function notification(e: InputError): Json {
  return {
    level: 'error',
    message: { text: `${e.input}: ${e.message}` },
    descriptor: { id: 'input-error' },
    properties: { input: e.input },
  };
}

export function formatSarif(resultIn: RunResult, opts: ReportOptions): string {
  const findings = selectFindings(resultIn, opts.showPreexisting);
  const { descriptors, index } = driverRules(opts.rules, findings);
  const run: Json = {
    tool: { driver: { name: 'kvmlint', version: opts.toolVersion, rules: descriptors } },
    invocations: [
      {
        executionSuccessful: resultIn.errors.length === 0,
        toolExecutionNotifications: resultIn.errors.map(notification),
      },
    ],
  };
  if (opts.cwd !== undefined) {
    let base = pathToFileURL(opts.cwd).href;
    if (!base.endsWith('/')) base += '/';
    run.originalUriBaseIds = { [SRCROOT]: { uri: base } };
  }
  run.results = findings.map((f) => result(f, index.get(f.rule)!, opts.cwd));
  const log = { $schema: SARIF_SCHEMA_URI, version: '2.1.0', runs: [run] };
  return JSON.stringify(log, null, 2) + '\n';
}
