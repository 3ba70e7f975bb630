/**
 * npm run eval:upstream — precision on real code.
 *
 * Downloads Debian's linux-source-6.12 (apt-get download, cached under the
 * git-ignored .cache/), unpacks only the KVM parts (virt/kvm, arch/*\/kvm,
 * include/linux/kvm*.h, include/kvm), runs kvmlint's analysis on every .c/.h
 * there and prints, per rule, the number of findings and each finding as
 * `file:line function rule`.
 *
 * Options: --src DIR (use an unpacked tree instead), --json FILE (write all
 * findings), --rules a,b.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Analyzer } from '../src/analyzer/analyze.js';
import { Model } from '../src/model/index.js';
import { ALL_RULES, selectRules } from '../src/rules/index.js';
import type { Finding } from '../src/types.js';

const ROOT = resolve(import.meta.dirname ?? '.', '../..');
const CACHE = join(ROOT, '.cache', 'linux-source-6.12');
const PACKAGE = 'linux-source-6.12';
const PARTS = ['virt/kvm', 'arch/*/kvm', 'include/linux/kvm*', 'include/kvm'];

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

function ensureSource(): string {
  const tree = join(CACHE, 'tree');
  const marker = join(tree, '.complete');
  if (existsSync(marker)) return join(tree, readFileSync(marker, 'utf8').trim());
  mkdirSync(CACHE, { recursive: true });
  let deb = readdirSync(CACHE).find((f) => f.startsWith(`${PACKAGE}_`) && f.endsWith('.deb'));
  if (!deb) {
    process.stderr.write(`downloading ${PACKAGE} with apt-get download ...\n`);
    try {
      sh('apt-get', ['download', PACKAGE], CACHE);
    } catch {
      sh('apt-get', ['update', '-qq'], CACHE);
      sh('apt-get', ['download', PACKAGE], CACHE);
    }
    deb = readdirSync(CACHE).find((f) => f.startsWith(`${PACKAGE}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${PACKAGE} produced no .deb in ${CACHE}`);
  }
  process.stderr.write(`unpacking the KVM parts of ${deb} ...\n`);
  mkdirSync(tree, { recursive: true });
  execFileSync('sh', ['-c', `dpkg-deb --fsys-tarfile '${deb}' | tar -x -O --wildcards './usr/src/${PACKAGE}.tar.xz' > tree/src.tar.xz`], { cwd: CACHE });
  const top = PACKAGE;
  sh('tar', ['-xJf', 'src.tar.xz', '--wildcards', ...PARTS.map((p) => `${top}/${p}`)], tree);
  execFileSync('rm', ['-f', join(tree, 'src.tar.xz')]);
  writeFileSync(marker, top);
  return join(tree, top);
}

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (/\.[ch]$/.test(e)) yield p;
  }
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const src = opt('--src') ? resolve(opt('--src')!) : ensureSource();
  const rules = selectRules(opt('--rules')?.split(','));
  const analyzer = new Analyzer(new Model(), rules);
  const roots = ['virt/kvm', 'arch', 'include/linux', 'include/kvm'].map((r) => join(src, r)).filter(existsSync);
  const findings: Finding[] = [];
  const crashes: string[] = [];
  const t0 = Date.now();
  let files = 0;
  for (const root of roots) {
    for (const file of sources(root)) {
      const rel = relative(src, file);
      if (rel.startsWith('arch/') && !rel.includes('/kvm/')) continue;
      if (rel.startsWith('include/linux/') && !/include\/linux\/kvm/.test(rel)) continue;
      files++;
      try {
        const r = analyzer.analyzeSource(rel, readFileSync(file, 'utf8'));
        findings.push(...r.findings);
      } catch (e) {
        crashes.push(`${rel}: ${(e as Error).message}`);
      }
    }
  }
  const ms = Date.now() - t0;
  findings.sort((a, b) => (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  const ids = rules.map((r) => r.meta.id).sort();
  process.stdout.write(`kvmlint eval:upstream on ${src}\n${files} files, ${analyzer.stats.functions} functions, ${ms} ms\n\n`);
  for (const id of ids) {
    const list = findings.filter((f) => f.rule === id);
    process.stdout.write(`${id}: ${list.length}\n`);
    for (const f of list) process.stdout.write(`  ${f.file}:${f.line} ${f.function} ${f.rule} [${f.severity}]\n`);
  }
  for (const c of crashes) process.stdout.write(`CRASH ${c}\n`);
  const json = opt('--json');
  if (json) writeFileSync(json, `${JSON.stringify({ version: 1, findings, errors: crashes }, null, 2)}\n`);
  const bySeverity = (s: string): number => findings.filter((f) => f.severity === s).length;
  process.stdout.write(`\n${findings.length} findings (${bySeverity('error')} errors, ${bySeverity('warning')} warnings, ${bySeverity('note')} notes), ${crashes.length} crashes\n`);
  process.exitCode = crashes.length ? 2 : 0;
  void ALL_RULES;
}

main();
