import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import unix from 'unix-dgram';
import { ReadingStore } from '../../edge/buffer/reading-store.js';
import { silentLogger } from '../../shared/log.js';
import { AckingCloud } from '../support/acking-cloud.js';
import { Deployable, type LogEvent } from '../support/deployable.js';
import { unitNodeFlags } from '../support/edge-node-flags.js';
import { requiredEnv } from '../support/env.js';
import { freePorts } from '../services/processes.js';
import { aircon } from '../support/observations.js';
import { sleep, waitFor } from '../support/wait.js';

// The edge as systemd runs it: READY=1 and watchdog pings over a real AF_UNIX datagram socket,
// a clean stop on SIGTERM, --check-config for the technician, and the unit's heap limits.
const work = mkdtempSync(join(tmpdir(), 'echolake-service-'));
const running: Deployable[] = [];
after(async () => {
  for (const process of running) await process.stop('SIGKILL');
});

function edgeEnv(extra: Record<string, string>): Record<string, string> {
  return {
    ECHOLAKE_EDGE_SITE_ID: `svc-${randomUUID().slice(0, 8)}`,
    ECHOLAKE_EDGE_STATE_DIR: mkdtempSync(join(work, 'state-')),
    ECHOLAKE_EDGE_ECHONET__INTERFACE: '127.0.0.1',
    ECHOLAKE_EDGE_API__PORT: '0',
    ECHOLAKE_EDGE_ECHONET__PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
    ECHOLAKE_EDGE_UPLINK__URL: requiredEnv('ECHOLAKE_TEST_MQTT_URL'),
    ...extra,
  };
}

test('tells systemd it is ready, pings the watchdog, and says when it stops', async () => {
  const socketPath = join(work, 'notify.sock');
  const messages: string[] = [];
  const socket = unix.createSocket('unix_dgram', (message) => messages.push(message.toString()));
  socket.bind(socketPath);
  try {
    const edge = new Deployable('edge', 'edge/main.ts', [], edgeEnv({ NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '400000' }));
    running.push(edge);
    await edge.waitFor((e) => e.msg === 'systemd watchdog pings started', 30_000, 'the watchdog');
    await waitFor('three watchdog pings', () => messages.filter((m) => m === 'WATCHDOG=1').length >= 3, 10_000);
    assert.match(messages[0] ?? '', /^READY=1\nSTATUS=site svc-/, 'READY=1 comes first');
    assert.equal(await edge.stop('SIGTERM'), 0, 'SIGTERM ends the edge cleanly');
    assert.ok(messages.includes('STOPPING=1'));
  } finally {
    socket.close();
  }
});

test('stops on SIGTERM even when nobody reads its logs any more (journald restarted)', async () => {
  // No broker there: the uplink keeps logging its reconnects while the logs have no reader.
  const [deadPort] = (await freePorts(1)) as [number];
  const edge = new Deployable('edge', 'edge/main.ts', [], edgeEnv({ LOG_LEVEL: 'debug', ECHOLAKE_EDGE_UPLINK__URL: `mqtt://127.0.0.1:${deadPort}`, ECHOLAKE_EDGE_UPLINK__RECONNECT_MIN_MS: '100' }));
  running.push(edge);
  await edge.waitFor((e) => e.msg === 'local API listening', 30_000, 'the local API');
  await sleep(1_000);
  edge.stopReadingLogs();
  const started = Date.now();
  const code = await edge.stop('SIGTERM', 20_000);
  assert.ok(Date.now() - started < 15_000, `stopped in ${Date.now() - started} ms, not by the SIGKILL after 20 s`);
  assert.equal(code, 0);
});

