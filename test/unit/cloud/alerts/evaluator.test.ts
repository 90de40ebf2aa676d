import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alert } from '../../../../cloud/alerts/alert.js';
import { PartitionEvaluator, type AlertInput, type AlertSite, type SubjectState } from '../../../../cloud/alerts/evaluator.js';
import { parseRules } from '../../../../cloud/alerts/rules.js';

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const osaka: AlertSite = { name: 'Osaka office', timeZone: 'Asia/Tokyo', location: { latitude: 34.69, longitude: 135.5 }, thresholds: { humidityMin: 40 } };
const sites = { get: (id: string) => (id === 's1' ? osaka : undefined) };
const LATENESS_MS = 10_000;

const HOT = `
  - name: hot
    type: window
    summary: too hot
    severity: warning
    scope: device
    window: { size: 1m }
    aggregate: avg
    property: roomTemperature
    condition: { op: '>', threshold: 30 }
    resolve: { threshold: 28 }
    for: 2`;

function evaluator(rulesYaml: string, activeSince = T0): PartitionEvaluator {
  return new PartitionEvaluator(parseRules(`rules:${rulesYaml}`), sites, LATENESS_MS, activeSince);
}

let seq = 0;
function reading(seconds: number, properties: AlertInput['properties'], extra: Partial<AlertInput> = {}): AlertInput {
  seq += 1;
  return { siteId: 's1', seq, deviceId: 'dev1', eoj: '013001', ts: at(seconds), kind: 'poll', properties, ...extra };
}

/** Feeds readings as one batch (received when they were made), then lets the watermark close windows. */
function feed(engine: PartitionEvaluator, readings: AlertInput[]): Alert[] {
  for (const r of readings) engine.process(r, Date.parse(r.ts));
  engine.advance();
  return engine.drain();
}

const temps = (fromSecond: number, values: number[]) => values.map((v, i) => reading(fromSecond + i * 20, { roomTemperature: v }));

test('a window average over the threshold for two windows fires once; hysteresis keeps it until below the resolve threshold', () => {
  const engine = evaluator(HOT);
  assert.deepEqual(feed(engine, temps(0, [31, 32, 33])), [], 'first window still open');
  assert.deepEqual(feed(engine, temps(60, [31, 31, 31])), [], 'window 1 closed (breach 1 of 2): pending');
  assert.equal(engine.active()[0]?.track.state, 'pending');
  const fired = feed(engine, temps(120, [29, 29, 29]));
  assert.equal(fired.length, 1);
  assert.equal(fired[0]!.state, 'firing');
  assert.equal(fired[0]!.startsAt, at(0), 'the episode starts with its first breaching window');
  assert.equal(fired[0]!.windowStart, at(60));
  assert.equal(fired[0]!.value, 31);
  assert.equal(fired[0]!.threshold, 30);
  assert.deepEqual(fired[0]!.site, { name: 'Osaka office', timeZone: 'Asia/Tokyo', location: { latitude: 34.69, longitude: 135.5 } });
  assert.deepEqual(feed(engine, temps(180, [27, 27, 27])), [], 'window at 120 s averaged 29: under 30 but over 28, still firing');
  const resolved = feed(engine, temps(240, [27, 27]));
  assert.equal(resolved.length, 1);
  assert.equal(resolved[0]!.state, 'resolved');
  assert.equal(resolved[0]!.id, fired[0]!.id, 'resolved under the firing id');
  assert.equal(resolved[0]!.endsAt, at(240));
  assert.deepEqual(feed(engine, temps(300, [27, 27])), [], 'nothing more');
});

