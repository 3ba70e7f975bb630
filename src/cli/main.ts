#!/usr/bin/env node
/**
 * kvmlint command line. Exit codes: 0 nothing reported, 1 findings reported,
 * 2 unusable input or internal error (results for the usable inputs are still
 * printed).
 */
import { Command, Option } from 'commander';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '../types.js';
import { render, type Format } from '../report/index.js';
import { ALL_RULES, selectRules } from '../rules/index.js';
import { KVM_PATHS, runCheck, runPatch, runRange, runStaged, type RunOptions } from './run.js';
// explain (zod), demo and litmus are loaded only by their subcommands: start-up time matters to hooks.

const here = dirname(fileURLToPath(import.meta.url));

function toolVersion(): string {
  for (const p of [join(here, '../../package.json'), join(here, '../../../package.json')]) {
    try {
      return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
    } catch {
      /* try the next location */
    }
  }
  return '0.0.0';
}

/**
 * Identity of this build of the analysis code (file names, sizes and mtimes of
 * the compiled analyzer, model and rules): persistent caches are only reused
 * by the very same build.
 */
function buildId(): string {
  const h = createHash('sha1').update(toolVersion());
  for (const sub of ['analyzer', 'model', 'rules']) {
    const dir = join(here, '..', sub);
    const walk = (d: string): void => {
      let entries: string[] = [];
      try {
        entries = readdirSync(d).sort();
      } catch {
        return;
      }
      for (const e of entries) {
        const p = join(d, e);
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else if (e.endsWith('.js')) h.update(`${p}:${st.size}:${st.mtimeMs}`);
      }
    };
    walk(dir);
  }
  return h.digest('hex').slice(0, 16);
}

interface CommonOpts {
  format: Format;
  rules?: string;
  all?: boolean;
  color?: boolean;
}

function addCommon(cmd: Command): Command {
  return cmd
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif', 'email']).default('text'))
    .option('--rules <ids>', 'comma-separated rule ids to run (default: all)')
    .option('--all', 'also show pre-existing findings (marked)')
    .option('--color', 'force colour')
    .option('--no-color', 'never colour');
}

function runOptions(o: CommonOpts): RunOptions {
  const ids = o.rules ? o.rules.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  return { rules: selectRules(ids), all: !!o.all };
}

function emit(result: RunResult, o: CommonOpts): number {
  const color = o.color === undefined ? !!process.stdout.isTTY : o.color;
  process.stdout.write(
    render(o.format, result, { color: o.format === 'text' && color, showPreexisting: !!o.all, toolVersion: toolVersion(), rules: ALL_RULES.map((r) => r.meta), cwd: process.cwd() }),
  );
  if (o.format !== 'text') for (const e of result.errors) process.stderr.write(`kvmlint: ${e.message}\n`);
  if (result.errors.length) return 2;
  return result.findings.some((f) => !f.preexisting) ? 1 : 0;
}

async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(file, 'utf8');
}

/** Default pathspecs: KVM's folders in a kernel tree, every C file elsewhere. */
function rangePaths(repo: string, o: { paths?: string; allPaths?: boolean }): string[] {
  if (o.paths) return o.paths.split(',').map((p) => p.trim()).filter(Boolean);
  if (o.allPaths || !existsSync(join(repo, 'virt', 'kvm'))) return ['*.c', '*.h'];
  return KVM_PATHS;
}

