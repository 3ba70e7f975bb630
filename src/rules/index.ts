/**
 * The rule registry: every rule module, in id order. The engine and the CLI
 * know rules only through this list.
 */
import type { Rule } from '../analyzer/rule-api.js';
import { rule as barrierMisplaced } from './barrier-misplaced.js';
import { rule as barrierPairingComment } from './barrier-pairing-comment.js';
import { rule as barrierUnpairedLocklessRead } from './barrier-unpaired-lockless-read.js';
import { rule as lockOnlyToRead } from './lock-only-to-read.js';
import { rule as memslotsDoubleSnapshot } from './memslots-double-snapshot.js';
import { rule as memslotsGenerationOrder } from './memslots-generation-order.js';
import { rule as memslotsPublishWithoutSync } from './memslots-publish-without-sync.js';
import { rule as rmapMisleadingRcuAnnotation } from './rmap-misleading-rcu-annotation.js';
import { rule as rmapUnguardedAccess } from './rmap-unguarded-access.js';
import { rule as rootIterAcrossYield } from './root-iter-across-yield.js';
import { rule as srcuDerefOutsideSection } from './srcu-deref-outside-section.js';
import { rule as srcuSyncInReadSection } from './srcu-sync-in-read-section.js';
import { rule as tdpRootRefLeak } from './tdp-root-ref-leak.js';
import { rule as zapOutsideInvalidation } from './zap-outside-invalidation.js';
// (rule imports: keep one per line, sorted by id)

export const ALL_RULES: readonly Rule[] = [
  barrierMisplaced,
  barrierPairingComment,
  barrierUnpairedLocklessRead,
  lockOnlyToRead,
  memslotsDoubleSnapshot,
  memslotsGenerationOrder,
  memslotsPublishWithoutSync,
  rmapMisleadingRcuAnnotation,
  rmapUnguardedAccess,
  rootIterAcrossYield,
  srcuDerefOutsideSection,
  srcuSyncInReadSection,
  tdpRootRefLeak,
  zapOutsideInvalidation,
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