test('out-of-order readings within the lateness give the same alerts as ordered ones', () => {
  const ordered = evaluator(HOT);
  const shuffled = evaluator(HOT);
  const series = temps(0, [31, 32, 33, 31, 31, 31, 29, 29]);
  const swapped = [...series];
  [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!]; // 40 s arrives after 60 s: 5 s out of order, within 10 s lateness
  const a = feed(ordered, series);
  const b = feed(shuffled, swapped);
  assert.equal(a.length, 1, 'windows at 0 and 60 s breached');
  assert.deepEqual(b, a);
  assert.deepEqual(feed(shuffled, temps(200, [20])), feed(ordered, temps(200, [20])));
  assert.equal(shuffled.counters.late, 0);
});

test('a reading later than the lateness is counted and dropped; the emitted window is not changed', () => {
  const engine = evaluator(HOT.replace('for: 2', 'for: 1'));
  feed(engine, temps(0, [29, 29, 29]));
  assert.deepEqual(feed(engine, temps(75, [29])), [], 'window 0–60 s closed at 70 s: average 29, no breach');
  assert.deepEqual(feed(engine, [reading(30, { roomTemperature: 90 })]), [], 'the 90 °C at 30 s comes 45 s behind the watermark: late');
  assert.equal(engine.counters.late, 1);
  assert.equal(engine.counters.windowsClosed, 1, 'the window closed once and was not reopened');
});

const FAULT = `
  - { name: fault, type: instant, summary: fault, severity: critical, scope: device, property: faultStatus, condition: { op: '==', value: true } }`;

test('a gateway clock far ahead moves no watermark: the other sites of the partition still alert, and the reading is counted as from the future', () => {
  const engine = evaluator(HOT.replace('for: 2', 'for: 1') + FAULT);
  const broken = reading(0, { roomTemperature: 20, faultStatus: true }, { siteId: 'broken', deviceId: 'b1', ts: new Date(Date.UTC(2199, 0, 1)).toISOString() });
  engine.process(broken, T0);
  engine.advance();
  assert.deepEqual(engine.drain().map((a) => [a.siteId, a.rule, a.startsAt]), [['broken', 'fault', at(0)]], 'instant rules still judge it, at its receipt time');
  assert.equal(engine.counters.future, 1);
  assert.equal(engine.watermarkMs, -Infinity, 'the watermark did not move');
  const alerts = feed(engine, [...temps(0, [35, 35, 35]), reading(60, { roomTemperature: 35, faultStatus: true }), ...temps(80, [35, 35, 35])]);
  assert.deepEqual(alerts.map((a) => `${a.siteId}:${a.rule}:${a.state}`), ['s1:fault:firing', 's1:hot:firing']);
  assert.equal(engine.counters.late, 0);
  assert.ok(engine.allStates().every((s) => (s.rules.hot?.windows ?? []).every((w) => w.start < T0 + 3_600_000)), 'the 2199 reading opened no window');
});

test('a gateway clock ahead within the allowance is believed; beyond it, by the allowance and a millisecond, it is not', () => {
  const engine = evaluator(HOT);
  engine.process(reading(300, { roomTemperature: 20 }), T0);
  assert.equal(engine.watermarkMs, T0 + 300_000);
  engine.process(reading(600.001, { roomTemperature: 20 }), T0 + 300_000);
  assert.equal(engine.counters.future, 1);
  assert.equal(engine.watermarkMs, T0 + 300_000);
});

test('a site whose gateway clock is slow is judged by its own clock: another site’s clock does not make its readings late', () => {
  const engine = evaluator(HOT.replace('for: 2', 'for: 1') + FAULT);
  const out: Alert[] = [];
  for (let minute = 0; minute < 10; minute += 1) {
    const t = minute * 60;
    out.push(
      ...feed(engine, [
        reading(t, { roomTemperature: 20, faultStatus: false }, { siteId: 'fast', deviceId: 'a1' }),
        // the same moment at a site whose gateway clock runs 45 s slow
        reading(t - 45, { roomTemperature: 40, faultStatus: minute >= 5 }),
      ]),
    );
  }
  assert.equal(engine.counters.late, 0, 'none of the slow site’s readings is late');
  assert.deepEqual(
    out.map((a) => `${a.siteId}:${a.rule}`),
    ['s1:hot', 's1:fault'],
  );
});

