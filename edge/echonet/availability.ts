/**
 * Whether a device can be read, judged from what it did lately. The rules:
 *
 *  - `online`: it answers polls — fewer than `failuresBeforeUnreachable` poll cycles in a row failed.
 *  - `unreachable`: that many cycles in a row failed, but the device announced something (INF or
 *    INFC) within the last `offlineAfterMs`: it is alive on the LAN and does not answer us — the
 *    field's unit that stops answering unicast while it still multicasts INF.
 *  - `offline`: that many cycles in a row failed and nothing was announced within `offlineAfterMs`.
 *
 * A device is never forgotten and polling goes on in every state (with backoff): the first answered
 * poll makes it online again, an announcement lifts an offline device to unreachable, and an
 * unreachable device whose last announcement ages out becomes offline at the next sweep.
 */
export type Availability = 'online' | 'unreachable' | 'offline';

export interface AvailabilityChange {
  readonly deviceId: string;
  readonly from: Availability;
  readonly to: Availability;
  readonly at: Date;
}

interface Evidence {
  offlineAfterMs: number;
  failures: number;
  lastAnnouncedAt: number | undefined;
  state: Availability;
}

export class AvailabilityTracker {
  private readonly devices = new Map<string, Evidence>();

  constructor(private readonly failuresBeforeUnreachable: number) {}

  /**
   * Starts tracking a device as online (it just answered its description), or updates the timing of
   * one already tracked (its evidence stays). Returns its state.
   */
  track(deviceId: string, offlineAfterMs: number): Availability {
    const known = this.devices.get(deviceId);
    if (known) {
      known.offlineAfterMs = offlineAfterMs;
      return known.state;
    }
    this.devices.set(deviceId, { offlineAfterMs, failures: 0, lastAnnouncedAt: undefined, state: 'online' });
    return 'online';
  }

  answered(deviceId: string, at: Date): AvailabilityChange | undefined {
    return this.update(deviceId, at, (evidence) => (evidence.failures = 0));
  }

  failed(deviceId: string, at: Date): AvailabilityChange | undefined {
    return this.update(deviceId, at, (evidence) => (evidence.failures += 1));
  }

  announced(deviceId: string, at: Date): AvailabilityChange | undefined {
    return this.update(deviceId, at, (evidence) => (evidence.lastAnnouncedAt = at.getTime()));
  }

  /** Re-judges every device; the only change time alone can bring is unreachable → offline. */
  sweep(now: Date): AvailabilityChange[] {
    const changes: AvailabilityChange[] = [];
    for (const deviceId of this.devices.keys()) {
      const change = this.update(deviceId, now, () => undefined);
      if (change) changes.push(change);
    }
    return changes;
  }

  private update(deviceId: string, at: Date, learn: (evidence: Evidence) => void): AvailabilityChange | undefined {
    const evidence = this.devices.get(deviceId);
    if (evidence === undefined) return undefined;
    learn(evidence);
    const from = evidence.state;
    evidence.state = this.judge(evidence, at.getTime());
    return evidence.state === from ? undefined : { deviceId, from, to: evidence.state, at };
  }

  private judge(evidence: Evidence, now: number): Availability {
    if (evidence.failures < this.failuresBeforeUnreachable) return 'online';
    const heardLately = evidence.lastAnnouncedAt !== undefined && now - evidence.lastAnnouncedAt <= evidence.offlineAfterMs;
    return heardLately ? 'unreachable' : 'offline';
  }
}
