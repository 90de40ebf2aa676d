/**
 * EPCs one device refused on their own (a single-EPC Get_SNA, or PDC 0 beside values): the device
 * lacks them, whatever its Get map says. They are left out of its polls — a refusal that is the
 * device's problem must not cost its batch size — and asked again only every `recheckAfterCycles`
 * cycles, in case the device learned them (a firmware update, a unit replaced behind one id).
 */
export const DEFAULT_UNSUPPORTED_RECHECK_CYCLES = 100;

export class UnsupportedEpcs {
  /** EPC → cycles left until it is asked again. */
  private readonly cyclesLeft = new Map<number, number>();

  constructor(private readonly recheckAfterCycles = DEFAULT_UNSUPPORTED_RECHECK_CYCLES) {}

  /** The device refused this EPC on its own. */
  refused(epc: number): void {
    this.cyclesLeft.set(epc, this.recheckAfterCycles);
  }

  /** The device gave a value for it after all. */
  answered(epc: number): void {
    this.cyclesLeft.delete(epc);
  }

  /** What of `epcs` is worth asking this cycle. */
  worthAsking(epcs: readonly number[]): number[] {
    return epcs.filter((epc) => !this.cyclesLeft.has(epc));
  }

  /** EPCs currently left out, ascending. */
  list(): number[] {
    return [...this.cyclesLeft.keys()].sort((a, b) => a - b);
  }

  cycleEnded(): void {
    for (const [epc, left] of this.cyclesLeft) {
      if (left <= 1) this.cyclesLeft.delete(epc);
      else this.cyclesLeft.set(epc, left - 1);
    }
  }
}