test('instant conditions are judged on readings too late for their windows, but never by one older than a reading already judged', () => {
  const engine = evaluator(HOT + FAULT);
  feed(engine, [reading(0, { faultStatus: false }), reading(100, { faultStatus: false })]);
  const late = feed(engine, [reading(101, { faultStatus: true }), reading(30, { faultStatus: false })]);
  assert.deepEqual(late.map((a) => `${a.rule}:${a.state}`), ['fault:firing'], 'the reading at 30 s is late and older than the one at 101 s: it does not resolve the fault');
  assert.equal(engine.counters.late, 1);
  const resolved = feed(engine, [reading(102, { faultStatus: false })]);
  assert.deepEqual(resolved.map((a) => `${a.rule}:${a.state}`), ['fault:resolved']);
  const otherDevice = feed(engine, [reading(40, { faultStatus: true }, { deviceId: 'dev2' })]);
  assert.deepEqual(otherDevice.map((a) => `${a.rule}:${a.deviceId}:${a.state}`), ['fault:dev2:firing'], 'too late for windows, but the newest word from dev2');
  assert.equal(engine.counters.late, 2);
});

test('a site that goes quiet has its open windows closed once the partition is the skew allowance past them', () => {
  const engine = new PartitionEvaluator(parseRules(`rules:${HOT.replace('for: 2', 'for: 1')}`), sites, LATENESS_MS, T0, 'all', 60_000);
  feed(engine, temps(0, [35, 35, 35]));
  assert.deepEqual(feed(engine, [reading(120, { roomTemperature: 20 }, { siteId: 'other', deviceId: 'o1' })]), [], 'the quiet site’s window waits for its own clock');
  const fired = feed(engine, [reading(131, { roomTemperature: 20 }, { siteId: 'other', deviceId: 'o1' })]);
  assert.deepEqual(fired.map((a) => `${a.siteId}:${a.rule}:${a.windowStart}`), [`s1:hot:${at(0)}`], 'closed at 60 + 10 s lateness + 60 s allowance');
  assert.deepEqual(feed(engine, [reading(59, { roomTemperature: 90 })]), [], 'its readings for that window are late now');
  assert.equal(engine.counters.late, 1);
});

test('a watermark restored from a changelog written by an engine that believed a 2199 clock is cut back to the takeover time plus the allowance', () => {
  const engine = evaluator(HOT.replace('for: 2', 'for: 1'), T0);
  engine.restoreWatermark(Date.UTC(2199, 0, 1));
  assert.equal(engine.watermarkMs, T0 + 300_000);
  assert.deepEqual(feed(engine, temps(290, [35])), []);
  assert.equal(engine.counters.late, 0, 'a reading within the lateness of the cut-back watermark is taken');
  const fired = feed(engine, temps(380, [20]));
  assert.deepEqual(fired.map((a) => `${a.rule}:${a.state}:${a.windowStart}`), [`hot:firing:${at(240)}`]);
});

test('a resent batch does not skew the average; a new epoch starts its seqs again', () => {
  const engine = evaluator(HOT.replace('for: 2', 'for: 1'));
  const batch = temps(0, [29, 29, 29]);
  feed(engine, batch);
  feed(engine, batch); // the same seqs again: the site never got its ack
  assert.equal(engine.counters.duplicates, 3);
  const fromNewEpoch = [reading(50, { roomTemperature: 35 }, { seq: 1, epoch: '00000000000000aa' })];
  feed(engine, fromNewEpoch);
  assert.equal(engine.counters.duplicates, 3, 'seq 1 of another epoch is a new reading');
  const fired = feed(engine, temps(75, [20]));
  assert.equal(fired.length, 1, '(29 + 29 + 29 + 35) / 4 = 30.5 > 30');
  assert.equal(fired[0]!.value, 30.5);
});

