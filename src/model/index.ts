/**
 * The KVM model as a queryable object. Rules and trackers ask the model; they
 * never compare KVM names themselves.
 */
import * as kvm from './kvm.js';
import type { ApiModel, Effect, EntryContract, GuardClassModel, IteratorModel, ProtocolVariable } from './types.js';

export * from './types.js';

export class Model {
  private readonly apis: ReadonlyMap<string, ApiModel>;
  private readonly iterators: ReadonlyMap<string, IteratorModel>;
  private readonly guards: ReadonlyMap<string, GuardClassModel>;
  readonly memslotsDomain = kvm.MEMSLOTS_DOMAIN;
  readonly memslotsWriterLock = kvm.MEMSLOTS_WRITER_LOCK;
  readonly mmuLock = kvm.MMU_LOCK_ID;
  readonly notUnderSrcu: readonly string[] = kvm.NOT_UNDER_SRCU;
  readonly protocolVariables: readonly ProtocolVariable[] = kvm.PROTOCOL_VARIABLES;
  /** Pseudo-location of guest memory for the barrier rules (emulated writes, guest PTE reads). */
  readonly guestMemory = kvm.GUEST_MEMORY;
  readonly ownerMembers = kvm.OWNER_MEMBERS;
  readonly canonicalOwners = kvm.CANONICAL_OWNERS;

  constructor(extra: readonly ApiModel[] = []) {
    this.apis = new Map([...kvm.APIS, ...extra].map((a) => [a.name, a]));
    this.iterators = new Map(kvm.ITERATORS.map((i) => [i.name, i]));
    this.guards = new Map(kvm.GUARD_CLASSES.map((g) => [g.cls, g]));
  }

  api(name: string): ApiModel | undefined {
    return this.apis.get(name);
  }

  effects(name: string): readonly Effect[] {
    return this.apis.get(name)?.effects ?? [];
  }

  allApis(): ApiModel[] {
    return [...this.apis.values()];
  }

  /** Whether a callee name is modelled (has effects the engine applies). */
  isModelled(name: string): boolean {
    return this.apis.has(name);
  }

  /**
   * Member names that make a function interesting to the rules even without a
   * modelled call (plain accesses to protocol state).
   */
  readonly interestingMembers: RegExp = new RegExp(
    `\\b(${['rmap', 'generation', 'memslots', 'shadow_root_allocated', 'memslots_have_rmaps', 'mmu_invalidate_in_progress',
      'mmu_invalidate_seq', 'indirect_shadow_pages', 'tdp_mmu_roots', ...kvm.PROTOCOL_VARIABLES.map((p) => p.chain.split('.').pop()!)].join('|')})\\b`,
  );

  /**
   * Source text that has a modelled effect without any modelled call: indexing rmap arrays;
   * accessing a lockless-protocol variable (a read that decides or is returned, an update).
   */
  readonly effectfulText: RegExp = new RegExp(
    `\\barch\\s*\\.\\s*rmap\\s*\\[[^\\]]*\\]\\s*\\[|\\b(${kvm.PROTOCOL_VARIABLES.map((p) => p.chain.split('.').pop()!).join('|')})\\b`,
  );

  /** A loop macro whose entry or exit has a modelled effect (references, rmap access, shadow pages). */
  iteratorHasEffect(name: string): boolean {
    const m = this.iterators.get(name);
    return !!m && !!(m.holdsRef || m.accessesRmaps || m.shadowPages);
  }

  /** The iterator model for a loop macro; unknown `*for_each*` names are generic loops. */
  iterator(name: string): IteratorModel {
    return this.iterators.get(name) ?? { name, kind: 'generic', cursorArg: 0 };
  }

  guardClass(cls: string): GuardClassModel | undefined {
    return this.guards.get(cls) ?? this.guards.get(cls.replace(/_(irq|irqsave|bh|nested)$/, ''));
  }

  isPublishTarget(chain: string): string | undefined {
    return kvm.PUBLISH_TARGETS.find((t) => t.chain.test(chain))?.object;
  }

  /** The lockless-protocol variable a member chain names (`vcpu->kvm->arch.x` and `kvm->arch.x` alike). */
  protocolVariable(chain: string): ProtocolVariable | undefined {
    return this.protocolVariables.find((p) => chain === p.chain || chain.endsWith(`.${p.chain}`));
  }

  private readonly fullBarriers: ReadonlySet<string> = new Set(kvm.FULL_BARRIERS);

  /** A full barrier (smp_mb() and the smp_mb__*() family). */
  isFullBarrier(kind: string): boolean {
    return this.fullBarriers.has(kind);
  }

  isRmapChain(chain: string): boolean {
    return kvm.RMAP_CHAINS.some((r) => r.test(chain));
  }

  /** `slot->arch.rmap[level][idx]`: indexing an rmap array (needs the arrays to be visible). */
  isRmapElementChain(chain: string): boolean {
    return kvm.RMAP_ELEMENT_CHAINS.some((r) => r.test(chain));
  }

  /** For a global tested in a condition: the branch value on which all rmaps are known to exist. */
  rmapImpliedWhen(name: string): boolean | undefined {
    return kvm.RMAP_IMPLYING_VARS.find((v) => v.name === name)?.when;
  }

  /** Whether entering a loop of iterator `m` (with these arguments) means a shadow-MMU page exists. */
  visitsShadowPages(m: IteratorModel, args: readonly { chain?: string }[]): boolean {
    if (m.shadowPages) return true;
    const head = m.headArg !== undefined ? args[m.headArg]?.chain : undefined;
    return !!head && kvm.SHADOW_PAGE_LISTS.some((r) => r.test(head));
  }

  isInvalidationCounter(chain: string): boolean {
    return kvm.INVALIDATION_COUNTERS.some((r) => r.test(chain));
  }

  /** For a dispatch-structure handler member: the member the dispatcher calls before it. */
  dispatchBefore(member: string): string | undefined {
    return kvm.DISPATCH_MEMBERS.find((d) => d.handler === member)?.before;
  }

  /** The documented entry contract of a function, if any. */
  entryContract(name: string): EntryContract | undefined {
    return kvm.ENTRY_CONTRACTS.find((c) => c.name === name);
  }

  isRmapFlag(chain: string): boolean {
    return kvm.RMAP_FLAGS.some((r) => r.test(chain));
  }

  isGenerationChain(chain: string): boolean {
    return kvm.GENERATION_CHAINS.some((r) => r.test(chain));
  }

  isRootList(chain: string): boolean {
    return kvm.ROOT_LISTS.some((r) => r.test(chain));
  }

  /** Canonical owner name for a declared type, e.g. `struct kvm *` -> `kvm`. */
  ownerForType(type: string): string | undefined {
    const t = type.replace(/\bconst\b/g, '').replace(/\s+/g, ' ').trim();
    return kvm.CANONICAL_OWNERS.find((o) => o.type.test(t))?.name;
  }
}