/** Run a subcommand's job and return its result (shared by the commands and `explain`). */
async function job(name: string, args: string[], o: CommonOpts & { tree?: string; repo?: string; paths?: string; allPaths?: boolean; cache?: boolean; jobs?: string }): Promise<RunResult> {
  const ro = runOptions(o);
  switch (name) {
    case 'check':
      return runCheck(args, ro);
    case 'patch': {
      const file = args[0] ?? '-';
      let text: string;
      try {
        text = await readInput(file);
      } catch (e) {
        return { findings: [], errors: [{ input: file, message: `${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }] };
      }
      return runPatch(text, file === '-' ? '<stdin>' : file, { ...ro, tree: o.tree });
    }
    case 'range':
      return runRange(args[0], { ...ro, repo: o.repo ?? '.', paths: rangePaths(o.repo ?? '.', o), jobs: Math.max(1, Number(o.jobs ?? 1) || 1) });
    case 'staged':
      return runStaged({ ...ro, repo: o.repo ?? '.', toolVersion: buildId(), cache: o.cache !== false });
    default:
      throw new Error(`unknown command '${name}'`);
  }
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command();
  program
    .name('kvmlint')
    .description('Reviews Linux KVM patches for concurrency mistakes: SRCU and memslots, rmaps, the MMU lock and invalidation, TDP MMU roots, memory barriers.')
    .version(toolVersion())
    .showHelpAfterError()
    .exitOverride();

  addCommon(program.command('check').description('analyse whole C files (all functions)').argument('<files...>'))
    .action(async (files: string[], o: CommonOpts) => {
      code = emit(await job('check', files, o), o);
    });

  addCommon(
    program
      .command('patch')
      .description('analyse a unified diff, a git format-patch file or an mbox series (- for stdin)')
      .argument('[file]', 'patch file or -', '-')
      .option('--tree <dir>', 'kernel checkout to apply the patches onto (at base-commit if present) for whole-function analysis'),
  ).action(async (file: string, o: CommonOpts & { tree?: string }) => {
    code = emit(await job('patch', [file], o), o);
  });

  addCommon(
    program
      .command('range')
      .description('every commit of a git range, each judged against its parent')
      .argument('<range>', 'e.g. v6.11..v6.12 or HEAD~20..')
      .option('--repo <dir>', 'git repository', '.')
      .option('--paths <globs>', `comma-separated pathspecs (default in a kernel tree: ${KVM_PATHS.join(',')}; elsewhere every .c/.h)`)
      .option('--all-paths', 'look at every C file in the range')
      .option('--jobs <n>', 'threads (2: a worker takes part of a range of 40+ commits, by file; measured slower on 2 cores so far)', '1'),
  ).action(async (range: string, o: CommonOpts & { repo: string; paths?: string; allPaths?: boolean; jobs?: string }) => {
    code = emit(await job('range', [range], o), o);
  });

  addCommon(
    program
      .command('staged')
      .description('the index against HEAD (for a pre-commit hook)')
      .option('--repo <dir>', 'git repository', '.')
      .option('--no-cache', 'do not use or update the summary cache in <git dir>/kvmlint/'),
  ).action(async (o: CommonOpts & { repo: string; cache?: boolean }) => {
      code = emit(await job('staged', [], o), o);
    });

  program
    .command('rules')
    .description('list rules with id, severity and summary')
    .option('--json', 'machine-readable')
    .action((o: { json?: boolean }) => {
      if (o.json) {
        process.stdout.write(`${JSON.stringify(ALL_RULES.map((r) => r.meta), null, 2)}\n`);
        return;
      }
      const w = Math.max(...ALL_RULES.map((r) => r.meta.id.length));
      for (const r of ALL_RULES) process.stdout.write(`${r.meta.id.padEnd(w)}  ${r.meta.severity.padEnd(7)}  ${r.meta.summary}\n`);
    });

  program
    .command('litmus')
    .description('run litmus tests (herd7 C format) through kvmlint\'s LKMM engine')
    .argument('<paths...>', 'files or directories')
    .option('--expect', 'compare with each file\'s Result: line')
    .action(async (paths: string[], o: { expect?: boolean }) => {
      const { litmusCommand } = await import('./litmus-command.js');
      code = await litmusCommand(paths, {
        expect: o.expect,
        out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
        err: (s) => process.stderr.write(`${s}\n`),
      });
    });

  program
    .command('explain')
    .description('explain each finding: path, both sides and, for barrier findings, the litmus test and witness')
    .argument('[args...]', 'a subcommand and its arguments (check a.c, patch x.mbox, range A..B, staged)')
    .option('--json <file>', 'explain the findings of a previous `--format json` run')
    .option('--litmus-out <dir>', 'write each finding\'s litmus test to DIR')
    .option('--rules <ids>', 'comma-separated rule ids to run')
    .option('--repo <dir>', 'git repository (range, staged)')
    .option('--tree <dir>', 'kernel checkout (patch)')
    .allowUnknownOption(false)
    .action(async (args: string[], o: { json?: string; litmusOut?: string; rules?: string; repo?: string; tree?: string }) => {
      const { explainResult, parseJsonResult } = await import('./explain.js');
      let result: RunResult;
      if (o.json) {
        try {
          result = parseJsonResult(await readFile(o.json, 'utf8'));
        } catch (e) {
          process.stderr.write(`kvmlint: ${o.json}: ${(e as Error).message.split('\n')[0]}\n`);
          code = 2;
          return;
        }
      } else {
        const [name, ...rest] = args;
        if (!name) {
          process.stderr.write('kvmlint: explain needs --json FILE or a subcommand (check, patch, range, staged)\n');
          code = 2;
          return;
        }
        result = await job(name, rest, { format: 'text', rules: o.rules, repo: o.repo, tree: o.tree });
      }
      const out = explainResult(result);
      process.stdout.write(out.text);
      if (o.litmusOut) {
        await mkdir(o.litmusOut, { recursive: true });
        for (const [name, text] of out.litmus) await writeFile(join(o.litmusOut, name), text);
      }
      for (const e of result.errors) process.stderr.write(`kvmlint: ${e.message}\n`);
      code = result.errors.length ? 2 : result.findings.some((f) => !f.preexisting) ? 1 : 0;
    });

  addCommon(program.command('demo').description('run kvmlint on the embedded demo (a small KVM-like git history and a patch series)'))
    .action(async (o: CommonOpts) => {
      const { runDemo } = await import('./demo.js');
      code = await runDemo(o, (r) => emit(r, o));
    });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    if (err.code && err.code.startsWith('commander.')) return 2;
    process.stderr.write(`kvmlint: ${(err.message ?? String(e)).split('\n')[0]}\n`);
    return 2;
  }
  return code;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1]);
if (isMain) {
  main(process.argv).then(
    (c) => {
      process.exitCode = c;
    },
    (e: unknown) => {
      process.stderr.write(`kvmlint: internal error: ${(e as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