test('hopping windows: each hop is judged once, and `for` counts consecutive hops', () => {
  const engine = evaluator(HOT.replace('window: { size: 1m }', 'window: { size: 1m, hop: 30s }').replace('for: 2', 'for: 3'));
  const alerts = feed(engine, temps(0, [31, 31, 31, 31, 31, 31, 31, 31]).concat(temps(200, [20])));
  // Windows starting −30, 0, 30, 60, 90, 120 s close by 200 s; all breach (the −30 s one holds 0–29 s only).
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.startsAt, at(-30));
  assert.equal(alerts[0]!.windowStart, at(30), 'the third consecutive breaching window fired it');
  assert.equal(engine.counters.windowsClosed, 6);
});

test('a gap breaks the `for` streak', () => {
  const engine = evaluator(HOT);
  feed(engine, temps(0, [31]));
  feed(engine, temps(120, [31])); // 60–120 s had nothing: window 0 breach, no window at 60
  const alerts = feed(engine, temps(240, [20]));
  assert.deepEqual(alerts, [], 'two breaching windows, but not consecutive');
  assert.deepEqual(engine.active().map((a) => [a.track.state, a.track.streak, a.track.since]), [['pending', 1, T0 + 120_000]], 'the streak began again at 120 s');
});

test('a threshold may refer to another property; filtered-out readings end the alert', () => {
  const engine = evaluator(`
  - name: not-cooling
    type: window
    summary: not cooling
    severity: warning
    scope: device
    where: { operationStatus: true, operationMode: [cooling, dehumidification] }
    window: { size: 1m }
    aggregate: avg
    property: roomTemperature
    condition: { op: '>', threshold: { property: targetTemperature, offset: 3 } }`);
  const cooling = (s: number, room: number, mode = 'cooling') => reading(s, { operationStatus: true, operationMode: mode, targetTemperature: 24, roomTemperature: room });
  assert.deepEqual(feed(engine, [cooling(0, 26), cooling(30, 27.5), cooling(40, 40, 'heating')]), []);
  const fired = feed(engine, [cooling(80, 26)]);
  assert.equal(fired.length, 0, 'window 0–60 s: the heating reading does not count; 26.75 is under 24 + 3');
  const off = (s: number) => reading(s, { operationStatus: false, roomTemperature: 35, targetTemperature: 24 });
  const breach = feed(engine, [cooling(90, 28.5), off(130)]);
  assert.equal(breach.length, 1);
  assert.equal(breach[0]!.value, 27.25, '(26 + 28.5) / 2 over the 60–120 s window');
  assert.equal(breach[0]!.threshold, 27, 'targetTemperature 24 + 3');
  // The unit is switched off: its next window holds readings but none that match, so the condition no longer applies.
  const resolved = feed(engine, [off(150), off(200)]);
  assert.deepEqual(resolved.map((a) => a.state), ['resolved']);
});

test('site settings set the threshold, and a site-scoped window averages all the site’s devices', () => {
  const engine = evaluator(`
  - name: dry-site
    type: window
    summary: dry
    severity: warning
    scope: site
    window: { size: 1m }
    aggregate: avg
    property: humidity
    condition: { op: '<', threshold: { site: humidityMin, default: 30 } }`);
  const fired = feed(engine, [
    reading(0, { humidity: 30 }, { deviceId: 'a' }),
    reading(10, { humidity: 45 }, { deviceId: 'b' }),
    reading(20, { humidity: 35 }, { deviceId: 'c' }),
    reading(80, { humidity: 50 }, { deviceId: 'a' }),
  ]);
  assert.equal(fired.length, 1, 'average 36.67 below the site’s 40 (the rule’s default 30 would not fire)');
  assert.equal(fired[0]!.deviceId, null);
  assert.equal(fired[0]!.scope, 'site');
  assert.equal(fired[0]!.threshold, 40);
  assert.equal(fired[0]!.value, 36.667);
});

