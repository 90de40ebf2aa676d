// The uplink against a broker that speaks only MQTT 3.1.1 (aedes, the cloud's embedded broker):
// configured for MQTT 5, as by default, it falls back by itself and delivers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { ReadingStore } from '../../../edge/buffer/reading-store.js';
import { Uplink } from '../../../edge/uplink/uplink.js';
import { AckingCloud } from '../../support/acking-cloud.js';
import { cloudClientOptions, startTestBroker, testSecret, testSite } from '../../support/cloud-sites.js';
import { aircon } from '../../support/observations.js';
import { waitFor } from '../../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'echolake-uplink-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('configured for MQTT 5, the uplink falls back to 3.1.1 on a broker that refuses 5, and its batches are acknowledged', async () => {
  const logLines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  const broker = await startTestBroker([await testSite('site-v3')], log);
  const { port } = broker.address;
  const store = ReadingStore.open({ path: join(dir, 'edge.db'), siteId: 'site-v3', durability: 'NORMAL', maxBytes: 64 * 2 ** 20, historyMs: 3_600_000 }, log);
  const cloud = await AckingCloud.start(`mqtt://127.0.0.1:${port}`, 'site-v3', { protocolVersion: 4, connect: cloudClientOptions('v3') });
  const uplink = new Uplink(
    {
      url: `mqtt://127.0.0.1:${port}`,
      protocolVersion: 5,
      siteId: 'site-v3',
      username: 'site-v3',
      password: testSecret('site-v3'),
      batchMaxReadings: 10,
      batchMaxBytes: 1 << 20,
      batchMaxAgeMs: 0,
      ackTimeoutMs: 5_000,
      ackTimeoutMaxMs: 60_000,
      maxIncomingBytes: 65_536,
      reconnectMinMs: 100,
      reconnectMaxMs: 200,
    },
    store,
    log,
  );
  try {
    store.append([aircon(0), aircon(1), aircon(2)]);
    uplink.start();
    await waitFor('the batch acknowledged', () => store.stats().backlog === 0 || undefined, 10_000);
    assert.equal(uplink.status().batchesAcknowledged, 1);
    const fallback = logLines.map((line) => JSON.parse(line) as { msg: string }).filter((e) => e.msg === 'broker refused MQTT 5: falling back to MQTT 3.1.1');
    assert.equal(fallback.length, 1, 'said once why it speaks 3.1.1');
  } finally {
    await uplink.stop();
    await cloud.stop();
    store.close();
    await broker.stop();
  }
});
