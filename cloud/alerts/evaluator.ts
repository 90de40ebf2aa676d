import type { PropertyValue } from '../../shared/reading.js';
import { alertId, type Alert } from './alert.js';
import { compare, ruleFingerprint, type AbsenceRule, type InstantRule, type Rule, type RuleLabel, type Scalar, type Threshold, type WindowRule } from './rules.js';
import { accumulate, aggregate, DEFAULT_MAX_CLOCK_SKEW_MS, isBelievable, isLate, revivedAccumulator, siteWatermark, takeClosed, windowAt, type Accumulator } from './windows.js';

/**
 * The alert engine of one Kafka partition, pure: readings in (in partition order), alert records out.
 * It keeps the partition's state — open windows, alert lifecycles, the dedupe high-water marks, the
 * watermarks (each site's, and the partition's), the rule set — as plain JSON per subject, so the state
 * store can write what changed to the changelog and a new owner of the partition can rebuild it exactly.
 */

/** What the engine reads of a reading (the reading contract, plus the edge's device events and seq epochs). */
export interface AlertInput {
  siteId: string;
  seq: number;
  /** Names the edge database's seq stream: seqs restart with a new epoch. */
  epoch?: string;
  deviceId: string;
  eoj: string;
  ts: string;
  kind: string;
  properties: Record<string, PropertyValue>;
  event?: { type: string };
  /** Only on the site stream: when the cloud received the reading (the readings record's Kafka timestamp). */
  receivedAt?: number;
}

/**
 * Which rules a partition's engine runs. The readings topic is keyed by device, so a site's devices
 * spread over partitions: `devices` runs the device rules and forwards what site rules need to the
 * site stream (keyed by site, Kafka Streams' repartition topic); `sites` runs the site rules there;
 * `all` runs both (one readings partition, tests).
 */
export type EvaluatorMode = 'all' | 'devices' | 'sites';

/** What the engine needs of a site (the site registry's Site). */
export interface AlertSite {
  name: string;
  timeZone: string;
  location?: { latitude: number; longitude: number };
  thresholds: Record<string, number>;
}

export interface SiteLookup {
  get(id: string): AlertSite | undefined;
}

/** The lifecycle of one rule on one subject; absent while nothing is wrong. */
export interface Track {
  state: 'pending' | 'firing';
  /** Consecutive breaching windows so far. */
  streak: number;
  /** Start of the episode (window start, reading time or last time heard): the alert id's time. */
  since: number;
  /** Start of the last window that kept the track going, to tell consecutive windows from a gap. */
  lastStart: number;
  cause: Alert['cause'];
}

export interface RuleState {
  windows?: Accumulator[];
  track?: Track;
  /**
   * Absence rules only: silence counts from here, set when a reload resolved the rule's alert while the
   * subject stayed silent, so firing again is a new episode with an id of its own; gone once heard.
   */
  from?: number;
}

/** One device or one site, with all it needs in the partition's state. */
export interface SubjectState {
  key: string;
  siteId: string;
  deviceId: string | null;
  /** Processing time (the Kafka record's timestamp) of the last reading heard from the subject. */
  lastReceived: number;
  /** Sites only: the newest believable reading time of the site in this partition (its own event-time progress). */
  watermark?: number;
  /** Devices only: the time of the newest reading instant rules judged; an older one does not tell the present. */
  judgedAt?: number;
  /** Sites only: the highest seq taken, per epoch (a duplicate is at or below it). */
  seqs?: Record<string, number>;
  rules: Record<string, RuleState>;
}

export interface EvaluatorCounters {
  readings: number;
  duplicates: number;
  late: number;
  /** Readings stamped later than their receipt plus the clock-skew allowance: kept out of windows and watermarks. */
  future: number;
  windowsClosed: number;
  unknownSites: number;
}

/** Sites the engine keeps a dedupe high-water mark for per epoch; older epochs are forgotten first. */
const MAX_EPOCHS_PER_SITE = 4;

const UNKNOWN_SITE = (id: string): AlertSite => ({ name: id, timeZone: 'UTC', thresholds: {} });

/** Before any reading: the earliest time a Date can hold (unlike -Infinity, it survives JSON). */
const NEVER = -8.64e15;

