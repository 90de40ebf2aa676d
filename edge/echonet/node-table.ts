/**
 * Which node answers at which address. A request to a device is bound to the identity of the node
 * it was meant for (a `Binding`): the moment the table learns or suspects that another node sits at
 * that address — the node's id seen elsewhere, another id in a search answer, a boot announcement
 * (INF 0xD5) from the address — the address's generation moves on, every binding to it lapses, and
 * whatever is queued or in flight for it is no longer the device's (the poller drops it and counts
 * it). Only a description of the node at the address binds it again.
 *
 * A node may also be only presumed at its address: restored from an earlier run, gone silent (a unit
 * that leaves may have its address handed to another one that does not announce itself), or answering
 * a search without its id. Nothing is bound to a presumed node until it confirms its id there
 * (`confirm`), so no request goes out on its behalf and no answer is read as its.
 *
 * Bounded: spoofed sources cannot grow the table past `maxNodes`; once full, addresses that never
 * turned out to be a node we could describe make room for new ones.
 */
import type { ReceivedFrame } from './transport.js';
import { type NodeKey, sameNode } from './device-id.js';

export interface NodeEntry {
  readonly address: string;
  /** Who answers at this address; undefined until described, or while in doubt. */
  readonly key: NodeKey | undefined;
  /** Moves on with every change (or doubt) of the identity here; bindings carry the one they were made in. */
  readonly generation: number;
  /** Whether `key` confirmed its id at this address since it was last presumed there; bindings need it. */
  readonly confirmed: boolean;
  /** When we last learned or confirmed who answers here. */
  describedAt: number;
  /** Resolves true if the node answered. */
  describing: Promise<boolean> | undefined;
  /** A reason to describe it again once the description under way ends (it began before a doubt). */
  describeAgain: { readonly rereadMaps: boolean } | undefined;
  /** INFs that arrived before we knew which device sent them, copied out of their datagrams. */
  readonly waitingInfs: ReceivedFrame[];
}

/** A request's right to be answered at `address`: valid while the node there is still `key`, in the same generation. */
export interface Binding {
  readonly address: string;
  readonly key: NodeKey;
  readonly generation: number;
}

interface MutableEntry extends NodeEntry {
  key: NodeKey | undefined;
  generation: number;
  confirmed: boolean;
}

/** Far above any site; stops spoofed sources from growing our tables. */
export const MAX_TRACKED_NODES = 1024;

export class NodeTable {
  /** In the order addresses were last heard from, oldest first. */
  private readonly entries = new Map<string, MutableEntry>();
  /** Where each identification number answers, so moves and twins cost one lookup, not a scan. */
  private readonly addressByNodeId = new Map<string, string>();

  constructor(private readonly maxNodes = MAX_TRACKED_NODES) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry for an address, without counting it as heard from. */
  get(address: string): NodeEntry | undefined {
    return this.entries.get(address);
  }

  /**
   * The entry for an address a frame just came from (created if new, moved to the recently-heard
   * end); undefined when the table is full of nodes worth keeping. `evicted` hears of the address
   * that made room, if one did.
   */
  heardFrom(address: string, evicted?: (entry: NodeEntry) => void): NodeEntry | undefined {
    const known = this.entries.get(address);
    if (known !== undefined) {
      this.entries.delete(address);
      this.entries.set(address, known);
      return known;
    }
    if (this.entries.size >= this.maxNodes) {
      const victim = this.leastRecentUndescribed();
      if (victim === undefined) return undefined;
      this.entries.delete(victim.address);
      evicted?.(victim);
    }
    const entry: MutableEntry = { address, key: undefined, generation: 0, confirmed: false, describedAt: 0, describing: undefined, describeAgain: undefined, waitingInfs: [] };
    this.entries.set(address, entry);
    return entry;
  }

  /** Where the node with this identification number answers, as far as we know. */
  addressOfNodeId(nodeId: string): string | undefined {
    return this.addressByNodeId.get(nodeId);
  }

