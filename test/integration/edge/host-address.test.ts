/**
 * An `echonet.interface` that is not (yet) an address of the host, as at boot before DHCP:
 * `--check-config` says so, naming the field and the fix; the running edge does not die with
 * EADDRNOTAVAIL but waits (not ready, the status and the log say what for) and binds the ECHONET
 * Lite transport once the address appears, then finds a device on that LAN.
 *
 * The LAN is a pair of network namespaces this test creates (see test/support/netns.ts): the edge
 * in `gw`, a simulated aircon in `s1`; the awaited address is added to gw's eth0 while the edge
 * runs. Needs root; fails, never skips, without it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { Deployable } from '../../support/deployable.js';
import { NetnsTopology, assertNetnsPrerequisites } from '../../support/netns.js';

const work = mkdtempSync(join(tmpdir(), 'echolake-host-address-'));
const API_PORT = 8080;

let topology: NetnsTopology | undefined;
after(async () => {
  await topology?.destroy();
});

test('--check-config names echonet.interface when it is not an address of this host, and the fix', async () => {
  const file = join(work, 'absent.yaml');
  // 192.0.2.0/24 is TEST-NET-1: documentation only, on no host.
  writeFileSync(file, 'siteId: plant-7\nechonet:\n  interface: 192.0.2.10\napi:\n  host: 127.0.0.1\nuplink:\n  url: mqtts://cloud.example:8883\n');
  const check = new Deployable('check', 'edge/main.ts', ['--check-config', file], {});
  assert.equal(await check.exited, 2, check.tail());
  const text = check.stderr.join('');
  assert.match(text, /echonet\.interface: 192\.0\.2\.10 is not an address of this host \(its addresses: [^)]*127\.0\.0\.1/);
  assert.match(text, /set echonet\.interface \(ECHOLAKE_EDGE_ECHONET__INTERFACE\) to this gateway's own address/);
  assert.doesNotMatch(text, /api\.host/, 'api.host 127.0.0.1 is on every host');

  const apiAbsent = new Deployable('check', 'edge/main.ts', ['--check-config', file, '--set', 'echonet.interface=127.0.0.1', '--set', 'api.host=192.0.2.11'], {});
  assert.equal(await apiAbsent.exited, 2);
  assert.match(apiAbsent.stderr.join(''), /api\.host: 192\.0\.2\.11 is not an address of this host.*set api\.host \(ECHOLAKE_EDGE_API__HOST\)/);

  const present = new Deployable('check', 'edge/main.ts', ['--check-config', file, '--set', 'echonet.interface=127.0.0.1'], {});
  assert.equal(await present.exited, 0, present.tail());
});

test('the edge waits for its interface address (not ready, saying why) and binds when the address appears', { timeout: 90_000 }, async () => {
  assertNetnsPrerequisites();
  topology = await NetnsTopology.create(['gw', 's1']);
  const net = topology;
  const gw = net.host('gw');
  // An address on gw's LAN that gw does not have yet: it comes "from DHCP" below.
  const awaited = gw.address.replace(/\.\d+$/, '.50');

  const sim = net.node('s1', 'edge/simulator/main.ts', ['--nodes', '1', '--base-address', net.address('s1'), '--interface', net.address('s1'), '--tick-ms', '0', '--seed', '7'], {
    label: 'echolake-sim in s1',
  });
  const up = await sim.waitForLine((line) => line.msg === 'simulated air conditioner up', 15_000, 'the simulated node');

  const edge = net.node('gw', 'edge/main.ts', [], {
    label: 'edge in gw',
    env: {
      ECHOLAKE_EDGE_SITE_ID: 'site-dhcp',
      ECHOLAKE_EDGE_STATE_DIR: mkdtempSync(join(work, 'state-')),
      ECHOLAKE_EDGE_ECHONET__INTERFACE: awaited,
      ECHOLAKE_EDGE_API__HOST: '127.0.0.1',
      ECHOLAKE_EDGE_API__PORT: String(API_PORT),
      // Nothing listens there: the uplink retries, which is no reason to be not ready.
      ECHOLAKE_EDGE_UPLINK__URL: 'mqtt://127.0.0.1:1',
      LOG_LEVEL: 'info',
    },
  });
  await edge.waitForLine((line) => line.msg === 'local API listening', 30_000, 'the local API');
  const waiting = edge.lines.find((line) => String(line.msg).startsWith(`waiting for echonet.interface ${awaited} to appear on this host`));
  assert.ok(waiting, `the wait is logged\n${edge.tail()}`);
  assert.equal(waiting.field, 'echonet.interface');
  assert.equal(edge.lines.filter((line) => String(line.msg).startsWith('waiting for')).length, 1, 'one line, not one a second');

  const notReady = await apiGet(net, '/readyz');
  assert.equal(notReady.status, 503);
  const waitReason = new RegExp(`^echonet\\.interface ${awaited.replaceAll('.', '\\.')} is not an address of this host yet: the ECHONET Lite transport binds it once it appears \\(waiting \\d+ s\\)$`);
  const reasons = (notReady.body as { reasons: string[] }).reasons;
  assert.equal(reasons.length, 1);
  assert.match(reasons[0] ?? '', waitReason);
  const status = (await apiGet(net, '/api/v1/status')).body as { waitingFor: string[] };
  assert.equal(status.waitingFor.length, 1);
  assert.match(status.waitingFor[0] ?? '', waitReason);
  assert.ok(edge.running, 'still running: no EADDRNOTAVAIL crash');

  await promisify(execFile)('ip', ['-n', gw.namespace, 'address', 'add', `${awaited}/24`, 'dev', gw.device]);
  await edge.waitForLine((line) => line.msg === 'echonet transport open', 10_000, 'the transport to bind once the address is there');
  assert.equal(edge.lines.find((line) => line.msg === 'echonet transport open')?.address, awaited);

  // Bound for real: the search goes out on that interface and the device on the LAN is found.
  const deadline = Date.now() + 20_000;
  let devices: Array<{ id: string; address: string }> = [];
  while (Date.now() < deadline && !devices.some((d) => d.id === up.deviceId)) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    devices = ((await apiGet(net, '/elapi/v1/devices')).body as { devices: typeof devices }).devices;
  }
  assert.deepEqual(devices.find((d) => d.id === up.deviceId)?.address, net.address('s1'), `the simulated aircon is found\n${edge.tail()}`);
  const ready = await apiGet(net, '/readyz');
  assert.equal(ready.status, 200, JSON.stringify(ready.body));
  assert.deepEqual(((await apiGet(net, '/api/v1/status')).body as { waitingFor: string[] }).waitingFor, []);

  assert.deepEqual(await edge.stop('SIGTERM', 15_000), { code: 0, signal: null });
});

test('with api.host unset the local API waits with the interface it defaults to, and listens there once it appears', { timeout: 60_000 }, async () => {
  assert.ok(topology, 'runs on the previous test\'s namespaces');
  const net = topology;
  const gw = net.host('gw');
  const awaited = gw.address.replace(/\.\d+$/, '.51');
  const edge = net.node('gw', 'edge/main.ts', [], {
    label: 'edge in gw, API on the interface',
    env: {
      ECHOLAKE_EDGE_SITE_ID: 'site-dhcp-2',
      ECHOLAKE_EDGE_STATE_DIR: mkdtempSync(join(work, 'state-')),
      ECHOLAKE_EDGE_ECHONET__INTERFACE: awaited,
      ECHOLAKE_EDGE_API__PORT: String(API_PORT),
      ECHOLAKE_EDGE_UPLINK__URL: 'mqtt://127.0.0.1:1',
      LOG_LEVEL: 'info',
    },
  });
  await edge.waitForLine((line) => String(line.msg).startsWith(`waiting for echonet.interface ${awaited}`), 30_000, 'the wait');
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  assert.ok(edge.running, `no EADDRNOTAVAIL from the API either\n${edge.tail()}`);
  assert.equal(edge.lines.filter((line) => String(line.msg).startsWith('waiting for')).length, 1, 'one wait line for both parts');
  assert.ok(!edge.lines.some((line) => line.msg === 'local API listening'));

  await promisify(execFile)('ip', ['-n', gw.namespace, 'address', 'add', `${awaited}/24`, 'dev', gw.device]);
  const listening = await edge.waitForLine((line) => line.msg === 'local API listening', 10_000, 'the API once the address is there');
  assert.equal(listening.url, `http://${awaited}:${API_PORT}`);
  await edge.waitForLine((line) => line.msg === 'echonet transport open', 10_000, 'the transport');
  assert.equal((await apiGet(net, '/readyz', awaited)).status, 200);
  assert.deepEqual(await edge.stop('SIGTERM', 15_000), { code: 0, signal: null });
});

/** A GET of the edge's API from inside gw (it listens on gw's own addresses, which only gw reaches). */
async function apiGet(net: NetnsTopology, path: string, host = '127.0.0.1'): Promise<{ status: number; body: unknown }> {
  const script = `fetch('http://${host}:${API_PORT}${path}').then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.json() })))`;
  const probe = net.exec('gw', [process.execPath, '-e', script], { label: `GET ${path} in gw` });
  const line = await probe.waitForLine((l) => typeof l.status === 'number', 10_000, `the answer to GET ${path}`);
  return { status: line.status as number, body: line.body };
}