/** What the engine remembers of each rule it ran, to tell after a reload (or a restore) which state no longer fits. */
export type RuleSetRecord = Record<string, { fingerprint: string; label: RuleLabel }>;

export function newCounters(): EvaluatorCounters {
  return { readings: 0, duplicates: 0, late: 0, future: 0, windowsClosed: 0, unknownSites: 0 };
}

export class PartitionEvaluator {
  readonly counters: EvaluatorCounters = newCounters();
  private readonly subjects = new Map<string, SubjectState>();
  /** siteId → the site's subject and its devices' subjects: found without building a key string per reading. */
  private readonly bySite = new Map<string, { site: SubjectState; devices: Map<string, SubjectState> }>();
  private readonly dirty = new Set<SubjectState>();
  /** closeAt (window end + lateness) → subjects with a window closing then: the watermarks walk it in order. */
  private readonly closing = new Map<number, Set<SubjectState>>();
  /** The partition's newest believable reading time; each site's windows close by its own (see siteWatermark). */
  private partitionWatermark = -Infinity;
  private ruleSet: RuleSetRecord = {};
  /** The rule set changed since `ruleSetChange` was last asked (a new engine counts as changed). */
  private ruleSetDirty = true;
  private outbox: Alert[] = [];
  private forwarded: AlertInput[] = [];
  /** The properties site rules read, forwarded to the site stream; null: nothing to forward. */
  private forwardProperties: string[] | null = null;
  private rules!: { deviceWindows: WindowRule[]; deviceInstant: InstantRule[]; siteWindows: WindowRule[]; deviceAbsence: AbsenceRule[]; siteAbsence: AbsenceRule[]; byName: Map<string, Rule> };

  constructor(
    rules: Rule[],
    private readonly sites: SiteLookup,
    private readonly allowedLatenessMs: number,
    /** Processing time the partition was taken over: nobody is called silent for the time before it. */
    private readonly activeSince: number,
    private readonly mode: EvaluatorMode = 'all',
    /** How far a reading's `ts` may be ahead of its receipt and still move event time (see windows.ts). */
    private readonly maxClockSkewMs: number = DEFAULT_MAX_CLOCK_SKEW_MS,
  ) {
    this.useRules(rules);
  }

  /**
   * Swaps in a reloaded rule set at processing time `now`. A rule edited only in its words (summary,
   * severity) keeps its state, so a firing alert keeps its id; a rule removed, or changed in what it
   * evaluates, loses its state, and an alert of it that fires is resolved (`cause: rule-changed`).
   */
  setRules(rules: Rule[], now: number): void {
    const previous = this.ruleSet;
    this.useRules(rules);
    this.dropStateNotFitting(previous, now);
  }

  /**
   * After `restore`: the rule set the state was written under (the changelog's rules entry), so state
   * of rules removed or changed while no instance ran goes the same way as on a reload.
   */
  restoreRuleSet(previous: RuleSetRecord | undefined, now: number): void {
    // A changelog written before the rule set was kept in it: its rules are taken as today's, and only state of rules that are gone goes.
    this.dropStateNotFitting(previous ?? this.ruleSet, now);
  }

  /** The rule set to write to the changelog, once after it changed; undefined: unchanged. */
  ruleSetChange(): RuleSetRecord | undefined {
    if (!this.ruleSetDirty) return undefined;
    this.ruleSetDirty = false;
    return this.ruleSet;
  }

  private useRules(rules: Rule[]): void {
    const absence = rules.filter((r): r is AbsenceRule => r.type === 'absence');
    const runs = (scope: Rule['scope']) => this.mode === 'all' || (scope === 'device') === (this.mode === 'devices');
    const inScope = rules.filter((r) => runs(r.scope));
    const windowRules = inScope.filter((r): r is WindowRule => r.type === 'window');
    this.rules = {
      deviceWindows: windowRules.filter((r) => r.scope === 'device'),
      // Instant rules are per device (the rules schema says so).
      deviceInstant: inScope.filter((r): r is InstantRule => r.type === 'instant'),
      siteWindows: windowRules.filter((r) => r.scope === 'site'),
      deviceAbsence: absence.filter((r) => r.scope === 'device' && runs(r.scope)),
      siteAbsence: absence.filter((r) => r.scope === 'site' && runs(r.scope)),
      byName: new Map(inScope.map((r) => [r.name, r])),
    };
    const siteRules = rules.filter((r) => r.scope === 'site');
    this.forwardProperties = this.mode === 'devices' && siteRules.length > 0 ? [...new Set(siteRules.flatMap(readsProperties))] : null;
    this.ruleSet = Object.fromEntries(
      inScope.map((r) => [r.name, { fingerprint: ruleFingerprint(r), label: { name: r.name, type: r.type, summary: r.summary, severity: r.severity, scope: r.scope } }]),
    );
    this.ruleSetDirty = true;
  }

