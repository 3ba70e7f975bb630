/**
 * `kvmlint demo` (`npm start`): builds a small KVM-like git history from
 * fixtures/demo/history/ in a temporary directory, runs `range` over it, then
 * runs `patch` on the bundled series in fixtures/demo/series.mbox, without a
 * tree (hunk-only) and applied onto the demo history (--tree).
 *
 * fixtures/demo/history/NN-slug/ holds, per commit, a MESSAGE file (subject
 * line, blank line, body) and either the files to write at their repository
 * paths (the base) or a change.diff applied with `git apply`.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '../types.js';
import { selectRules } from '../rules/index.js';
import { newAnalyzer, runPatch, runRange } from './run.js';

const here = dirname(fileURLToPath(import.meta.url));

export function fixturesDir(): string {
  for (const p of [join(here, '../../fixtures'), join(here, '../../../fixtures')]) {
    try {
      if (statSync(join(p, 'demo')).isDirectory()) return p;
    } catch {
      /* next */
    }
  }
  throw new Error('fixtures/demo not found next to the kvmlint installation');
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=KVM Demo', '-c', 'user.email=demo@kvmlint.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z' },
  });
}

/** Build the demo history; returns the repo dir and the commit ids in order. */
export function buildDemoRepo(dir?: string): { dir: string; commits: string[]; subjects: string[] } {
  const root = dir ?? mkdtempSync(join(tmpdir(), 'kvmlint-demo-'));
  const history = join(fixturesDir(), 'demo', 'history');
  git(root, ['init', '-q', '-b', 'main']);
  const commits: string[] = [];
  const subjects: string[] = [];
  for (const step of readdirSync(history).sort()) {
    const src = join(history, step);
    for (const entry of readdirSync(src)) {
      if (entry === 'MESSAGE') continue;
      // A step is either files to copy (the base) or a change.diff to apply.
      if (entry === 'change.diff') git(root, ['apply', join(src, entry)]);
      else cpSync(join(src, entry), join(root, entry), { recursive: true });
    }
    const message = readFileSync(join(src, 'MESSAGE'), 'utf8');
    git(root, ['add', '-A']);
    git(root, ['commit', '-q', '-F', join(src, 'MESSAGE')]);
    commits.push(git(root, ['rev-parse', 'HEAD']).trim());
    subjects.push(message.split('\n')[0]);
  }
  return { dir: root, commits, subjects };
}

export async function runDemo(o: { rules?: string; all?: boolean; format: string }, emit: (r: RunResult) => number): Promise<number> {
  const rules = selectRules(o.rules ? o.rules.split(',') : undefined);
  const analyzer = newAnalyzer(rules);
  const say = (s: string): void => {
    if (o.format === 'text') process.stdout.write(s);
  };
  const demo = buildDemoRepo();
  try {
    const range = `${demo.commits[0]}..HEAD`;
    say(`== kvmlint range ${range.slice(0, 12)}..HEAD  (demo history: ${demo.commits.length - 1} commits on top of a clean base)\n`);
    const r1 = await runRange(range, { rules, all: o.all, repo: demo.dir, paths: ['*.c', '*.h'] }, analyzer);
    let code = emit(r1);
    const series = join(fixturesDir(), 'demo', 'series.mbox');
    const text = readFileSync(series, 'utf8');
    say(`\n== kvmlint patch fixtures/demo/series.mbox  (no tree: hunk-only analysis, lower confidence)\n`);
    const r2 = await runPatch(text, 'fixtures/demo/series.mbox', { rules, all: o.all }, analyzer);
    code = Math.max(code, emit(r2));
    say(`\n== kvmlint patch fixtures/demo/series.mbox --tree <demo repo>  (applied at its base-commit: whole functions)\n`);
    const r3 = await runPatch(text, 'fixtures/demo/series.mbox', { rules, all: o.all, tree: demo.dir }, analyzer);
    code = Math.max(code, emit(r3));
    return code;
  } finally {
    rmSync(demo.dir, { recursive: true, force: true });
  }
}
