/** The poller against scripted devices (no sockets): batch sizes learned, values kept, failures spaced out. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchSizeLearner } from '../../../../edge/echonet/batch-size.js';
import { type Eoj, CONTROLLER_EOJ, makeEoj } from '../../../../edge/echonet/eoj.js';
import { ESV } from '../../../../edge/echonet/esv.js';
import { type Property } from '../../../../edge/echonet/frame.js';
import { AIRCON_POLL_EPCS, type GetChannel, type PollResult, MAX_POLL_BACKOFF_FACTOR, Poller, pollDelay, pollPlanFor } from '../../../../edge/echonet/poller.js';
import { EchonetRequestError, type ReceivedFrame } from '../../../../edge/echonet/transport.js';
import { silentLogger } from '../../../../shared/log.js';

const AIRCON = makeEoj(0x01, 0x30, 0x01);
const BINDING = { address: '10.0.0.5', key: { kind: 'address', address: '10.0.0.5' }, generation: 0 } as const;
const SENSOR = makeEoj(0x00, 0x11, 0x01);

describe('batch size learning', () => {
  test('starts at the maximum and keeps it while the device takes everything', () => {
    const learner = new BatchSizeLearner(10);
    learner.answered(10);
    assert.equal(learner.size, 10);
  });

  test('a truncated answer states the limit', () => {
    const learner = new BatchSizeLearner(10);
    learner.truncated(4);
    assert.equal(learner.size, 4);
  });

  test('wholesale refusals are bisected to the real limit, not halved past it', () => {
    const learner = new BatchSizeLearner(10);
    learner.refused(10);
    assert.equal(learner.size, 5);
    learner.refused(5);
    assert.equal(learner.size, 2);
    learner.answered(2);
    assert.equal(learner.size, 3);
    learner.answered(3);
    assert.equal(learner.size, 4);
    learner.refused(4);
    assert.equal(learner.size, 3, 'settled: 3 answered, 4 refused');
  });

  test('a learned limit is re-checked after enough cycles', () => {
    const learner = new BatchSizeLearner(10, 3);
    learner.refused(10);
    learner.answered(5);
    learner.cycleEnded();
    learner.cycleEnded();
    assert.ok(learner.size < 10);
    learner.cycleEnded();
    assert.equal(learner.size, 10);
  });
});

describe('poll plans and backoff', () => {
  test('air conditioners: the named properties their Get map has, most important first, then its vendor EPCs', () => {
    assert.deepEqual(pollPlanFor(AIRCON, [0x80, 0x83, 0x9f, 0xb3, 0xbb]), [0x80, 0xb3, 0xbb]);
    assert.deepEqual(pollPlanFor(AIRCON, [0x80, 0x88, 0x8f, 0x9f, 0xb0, 0xb3, 0xbb, 0xf0, 0xf3, 0xff]), [0x80, 0xb3, 0xbb, 0xb0, 0x88, 0xf0, 0xf3, 0xff]);
    assert.deepEqual(pollPlanFor(AIRCON, null), [...AIRCON_POLL_EPCS], 'without a map: the named ones; vendor EPCs cannot be guessed');
  });

  test('other classes: their Get map without identity and maps, or the required status EPCs', () => {
    assert.deepEqual(pollPlanFor(SENSOR, [0x80, 0x81, 0x82, 0x83, 0x88, 0x8a, 0x9d, 0x9e, 0x9f, 0xe0, 0xf1]), [0x80, 0x81, 0x88, 0xe0, 0xf1]);
    assert.deepEqual(pollPlanFor(SENSOR, null), [0x80, 0x88]);
  });

  test('failed cycles space the next ones out, up to a cap', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 50].map((failures) => pollDelay(1_000, failures)), [1_000, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    assert.equal(pollDelay(1_000, 99), 1_000 * MAX_POLL_BACKOFF_FACTOR);
  });
});

type Behaviour = { readonly limit: number; readonly overLimit: 'sna' | 'truncate' } | undefined;

/** A device answering Gets like the simulator's quirks do, counting the frames it was sent. */
class ScriptedDevice implements GetChannel {
  readonly requests: number[][] = [];
  constructor(
    private readonly supported: ReadonlySet<number>,
    private readonly behaviour: Behaviour = undefined,
  ) {}

  get(deoj: Eoj, epcs: readonly number[]): Promise<ReceivedFrame> {
    this.requests.push([...epcs]);
    const tooMany = this.behaviour !== undefined && epcs.length > this.behaviour.limit;
    if (tooMany && this.behaviour?.overLimit === 'sna') return Promise.resolve(this.answer(deoj, epcs.map((epc) => ({ epc, edt: new Uint8Array() }))));
    const answered = tooMany ? epcs.slice(0, this.behaviour?.limit) : epcs;
    return Promise.resolve(this.answer(deoj, answered.map((epc) => ({ epc, edt: this.supported.has(epc) ? Uint8Array.of(epc) : new Uint8Array() }))));
  }

  private answer(deoj: Eoj, properties: Property[]): ReceivedFrame {
    const esv = properties.every((p) => p.edt.length > 0) ? ESV.GetRes : ESV.GetSna;
    return { frame: { tid: 1, seoj: deoj, deoj: CONTROLLER_EOJ, esv, properties }, address: '10.0.0.5', port: 3610, receivedAt: new Date(), via: 'unicast' };
  }
}

interface Run {
  readonly results: PollResult[];
  readonly failures: number;
  readonly successes: number;
}