  /**
   * Records that `key` answers at `address` (a description said so). If that node was known at
   * another address, it has left it: that address is in doubt until described again. Returns the
   * address it left, if any.
   */
  assign(address: string, key: NodeKey): string | undefined {
    const entry = this.entryFor(address);
    if (entry === undefined) return undefined;
    let left: string | undefined;
    if (key.kind === 'id') {
      const before = this.addressByNodeId.get(key.id);
      if (before !== undefined && before !== address) {
        this.doubt(before);
        left = before;
      }
    }
    this.setKey(entry, key);
    entry.confirmed = true;
    return left;
  }

  /**
   * `key` is believed to answer at `address` but must confirm its id there before anything is bound
   * to it: every binding lapses now. The same node presumed again keeps its generation, so once it
   * confirms, answers to requests made before stay its own.
   */
  presume(address: string, key: NodeKey): void {
    const entry = this.entryFor(address);
    if (entry === undefined) return;
    if (key.kind === 'id') {
      const before = this.addressByNodeId.get(key.id);
      if (before !== undefined && before !== address) this.doubt(before);
    }
    this.setKey(entry, key);
    entry.confirmed = false;
  }

  /** The node at `address` said it is `key`; true if that is the node presumed (or known) there, which is bound again. */
  confirm(address: string, key: NodeKey): boolean {
    const entry = this.entries.get(address);
    if (entry?.key === undefined || !sameNode(entry.key, key)) return false;
    entry.confirmed = true;
    return true;
  }

  /** Whether a node is presumed at `address`, waiting to confirm its id there. */
  isPresumed(address: string): boolean {
    const entry = this.entries.get(address);
    return entry?.key !== undefined && !entry.confirmed;
  }

  /**
   * The identity at `address` is in question (a boot announcement, a search answer naming another
   * id, the node's id seen elsewhere): every binding to it lapses until it is described again.
   */
  doubt(address: string): void {
    const entry = this.entries.get(address);
    if (entry !== undefined) this.setKey(entry, undefined);
  }

  /** The binding for a request to the node `key` believed to be at `address`; undefined if another node (or nobody we know) is there. */
  bind(address: string, key: NodeKey): Binding | undefined {
    const entry = this.entries.get(address);
    if (entry?.key === undefined || !entry.confirmed || !sameNode(entry.key, key)) return undefined;
    return { address, key, generation: entry.generation };
  }

  /** Whether an answer on this binding still comes from the node it was made for. */
  isBound(binding: Binding): boolean {
    const entry = this.entries.get(binding.address);
    return entry?.key !== undefined && entry.confirmed && entry.generation === binding.generation && sameNode(entry.key, binding.key);
  }

  /** Entries whose node is described, for persisting or listing. */
  described(): NodeEntry[] {
    return [...this.entries.values()].filter((entry) => entry.key !== undefined);
  }

  all(): NodeEntry[] {
    return [...this.entries.values()];
  }

  /** The entry for an address, created if new (without counting an existing one as heard from). */
  private entryFor(address: string): MutableEntry | undefined {
    const known = this.entries.get(address);
    if (known !== undefined || this.heardFrom(address) === undefined) return known;
    return this.entries.get(address);
  }

  private setKey(entry: MutableEntry, key: NodeKey | undefined): void {
    const changed = entry.key === undefined || key === undefined || !sameNode(entry.key, key);
    if (entry.key?.kind === 'id' && this.addressByNodeId.get(entry.key.id) === entry.address) this.addressByNodeId.delete(entry.key.id);
    entry.key = key;
    if (key === undefined) entry.confirmed = false;
    if (key?.kind === 'id') this.addressByNodeId.set(key.id, entry.address);
    // Re-confirming the same node keeps its bindings; anything else ends them.
    if (changed) entry.generation += 1;
  }

  private leastRecentUndescribed(): MutableEntry | undefined {
    for (const entry of this.entries.values()) {
      if (entry.key === undefined && entry.describing === undefined) return entry;
    }
    return undefined;
  }
}
