/**
 * The cloud's fleet dashboard in a real browser (Debian's chromium through playwright-core),
 * against the cloud process with its embedded broker, the ingest, the alerts role and the lake (on
 * a local folder) on real Kafka: nothing shows before the operator logs in (the page sends the
 * browser to the login page, the data routes answer 401, a wrong token is refused); after login
 * both sites show, online, with their devices online of total; a unit reporting a fault shows as a
 * firing alert on its site; the pipeline panel shows the lake's readings table past its first
 * version and both consumer groups caught up; the site page shows its unit's latest values, its
 * alert and the unit's device event. Screenshots go to the artifacts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type MqttClient, connectAsync } from 'mqtt';
import type { Browser } from 'playwright-core';
import { newOperatorToken } from '../../../cloud/http/auth.js';
import { encodeBatch } from '../../../shared/contract/envelopes.js';
import { siteTopic } from '../../../shared/contract/topics.js';
import type { AnyReading, BatchAck, Reading } from '../../../shared/reading.js';
import { buildWeb } from '../../../scripts/build-web.js';
import { freePorts } from '../../services/processes.js';
import { artifactsDir, launchBrowser, openPage } from '../../support/browser.js';
import { writeRegistryFile } from '../../../cloud/sites/file-registry.js';
import { cloudTestEnv, testSecret, testSite } from '../../support/cloud-sites.js';
import { Deployable } from '../../support/deployable.js';
import { requiredEnv } from '../../support/env.js';
import { aircon } from '../../support/observations.js';
import { sleep } from '../../support/wait.js';

const run = randomUUID().slice(0, 8);
const sites = [`tokyo-${run}`, `osaka-${run}`] as const;
const dir = mkdtempSync(join(tmpdir(), 'echolake-dashboard-'));
const operator = newOperatorToken('ops');
let browser: Browser;
let cloud: Deployable;
let api: string;
let mqttUrl: string;
const clients: MqttClient[] = [];

before(async () => {
  await buildWeb();
  browser = await launchBrowser();
  const [port] = (await freePorts(1)) as [number];
  mqttUrl = `mqtt://127.0.0.1:${port}`;
  const env = await cloudTestEnv(dir, [...sites]);
  // Named and placed, for the table and the plot of where the sites are.
  writeRegistryFile(env.ECHOLAKE_CLOUD_SITES__FILE ?? '', {
    sites: [
      await testSite(sites[0], { name: 'Tokyo office', location: { latitude: 35.68, longitude: 139.77 } }),
      await testSite(sites[1], { name: 'Osaka store', location: { latitude: 34.69, longitude: 135.5 } }),
    ],
  });
  const configFile = join(dir, 'cloud.yaml');
  writeFileSync(configFile, `api:\n  operators:\n    - name: ${operator.entry.name}\n      tokenSha256: ${operator.entry.tokenSha256}\n`);
  cloud = new Deployable('cloud', 'cloud/main.ts', ['--config', configFile], {
    ...env,
    // The lake on a local folder, for the pipeline panel's tables and its consumer lag.
    ECHOLAKE_CLOUD_ROLES__LAKE: 'true',
    ECHOLAKE_CLOUD_LAKE__ROOT: join(dir, 'lake'),
    ECHOLAKE_CLOUD_LAKE__GROUP_ID: `lake-web-${run}`,
    ECHOLAKE_CLOUD_LAKE__MAX_AGE_MS: '300',
    ECHOLAKE_CLOUD_LAKE__ALERTS_TABLE: 'false',
    ECHOLAKE_CLOUD_ROLES__ALERTS: 'true',
    ECHOLAKE_CLOUD_BROKER__ENABLED: 'true',
    ECHOLAKE_CLOUD_BROKER__PORT: String(port),
    ECHOLAKE_CLOUD_MQTT__URL: mqttUrl,
    ECHOLAKE_CLOUD_MQTT__PROTOCOL_VERSION: '4',
    ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: '',
    ECHOLAKE_CLOUD_KAFKA__BROKERS: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS'),
    ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: `readings-web-${run}`,
    ECHOLAKE_CLOUD_KAFKA__TOPICS__DEAD_LETTER: `dlq-web-${run}`,
    ECHOLAKE_CLOUD_ALERTS__GROUP_ID: `alerts-web-${run}`,
    ECHOLAKE_CLOUD_ALERTS__TRANSACTIONAL_ID_PREFIX: `alerts-web-${run}`,
    ECHOLAKE_CLOUD_ALERTS__TOPICS__ALERTS: `alerts-web-${run}`,
    ECHOLAKE_CLOUD_ALERTS__TOPICS__CHANGELOG: `alerts-state-web-${run}`,
    ECHOLAKE_CLOUD_ALERTS__TOPICS__SILENCES: `silences-web-${run}`,
    ECHOLAKE_CLOUD_ALERTS__TOPICS__SITE_READINGS: `site-readings-web-${run}`,
    ECHOLAKE_CLOUD_ALERTS__TOPICS__SITE_CHANGELOG: `site-state-web-${run}`,
    ECHOLAKE_CLOUD_ALERTS__WEBHOOK__GROUP_ID: `webhook-web-${run}`,
  });
  api = String((await cloud.waitFor((e) => e.msg === 'cloud API listening', 90_000, 'the cloud API')).url);
  await cloud.waitFor((e) => e.msg === 'ingest subscribed', 30_000, 'the ingest');
  await cloud.waitFor((e) => e.msg === 'lake writer started', 60_000, 'the lake writer');
});

after(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => undefined);
  await browser?.close();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One batch from a site as its edge sends it, waiting for the cloud's ack (so Kafka has it). */