/** Polls one aircon through `channel` for `cycles` cycles (a cycle every `intervalMs`) and stops. */
async function poll(channel: GetChannel, cycles: number, intervalMs = 15): Promise<Run> {
  const run = { results: [] as PollResult[], failures: 0, successes: 0 };
  const poller = new Poller(
    {
      bindingOf: () => BINDING,
      isBound: () => true,
      channelFor: () => channel,
      onValues: (result) => run.results.push(result),
      onSuccess: () => (run.successes += 1),
      onFailure: () => (run.failures += 1),
    },
    { maxBatchSize: 10 },
    silentLogger(),
  );
  poller.add({ deviceId: 'aircon', eoj: AIRCON, epcs: AIRCON_POLL_EPCS, intervalMs });
  const deadline = Date.now() + 5_000;
  while (run.successes + run.failures < cycles && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  await poller.stop();
  return run;
}

const ALL = new Set(AIRCON_POLL_EPCS);

/** Batch sizes of the requests after the first (learning) cycle, which all cycles then repeat. */
function laterCycles(device: ScriptedDevice, firstCycleRequests: number, cycle: readonly number[]): void {
  const later = device.requests.slice(firstCycleRequests).map((r) => r.length);
  assert.ok(later.length >= cycle.length, `${later.length} later requests`);
  assert.deepEqual(later, Array.from({ length: later.length / cycle.length }, () => cycle).flat());
}
const epcsOf = (result: PollResult | undefined): number[] => (result?.properties.map((p) => p.epc) ?? []).sort((a, b) => a - b);

describe('poller', () => {
  test('a device that takes ten EPCs is polled with one Get per cycle', async () => {
    const device = new ScriptedDevice(ALL);
    const run = await poll(device, 3);
    assert.equal(device.requests.length, run.successes);
    assert.deepEqual(epcsOf(run.results[0]), [...ALL].sort((a, b) => a - b));
  });

  test('a device that refuses big Gets wholesale settles on its limit and delivers everything every cycle', async () => {
    const device = new ScriptedDevice(ALL, { limit: 3, overLimit: 'sna' });
    const run = await poll(device, 4);
    // 10 and 5 refused (each split in halves), 2 and 3 answered, 4 refused, 2 and 3 answered: the limit is 3.
    assert.deepEqual(device.requests.slice(0, 7).map((r) => r.length), [10, 5, 2, 3, 4, 2, 3]);
    laterCycles(device, 7, [3, 3, 3, 1]);
    for (const result of run.results) assert.equal(result.properties.length, 10);
  });

  test('a device that truncates is asked for the rest, and takes its limit from then on', async () => {
    const device = new ScriptedDevice(ALL, { limit: 4, overLimit: 'truncate' });
    const run = await poll(device, 3);
    assert.deepEqual(device.requests.slice(0, 3).map((r) => r.length), [10, 4, 2], 'the truncated answer carried 4 values');
    laterCycles(device, 3, [4, 4, 2]);
    for (const result of run.results) assert.equal(result.properties.length, 10);
  });

  test('values a Get_SNA carries are kept; only the refused EPC is missing', async () => {
    const device = new ScriptedDevice(new Set(AIRCON_POLL_EPCS.filter((epc) => epc !== 0xbe)));
    const run = await poll(device, 2);
    assert.equal(device.requests.length, run.successes, 'one Get per cycle: a single refused EPC is not a batch-size problem');
    assert.deepEqual(epcsOf(run.results[0]), [...ALL].filter((epc) => epc !== 0xbe).sort((a, b) => a - b));
  });

  test('a device that never answers is polled on, ever more rarely', async () => {
    const mute: GetChannel = { get: () => Promise.reject(new EchonetRequestError('TIMEOUT', 'no answer')) };
    const run = { failures: 0 };
    const poller = new Poller(
      {
        bindingOf: () => BINDING,
        isBound: () => true,
        channelFor: () => mute, onValues: () => undefined, onSuccess: () => undefined, onFailure: () => (run.failures += 1) },
      { maxBatchSize: 10 },
      silentLogger(),
    );
    poller.add({ deviceId: 'mute', eoj: AIRCON, epcs: AIRCON_POLL_EPCS, intervalMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 700));
    await poller.stop();
    // Without backoff ~35 cycles; with it at 0, 20, 40, 80, 160, 320, 480, 640 ms.
    assert.ok(run.failures >= 5 && run.failures <= 12, `${run.failures} cycles`);
  });
});

describe('identity checks', () => {
  test("a check of the node's id made for a device counts in its request counters, answered or timed out", async () => {
    const hooks = { bindingOf: () => undefined, isBound: () => false, channelFor: () => new ScriptedDevice(ALL), onValues: () => undefined, onSuccess: () => undefined, onFailure: () => undefined };
    const poller = new Poller(hooks, { maxBatchSize: 10 }, silentLogger());
    poller.add({ deviceId: 'aircon', eoj: AIRCON, epcs: AIRCON_POLL_EPCS, intervalMs: 60_000 });
    const before = poller.views()[0]?.stats;
    poller.countIdentityCheck('aircon', 2, false);
    poller.countIdentityCheck('aircon', 0, true);
    poller.countIdentityCheck('unknown', 1, false);
    const after = poller.views()[0]?.stats;
    await poller.stop();
    assert.ok(before && after);
    assert.deepEqual(
      { requests: after.requests - before.requests, retries: after.retries - before.retries, timeouts: after.timeouts - before.timeouts, answers: after.answers - before.answers },
      { requests: 2, retries: 2, timeouts: 1, answers: 1 },
    );
  });
});
