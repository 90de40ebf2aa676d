/**
 * The edge process across a restart: the devices it knew are kept in its database, listed at once
 * when it starts again (offline until they answer) and polled as soon as they do, even a device
 * that misses the searches of the new run.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { Database } from '../../../edge/buffer/sqlite.js';
import { freePorts } from '../../services/processes.js';
import { Deployable } from '../../support/deployable.js';
import { INTERFACE, onFreePort, openSimulator, stopAfterTest, stopOpened } from '../../support/echonet-rig.js';
import { sleep } from '../../support/wait.js';

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

afterEach(stopOpened);

interface DeviceView {
  id: string;
  availability: string;
}

/** The outbox's readings and events, as the uplink would send them, straight from the edge's database. */
function unsentOf(path: string): Array<Record<string, unknown>> {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare<[], { payload: string }>('SELECT payload FROM readings ORDER BY seq').all().map((row) => JSON.parse(row.payload) as Record<string, unknown>);
  } finally {
    db.close();
  }
}

async function devicesOf(api: string): Promise<DeviceView[]> {
  const response = await fetch(`${api}/elapi/v1/devices`);
  assert.equal(response.status, 200);
  const body = (await response.json()) as { devices: DeviceView[] };
  return body.devices;
}

test('known devices are listed at once after a restart and polled as soon as they answer', { timeout: 120_000 }, async () => {
  await onFreePort(async (port) => {
    const sim = await openSimulator(port, { nodes: 2 });
    const [deadMqtt] = (await freePorts(1)) as [number];
    const env = {
      ECHOLAKE_EDGE_SITE_ID: `restart-${randomUUID().slice(0, 8)}`,
      ECHOLAKE_EDGE_STATE_DIR: mkdtempSync(join(tmpdir(), 'echolake-restart-')),
      ECHOLAKE_EDGE_ECHONET__INTERFACE: INTERFACE,
      ECHOLAKE_EDGE_ECHONET__PORT: String(port),
      ECHOLAKE_EDGE_ECHONET__POLL_INTERVAL_MS: '1000',
      ECHOLAKE_EDGE_API__PORT: '0',
      ECHOLAKE_EDGE_UPLINK__URL: `mqtt://127.0.0.1:${deadMqtt}`,
      ECHOLAKE_EDGE_ECHONET__SEND_DEVICE_EVENTS: 'true',
    };
    const start = async (): Promise<{ edge: Deployable; api: string }> => {
      const edge = new Deployable('edge', 'edge/main.ts', [], env);
      stopAfterTest(async () => void (await edge.stop('SIGKILL')));
      const api = String((await edge.waitFor((e) => e.msg === 'local API listening', 30_000, 'the local API')).url);
      return { edge, api };
    };
    const first = await start();
    await until('both devices online', async () => (await devicesOf(first.api)).filter((d) => d.availability === 'online').length === 2, 20_000);
    assert.equal(await first.edge.stop('SIGTERM'), 0);
    const outbox = unsentOf(join(env.ECHOLAKE_EDGE_STATE_DIR, 'edge.db'));
    const found = outbox.filter((r) => r.kind === 'event' && (r.event as { type: string }).type === 'found');
    assert.deepEqual(found.map((r) => r.deviceId).sort(), sim.devices().map((d) => d.deviceId).sort(), 'a found event per device, in the outbox');
    const epochs = new Set(outbox.map((r) => r.epoch));
    assert.equal(epochs.size, 1);
    assert.match(String([...epochs][0]), /^[0-9a-f]{16}$/, 'every reading carries the database epoch');
    const seqs = outbox.map((r) => Number(r.seq));
    assert.deepEqual(seqs, seqs.map((_, i) => (seqs[0] ?? 0) + i), 'events and readings in one unbroken seq run');

    const [, late] = sim.nodes;
    assert.ok(late);
    late.setSilent(true); // misses every search of the next run while it lasts
    const second = await start();
    const listed = await devicesOf(second.api);
    assert.deepEqual(listed.map((d) => d.id).sort(), sim.devices().map((d) => d.deviceId).sort(), 'listed at once, before any search or answer');
    assert.equal(listed.find((d) => d.id === late.deviceId)?.availability, 'offline', 'offline until it answers');
    await second.edge.waitFor((e) => e.msg === 'echonet device answers again', 10_000, 'the answering device online');
    late.setSilent(false);
    await second.edge.waitFor((e) => e.msg === 'echonet device answers again' && e.deviceId === late.deviceId, 15_000, 'the late device polled once it answers');
    assert.ok(!second.edge.events.some((e) => e.msg === 'echonet device discovered'), 'nothing described as new: both were known');
    const metrics = await (await fetch(`${second.api}/metrics`)).text();
    const sample = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
    assert.ok(sample('echolake_edge_echonet_searches_total') >= 1, 'searches counted');
    assert.ok(sample(`echolake_edge_echonet_device_answers_total{device_id="${late.deviceId}"}`) >= 1, 'the late device\'s answers counted');
    const silence = ['timeouts', 'retries'].map((name) => sample(`echolake_edge_echonet_device_${name}_total{device_id="${late.deviceId}"}`));
    assert.ok((silence[0] ?? 0) + (silence[1] ?? 0) >= 1, `and its silence: ${silence.join(', ')}`);
    assert.equal(sample(`echolake_edge_echonet_device_availability{device_id="${late.deviceId}"}`), 2);
  });
});
