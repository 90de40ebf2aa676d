/** One poll cycle against scripted devices (no sockets): silence, refusals and a lost binding, each learned from right. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchSizeLearner } from '../../../../edge/echonet/batch-size.js';
import { type Eoj, CONTROLLER_EOJ, makeEoj } from '../../../../edge/echonet/eoj.js';
import { ESV } from '../../../../edge/echonet/esv.js';
import type { Property } from '../../../../edge/echonet/frame.js';
import { type CycleDevice, type GetChannel, PollCycle, freshPollStats } from '../../../../edge/echonet/poll-cycle.js';
import { AIRCON_POLL_EPCS } from '../../../../edge/echonet/poller.js';
import { EchonetRequestError, type ReceivedFrame } from '../../../../edge/echonet/transport.js';
import { UnsupportedEpcs } from '../../../../edge/echonet/unsupported-epcs.js';

const AIRCON = makeEoj(0x01, 0x30, 0x01);
const VENDOR = [0xf0, 0xf1, 0xf2, 0xf3];

interface Script {
  /** EPCs it has values for. */
  readonly has: ReadonlySet<number>;
  /** Gets of more EPCs than this get no answer at all. */
  readonly ignoresOver?: number;
  /** Refuses a Get wholesale (Get_SNA, nothing filled) when none of its EPCs is one it has. */
  readonly mute?: boolean;
}

class ScriptedDevice implements GetChannel {
  readonly requests: number[][] = [];
  constructor(private readonly script: Script) {}

  get(deoj: Eoj, epcs: readonly number[]): Promise<ReceivedFrame> {
    this.requests.push([...epcs]);
    if (this.script.mute || epcs.length > (this.script.ignoresOver ?? Number.POSITIVE_INFINITY)) {
      return Promise.reject(new EchonetRequestError('TIMEOUT', 'no answer'));
    }
    const properties: Property[] = epcs.map((epc) => ({ epc, edt: this.script.has.has(epc) ? Uint8Array.of(epc) : new Uint8Array() }));
    const esv = properties.every((p) => p.edt.length > 0) ? ESV.GetRes : ESV.GetSna;
    return Promise.resolve({ frame: { tid: 1, seoj: deoj, deoj: CONTROLLER_EOJ, esv, properties }, address: '10.0.0.5', port: 3610, receivedAt: new Date(), via: 'unicast' });
  }
}

function device(): CycleDevice {
  return { eoj: AIRCON, batchSize: new BatchSizeLearner(10), unsupported: new UnsupportedEpcs(), stats: freshPollStats() };
}

const run = (channel: GetChannel, state: CycleDevice, epcs: readonly number[], isBound = (): boolean => true) =>
  new PollCycle(channel, state, epcs, isBound, () => false).run();

const sizes = (d: ScriptedDevice, from = 0): number[] => d.requests.slice(from).map((r) => r.length);

