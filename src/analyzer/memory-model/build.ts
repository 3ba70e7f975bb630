/**
 * Builds herd7-C litmus text from abstract thread descriptions, for
 * kvmlint's barrier rules. The output runs unchanged under
 * `herd7 -conf linux-kernel.cfg` and under this engine.
 */

export interface AbstractAccess {
  kind: 'store' | 'load' | 'fence';
  variable?: string;
  value?: number;
  order?: 'once' | 'plain' | 'acquire' | 'release' | 'mb' | 'rmb' | 'wmb' | 'mb__after_atomic' | 'mb__before_atomic' | 'rmw-mb';
  register?: string;
}

export interface AbstractThread {
  name: string;
  accesses: AbstractAccess[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function ident(s: string, what: string): string {
  if (!IDENT.test(s)) throw new Error(`buildLitmus: invalid ${what} '${s}'`);
  return s;
}

function fenceCall(order: AbstractAccess['order']): string {
  switch (order ?? 'mb') {
    case 'mb':
    case 'rmw-mb':
      return 'smp_mb();';
    case 'rmb':
      return 'smp_rmb();';
    case 'wmb':
      return 'smp_wmb();';
    case 'mb__after_atomic':
      return 'smp_mb__after_atomic();';
    case 'mb__before_atomic':
      return 'smp_mb__before_atomic();';
    default:
      throw new Error(`buildLitmus: fence order '${order}' is not a fence`);
  }
}

export function buildLitmus(name: string, threads: AbstractThread[], exists: string, comment?: string): string {
  const testName = name.trim().replace(/\s+/g, '-');
  if (!testName) throw new Error('buildLitmus: empty name');
  const vars = new Set<string>();
  for (const t of threads) for (const a of t.accesses) if (a.kind !== 'fence') vars.add(ident(a.variable ?? '', 'variable'));
  const params = [...vars].sort().map((v) => `int *${v}`).join(', ');
  const out: string[] = [`C ${testName}`, ''];
  if (comment) {
    out.push('(*');
    for (const l of comment.split('\n')) out.push(` * ${l.replace(/\*\)/g, '* )')}`.trimEnd());
    out.push(' *)', '');
  }
  out.push('{}', '');
  threads.forEach((t, ti) => {
    const regs: string[] = [];
    const body: string[] = [];
    let auto = 0;
    const reg = (a: AbstractAccess): string => {
      let r = a.register;
      if (!r) {
        while (regs.includes(`r${auto}`) || threads[ti]!.accesses.some((x) => x.register === `r${auto}`)) auto++;
        r = `r${auto++}`;
      }
      ident(r, 'register');
      if (!regs.includes(r)) regs.push(r);
      return r;
    };
    for (const a of t.accesses) {
      if (a.kind === 'fence') {
        body.push(fenceCall(a.order));
        continue;
      }
      const v = a.variable!;
      const order = a.order ?? 'once';
      if (a.kind === 'store') {
        const val = String(a.value ?? 1);
        switch (order) {
          case 'once':
            body.push(`WRITE_ONCE(*${v}, ${val});`);
            break;
          case 'plain':
            body.push(`*${v} = ${val};`);
            break;
          case 'release':
            body.push(`smp_store_release(${v}, ${val});`);
            break;
          case 'mb':
            body.push(`WRITE_ONCE(*${v}, ${val});`, 'smp_mb();');
            break;
          case 'rmw-mb':
            body.push(`${reg(a)} = xchg(${v}, ${val});`);
            break;
          default:
            throw new Error(`buildLitmus: store order '${order}' not supported`);
        }
      } else {
        const r = reg(a);
        switch (order) {
          case 'once':
            body.push(`${r} = READ_ONCE(*${v});`);
            break;
          case 'plain':
            body.push(`${r} = *${v};`);
            break;
          case 'acquire':
            body.push(`${r} = smp_load_acquire(${v});`);
            break;
          case 'mb':
            body.push('smp_mb();', `${r} = READ_ONCE(*${v});`);
            break;
          case 'rmw-mb':
            body.push(`${r} = atomic_add_return(0, ${v});`);
            break;
          default:
            throw new Error(`buildLitmus: load order '${order}' not supported`);
        }
      }
    }
    out.push(`P${ti}(${params}) // ${t.name.replace(/\n/g, ' ')}`, '{');
    for (const r of regs) out.push(`\tint ${r};`);
    if (regs.length) out.push('');
    for (const b of body) out.push(`\t${b}`);
    out.push('}', '');
  });
  const cond = exists.trim();
  out.push(/^(~\s*exists|exists|forall)\b/.test(cond) ? cond : `exists (${cond})`);
  return out.join('\n') + '\n';
}
