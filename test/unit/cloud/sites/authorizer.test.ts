import assert from 'node:assert/strict';
import { randomBytes, scryptSync } from 'node:crypto';
import { test } from 'node:test';
import { siteClientId } from '../../../../shared/contract/client-ids.js';
import { SiteAuthorizer, type Identity } from '../../../../cloud/sites/authorizer.js';
import { StaticSiteRegistry, type Site } from '../../../../cloud/sites/registry.js';
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

/** A site whose secret is hashed with real scrypt at a low cost (N=1024), so a test can make many checks. */
function cheapSite(id: string, secret: string): Site {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, 32, { N: 1024, r: 8, p: 1 });
  const scrypt = ['scrypt', 1024, 8, 1, salt.toString('base64'), hash.toString('base64')].join('$');
  return { id, name: id, enabled: true, timeZone: 'UTC', thresholds: {}, secrets: [{ id: 's1', scrypt, createdAt: new Date().toISOString() }] };
}

test('a good site still gets in while an attacker hammers wrong secrets, which cost a bounded number of checks', async () => {
  const rules = new SiteAuthorizer(new StaticSiteRegistry([cheapSite('a', 'right-a'), cheapSite('b', 'right-b')]), cloud);
  const attacker = '192.0.2.66';
  // Waves of distinct wrong secrets for the very site the good one is, all at once, from one address.
  for (let wave = 0; wave < 5; wave += 1) {
    const attempts = Array.from({ length: 40 }, (_, i) => rules.authenticate('a', `guess-${wave}-${i}`, attacker));
    const good = await rules.authenticate('a', 'right-a', '198.51.100.10');
    const other = await rules.authenticate('b', 'right-b', '198.51.100.11');
    assert.deepEqual([good, other], [{ ok: true, identity: site('a') }, { ok: true, identity: site('b') }], `wave ${wave}`);
    const reasons = (await Promise.all(attempts)).map((result) => (result.ok ? 'ok' : result.reason));
    assert.equal(reasons.filter((reason) => reason === 'bad-secret').length, 2, 'the attacker\'s share: two checks');
    assert.equal(reasons.filter((reason) => reason === 'busy').length, 38);
  }
});

test('the same wrong secret again is refused without a check, also when every check slot is taken', async () => {
  const rules = new SiteAuthorizer(new StaticSiteRegistry([cheapSite('a', 'right-a'), cheapSite('b', 'right-b')]), cloud, {
    maxConcurrent: 1,
    maxWaiting: 0,
    maxPerSource: 1,
    wrongSecretTtlMs: 60_000,
    maxRememberedWrong: 100,
  });
  assert.equal((await rules.authenticate('a', 'old-secret', '192.0.2.1')).ok, false);
  const holding = rules.authenticate('b', 'right-b', '198.51.100.1');
  const again = await rules.authenticate('a', 'old-secret', '192.0.2.1');
  assert.equal(again.ok === false && again.reason, 'bad-secret', 'not busy: no check was needed');
  const fresh = await rules.authenticate('a', 'another-guess', '192.0.2.2');
  assert.equal(fresh.ok === false && fresh.reason, 'busy', 'a new secret needs the one slot, which is taken');
  assert.deepEqual(await holding, { ok: true, identity: site('b') });
});

test('a secret refused before a registry change is checked again after it (it may be the rotated one)', async () => {
  const a = cheapSite('a', 'old');
  let notify = (): void => undefined;
  const registry = { get: (id: string) => (id === 'a' ? a : undefined), list: () => [a], onChange: (listener: () => void) => ((notify = listener), () => undefined) };
  const rules = new SiteAuthorizer(registry, cloud);
  assert.equal((await rules.authenticate('a', 'new', '192.0.2.1')).ok, false, 'not yet in the registry');
  a.secrets = [...cheapSite('a', 'new').secrets, ...a.secrets];
  notify();
  assert.deepEqual(await rules.authenticate('a', 'new', '192.0.2.1'), { ok: true, identity: site('a') });
});
