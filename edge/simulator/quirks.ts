/** Misbehaviours real devices show in the field, switchable per node to test the controller against them. */
export interface NodeQuirks {
  /** Wait this long before every reply (slow devices, busy Wi-Fi adapters). */
  readonly replyDelayMs?: number;
  /** Fraction (0–1) of requests (unicast or multicast) silently ignored. */
  readonly dropRequestRate?: number;
  /** Gets of more EPCs than `size`: `sna` refuses them all (Get_SNA), `truncate` answers only the first `size`. */
  readonly maxGetBatch?: { readonly size: number; readonly behaviour: 'sna' | 'truncate' };
  /** Adds maker-specific EPCs 0xF0–0xF3 to the air conditioner's Get map. */
  readonly vendorEpcs?: boolean;
  /** The node profile has no identification number (0x83); controllers must fall back to address ids. */
  readonly noIdentificationNumber?: boolean;
  /** Answers nothing (still announces by INF), like units whose unicast side hangs. Can be toggled at run time. */
  readonly silent?: boolean;
}