describe('poll cycle', () => {
  test('a unit that drops Gets over 3 EPCs without a word is read in the first cycle, and its size is remembered', async () => {
    const unit = new ScriptedDevice({ has: new Set(AIRCON_POLL_EPCS), ignoresOver: 3 });
    const state = device();
    const first = await run(unit, state, AIRCON_POLL_EPCS);
    assert.equal(first.answered, true);
    assert.equal(first.properties.length, 10, 'every value, in the first cycle');
    // 10 silent, a one-EPC probe answered, then bisected: 5 silent, 3 answered, 4 silent, 3 answered.
    assert.deepEqual(sizes(unit), [10, 1, 5, 3, 4, 3, 3]);
    assert.equal(state.batchSize.size, 3);
    const before = unit.requests.length;
    const second = await run(unit, state, AIRCON_POLL_EPCS);
    assert.equal(second.properties.length, 10);
    assert.deepEqual(sizes(unit, before), [3, 3, 3, 1], 'no silence in later cycles');
    assert.equal(state.stats.timeouts, 3);
  });

  test('a unit that answers nothing fails the cycle after a one-EPC probe, and learns no size from it', async () => {
    const mute = new ScriptedDevice({ has: new Set(AIRCON_POLL_EPCS), mute: true });
    const state = device();
    const result = await run(mute, state, AIRCON_POLL_EPCS);
    assert.equal(result.answered, false);
    assert.ok(result.error instanceof EchonetRequestError);
    assert.deepEqual(sizes(mute), [10, 1]);
    assert.equal(state.batchSize.size, 10, 'silence from a mute unit says nothing about its batch size');
  });

  test('silence at a size the unit answered before fails the cycle at once, unless the unit is already failing', async () => {
    const mute = new ScriptedDevice({ has: new Set(AIRCON_POLL_EPCS), mute: true });
    const state = device();
    state.batchSize.answered(10);
    assert.equal((await run(mute, state, AIRCON_POLL_EPCS)).answered, false);
    assert.deepEqual(sizes(mute), [10], 'a mute unit costs one timeout per cycle, as ever');
    const failing = await new PollCycle(mute, state, AIRCON_POLL_EPCS, () => true, () => false, true).run();
    assert.equal(failing.answered, false);
    assert.deepEqual(sizes(mute), [10, 10, 1], 'a failing unit is probed: it may have started dropping big Gets');
  });

  test('EPCs the device lacks, refused wholesale, are left out; the batch size stays', async () => {
    const unit = new ScriptedDevice({ has: new Set(AIRCON_POLL_EPCS) });
    const state = device();
    state.batchSize.answered(10);
    const epcs = [...AIRCON_POLL_EPCS, ...VENDOR];
    const first = await run(unit, state, epcs);
    assert.equal(first.properties.length, 10);
    assert.equal(state.batchSize.size, 10, 'the refusal was about the EPCs, not the size');
    assert.deepEqual(state.unsupported.list(), VENDOR);
    const before = unit.requests.length;
    await run(unit, state, epcs);
    assert.deepEqual(sizes(unit, before), [10], 'one Get per cycle from then on');
  });

  test('a refused batch that holds EPCs the device has was refused for its size', async () => {
    // Refuses any Get of more than 4 EPCs wholesale, has everything: the halves come back with values.
    const unit: GetChannel & { requests: number[][] } = {
      requests: [],
      get(deoj, epcs) {
        this.requests.push([...epcs]);
        const refuse = epcs.length > 4;
        const properties = epcs.map((epc) => ({ epc, edt: refuse ? new Uint8Array() : Uint8Array.of(epc) }));
        return Promise.resolve({ frame: { tid: 1, seoj: deoj, deoj: CONTROLLER_EOJ, esv: refuse ? ESV.GetSna : ESV.GetRes, properties }, address: 'x', port: 3610, receivedAt: new Date(), via: 'unicast' });
      },
    };
    const state = device();
    const result = await run(unit, state, AIRCON_POLL_EPCS);
    assert.equal(result.properties.length, 10);
    assert.ok(state.batchSize.size <= 4 && state.batchSize.size >= 3, `learned ${state.batchSize.size}`);
    assert.deepEqual(state.unsupported.list(), []);
  });

  test('EPCs left out are asked again after the re-check period, and kept once answered', async () => {
    const state: CycleDevice = { ...device(), unsupported: new UnsupportedEpcs(2) };
    state.unsupported.refused(0xf0);
    const unit = new ScriptedDevice({ has: new Set([0x80, 0xf0]) });
    await run(unit, state, [0x80, 0xf0]);
    assert.deepEqual(unit.requests.at(-1), [0x80]);
    state.unsupported.cycleEnded();
    state.unsupported.cycleEnded();
    await run(unit, state, [0x80, 0xf0]);
    assert.deepEqual(unit.requests.at(-1), [0x80, 0xf0]);
    assert.deepEqual(state.unsupported.list(), []);
  });

  test('an answer that arrives after the address went to another node is dropped, counted, and ends the cycle', async () => {
    let bound = true;
    const unit: GetChannel = {
      get: (deoj, epcs) => {
        bound = false; // the device moved while its Get was in flight
        return new ScriptedDevice({ has: new Set(AIRCON_POLL_EPCS) }).get(deoj, epcs);
      },
    };
    const state = device();
    const result = await run(unit, state, AIRCON_POLL_EPCS, () => bound);
    assert.deepEqual(result.properties, []);
    assert.equal(result.answered, false);
    assert.equal(result.lostBinding, true);
    assert.equal(state.stats.foreignAnswersDropped, 1);
  });
});