test('instant conditions fire once while true and resolve once', () => {
  const engine = evaluator(`
  - { name: fault, type: instant, summary: fault, severity: critical, scope: device, property: faultStatus, condition: { op: '==', value: true } }`);
  const states = feed(engine, [
    reading(0, { faultStatus: false }),
    reading(10, { faultStatus: true }),
    reading(20, { faultStatus: true }),
    reading(25, { roomTemperature: 20 }), // no faultStatus: says nothing about the fault
    reading(30, { faultStatus: false }),
    reading(40, { faultStatus: false }),
  ]).map((a) => `${a.state}@${a.startsAt}`);
  assert.deepEqual(states, [`firing@${at(10)}`, `resolved@${at(10)}`]);
});

test('absence: silent longer than allowed fires on the processing-time tick; the next reading resolves', () => {
  const engine = evaluator(`
  - { name: silent, type: absence, summary: s, severity: warning, scope: device, after: 5m }
  - { name: site-silent, type: absence, summary: s, severity: critical, scope: site, after: 10m }`);
  feed(engine, [reading(0, { roomTemperature: 20 })]);
  engine.tick(T0 + 299_000);
  assert.deepEqual(engine.drain(), []);
  engine.tick(T0 + 300_000);
  const fired = engine.drain();
  assert.deepEqual(fired.map((a) => [a.rule, a.state, a.cause, a.startsAt]), [['silent', 'firing', 'silent', at(0)]]);
  engine.tick(T0 + 400_000);
  assert.deepEqual(engine.drain(), [], 'fires once');
  engine.tick(T0 + 600_000);
  assert.deepEqual(engine.drain().map((a) => a.rule), ['site-silent']);
  const back = feed(engine, [reading(700, { roomTemperature: 20 })]);
  assert.deepEqual(back.map((a) => [a.rule, a.state]), [['site-silent', 'resolved'], ['silent', 'resolved']]);
  assert.equal(back[1]!.id, fired[0]!.id, 'resolved under the id it fired with');
});

test('absence counts from when the partition was taken over, not from before', () => {
  const engine = evaluator(`\n  - { name: silent, type: absence, summary: s, severity: warning, scope: device, after: 5m }`, T0 + 3_600_000);
  feed(engine, [reading(0, {})]);
  engine.tick(T0 + 3_600_000 + 299_000);
  assert.deepEqual(engine.drain(), []);
  engine.tick(T0 + 3_600_000 + 300_000);
  assert.deepEqual(engine.drain().map((a) => a.startsAt), [at(0)], 'fires after the grace, still dated from the last reading');
});

test('the edge’s offline event fires the device’s absence rule at once; online resolves it; the site stays alive', () => {
  const engine = evaluator(`
  - { name: silent, type: absence, summary: s, severity: warning, scope: device, after: 5m }
  - { name: site-silent, type: absence, summary: s, severity: critical, scope: site, after: 5m }`);
  feed(engine, [reading(0, { roomTemperature: 20 })]);
  const offline = feed(engine, [reading(60, {}, { kind: 'event', event: { type: 'offline' } })]);
  assert.deepEqual(offline.map((a) => [a.rule, a.state, a.cause, a.value]), [['silent', 'firing', 'offline', 'offline']]);
  engine.tick(T0 + 310_000);
  assert.deepEqual(engine.drain(), [], 'the event kept the site alive; the device already fires');
  const online = feed(engine, [reading(320, {}, { kind: 'event', event: { type: 'online' } })]);
  assert.deepEqual(online.map((a) => [a.rule, a.state, a.id]), [['silent', 'resolved', offline[0]!.id]]);
});

