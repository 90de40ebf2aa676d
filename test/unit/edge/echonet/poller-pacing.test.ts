/** Pacing without sockets: start times spread out, frames to one node kept apart, first polls staggered. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Eoj, CONTROLLER_EOJ, makeEoj } from '../../../../edge/echonet/eoj.js';
import { ESV } from '../../../../edge/echonet/esv.js';
import { DEFAULT_RETRY_POLICY, NodeChannel, type RequestTransport } from '../../../../edge/echonet/node-channel.js';
import { AIRCON_POLL_EPCS, FIRST_POLL_STEP_MS, type GetChannel, Poller } from '../../../../edge/echonet/poller.js';
import { Stagger } from '../../../../edge/echonet/stagger.js';
import { EchonetRequestError, type ReceivedFrame } from '../../../../edge/echonet/transport.js';
import { silentLogger } from '../../../../shared/log.js';

const AIRCON = makeEoj(0x01, 0x30, 0x01);
const logger = silentLogger();

/** A node answering every Get at once with operation status on. */
function answer(deoj: Eoj): ReceivedFrame {
  const frame = { tid: 1, seoj: deoj, deoj: CONTROLLER_EOJ, esv: ESV.GetRes, properties: [{ epc: 0x80, edt: Uint8Array.of(0x30) }] } as const;
  return { frame, address: '10.0.0.5', port: 3610, receivedAt: new Date(), via: 'unicast' };
}

/** When each request went out. */
class RecordingTransport implements RequestTransport {
  readonly sentAt: number[] = [];
  request: RequestTransport['request'] = (_address, outgoing) => {
    this.sentAt.push(Date.now());
    return Promise.resolve(answer(outgoing.deoj));
  };
}

const gaps = (times: readonly number[]): number[] => times.slice(1).map((t, i) => t - (times[i] as number));

describe('stagger', () => {
  test('start times asked for together are a step apart; one asked for alone starts at once', () => {
    let now = 1_000;
    const stagger = new Stagger(20, 1_000, () => now);
    assert.deepEqual([stagger.next(), stagger.next(), stagger.next()], [1_000, 1_020, 1_040]);
    now = 1_030;
    assert.equal(stagger.next(), 1_060, 'still behind the burst');
    now = 5_000;
    assert.equal(stagger.next(), 5_000);
  });

  test('a burst bigger than the window starts over from the present: a flood cannot push starts far off', () => {
    const stagger = new Stagger(20, 100, () => 0);
    assert.deepEqual(
      Array.from({ length: 8 }, () => stagger.next()),
      [0, 20, 40, 60, 80, 100, 0, 20],
    );
  });
});

describe('node channel pacing', () => {
  test('frames to one node go out at least the gap apart, even when asked for all at once', async (t) => {
    // On mocked timers: the gap is the channel's arithmetic, not the event loop's punctuality.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const transport = new RecordingTransport();
    const channel = new NodeChannel('10.0.0.5', transport, DEFAULT_RETRY_POLICY, { minGapMs: 30, notBefore: 0 }, logger);
    const all = Promise.all(Array.from({ length: 5 }, () => channel.get(AIRCON, [0x80])));
    for (let elapsed = 0; elapsed < 200 && transport.sentAt.length < 5; elapsed += 1) {
      t.mock.timers.tick(1);
      for (let turn = 0; turn < 5; turn += 1) await Promise.resolve();
    }
    await all;
    assert.equal(transport.sentAt.length, 5);
    for (const gap of gaps(transport.sentAt)) assert.ok(gap >= 30, `gaps ${gaps(transport.sentAt).join(', ')} ms`);
  });

  test('no frame before the channel may start, and closing cuts the wait short without sending', async () => {
    const transport = new RecordingTransport();
    const startAt = Date.now() + 80;
    const channel = new NodeChannel('10.0.0.5', transport, DEFAULT_RETRY_POLICY, { minGapMs: 0, notBefore: startAt }, logger);
    await channel.get(AIRCON, [0x80]);
    assert.ok((transport.sentAt[0] ?? 0) >= startAt - 1, 'waited for its start');

    const later = new NodeChannel('10.0.0.6', transport, DEFAULT_RETRY_POLICY, { minGapMs: 0, notBefore: Date.now() + 10_000 }, logger);
    const waiting = later.get(AIRCON, [0x80]);
    const closedAt = Date.now();
    later.close();
    await assert.rejects(waiting, (error: unknown) => error instanceof EchonetRequestError && error.code === 'CLOSED');
    assert.ok(Date.now() - closedAt < 1_000);
    assert.equal(transport.sentAt.length, 1, 'nothing sent after the close');
  });
});

describe('poll phases', () => {
  // On mocked timers: the phases are the poller's arithmetic, not the machine's load.
  test('devices added together are first polled a step apart, and keep those phases', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const firstGets = new Map<string, number[]>();
    const poller = new Poller(
      {
        bindingOf: (deviceId) => ({ address: deviceId, key: { kind: 'address', address: deviceId }, generation: 0 }),
        isBound: () => true,
        channelFor: (address): GetChannel => ({
          get: (deoj) => {
            firstGets.set(address, [...(firstGets.get(address) ?? []), Date.now()]);
            return Promise.resolve(answer(deoj));
          },
        }),
        onValues: () => undefined,
        onSuccess: () => undefined,
        onFailure: () => undefined,
      },
      { maxBatchSize: 10 },
      logger,
    );
    const devices = Array.from({ length: 8 }, (_, i) => `10.0.0.${i + 10}`);
    const intervalMs = 400;
    for (const deviceId of devices) poller.add({ deviceId, eoj: AIRCON, epcs: AIRCON_POLL_EPCS, intervalMs });
    for (let elapsed = 0; elapsed < intervalMs + devices.length * FIRST_POLL_STEP_MS + 100; elapsed += 1) {
      t.mock.timers.tick(1);
      // Let the answered Gets settle before the next millisecond.
      for (let turn = 0; turn < 5; turn += 1) await Promise.resolve();
    }
    await poller.stop();
    const cycle = (n: number): number[] => devices.map((d) => firstGets.get(d)?.[n] ?? Number.NaN);
    for (const n of [0, 1]) {
      const times = cycle(n);
      assert.ok(times.every(Number.isFinite), `cycle ${n + 1} polled every device`);
      assert.ok(gaps(times).every((gap) => gap >= FIRST_POLL_STEP_MS - 1), `cycle ${n + 1}: gaps ${gaps(times).join(', ')} ms`);
    }
  });
});