  /** Resolves (when firing) and drops the state of every rule that is gone or evaluates differently than under `previous`. */
  private dropStateNotFitting(previous: RuleSetRecord, now: number): void {
    for (const subject of this.subjects.values()) {
      for (const [name, state] of Object.entries(subject.rules)) {
        const before = previous[name];
        if (before !== undefined && before.fingerprint === this.ruleSet[name]?.fingerprint) continue;
        if (state.track?.state === 'firing') {
          // Labelled as the rule the alert fired under; only a changelog older than the rule-set entry lacks it, and then the name must do.
          const label = before?.label ?? this.ruleSet[name]?.label ?? { name, type: 'window', summary: name, severity: 'info', scope: subject.deviceId === null ? 'site' : 'device' };
          this.outbox.push(this.record(subject, label, 'resolved', { since: state.track.since, end: now, cause: 'rule-changed', value: null, threshold: null, window: null }));
        }
        delete subject.rules[name];
        // A subject still silent under the changed absence rule fires again as a new episode, from the reload: the old id is resolved.
        if (state.track?.state === 'firing' && this.rules.byName.get(name)?.type === 'absence') subject.rules[name] = { from: now };
        this.dirty.add(subject);
      }
    }
  }

  /** The partition's event time (its newest believable reading time). */
  get watermarkMs(): number {
    return this.partitionWatermark;
  }

  /** Takes one reading in partition order; `receivedAt` is its Kafka timestamp (when the cloud took it). */
  process(input: AlertInput, receivedAt: number): void {
    const entry = this.siteEntry(input.siteId);
    const site = entry.site;
    // The site stream is written exactly once (in the device engines' transactions): nothing to dedupe there.
    if (this.mode !== 'sites' && this.isDuplicate(site, input)) {
      this.counters.duplicates += 1;
      return;
    }
    this.counters.readings += 1;
    if (this.forwardProperties !== null) this.forwarded.push(forwardable(input, receivedAt, this.forwardProperties));
    this.heard(site, receivedAt, input);
    const ts = Date.parse(input.ts);
    const believable = isBelievable(ts, receivedAt, this.maxClockSkewMs);
    if (believable) this.observe(site, ts);
    else this.counters.future += 1;
    // Outside the windows, a reading from an unbelievable clock counts as made when the cloud received it.
    const at = believable ? ts : receivedAt;
    const isEvent = input.kind === 'event';
    let device: SubjectState | undefined;
    if (this.mode !== 'sites') {
      device = entry.devices.get(input.deviceId);
      if (device === undefined) {
        device = this.newSubject(`d:${input.siteId}/${input.deviceId}`, input.siteId, input.deviceId);
        entry.devices.set(input.deviceId, device);
      }
      // An event is the gateway speaking about the device: proof the site is alive, not the device.
      if (!isEvent) this.heard(device, receivedAt, input);
    }
    // A reading from an unbelievable clock is not late: it never reaches the windows, and its receipt time is no claim of its own.
    const late = believable && isLate(ts, this.watermarkOf(site), this.allowedLatenessMs);
    if (late) this.counters.late += 1;
    if (isEvent) {
      if (device !== undefined && !late) this.deviceEvent(device, input, at);
      return;
    }
    const objectClass = input.eoj.slice(0, 4);
    const windows = believable && !late;
    if (device !== undefined) {
      // Instant rules judge the device's present state: the newest reading tells it, lateness does not matter.
      const newest = at >= (device.judgedAt ?? -Infinity);
      if (newest) device.judgedAt = at;
      if (windows) this.addToWindowsOf(this.rules.deviceWindows, device, input, ts, objectClass);
      if (newest) this.checkInstants(this.rules.deviceInstant, device, input, at, objectClass);
    }
    if (windows) this.addToWindowsOf(this.rules.siteWindows, site, input, ts, objectClass);
  }