test('state written as changes and restored elsewhere continues exactly; a replay emits nothing new', () => {
  const rules = HOT + `\n  - { name: silent, type: absence, summary: s, severity: warning, scope: device, after: 5m }`;
  const series = temps(0, [31, 32, 33, 31, 31, 31, 29, 29, 29, 27, 27, 27, 27, 27]);
  const whole = evaluator(rules);
  const expected = feed(whole, series);
  assert.deepEqual(expected.map((a) => a.state), ['firing', 'resolved']);

  const first = evaluator(rules);
  const changelog = new Map<string, SubjectState | null>();
  const before = feed(first, series.slice(0, 5));
  for (const { key, state } of first.changes()) changelog.set(key, state === null ? null : (JSON.parse(JSON.stringify(state)) as SubjectState));
  const watermark = first.watermarkMs;
  // Crash: the new owner restores from the changelog and the offsets committed with it, then
  // gets the two readings after the last commit again (they were processed, not committed).
  const second = evaluator(rules);
  for (const state of changelog.values()) if (state !== null) second.restore(state);
  second.restoreWatermark(watermark);
  const after = feed(second, series.slice(3));
  assert.deepEqual([...before, ...after], expected);
  assert.equal(second.counters.duplicates, 2);
});

test('a window result is emitted once even if advance is called again', () => {
  const engine = evaluator(HOT.replace('for: 2', 'for: 1'));
  const alerts = feed(engine, temps(0, [31, 31, 31, 31, 31]));
  engine.advance();
  engine.advance();
  assert.equal(alerts.length + engine.drain().length, 1);
  assert.equal(engine.counters.windowsClosed, 1);
});

test('reloaded rules: a removed rule’s state goes, an unchanged one keeps its windows', () => {
  const engine = evaluator(HOT + `\n  - { name: silent, type: absence, summary: s, severity: warning, scope: device, after: 5m }`);
  feed(engine, temps(0, [31, 31, 31, 31]));
  engine.setRules(parseRules(`rules:${HOT}`), T0 + 90_000);
  const fired = feed(engine, temps(100, [31, 31, 31]));
  assert.deepEqual(fired.map((a) => a.rule), ['hot'], 'the hot rule kept its pending window');
  engine.tick(T0 + 10_000_000);
  assert.deepEqual(engine.drain(), [], 'silent is gone');
});

test('reloaded rules: an edit of the words only keeps a firing alert, its id, and its windows; later records carry the new words', () => {
  const engine = evaluator(HOT.replace('for: 2', 'for: 1') + FAULT);
  const fired = feed(engine, [...temps(0, [35, 35, 35]), reading(60, { faultStatus: true, roomTemperature: 35 })]);
  assert.deepEqual(fired.map((a) => `${a.rule}:${a.state}`), ['fault:firing']);
  engine.setRules(parseRules(`rules:${HOT.replace('for: 2', 'for: 1').replace('too hot', 'far too hot') + FAULT.replace('severity: critical', 'severity: warning')}`), T0 + 61_000);
  const after = feed(engine, [reading(80, { faultStatus: true, roomTemperature: 35 }), reading(100, { faultStatus: false, roomTemperature: 35 })]);
  assert.deepEqual(
    after.map((a) => [a.rule, a.state, a.id === fired[0]!.id, a.severity, a.summary]),
    [
      ['fault', 'resolved', true, 'warning', 'fault'],
      ['hot', 'firing', false, 'warning', 'far too hot'],
    ],
    'the window open across the reload was judged; the fault fired once and resolved under its id',
  );
  assert.equal(after[1]!.windowStart, at(0));
});

