/**
 * The edge's status page in a real browser (Debian's chromium through playwright-core), against a
 * running edge with simulated air conditioners and its own Mosquitto: the devices and their values
 * show, a silent device goes offline on the page, and when the broker stops the page says why the
 * uplink is down; times show in the site's time zone, not the viewer's; a setting changed from a
 * device's page reaches the unit only with the API token. Screenshots of the page (desktop and
 * phone width) go to the artifacts folder.
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
/** The gateway's zone (its TZ) and the viewing laptop's: 13–14 hours apart, so a time shown in the wrong one cannot pass. */
const SITE_ZONE = 'Asia/Tokyo';
const VIEWER_ZONE = 'America/New_York';

/** A time of day as the page writes it in English, in a zone. */
function timeOfDay(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone }).format(new Date(iso));
}

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
      TZ: SITE_ZONE,
    };
    const edge = new Deployable('edge', 'edge/main.ts', [], env);
    stopAfterTest(async () => void (await edge.stop('SIGKILL')));
    const api = String((await edge.waitFor((e) => e.msg === 'local API listening', 30_000, 'the local API')).url);

    const { page, problems } = await openPage(browser, { width: 1280, height: 900, timezoneId: VIEWER_ZONE });
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

    // The gateway tells its zone, and the page names it beside the clock.
    const status = (await (await fetch(`${api}/api/v1/status`)).json()) as { clock: { timeZone: string } };
    assert.equal(status.clock.timeZone, SITE_ZONE);
    assert.match((await page.locator('[data-testid="time-zone"]').textContent()) ?? '', /Asia\/Tokyo/);
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
    // Its events from the local history: found when the edge discovered it, at the site's time of day.
    assert.match((await page.locator('[data-testid="events"]').textContent()) ?? '', /found/);
    const eventTime = page.locator('[data-testid="events"] time').first();
    const eventAt = (await eventTime.getAttribute('datetime')) ?? '';
    const shown = (await eventTime.textContent()) ?? '';
    assert.ok(shown.includes(timeOfDay(eventAt, SITE_ZONE)), `the event at ${eventAt} shown as ${shown}: not the site's ${timeOfDay(eventAt, SITE_ZONE)}`);
    assert.ok(!shown.includes(timeOfDay(eventAt, VIEWER_ZONE)), `the event shown in the viewer's zone: ${shown}`);

    // A setting changed from the device's page: nothing reaches the unit with a wrong token.
    const before = first.state();
    const mode = before.operationMode === 'heating' ? 'cooling' : 'heating';
    const temperature = before.targetTemperature >= 28 ? before.targetTemperature - 2 : before.targetTemperature + 2;
    const setOutcome = page.locator('[data-testid="setting-outcome"]');
    const targetCell = page.locator('[data-testid="properties"] tr[data-property="targetTemperature"] td');
    assert.equal(await targetCell.textContent(), String(before.targetTemperature));
    await page.getByLabel('Setting', { exact: true }).selectOption({ label: 'Set temperature' });
    await page.getByLabel('New value', { exact: true }).fill(String(temperature));
    await page.fill('[data-testid="api-token"]', 'not-the-token-at-all');
    await page.getByRole('button', { name: 'Change' }).click();
    await page.locator('[data-testid="setting-outcome"][data-outcome="refused"]').waitFor({ timeout: 10_000 });
    assert.match((await setOutcome.textContent()) ?? '', /Refused:.*not this gateway's api\.token/s);
    assert.deepEqual(first.setsReceived(), [], 'no SetC with a wrong token');
    assert.equal(first.state().targetTemperature, before.targetTemperature);

    // With the right token: exactly the chosen values reach the unit, one SetC each, and the page
    // shows the new temperature after its next poll.
    await page.fill('[data-testid="api-token"]', API_TOKEN);
    await page.getByRole('button', { name: 'Change' }).click();
    await setOutcome.filter({ hasText: `Done: Set temperature is now ${temperature} °C` }).waitFor({ timeout: 15_000 });
    assert.equal(await setOutcome.getAttribute('data-outcome'), 'done');
    await page.getByLabel('Setting', { exact: true }).selectOption({ label: 'Mode' });
    await page.getByLabel('New value', { exact: true }).selectOption({ label: mode });
    await page.getByRole('button', { name: 'Change' }).click();
    await setOutcome.filter({ hasText: `Done: Mode is now ${mode}` }).waitFor({ timeout: 15_000 });
    assert.deepEqual(
      first.setsReceived().map((s) => s.raw),
      [{ b3: temperature.toString(16).padStart(2, '0') }, { b0: mode === 'heating' ? '43' : '42' }],
      `one SetC of ${temperature} °C, then one of ${mode}`,
    );
    assert.deepEqual({ targetTemperature: first.state().targetTemperature, operationMode: first.state().operationMode }, { targetTemperature: temperature, operationMode: mode });
    assert.deepEqual(second.setsReceived(), [], 'the other unit untouched');
    await page.locator('[data-testid="properties"] tr[data-property="targetTemperature"] td').filter({ hasText: new RegExp(`^${temperature}$`) }).waitFor({ timeout: 15_000 });
    await page.locator('[data-testid="properties"] tr[data-property="operationMode"] td').filter({ hasText: new RegExp(`^${mode}$`) }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(artifactsDir(), 'edge-device.png'), fullPage: true });

    // The silent unit cannot take a change: the page says it did not answer.
    await page.goto(`${api}/#/device/${encodeURIComponent(second.deviceId)}`);
    await page.locator('#device-title').filter({ hasText: second.address }).waitFor();
    assert.equal(await setOutcome.count(), 0, 'another device\'s page starts with a fresh form');
    await page.getByRole('button', { name: 'Change' }).click();
    await page.locator('[data-testid="setting-outcome"][data-outcome="no-answer"]').waitFor({ timeout: 15_000 });
    assert.match((await setOutcome.textContent()) ?? '', /Not done: no answer.*did not answer/s);

    // The form on a phone, in Japanese: labelled, and no wider than the phone.
    await phone.page.goto(`${api}/#/device/${encodeURIComponent(first.deviceId)}`);
    await phone.page.waitForSelector('[data-testid="setting-form"]');
    await phone.page.getByLabel('新しい値').waitFor();
    await phone.page.getByLabel('項目').waitFor();
    const formOverflow = Number(await phone.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    assert.ok(formOverflow <= 0, `the device page is ${formOverflow} px wider than the phone`);
    await phone.page.screenshot({ path: join(artifactsDir(), 'edge-device-phone-ja.png'), fullPage: true });

    // The refused search's and change's 401s and the silent unit's 503 are the failed requests the page made on purpose.
    const unexpected = problems.filter((p) => !/status of 401/.test(p));
    assert.equal(unexpected.filter((p) => /status of 503/.test(p)).length, 1, 'the one change the silent unit did not answer');
    assert.deepEqual(unexpected.filter((p) => !/status of 503/.test(p)), [], 'no console errors or failed requests on the page');
    assert.deepEqual(phone.problems, []);
  });
});