test('--check-config accepts a good file and names the field and the fix in a bad one', async () => {
  const good = join(work, 'good.yaml');
  writeFileSync(good, 'siteId: plant-7\nechonet:\n  interface: 127.0.0.1\nuplink:\n  url: mqtts://cloud.example:8883\n');
  const ok = new Deployable('check', 'edge/main.ts', ['--check-config', good], {});
  assert.equal(await ok.exited, 0, ok.tail());

  const bad = join(work, 'bad.yaml');
  writeFileSync(bad, 'siteId: plant 7\nechonet:\n  interface: eth0\n  pollIntervalMs: 10\nuplink:\n  url: http://cloud\n');
  const refused = new Deployable('check', 'edge/main.ts', ['--check-config', bad], {});
  assert.equal(await refused.exited, 2);
  const text = refused.stderr.join('');
  assert.match(text, /siteId: must match pattern/);
  assert.match(text, /echonet\.interface: must match pattern .*IPv4 address on the aircons' LAN/);
  assert.match(text, /echonet\.pollIntervalMs: must be >= 100/);
  assert.match(text, /uplink\.url: must match pattern/);

  const overridden = new Deployable('check', 'edge/main.ts', ['--check-config', good, '--set', 'uplink.batchMaxReadings=0', '--sett', 'x'], {});
  assert.equal(await overridden.exited, 2, 'a misspelt flag stops the program rather than being ignored');
  assert.match(overridden.stderr.join(''), /command line: Unknown option '--sett'/);
  const badValue = new Deployable('check', 'edge/main.ts', ['--check-config', good, '--set', 'uplink.batchMaxReadings=0'], {});
  assert.equal(await badValue.exited, 2);
  assert.match(badValue.stderr.join(''), /uplink\.batchMaxReadings: must be >= 1/);
});

test('under the unit\'s Node flags (64 MB old space) the edge drains batches of the largest size allowed', { timeout: 120_000 }, async () => {
  const siteId = `heap-${randomUUID().slice(0, 8)}`;
  const stateDir = mkdtempSync(join(work, 'state-'));
  // 30 MiB of unsent readings of ≈2.6 KB each: batches of 4 MiB, the most the configuration allows.
  const store = ReadingStore.open({ path: join(stateDir, 'edge.db'), siteId, durability: 'NORMAL', maxBytes: 256 * 2 ** 20, historyMs: 3_600_000 }, silentLogger());
  const vendorBytes = { f0: 'ab'.repeat(1_000) };
  for (let chunk = 0; chunk < 12; chunk += 1) store.append(Array.from({ length: 1_000 }, (_, i) => aircon(i % 20, { raw: vendorBytes })));
  store.close();
  const cloud = await AckingCloud.start(requiredEnv('ECHOLAKE_TEST_MQTT_URL'), siteId);
  try {
    const edge = new Deployable(
      'edge',
      'edge/main.ts',
      [],
      edgeEnv({
        ECHOLAKE_EDGE_SITE_ID: siteId,
        ECHOLAKE_EDGE_STATE_DIR: stateDir,
        ECHOLAKE_EDGE_UPLINK__BATCH_MAX_READINGS: '10000',
        ECHOLAKE_EDGE_UPLINK__BATCH_MAX_BYTES: String(4 * 2 ** 20),
        LOG_LEVEL: 'info',
      }),
      unitNodeFlags(),
    );
    running.push(edge);
    const acked = (e: LogEvent) => e.msg === 'batch acknowledged by the cloud';
    await edge.waitFor(() => edge.events.filter(acked).reduce((sum, e) => sum + Number(e.readings), 0) >= 12_000, 90_000, 'all 12,000 readings acknowledged');
    const sizes = edge.events.filter(acked).map((e) => Number(e.readings));
    assert.ok(Math.max(...sizes) >= 1_500, `batches of 4 MiB went (largest ${Math.max(...sizes)} readings)`);
    assert.equal(edge.stderr.join('').match(/heap out of memory/i), null);
    assert.equal(await edge.stop('SIGTERM'), 0, 'still alive, and stops cleanly');
  } finally {
    await cloud.stop();
  }
});