test('reloaded rules: a firing alert whose rule is removed, or changed in what it evaluates, is resolved as rule-changed; a pending one just goes', () => {
  const engine = evaluator(HOT.replace('for: 2', 'for: 1') + FAULT + `\n  - { name: silent, type: absence, summary: s, severity: warning, scope: device, after: 5m }`);
  const fired = feed(engine, [reading(0, { faultStatus: true }), ...temps(10, [35, 35, 35]), reading(75, { faultStatus: true })]);
  assert.deepEqual(fired.map((a) => `${a.rule}:${a.state}`), ['fault:firing', 'hot:firing']);
  engine.tick(T0 + 400_000);
  const silent = engine.drain();
  assert.deepEqual(silent.map((a) => a.rule), ['silent']);
  // hot's threshold changes; fault and silent are removed
  engine.setRules(parseRules(`rules:${HOT.replace('for: 2', 'for: 1').replace("threshold: 30 }", 'threshold: 33 }')}`), T0 + 500_000);
  const resolved = engine.drain();
  assert.deepEqual(
    resolved.map((a) => [a.rule, a.state, a.cause, a.endsAt, a.value]).sort(),
    [
      ['fault', 'resolved', 'rule-changed', at(500), null],
      ['hot', 'resolved', 'rule-changed', at(500), null],
      ['silent', 'resolved', 'rule-changed', at(500), null],
    ],
  );
  assert.deepEqual(new Set(resolved.map((a) => a.id)), new Set([...fired, ...silent].map((a) => a.id)), 'each resolved under the id it fired with');
  assert.equal(resolved.find((a) => a.rule === 'fault')!.severity, 'critical', 'a removed rule’s alert resolves with the words it fired with');
  assert.deepEqual(engine.active(), [], 'no state of the old rules is left');
  engine.tick(T0 + 10_000_000);
  assert.deepEqual(feed(engine, [reading(600, { faultStatus: false })]), [], 'nothing of the removed rules comes back');
});

test('reloaded rules: an absence alert resolved by a changed rule fires again, if still silent, as a new episode from the reload', () => {
  const silent = (after: string) => `\n  - { name: silent, type: absence, summary: s, severity: warning, scope: device, after: ${after} }`;
  const engine = evaluator(silent('5m'));
  feed(engine, [reading(0, {})]);
  engine.tick(T0 + 300_000);
  const fired = engine.drain();
  assert.deepEqual(fired.map((a) => [a.state, a.startsAt]), [['firing', at(0)]]);
  engine.setRules(parseRules(`rules:${silent('10m')}`), T0 + 400_000);
  assert.deepEqual(engine.drain().map((a) => [a.state, a.cause, a.id]), [['resolved', 'rule-changed', fired[0]!.id]]);
  engine.tick(T0 + 900_000);
  assert.deepEqual(engine.drain(), [], 'ten minutes of silence are counted from the reload');
  engine.tick(T0 + 1_000_000);
  const again = engine.drain();
  assert.deepEqual(again.map((a) => [a.state, a.startsAt]), [['firing', at(400)]]);
  assert.notEqual(again[0]!.id, fired[0]!.id, 'a new id: the old one is resolved for good');
  assert.deepEqual(feed(engine, [reading(1100, {})]).map((a) => [a.state, a.id]), [['resolved', again[0]!.id]]);
  assert.deepEqual(engine.allStates().find((s) => s.deviceId !== null)!.rules, {}, 'nothing is left once heard');
});

test('restored under a rule set changed while no instance ran: firing alerts of changed rules resolve, unchanged ones carry on', () => {
  const first = evaluator(HOT.replace('for: 2', 'for: 1') + FAULT);
  const ruleSet = JSON.parse(JSON.stringify(first.ruleSetChange())) as NonNullable<ReturnType<PartitionEvaluator['ruleSetChange']>>;
  assert.equal(first.ruleSetChange(), undefined, 'written once until it changes');
  const fired = feed(first, [reading(0, { faultStatus: true }), ...temps(10, [35, 35, 35]), reading(75, { faultStatus: true })]);
  assert.equal(fired.length, 2);
  const changelog = first.changes().flatMap(({ state }) => (state === null ? [] : [JSON.parse(JSON.stringify(state)) as SubjectState]));
  const second = evaluator(HOT.replace('for: 2', 'for: 1').replace("threshold: 30 }", 'threshold: 33 }') + FAULT.replace('summary: fault', 'summary: unit fault'), T0 + 100_000);
  for (const state of changelog) second.restore(state);
  second.restoreRuleSet(ruleSet, T0 + 100_000);
  assert.deepEqual(second.drain().map((a) => [a.rule, a.state, a.cause]), [['hot', 'resolved', 'rule-changed']]);
  assert.deepEqual(second.active().map((a) => a.rule), ['fault'], 'the fault rule changed only its words');
  assert.deepEqual(second.ruleSetChange() !== undefined, true, 'the new rule set goes to the changelog');
});

