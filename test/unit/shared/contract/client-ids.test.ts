import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSiteClientId, siteClientId } from '../../../../shared/contract/client-ids.js';

test("an edge with a secret connects under an id no other site can guess, the same at every start", () => {
  const id = siteClientId('site-a', 'secret-1');
  assert.match(id, /^echolake-edge-site-a\.[0-9a-f]{16}$/);
  assert.equal(siteClientId('site-a', 'secret-1'), id, 'stable, so the persistent session survives a restart');
  assert.notEqual(siteClientId('site-a', 'secret-2'), id, 'a rotated secret gives a new id');
  assert.notEqual(siteClientId('site-b', 'secret-1'), id.replace('site-a', 'site-b'), 'the tag binds the site id too');
  assert.equal(isSiteClientId('site-a', id), true);
});

test('without a secret (an open test broker) the id is the plain one', () => {
  assert.equal(siteClientId('site-a', undefined), 'echolake-edge-site-a');
  assert.equal(siteClientId('site-a', ''), 'echolake-edge-site-a');
});

test("a site's ids never reach another site's, whatever the ids hold", () => {
  assert.equal(isSiteClientId('a', 'echolake-edge-a'), true);
  assert.equal(isSiteClientId('a', 'echolake-edge-a-b'), false);
  assert.equal(isSiteClientId('a', 'echolake-edge-a-b.tag'), false);
  assert.equal(isSiteClientId('a-b', 'echolake-edge-a.b'), false);
  assert.equal(isSiteClientId('a', 'echolake-edge-a.'), false);
  assert.equal(isSiteClientId('a', 'echolake-cloud-ingest'), false);
});
