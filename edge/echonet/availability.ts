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
 * unreachable device whose last announcement ages out becomes offline at the next sweep. Online
 * needs an answer: a device that never answered us (known from an earlier run, or whose object did
 * not answer its description) is not online however few polls failed yet; a device its node no
 * longer lists is offline and stays so.
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
  /** It answered us at least once since tracking began. */
  answeredOnce: boolean;
  /** Its node no longer lists it. */
  gone: boolean;
  failures: number;
  lastAnnouncedAt: number | undefined;
  state: Availability;
}

export class AvailabilityTracker {
  private readonly devices = new Map<string, Evidence>();

  constructor(private readonly failuresBeforeUnreachable: number) {}

  /**
   * Starts tracking a device — online if it just answered us, offline until it does otherwise — or
   * updates one already tracked (its evidence stays; an answer counts, a listed device is not gone).
   * Returns its state.
   */
  track(deviceId: string, offlineAfterMs: number, answeredNow: boolean): Availability {
    const known = this.devices.get(deviceId);
    if (known) {
      known.offlineAfterMs = offlineAfterMs;
      const news = known.gone || (answeredNow && !known.answeredOnce);
      known.gone = false;
      known.answeredOnce ||= answeredNow;
      if (news) known.state = this.judge(known, Date.now());
      return known.state;
    }
    const evidence: Evidence = { offlineAfterMs, answeredOnce: answeredNow, gone: false, failures: 0, lastAnnouncedAt: undefined, state: 'offline' };
    evidence.state = this.judge(evidence, Date.now());
    this.devices.set(deviceId, evidence);
    return evidence.state;
  }

  answered(deviceId: string, at: Date): AvailabilityChange | undefined {
    return this.update(deviceId, at, (evidence) => {
      evidence.failures = 0;
      evidence.answeredOnce = true;
    });
  }

  /** Its node no longer lists it: offline until listed (tracked) again. */
  gone(deviceId: string, at: Date): AvailabilityChange | undefined {
    return this.update(deviceId, at, (evidence) => (evidence.gone = true));
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
    if (evidence.gone) return 'offline';
    if (evidence.answeredOnce && evidence.failures < this.failuresBeforeUnreachable) return 'online';
    const heardLately = evidence.lastAnnouncedAt !== undefined && now - evidence.lastAnnouncedAt <= evidence.offlineAfterMs;
    return heardLately ? 'unreachable' : 'offline';
  }
}