test('readings from a site the registry does not know still alert, named by their id, and are counted', () => {
  const engine = evaluator(HOT.replace('for: 2', 'for: 1'));
  const alerts = feed(engine, [reading(0, { roomTemperature: 40 }, { siteId: 'elsewhere' }), reading(80, {}, { siteId: 'elsewhere' })]);
  assert.equal(alerts[0]!.site.name, 'elsewhere');
  assert.equal(alerts[0]!.site.location, null);
  assert.equal(engine.counters.unknownSites, 1);
});

test('split by scope: device engines forward what site rules read; the site engine averages across them without dedupe', () => {
  const rules = `
  - { name: hot, type: window, summary: s, severity: info, scope: device, window: { size: 1m }, aggregate: avg, property: roomTemperature, condition: { op: '>', threshold: 50 } }
  - { name: site-hot, type: window, summary: s, severity: info, scope: site, where: { operationStatus: true }, window: { size: 1m }, aggregate: avg, property: roomTemperature, condition: { op: '>', threshold: 30 } }
  - { name: site-silent, type: absence, summary: s, severity: critical, scope: site, after: 5m }`;
  const parsed = parseRules(`rules:${rules}`);
  const partitionA = new PartitionEvaluator(parsed, sites, LATENESS_MS, T0, 'devices');
  const partitionB = new PartitionEvaluator(parsed, sites, LATENESS_MS, T0, 'devices');
  const siteEngine = new PartitionEvaluator(parsed, sites, LATENESS_MS, T0, 'sites');
  const a = reading(0, { roomTemperature: 28, operationStatus: true, humidity: 40 }, { deviceId: 'a' });
  const b = reading(10, { roomTemperature: 36, operationStatus: true }, { deviceId: 'b' });
  partitionA.process(a, T0 + 1000);
  partitionA.process(a, T0 + 2000); // a duplicate is not forwarded
  partitionB.process(b, T0 + 11_000);
  const forwarded = [...partitionA.drainForwarded(), ...partitionB.drainForwarded()];
  assert.deepEqual(forwarded[0], { siteId: 's1', seq: a.seq, deviceId: 'a', eoj: '013001', ts: at(0), kind: 'poll', properties: { roomTemperature: 28, operationStatus: true }, receivedAt: T0 + 1000 });
  assert.equal(forwarded.length, 2);
  // The site stream interleaves partitions: b (seq higher) may come before a; both count.
  for (const input of [forwarded[1]!, forwarded[0], reading(80, { roomTemperature: 20, operationStatus: true }, { deviceId: 'a' })]) siteEngine.process(input, input.receivedAt ?? T0 + 80_000);
  siteEngine.advance();
  assert.deepEqual(siteEngine.drain().map((x) => [x.rule, x.value, x.deviceId]), [['site-hot', 32, null]]);
  assert.equal(siteEngine.counters.duplicates, 0);
  partitionA.tick(T0 + 3_600_000);
  assert.deepEqual(partitionA.drain(), [], 'a device engine runs no site rule');
  siteEngine.tick(T0 + 80_000 + 300_000);
  assert.deepEqual(siteEngine.drain().map((x) => x.rule), ['site-silent']);
  assert.equal(siteEngine.subjectCount, 1, 'the site engine keeps no device state');
});
