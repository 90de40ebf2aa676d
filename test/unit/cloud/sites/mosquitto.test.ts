import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mosquittoAclFile } from '../../../../cloud/sites/mosquitto.js';
import { testSite } from '../../../support/cloud-sites.js';

test('the ACL file gives the cloud every site\'s commands to write and each site its own commands to read and results to write', async () => {
  const acl = mosquittoAclFile({ sites: [await testSite('a'), await testSite('b'), await testSite('off', { enabled: false })] }, 'echolake-cloud');
  const sections = acl.split('\n\n');
  const [cloud, a, b] = sections;
  assert.equal(sections.length, 3, 'no section for the disabled site');
  assert.match(cloud ?? '', /^topic write echolake\/v1\/sites\/\+\/commands$/m);
  assert.match(cloud ?? '', /^topic read echolake\/v1\/sites\/\+\/command-results$/m);
  assert.doesNotMatch(cloud ?? '', /^topic (write|readwrite) echolake\/v1\/sites\/\+\/command-results$/m);
  assert.match(a ?? '', /^user a\ntopic write echolake\/v1\/sites\/a\/readings\ntopic write echolake\/v1\/sites\/a\/status\ntopic write echolake\/v1\/sites\/a\/command-results\ntopic read echolake\/v1\/sites\/a\/acks\ntopic read echolake\/v1\/sites\/a\/commands\n?$/);
  assert.doesNotMatch(a ?? '', /sites\/b\//, 'site a\'s rules name none of b\'s topics');
  assert.doesNotMatch(b ?? '', /topic (write|readwrite) echolake\/v1\/sites\/b\/commands/, 'a site never writes commands');
});