async function sendBatch(siteId: string, readings: AnyReading[]): Promise<void> {
  const client = await connectAsync(mqttUrl, { protocolVersion: 4, username: siteId, password: testSecret(siteId), clientId: `echolake-edge-${siteId}`, reconnectPeriod: 0 });
  clients.push(client);
  const acks: string[] = [];
  client.on('message', (_topic, payload) => acks.push((JSON.parse(String(payload)) as BatchAck).batchId));
  await client.subscribeAsync(siteTopic(siteId, 'acks'), { qos: 1 });
  const batchId = `${readings[0]?.seq}-${readings.at(-1)?.seq}`;
  await client.publishAsync(siteTopic(siteId, 'readings'), encodeBatch(siteId, batchId, readings.map((r) => JSON.stringify(r))), { qos: 1 });
  const deadline = Date.now() + 20_000;
  while (!acks.includes(batchId)) {
    if (Date.now() > deadline) throw new Error(`no ack for ${siteId}'s batch ${batchId}\n${cloud.tail(40)}`);
    await sleep(50);
  }
}

const readingOf = (siteId: string, seq: number, faulty: boolean): Reading => {
  const base = aircon(0, { ts: new Date().toISOString() });
  return { v: 1, siteId, seq, ...base, properties: { ...base.properties, faultStatus: faulty } };
};

