import assert from 'node:assert/strict';
import { test } from 'node:test';
import { siteClientId } from '../../../../shared/contract/client-ids.js';
import { SiteAuthorizer, type Identity } from '../../../../cloud/sites/authorizer.js';
import { StaticSiteRegistry } from '../../../../cloud/sites/registry.js';
import { testSecret, testSite } from '../../../support/cloud-sites.js';

const cloud = { username: 'echolake-cloud', password: 'cloud-pw' };
const site = (siteId: string): Identity => ({ kind: 'site', siteId });
const CLOUD: Identity = { kind: 'cloud' };

async function authorizer(): Promise<SiteAuthorizer> {
  return new SiteAuthorizer(new StaticSiteRegistry([await testSite('a'), await testSite('b'), await testSite('off', { enabled: false })]), cloud);
}

test('sites and the cloud authenticate; strangers, wrong secrets and disabled sites do not', async () => {
  const rules = await authorizer();
  assert.deepEqual(await rules.authenticate('a', testSecret('a')), { ok: true, identity: site('a') });
  assert.deepEqual(await rules.authenticate('a', testSecret('a')), { ok: true, identity: site('a') }, 'again, from the cache');
  assert.deepEqual(await rules.authenticate('echolake-cloud', 'cloud-pw'), { ok: true, identity: CLOUD });
  assert.equal((await rules.authenticate('a', testSecret('b'))).ok, false);
  assert.deepEqual(await rules.authenticate('nobody', 'x'), { ok: false, reason: 'unknown-user', detail: 'no site "nobody" in the registry' });
  assert.equal((await rules.authenticate('off', testSecret('off'))).ok, false);
  const refused = await rules.authenticate('off', testSecret('off'));
  assert.equal(refused.ok === false && refused.reason, 'site-disabled');
  assert.equal((await rules.authenticate('echolake-cloud', 'guess')).ok, false);
});

test('a site publishes only its own readings and status, and subscribes only to its own acks', async () => {
  const rules = await authorizer();
  assert.deepEqual(rules.publish(site('a'), 'echolake/v1/sites/a/readings'), { ok: true });
  assert.deepEqual(rules.publish(site('a'), 'echolake/v1/sites/a/status'), { ok: true });
  assert.equal(rules.publish(site('a'), 'echolake/v1/sites/b/readings').ok, false);
  assert.equal(rules.publish(site('a'), 'echolake/v1/sites/a/acks').ok, false, 'no forged acks');
  assert.equal(rules.publish(site('a'), 'anything/else').ok, false);
  assert.deepEqual(rules.subscribe(site('a'), 'echolake/v1/sites/a/acks'), { ok: true });
  for (const filter of ['#', 'echolake/v1/sites/+/acks', 'echolake/v1/sites/b/acks', 'echolake/v1/sites/a/#', 'echolake/v1/sites/a/readings', '$share/x/echolake/v1/sites/a/acks']) {
    assert.equal(rules.subscribe(site('a'), filter).ok, false, filter);
  }
});

test('only the cloud publishes acks, and it reads only what sites publish', async () => {
  const rules = await authorizer();
  assert.deepEqual(rules.publish(CLOUD, 'echolake/v1/sites/a/acks'), { ok: true });
  assert.equal(rules.publish(CLOUD, 'echolake/v1/sites/a/readings').ok, false);
  assert.deepEqual(rules.subscribe(CLOUD, '$share/ingest/echolake/v1/sites/+/readings'), { ok: true });
  assert.deepEqual(rules.subscribe(CLOUD, 'echolake/v1/sites/+/status'), { ok: true });
  assert.equal(rules.subscribe(CLOUD, '#').ok, false);
  assert.equal(rules.subscribe(CLOUD, 'echolake/v1/sites/+/acks').ok, false);
});

test('commands: only the cloud publishes them, only their site receives them, and a site reports results for itself only', async () => {
  const rules = await authorizer();
  assert.deepEqual(rules.publish(CLOUD, 'echolake/v1/sites/a/commands'), { ok: true });
  assert.equal(rules.publish(site('a'), 'echolake/v1/sites/a/commands').ok, false, 'a site cannot command itself');
  assert.equal(rules.publish(site('a'), 'echolake/v1/sites/b/commands').ok, false, 'nor another site');
  assert.deepEqual(rules.subscribe(site('a'), 'echolake/v1/sites/a/commands'), { ok: true });
  for (const filter of ['echolake/v1/sites/b/commands', 'echolake/v1/sites/+/commands', '$share/x/echolake/v1/sites/b/commands']) {
    assert.equal(rules.subscribe(site('a'), filter).ok, false, filter);
  }
  assert.deepEqual(rules.publish(site('a'), 'echolake/v1/sites/a/command-results'), { ok: true });
  const forged = rules.publish(site('a'), 'echolake/v1/sites/b/command-results');
  assert.equal(forged.ok === false && forged.reason, 'foreign-topic', 'no results for another site');
  assert.equal(rules.publish(CLOUD, 'echolake/v1/sites/a/command-results').ok, false, 'the cloud does not forge results');
  assert.deepEqual(rules.subscribe(CLOUD, 'echolake/v1/sites/+/command-results'), { ok: true });
  assert.equal(rules.subscribe(CLOUD, 'echolake/v1/sites/+/commands').ok, false);
});

test('client ids: a site cannot take the cloud\'s session or another site\'s', async () => {
  const rules = await authorizer();
  assert.deepEqual(rules.clientId(site('a'), 'echolake-edge-a'), { ok: true });
  assert.deepEqual(rules.clientId(site('a'), 'echolake-edge-a.bench'), { ok: true });
  assert.deepEqual(rules.clientId(site('a'), siteClientId('a', 'its-secret')), { ok: true });
  assert.equal(rules.clientId(site('a'), 'echolake-edge-ab').ok, false);
  // Site ids may hold '-': site a must never reach an id of site a-b, whose session it would take over.
  assert.equal(rules.clientId(site('a'), 'echolake-edge-a-b').ok, false);
  assert.equal(rules.clientId(site('a'), 'echolake-edge-a-b.x').ok, false);
  assert.equal(rules.clientId(site('a'), 'echolake-edge-a.').ok, false);
  assert.equal(rules.clientId(site('a'), 'echolake-edge-b').ok, false);
  assert.equal(rules.clientId(site('a'), 'echolake-cloud-ingest-host').ok, false);
  assert.deepEqual(rules.clientId(CLOUD, 'echolake-cloud-ingest-host'), { ok: true });
});

test('a site disabled after it connected can publish no more', async () => {
  const a = await testSite('a');
  const registry = new StaticSiteRegistry([a]);
  const rules = new SiteAuthorizer(registry, cloud);
  assert.deepEqual(rules.publish(site('a'), 'echolake/v1/sites/a/readings'), { ok: true });
  a.enabled = false;
  assert.equal(rules.publish(site('a'), 'echolake/v1/sites/a/readings').ok, false);
});