  /** A believable reading time moves its site's event time and the partition's. */
  private observe(site: SubjectState, ts: number): void {
    if (ts > (site.watermark ?? -Infinity)) site.watermark = ts;
    if (ts > this.partitionWatermark) this.partitionWatermark = ts;
  }

  /** The event time a site's windows close by and its readings are late against. */
  private watermarkOf(site: SubjectState): number {
    return siteWatermark(site.watermark ?? -Infinity, this.partitionWatermark, this.maxClockSkewMs);
  }

  /** Readings for the site stream since the last call (mode `devices`, when there are site rules). */
  drainForwarded(): AlertInput[] {
    const out = this.forwarded;
    this.forwarded = [];
    return out;
  }

  /**
   * Closes every window its site's watermark has passed and judges it; call after each batch. No
   * site's watermark is ahead of the partition's, so only closings up to that are looked at; a
   * subject whose site lags stays scheduled.
   */
  advance(): void {
    const due = [...this.closing.keys()].filter((closeAt) => closeAt <= this.partitionWatermark).sort((a, b) => a - b);
    for (const closeAt of due) {
      const lagging: SubjectState[] = [];
      for (const subject of this.closing.get(closeAt)!) {
        const watermark = this.watermarkOf(this.siteEntry(subject.siteId).site);
        if (closeAt <= watermark) this.closeWindows(subject, watermark);
        else lagging.push(subject);
      }
      if (lagging.length === 0) this.closing.delete(closeAt);
      else this.closing.set(closeAt, new Set(lagging));
    }
  }

  /** Processing-time checks: subjects silent longer than an absence rule allows. */
  tick(now: number): void {
    for (const subject of this.subjects.values()) {
      for (const rule of subject.deviceId === null ? this.rules.siteAbsence : this.rules.deviceAbsence) {
        const state = subject.rules[rule.name];
        if (state?.track !== undefined) continue;
        const from = Math.max(subject.lastReceived, state?.from ?? -Infinity);
        if (now - Math.max(from, this.activeSince) < rule.afterMs) continue;
        this.fire(subject, rule, { since: from, cause: 'silent', value: null, threshold: rule.afterMs / 1000, window: null });
      }
    }
  }

