/** Misbehaviours real devices show in the field, switchable per node to test the controller against them. */

/** A stretch of a simulator run, in ms after the simulator started; open-ended without `toMs`. */
export interface TimeWindow {
  readonly fromMs: number;
  readonly toMs?: number;
}

export function isWithin(window: TimeWindow | undefined, elapsedMs: number): boolean {
  return window !== undefined && elapsedMs >= window.fromMs && (window.toMs === undefined || elapsedMs < window.toMs);
}

export interface NodeQuirks {
  /** Wait this long before every reply (slow devices, busy Wi-Fi adapters). */
  readonly replyDelayMs?: number;
  /** Fraction (0–1) of requests (unicast or multicast) silently ignored. */
  readonly dropRequestRate?: number;
  /** Gets of more EPCs than `size`: `sna` refuses them all (Get_SNA), `truncate` answers only the first `size`. */
  readonly maxGetBatch?: { readonly size: number; readonly behaviour: 'sna' | 'truncate' };
  /**
   * Gets of more EPCs than this get no answer at all — no Get_SNA, no truncated reply — while
   * smaller ones (searches, the node profile) are answered: units that silently drop big Gets.
   */
  readonly ignoreGetsOver?: number;
  /** Adds maker-specific EPCs 0xF0–0xF3 to the air conditioner's Get map. */
  readonly vendorEpcs?: boolean;
  /** The node profile has no identification number (0x83); controllers must fall back to address ids. */
  readonly noIdentificationNumber?: boolean;
  /** Has a 0x83, but leaves it out of its answers to multicast searches (gives it to unicast Gets). */
  readonly idOutOfSearchAnswers?: boolean;
  /** 0x83 is 0xFE and sixteen zero bytes, as MoekadenRoom ships it: a placeholder that identifies nothing. */
  readonly placeholderIdentificationNumber?: boolean;
  /** Answers no request at all, still announces by INF, like units whose request handling hangs. Toggled by `setSilent`. */
  readonly silent?: boolean;
  /** Eleven more optional settings, so the INF, Set and Get maps all have 16+ entries and travel as bitmaps. */
  readonly extendedPropertyMaps?: boolean;
  /** Completely quiet in this window, no answers and no INF, like a unit whose Wi-Fi adapter dropped off. */
  readonly silentBetween?: TimeWindow;
  /** Deaf to unicast requests in this window, while it still answers searches and sends INF: the field's mute unit. */
  readonly deafBetween?: TimeWindow;
  /** Moves to its spare address (its own + the number of nodes) this long after start, and announces itself there. */
  readonly moveAfterMs?: number;
  /** Swaps addresses with the next node (index + 1) this long after start, both announcing themselves anew. */
  readonly swapAfterMs?: number;
  /** Takes over the address node `node` started at, `afterMs` after start, if that node has left it by then. */
  readonly takeOverAddressOf?: { readonly node: number; readonly afterMs: number };
  /** Someone uses the remote control every … ms: a random change of an announced property, announced by INF. */
  readonly remoteControlEveryMs?: number;
  /** The node also hosts a temperature sensor (class 0x0011), a class the controller has no codecs for. */
  readonly temperatureSensor?: boolean;
}

/** The CLI's name for `allQuirksMix`. */
export const ALL_QUIRKS_PRESET = 'all-quirks';

/**
 * One profile per line; together they switch every quirk on. Timed quirks sit at fixed fractions of
 * the run, so a soak of any length sees each of them start and (except the move) end.
 */
const PROFILES: ReadonlyArray<(runMs: number, index: number) => NodeQuirks> = [
  () => ({}), // a well-behaved unit, the baseline
  (runMs) => ({ replyDelayMs: 300, extendedPropertyMaps: true, remoteControlEveryMs: remoteEvery(runMs) }),
  (runMs) => ({ dropRequestRate: 0.2, remoteControlEveryMs: remoteEvery(runMs) }),
  () => ({ maxGetBatch: { size: 4, behaviour: 'truncate' }, vendorEpcs: true }),
  () => ({ maxGetBatch: { size: 3, behaviour: 'sna' }, temperatureSensor: true }),
  (runMs) => ({ silentBetween: { fromMs: 0.2 * runMs, toMs: 0.35 * runMs }, remoteControlEveryMs: remoteEvery(runMs) }),
  // Announces twice as often as the others, so a controller sees it alive while it does not answer.
  (runMs) => ({ deafBetween: { fromMs: 0.4 * runMs, toMs: 0.7 * runMs }, remoteControlEveryMs: remoteEvery(runMs) / 2 }),
  (runMs) => ({ moveAfterMs: 0.5 * runMs, remoteControlEveryMs: remoteEvery(runMs) }),
  // Takes the address the unit before it (profile 7) left, as a DHCP server would hand it out again.
  (runMs, index) => ({ noIdentificationNumber: true, takeOverAddressOf: { node: index - 1, afterMs: 0.55 * runMs } }),
  // Swaps addresses with the next unit, which lacks its vendor EPCs, while both are polled.
  (runMs) => ({ vendorEpcs: true, swapAfterMs: 0.45 * runMs, remoteControlEveryMs: remoteEvery(runMs) }),
  (runMs) => ({ ignoreGetsOver: 3, remoteControlEveryMs: remoteEvery(runMs) }),
  () => ({ placeholderIdentificationNumber: true }),
];

/** Twenty remote-control changes per run, at least a second apart. */
function remoteEvery(runMs: number): number {
  return Math.max(1_000, Math.round(runMs / 20));
}

/**
 * Per-node quirks for a soak: node i gets profile i mod 12, so twelve or more nodes switch every
 * quirk on, and nodes 0, 12, 24, … stay well-behaved as a baseline. `runMs` is the length of the run the
 * timed quirks (silence, deafness, the move) are spread over.
 */
export function allQuirksMix(nodes: number, runMs: number): Record<number, NodeQuirks> {
  if (!(runMs > 0)) throw new RangeError(`runMs must be positive, got ${runMs}`);
  return Object.fromEntries(Array.from({ length: nodes }, (_, index) => [index, PROFILES[index % PROFILES.length]?.(runMs, index) ?? {}]));
}
