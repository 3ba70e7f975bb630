/**
 * The project's house rules that a type checker does not enforce.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_RULES } from '../src/rules/index.js';

const ROOT = resolve(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('house rules', () => {
  const files = sources(join(ROOT, 'src')).map((p) => ({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') }));

  it('no module-level mutable state (let/var, or Map/WeakMap caches at top level)', () => {
    const offenders: string[] = [];
    for (const f of files) {
      f.text.split('\n').forEach((line, i) => {
        if (/^(export )?(let|var) /.test(line) || /^(export )?const \w+(: [^=]+)? = new (Map|WeakMap|WeakSet)\b/.test(line)) {
          offenders.push(`${f.path}:${i + 1}: ${line.trim()}`);
        }
      });
    }
    expect(offenders).toEqual([]);
  });

  it('every rule module has docs and a test named by its id, and its meta points at the docs', () => {
    for (const r of ALL_RULES) {
      expect(r.meta.docs).toBe(`docs/rules/${r.meta.id}.md`);
      expect(statSync(join(ROOT, r.meta.docs)).isFile()).toBe(true);
      expect(statSync(join(ROOT, 'test/rules', `${r.meta.id}.test.ts`)).isFile()).toBe(true);
      expect(statSync(join(ROOT, 'src/rules', `${r.meta.id}.ts`)).isFile()).toBe(true);
      expect(r.meta.seeds.length + r.meta.falsePositives.length).toBeGreaterThan(0);
    }
  });

  it('rules do not spell KVM API names themselves: they ask the model', () => {
    // A quoted KVM/kernel API name inside a rule is a name compare that belongs in src/model.
    const apiNames = /'(kvm_memslots|__kvm_memslots|srcu_read_lock|synchronize_srcu|synchronize_srcu_expedited|rcu_assign_pointer|kvm_unmap_gfn_range|kvm_mmu_invalidate_begin|kvm_tdp_mmu_put_root|kvm_tdp_mmu_get_root|smp_mb|smp_rmb|smp_wmb|write_lock|mutex_lock|kvm_memslots_have_rmaps)'/;
    const offenders = files
      .filter((f) => f.path.startsWith('src/rules/'))
      .flatMap((f) => f.text.split('\n').map((l, i) => ({ l, where: `${f.path}:${i + 1}` })))
      .filter(({ l }) => !/^\s*(\*|\/\/)/.test(l) && apiNames.test(l))
      .map(({ where, l }) => `${where}: ${l.trim()}`);
    expect(offenders).toEqual([]);
  });
});
