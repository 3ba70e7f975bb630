/**
 * The rule registry: every rule module, in id order. The engine and the CLI
 * know rules only through this list.
 */
import type { Rule } from '../analyzer/rule-api.js';
import { rule as memslotsDoubleSnapshot } from './memslots-double-snapshot.js';
import { rule as memslotsPublishWithoutSync } from './memslots-publish-without-sync.js';
import { rule as rmapUnguardedAccess } from './rmap-unguarded-access.js';
import { rule as tdpRootRefLeak } from './tdp-root-ref-leak.js';
// (rule imports: keep one per line, sorted by id)

export const ALL_RULES: readonly Rule[] = [
  memslotsDoubleSnapshot,
  memslotsPublishWithoutSync,
  rmapUnguardedAccess,
  tdpRootRefLeak,
  // (rules: keep one per line)
].sort((a, b) => (a.meta.id < b.meta.id ? -1 : a.meta.id > b.meta.id ? 1 : 0));

export function selectRules(ids: readonly string[] | undefined): Rule[] {
  if (!ids || ids.length === 0) return [...ALL_RULES];
  const known = new Map(ALL_RULES.map((r) => [r.meta.id, r]));
  const out: Rule[] = [];
  for (const id of ids) {
    const r = known.get(id);
    if (!r) throw new Error(`unknown rule '${id}' (see 'kvmlint rules')`);
    out.push(r);
  }
  return out;
}
