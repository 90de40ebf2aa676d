// The registry as the one source of truth for Mosquitto: `echolake-cloud site add` and
// `echolake-cloud mosquitto-config` run as an operator runs them, and a real Mosquitto started with
// the files they wrote enforces the same rules as the embedded broker.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { siteTopic } from '../../../shared/contract/topics.js';
import { startMosquitto } from '../../services/mosquitto.js';
import { sleep } from '../../services/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'echolake-mosquitto-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `echolake-cloud ARGS` as a separate process, with the registry and cloud password of this test. */
function cloudCommand(args: string[]): { code: number | null; out: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'cloud/main.ts', ...args], {
    env: { ...process.env, ECHOLAKE_CLOUD_SITES__FILE: join(dir, 'sites.yaml'), ECHOLAKE_CLOUD_MQTT__PASSWORD_FILE: join(dir, 'cloud.password') },
    encoding: 'utf8',
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

/** The secret from the edge block `site add` prints. */
function secretOf(printed: string): string {
  const secret = /printf '%s' '([A-Za-z0-9_-]+)'/.exec(printed)?.[1];
  assert.ok(secret, `a secret in:\n${printed}`);
  return secret;
}

test('Mosquitto started with the generated files admits sites and the cloud, and keeps each site to its own topics', { timeout: 60_000 }, async () => {
  writeFileSync(join(dir, 'cloud.password'), 'cloud-password-for-mosquitto', { mode: 0o600 });
  const a = cloudCommand(['site', 'add', 'site-a', '--name', 'Site A', '--location', '35.68,139.77', '--time-zone', 'Asia/Tokyo', '--uplink-url', 'mqtts://cloud.example:8883']);
  assert.equal(a.code, 0, a.out);
  assert.match(a.out, /url: mqtts:\/\/cloud\.example:8883\n {2}username: site-a\n {2}passwordFile: \/run\/credentials\/echolake-edge\.service\/uplink\.password/);
  const b = cloudCommand(['site', 'add', 'site-b', '--name', 'Site B']);
  assert.equal(b.code, 0, b.out);
  assert.equal(cloudCommand(['site', 'add', 'site-c', '--name', 'C', '--location', '91,0']).code, 2, 'a bad location is refused');
  const out = join(dir, 'mosquitto');
  const written = cloudCommand(['mosquitto-config', out]);
  assert.equal(written.code, 0, written.out);
  assert.ok(!readFileSync(join(out, 'password_file'), 'utf8').includes(secretOf(a.out)), 'hashes only');

  const broker = await startMosquitto({ passwordFile: join(out, 'password_file'), aclFile: join(out, 'acl_file') });
  const url = broker.env.ECHOLAKE_TEST_MQTT_URL ?? '';
  const clients: MqttClient[] = [];
  const connect = async (options: IClientOptions): Promise<MqttClient> => {
    const client = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...options });
    clients.push(client);
    return client;
  };
  try {
    await assert.rejects(connect({ clientId: 'anon' }), /Not authorized|Bad User Name or Password/);
    await assert.rejects(connect({ clientId: 'x', username: 'site-a', password: 'guess' }), /Not authorized|Bad User Name or Password/);
    const cloud = await connect({ clientId: 'echolake-cloud-test', username: 'echolake-cloud', password: 'cloud-password-for-mosquitto' });
    const siteA = await connect({ clientId: 'echolake-edge-site-a', username: 'site-a', password: secretOf(a.out) });
    const siteB = await connect({ clientId: 'echolake-edge-site-b', username: 'site-b', password: secretOf(b.out) });

    const seenByCloud: string[] = [];
    cloud.on('message', (topic) => seenByCloud.push(topic));
    await cloud.subscribeAsync(['$share/ingest/echolake/v1/sites/+/readings', 'echolake/v1/sites/+/command-results'], { qos: 1 });
    const seenByB: string[] = [];
    siteB.on('message', (topic) => seenByB.push(topic));
    // Mosquitto grants any subscription and checks the read ACL on every delivery instead.
    await siteB.subscribeAsync([siteTopic('site-b', 'acks'), siteTopic('site-a', 'acks'), siteTopic('site-b', 'commands'), siteTopic('site-a', 'commands'), '#'], { qos: 1 });

    // Site B writing as site A, or forging acks: Mosquitto answers PUBACK 0x87 and delivers nothing.
    const refused = await siteB.publishAsync(siteTopic('site-a', 'readings'), 'forged', { qos: 1 }).then(() => 'accepted', (err: Error) => err.message);
    assert.match(refused, /Not authorized/);
    await siteB.publishAsync(siteTopic('site-a', 'acks'), 'forged ack', { qos: 1 }).catch(() => undefined);
    await siteA.publishAsync(siteTopic('site-a', 'readings'), 'genuine', { qos: 1 });
    await cloud.publishAsync(siteTopic('site-b', 'acks'), 'ack for b', { qos: 1 });
    await cloud.publishAsync(siteTopic('site-a', 'acks'), 'ack for a', { qos: 1 });
    // Commands: only the cloud writes them, each site reads its own; results only for oneself.
    await siteA.publishAsync(siteTopic('site-b', 'commands'), 'forged command', { qos: 1 }).catch(() => undefined);
    await siteB.publishAsync(siteTopic('site-b', 'commands'), 'self-made command', { qos: 1 }).catch(() => undefined);
    await siteB.publishAsync(siteTopic('site-a', 'command-results'), 'forged result', { qos: 1 }).catch(() => undefined);
    await cloud.publishAsync(siteTopic('site-a', 'commands'), 'command for a', { qos: 1 });
    await cloud.publishAsync(siteTopic('site-b', 'commands'), 'command for b', { qos: 1 });
    await siteB.publishAsync(siteTopic('site-b', 'command-results'), 'result of b', { qos: 1 });
    await sleep(500);
    assert.deepEqual(seenByCloud, [siteTopic('site-a', 'readings'), siteTopic('site-b', 'command-results')], 'the cloud got the genuine batch and result only');
    assert.deepEqual([...new Set(seenByB)], [siteTopic('site-b', 'acks'), siteTopic('site-b', 'commands')], 'site B got its own ack and command only, not A\'s, not through #');
  } finally {
    for (const client of clients) await client.endAsync(true).catch(() => undefined);
    await broker.stop();
  }
});