  /** Alert records produced since the last call, in the order they happened. */
  drain(): Alert[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  /** What changed since the last call, as changelog entries (null: the subject is gone). */
  changes(): Array<{ key: string; state: SubjectState | null }> {
    const out = [...this.dirty].map((state) => ({ key: state.key, state: this.subjects.get(state.key) ?? null }));
    this.dirty.clear();
    return out;
  }

  /** Every subject's state, e.g. for a changelog written from scratch. */
  allStates(): SubjectState[] {
    return [...this.subjects.values()];
  }

  /** Puts back one subject read from the changelog (restore, before any reading). */
  restore(state: SubjectState): void {
    for (const rule of Object.values(state.rules)) {
      if (rule.windows !== undefined) rule.windows = rule.windows.map(revivedAccumulator);
    }
    this.subjects.set(state.key, state);
    const entry = this.siteEntry(state.siteId);
    if (state.deviceId === null) entry.site = state;
    else entry.devices.set(state.deviceId, state);
    for (const [name, ruleState] of Object.entries(state.rules)) {
      const rule = this.rules.byName.get(name);
      if (rule?.type !== 'window') continue;
      for (const window of ruleState.windows ?? []) this.scheduleClose(state, window.start + rule.window.sizeMs);
    }
  }

  /**
   * Restores the partition's watermark written with the state (the changelog's meta entry), after
   * `restore`. A value beyond the takeover time plus the skew allowance was written by an engine that
   * believed any clock: it is cut back. Sites from a changelog written before sites had watermarks
   * of their own keep the partition's, as then.
   */
  restoreWatermark(value: number): void {
    const bounded = Math.min(value, this.activeSince + this.maxClockSkewMs);
    if (bounded > this.partitionWatermark) this.partitionWatermark = bounded;
    for (const { site } of this.bySite.values()) {
      if (site.watermark === undefined || site.watermark > bounded) site.watermark = bounded;
    }
  }

  /** Pending and firing alerts of this partition, for the API. */
  active(): Array<{ rule: string; subject: string; track: Track }> {
    const out: Array<{ rule: string; subject: string; track: Track }> = [];
    for (const subject of this.subjects.values()) {
      for (const [rule, state] of Object.entries(subject.rules)) if (state.track !== undefined) out.push({ rule, subject: subject.key, track: state.track });
    }
    return out;
  }

  get subjectCount(): number {
    return this.subjects.size;
  }

  private siteEntry(siteId: string): { site: SubjectState; devices: Map<string, SubjectState> } {
    let entry = this.bySite.get(siteId);
    if (entry === undefined) {
      entry = { site: this.subjects.get(`s:${siteId}`) ?? this.newSubject(`s:${siteId}`, siteId, null), devices: new Map() };
      this.bySite.set(siteId, entry);
    }
    return entry;
  }

  private newSubject(key: string, siteId: string, deviceId: string | null): SubjectState {
    // Every field present from the start, the times as numbers: one object shape for every subject, and times updated in place, keep the per-reading paths fast.
    const subject: SubjectState = { key, siteId, deviceId, lastReceived: 0, watermark: NEVER, judgedAt: NEVER, seqs: undefined, rules: {} };
    this.subjects.set(key, subject);
    return subject;
  }

  private isDuplicate(site: SubjectState, input: AlertInput): boolean {
    const epoch = input.epoch ?? '';
    const seqs = (site.seqs ??= {});
    const highest = seqs[epoch];
    if (highest !== undefined && input.seq <= highest) return true;
    if (highest === undefined) {
      const epochs = Object.keys(seqs);
      if (epochs.length >= MAX_EPOCHS_PER_SITE) delete seqs[epochs[0]!];
    }
    seqs[epoch] = input.seq;
    this.dirty.add(site);
    return false;
  }

  /** Something came from the subject: it is alive, so an absence alert resolves. */
  private heard(subject: SubjectState, receivedAt: number, input: AlertInput): void {
    if (receivedAt > subject.lastReceived) subject.lastReceived = receivedAt;
    this.dirty.add(subject);
    for (const rule of subject.deviceId === null ? this.rules.siteAbsence : this.rules.deviceAbsence) {
      const state = subject.rules[rule.name];
      if (state === undefined) continue;
      if (state.track?.state === 'firing') this.resolve(subject, rule, { end: receivedAt, value: input.seq, threshold: null, window: null });
      else if (state.track === undefined) delete subject.rules[rule.name];
    }
  }

  /** The edge's device events: offline fires the device's absence rules at once, online resolves them. */
  private deviceEvent(device: SubjectState, input: AlertInput, ts: number): void {
    const type = input.event?.type;
    for (const rule of this.rules.deviceAbsence) {
      if (!classMatches(rule, input.eoj.slice(0, 4))) continue;
      const track = device.rules[rule.name]?.track;
      if (type === 'offline' && track === undefined) this.fire(device, rule, { since: ts, cause: 'offline', value: 'offline', threshold: null, window: null });
      if (type === 'online' && track !== undefined) this.resolve(device, rule, { end: ts, value: 'online', threshold: null, window: null });
    }
  }

  private addToWindowsOf(rules: WindowRule[], subject: SubjectState, input: AlertInput, ts: number, objectClass: string): void {
    for (const rule of rules) if (classMatches(rule, objectClass)) this.addToWindows(rule, subject, input, ts);
  }

  private checkInstants(rules: InstantRule[], subject: SubjectState, input: AlertInput, at: number, objectClass: string): void {
    for (const rule of rules) if (classMatches(rule, objectClass)) this.checkInstant(rule, subject, input, at);
  }

  private addToWindows(rule: WindowRule, subject: SubjectState, input: AlertInput, ts: number): void {
    const state = (subject.rules[rule.name] ??= {});
    const windows = (state.windows ??= []);
    const raw = input.properties[rule.property];
    const value = typeof raw === 'number' && whereMatches(rule.where, input.properties) ? raw : undefined;
    const referenceRaw = rule.referenceProperty === null ? null : input.properties[rule.referenceProperty];
    const reference = typeof referenceRaw === 'number' ? referenceRaw : null;
    // Every window holding ts: the newest starts at the hop boundary at or before it, older ones hop back (windowStarts, inlined: this runs per reading and rule).
    const { sizeMs, hopMs } = rule.window;
    for (let start = Math.floor(ts / hopMs) * hopMs; start > ts - sizeMs; start -= hopMs) {
      const count = windows.length;
      const window = windowAt(windows, start);
      if (windows.length !== count) this.scheduleClose(subject, start + sizeMs);
      window.seen += 1;
      if (value !== undefined) accumulate(window, ts, value, reference);
    }
  }

  private scheduleClose(subject: SubjectState, windowEnd: number): void {
    const closeAt = windowEnd + this.allowedLatenessMs;
    let subjects = this.closing.get(closeAt);
    if (subjects === undefined) this.closing.set(closeAt, (subjects = new Set()));
    subjects.add(subject);
  }

  private closeWindows(subject: SubjectState, watermark: number): void {
    for (const [name, state] of Object.entries(subject.rules)) {
      const rule = this.rules.byName.get(name);
      if (rule?.type !== 'window' || state.windows === undefined) continue;
      for (const window of takeClosed(state.windows, rule.window, this.allowedLatenessMs, watermark)) {
        this.counters.windowsClosed += 1;
        this.judgeWindow(rule, subject, window);
      }
      if (state.windows.length === 0) delete state.windows;
      if (state.windows === undefined && state.track === undefined) delete subject.rules[name];
    }
    this.dirty.add(subject);
  }

  /** A closed window's verdict drives the lifecycle: pending after one breach, firing after `for`, resolved past the hysteresis. */
  private judgeWindow(rule: WindowRule, subject: SubjectState, window: Accumulator): void {
    const state = (subject.rules[rule.name] ??= {});
    const value = aggregate(window, rule.aggregate);
    const limit = value === undefined ? undefined : this.thresholdOf(rule.threshold, subject, window);
    const breach = value !== undefined && limit !== undefined && compare(value, rule.op, limit);
    const track = state.track;
    const where = { start: window.start, end: window.start + rule.window.sizeMs };
    if (track?.state === 'firing') {
      const resolveLimit = value === undefined ? undefined : this.thresholdOf(rule.resolveThreshold, subject, window);
      const holds = value !== undefined && resolveLimit !== undefined && compare(value, rule.op, resolveLimit);
      if (holds) track.lastStart = window.start;
      else this.resolve(subject, rule, { end: where.end, value: value ?? null, threshold: resolveLimit ?? null, window: where });
      return;
    }
    if (!breach) {
      delete state.track;
      return;
    }
    const consecutive = track !== undefined && window.start === track.lastStart + rule.window.hopMs;
    const next: Track = consecutive ? { ...track, streak: track.streak + 1, lastStart: window.start } : { state: 'pending', streak: 1, since: window.start, lastStart: window.start, cause: 'threshold' };
    state.track = next;
    if (next.streak >= rule.for) this.fire(subject, rule, { since: next.since, cause: 'threshold', value: value ?? null, threshold: limit ?? null, window: where });
  }

  private checkInstant(rule: InstantRule, subject: SubjectState, input: AlertInput, ts: number): void {
    const raw = input.properties[rule.property];
    if (raw === undefined) return;
    const matches = raw !== null && whereMatches(rule.where, input.properties) && compare(raw, rule.op, rule.value);
    const track = subject.rules[rule.name]?.track;
    if (matches && track === undefined) this.fire(subject, rule, { since: ts, cause: 'condition', value: raw, threshold: rule.value, window: null });
    else if (!matches && track !== undefined) this.resolve(subject, rule, { end: ts, value: raw, threshold: rule.value, window: null });
  }

  private thresholdOf(threshold: Threshold, subject: SubjectState, window: Accumulator): number | undefined {
    if (typeof threshold === 'number') return threshold;
    if ('property' in threshold) return window.reference === null ? undefined : window.reference + (threshold.offset ?? 0);
    const site = this.sites.get(subject.siteId);
    return (site?.thresholds[threshold.site] ?? threshold.default) + (threshold.offset ?? 0);
  }

  private fire(subject: SubjectState, rule: Rule, how: { since: number; cause: Alert['cause']; value: Scalar | null; threshold: Scalar | null; window: { start: number; end: number } | null }): void {
    const state = (subject.rules[rule.name] ??= {});
    state.track = { state: 'firing', streak: state.track?.streak ?? 1, since: how.since, lastStart: state.track?.lastStart ?? how.since, cause: how.cause };
    this.dirty.add(subject);
    this.outbox.push(this.record(subject, rule, 'firing', { ...how, end: null }));
  }

  private resolve(subject: SubjectState, rule: Rule, how: { end: number; value: Scalar | null; threshold: Scalar | null; window: { start: number; end: number } | null }): void {
    const state = subject.rules[rule.name];
    const track = state?.track;
    if (state === undefined || track === undefined) return;
    delete state.track;
    if (state.windows === undefined) delete subject.rules[rule.name];
    this.dirty.add(subject);
    this.outbox.push(this.record(subject, rule, 'resolved', { ...how, since: track.since, cause: track.cause }));
  }

  private record(
    subject: SubjectState,
    rule: RuleLabel,
    state: Alert['state'],
    how: { since: number; end: number | null; cause: Alert['cause']; value: Scalar | null; threshold: Scalar | null; window: { start: number; end: number } | null },
  ): Alert {
    let site = this.sites.get(subject.siteId);
    if (site === undefined) {
      this.counters.unknownSites += 1;
      site = UNKNOWN_SITE(subject.siteId);
    }
    return {
      v: 1,
      id: alertId(rule.name, subject.key, how.since),
      state,
      rule: rule.name,
      ruleType: rule.type,
      severity: rule.severity,
      summary: rule.summary,
      scope: rule.scope,
      siteId: subject.siteId,
      deviceId: subject.deviceId,
      site: { name: site.name, timeZone: site.timeZone, location: site.location ?? null },
      cause: how.cause,
      startsAt: iso(how.since),
      endsAt: how.end === null ? null : iso(how.end),
      windowStart: how.window === null ? null : iso(how.window.start),
      windowEnd: how.window === null ? null : iso(how.window.end),
      value: typeof how.value === 'number' ? roundForHumans(how.value) : how.value,
      threshold: typeof how.threshold === 'number' ? roundForHumans(how.threshold) : how.threshold,
    };
  }
}

/** What the site stream needs of a reading: its identity, time, and the properties site rules read. */
function forwardable(input: AlertInput, receivedAt: number, properties: string[]): AlertInput {
  const kept: Record<string, PropertyValue> = {};
  for (const name of properties) if (input.properties[name] !== undefined) kept[name] = input.properties[name];
  const out: AlertInput = { siteId: input.siteId, seq: input.seq, deviceId: input.deviceId, eoj: input.eoj, ts: input.ts, kind: input.kind, properties: kept, receivedAt };
  if (input.epoch !== undefined) out.epoch = input.epoch;
  if (input.event !== undefined) out.event = { type: input.event.type };
  return out;
}

function readsProperties(rule: Rule): string[] {
  if (rule.type === 'absence') return [];
  const names = [rule.property, ...rule.where.map(([name]) => name)];
  if (rule.type === 'window' && rule.referenceProperty !== null) names.push(rule.referenceProperty);
  return names;
}

function classMatches(rule: Rule, objectClass: string): boolean {
  return rule.classes.length === 0 || rule.classes.includes(objectClass);
}

function whereMatches(where: Array<[string, Scalar[]]>, properties: Record<string, PropertyValue>): boolean {
  for (const [property, allowed] of where) {
    const value = properties[property];
    if (value === undefined || value === null || !allowed.includes(value)) return false;
  }
  return true;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Averages like 28.333333333333332 help nobody; three decimals are more than any sensor resolves. */
function roundForHumans(value: number): number {
  return Math.round(value * 1000) / 1000;
}