test('the dashboard shows nothing before login: the page goes to the login form, the data routes answer 401, a wrong token is refused', async () => {
  const { page, problems } = await openPage(browser, { width: 1280, height: 800 });
  const first = await page.goto(api);
  assert.match(page.url(), /\/login$/, 'sent to the login page');
  assert.equal(first?.status(), 200);
  assert.equal(await page.locator('table').count(), 0);
  assert.doesNotMatch(await page.content(), new RegExp(sites[0]), 'no site id on the login page');
  const data = await page.request.get(`${api}/api/v1/sites`);
  assert.equal(data.status(), 401);
  await page.fill('#token', 'not-a-token-of-anyone');
  await page.click('button[type="submit"]');
  await page.locator('[role="alert"]').waitFor();
  assert.match((await page.locator('[role="alert"]').textContent()) ?? '', /no operator's/);
  assert.equal((await page.context().cookies()).length, 0, 'no cookie for a wrong token');
  await page.screenshot({ path: join(artifactsDir(), 'cloud-login.png') });
  assert.deepEqual(problems.filter((p) => !/401/.test(p)), []);
});

test('after login the dashboard shows both sites online and a unit\'s fault as a firing alert', { timeout: 180_000 }, async () => {
  await sendBatch(sites[0], [readingOf(sites[0], 1, false), readingOf(sites[0], 2, false)]);
  await sendBatch(sites[1], [readingOf(sites[1], 1, false)]);

  const { page, problems } = await openPage(browser, { width: 1280, height: 900 });
  await page.goto(`${api}/login`);
  await page.fill('#token', operator.token);
  await page.click('button[type="submit"]');
  await page.locator('table[data-testid="sites"]').waitFor({ timeout: 20_000 });
  const cookie = (await page.context().cookies()).find((c) => c.name === 'echolake_session');
  assert.ok(cookie, 'a session cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  await page.locator('tr[data-site][data-state="online"]').nth(1).waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('table[data-testid="sites"] tbody tr').count(), 2);

  // The incident: a unit at Tokyo reports a fault.
  await sendBatch(sites[0], [readingOf(sites[0], 3, true)]);
  const alertRow = page.locator(`table[data-testid="alerts"] tr[data-alert="aircon-fault"][data-site="${sites[0]}"]`);
  await alertRow.waitFor({ timeout: 60_000 });
  await page.locator(`tr[data-site="${sites[0]}"] [data-field="firing"] .badge`).waitFor();
  assert.equal(await page.locator(`tr[data-site="${sites[0]}"] [data-field="firing"]`).textContent(), '1');
  assert.equal(await page.locator(`tr[data-site="${sites[1]}"] [data-field="firing"]`).textContent(), '0');
  // The pipeline panel: the ingest's counters (three batches, four readings so far) and no dead letter.
  await page.locator('[data-testid="pipeline"]').getByText('4 readings since start').waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('[data-testid="dead-letters"]').textContent(), 'none');
  // The lake has committed the readings (a version past its creation) and both groups caught up.
  await page.locator('[data-testid="tables"] li[data-table="readings"]', { hasText: /version [1-9]/ }).waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="lag"] li[data-role="lake"]', { hasText: '0 records behind' }).waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="lag"] li[data-role="alerts"]', { hasText: '0 records behind' }).waitFor({ timeout: 30_000 });
  // Devices online of total: each site's one unit, online.
  assert.equal(await page.locator(`tr[data-site="${sites[0]}"] [data-field="devices"]`).textContent(), '1 of 1');
  await page.screenshot({ path: join(artifactsDir(), 'cloud-dashboard.png'), fullPage: true });

  // The site page: its unit with its latest values, its readings, its firing alert, the unit's
  // event; back to the fleet.
  const { deviceId, eoj, address } = aircon(0);
  await sendBatch(sites[0], [{ v: 1, siteId: sites[0], seq: 4, deviceId, eoj, address, ts: new Date().toISOString(), kind: 'event', event: { type: 'found' } }]);
  await page.getByRole('link', { name: 'Tokyo office' }).click();
  const sitePage = page.locator(`[data-testid="site-page"][data-site="${sites[0]}"]`);
  await sitePage.waitFor({ timeout: 10_000 });
  const unit = sitePage.locator(`table[data-testid="devices"] tr[data-device="${aircon(0).deviceId}"][data-state="online"]`);
  await unit.waitFor({ timeout: 10_000 });
  assert.match((await unit.locator('[data-field="values"]').textContent()) ?? '', /faultStatus true/);
  await sitePage.getByText('4 readings since start').waitFor({ timeout: 10_000 });
  await sitePage.locator(`[data-testid="site-events"] li[data-type="found"][data-device="${deviceId}"]`, { hasText: 'found' }).waitFor({ timeout: 10_000 });
  assert.equal(await sitePage.locator('table[data-testid="alerts"] tr[data-alert="aircon-fault"]').count(), 1);
  await page.screenshot({ path: join(artifactsDir(), 'cloud-site.png'), fullPage: true });
  await page.getByRole('link', { name: '← All sites' }).click();
  await page.locator('table[data-testid="sites"]').waitFor();

  // The filter keeps what matches; Japanese by the switch.
  await page.fill('[data-testid="filter"]', 'osaka');
  assert.equal(await page.locator('table[data-testid="sites"] tbody tr').count(), 1);
  await page.fill('[data-testid="filter"]', '');
  await page.selectOption('[data-testid="lang"]', 'ja');
  await page.getByRole('heading', { name: '発生中のアラート' }).waitFor();
  await page.screenshot({ path: join(artifactsDir(), 'cloud-dashboard-ja.png'), fullPage: true });

  // Silenced from the page (a change through the session: the page sends the CSRF header).
  await page.selectOption('[data-testid="lang"]', 'en');
  await page.getByRole('button', { name: `Silence aircon-fault at Tokyo office for an hour` }).click();
  await alertRow.and(page.locator('[data-silenced="true"]')).waitFor({ timeout: 20_000 });

  // The unit's fault clears: the alert resolves and shows among the recently resolved.
  await sendBatch(sites[0], [readingOf(sites[0], 5, false)]);
  await page.locator('table[data-testid="resolved"] tr', { hasText: 'aircon-fault' }).waitFor({ timeout: 60_000 });
  assert.equal(await alertRow.count(), 0, 'no longer firing');

  // Signing out ends the session: the page is the login form again.
  await page.click('header form button');
  await page.waitForURL(/\/login$/);
  assert.equal((await page.request.get(`${api}/api/v1/sites`)).status(), 401);
  assert.deepEqual(problems, []);
});
