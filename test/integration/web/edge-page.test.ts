/**
 * The edge's status page in a real browser (Debian's chromium through playwright-core), against a
 * running edge with simulated air conditioners and its own Mosquitto: the devices and their values
 * show, a silent device goes offline on the page, and when the broker stops the page says why the
 * uplink is down. Screenshots of the page (desktop and phone width) go to the artifacts folder.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { buildWeb } from '../../../scripts/build-web.js';
import { installMosquitto, startMosquitto } from '../../services/mosquitto.js';
import { artifactsDir, launchBrowser, openPage } from '../../support/browser.js';
import { Deployable } from '../../support/deployable.js';
import { INTERFACE, onFreePort, openSimulator, stopAfterTest, stopOpened } from '../../support/echonet-rig.js';

let browser: Browser;
const API_TOKEN = 'web-page-test-token-0123456789';

before(async () => {
  await buildWeb();
  await installMosquitto();
  browser = await launchBrowser();
});

after(async () => {
  await stopOpened();
  await browser?.close();
});

interface ApiDevice {
  id: string;
  availability: string;
  latest: { properties: Record<string, unknown> } | null;
}

test('the status page shows the devices and their values, a device going offline, and why the uplink is down', { timeout: 180_000 }, async () => {
  await onFreePort(async (port) => {
    const sim = await openSimulator(port, { nodes: 2 });
    const broker = await startMosquitto();
    let brokerStopped = false;
    stopAfterTest(async () => {
      if (!brokerStopped) await broker.stop();
    });
    const env = {
      ECHOLAKE_EDGE_SITE_ID: `web-${randomUUID().slice(0, 8)}`,
      ECHOLAKE_EDGE_STATE_DIR: mkdtempSync(join(tmpdir(), 'echolake-web-')),
      ECHOLAKE_EDGE_ECHONET__INTERFACE: INTERFACE,
      ECHOLAKE_EDGE_ECHONET__PORT: String(port),
      ECHOLAKE_EDGE_ECHONET__POLL_INTERVAL_MS: '1000',
      ECHOLAKE_EDGE_ECHONET__REQUEST_TIMEOUT_MS: '300',
      ECHOLAKE_EDGE_ECHONET__RETRIES: '0',
      ECHOLAKE_EDGE_ECHONET__SEND_DEVICE_EVENTS: 'true',
      ECHOLAKE_EDGE_API__PORT: '0',
      ECHOLAKE_EDGE_API__TOKEN: API_TOKEN,
      ECHOLAKE_EDGE_UPLINK__URL: String(broker.env.ECHOLAKE_TEST_MQTT_URL),
      ECHOLAKE_EDGE_UPLINK__RECONNECT_MIN_MS: '200',
      ECHOLAKE_EDGE_UPLINK__RECONNECT_MAX_MS: '1000',
    };
    const edge = new Deployable('edge', 'edge/main.ts', [], env);
    stopAfterTest(async () => void (await edge.stop('SIGKILL')));
    const api = String((await edge.waitFor((e) => e.msg === 'local API listening', 30_000, 'the local API')).url);

    const { page, problems } = await openPage(browser, { width: 1280, height: 900 });
    await page.goto(api);
    const rows = page.locator('tr[data-device]');
    await page.locator('tr[data-device][data-availability="online"]').nth(1).waitFor({ timeout: 30_000 });
    await page.waitForSelector('[data-testid="uplink"].ok', { timeout: 20_000 });
    assert.equal(await rows.count(), 2);

    // The values on the page are the ones the simulated units report.
    const [first, second] = sim.nodes;
    assert.ok(first && second);
    const reported = first.reported();
    const row = page.locator(`tr[data-device="${first.deviceId}"]`);
    await row.locator('[data-field="roomTemperature"]').filter({ hasText: '°C' }).waitFor();
    const roomCell = (await row.locator('[data-field="roomTemperature"]').textContent()) ?? '';
    assert.equal(roomCell, `${String(reported.roomTemperature)} °C`, `the room temperature ${String(reported.roomTemperature)} on the page: ${roomCell}`);
    const setCell = (await row.locator('[data-field="targetTemperature"]').textContent()) ?? '';
    assert.equal(setCell, `${String(reported.targetTemperature)} °C`);
    await page.screenshot({ path: join(artifactsDir(), 'edge-status.png'), fullPage: true });

    // A search now, behind the API token: refused with a wrong one, done with the right one.
    await page.fill('[data-testid="api-token"]', 'not-the-token-at-all');
    await page.getByRole('button', { name: 'Search for devices now' }).click();
    await page.locator('[data-testid="action-outcome"]').filter({ hasText: 'Search failed' }).waitFor();
    await page.fill('[data-testid="api-token"]', API_TOKEN);
    await page.getByRole('button', { name: 'Search for devices now' }).click();
    await page.locator('[data-testid="action-outcome"]').filter({ hasText: '2 nodes answered' }).waitFor({ timeout: 15_000 });

    // A unit that stops answering leaves "online" on the page without a reload, as the API says.
    second.setSilent(true);
    await page.waitForSelector(`tr[data-device="${second.deviceId}"][data-availability="offline"]`, { timeout: 60_000 });
    const fromApi = (await (await fetch(`${api}/api/v1/devices`)).json()) as { devices: ApiDevice[] };
    assert.equal(fromApi.devices.find((d) => d.id === second.deviceId)?.availability, 'offline');
    assert.match((await page.locator(`tr[data-device="${second.deviceId}"] .badge`).textContent()) ?? '', /Offline/);

    // The broker goes away: the uplink card turns red and says why, with what to check.
    brokerStopped = true;
    await broker.stop();
    const reason = page.locator('[data-testid="uplink-reason"]');
    await reason.waitFor({ timeout: 30_000 });
    await page.waitForSelector('[data-testid="uplink"].bad');
    await page.waitForSelector('[data-testid="uplink-reason"][data-reason="refused"]', { timeout: 30_000 });
    assert.match((await reason.textContent()) ?? '', /refused the connection.*ECONNREFUSED/s);

    // On a phone's width, in Japanese: the same page, no sideways scrolling of the page itself.
    const phone = await openPage(browser, { width: 390, height: 844, locale: 'ja-JP' });
    await phone.page.goto(api);
    await phone.page.waitForSelector('tr[data-device]');
    await phone.page.waitForSelector('[data-testid="uplink-reason"]');
    assert.equal(await phone.page.locator('html').getAttribute('lang'), 'ja');
    assert.match((await phone.page.locator('[data-testid="uplink"] h2').textContent()) ?? '', /クラウドへの接続/);
    const overflow = Number(await phone.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the phone`);
    await phone.page.screenshot({ path: join(artifactsDir(), 'edge-status-phone-ja.png'), fullPage: true });

    // The device page: its properties, the chart of its local history and its events.
    await page.click(`tr[data-device="${first.deviceId}"] a`);
    await page.waitForSelector('[data-testid="properties"]');
    await page.waitForSelector('.chart canvas', { timeout: 40_000 });
    // Its events from the local history: found when the edge discovered it.
    assert.match((await page.locator('[data-testid="events"]').textContent()) ?? '', /found/);
    await page.screenshot({ path: join(artifactsDir(), 'edge-device.png'), fullPage: true });

    // The refused search's 401 is the one failed request the page made on purpose.
    assert.deepEqual(problems.filter((p) => !/status of 401/.test(p)), [], 'no console errors or failed requests on the page');
    assert.deepEqual(phone.problems, []);
  });
});
