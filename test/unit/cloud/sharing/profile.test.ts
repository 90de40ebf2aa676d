import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCloudConfig, type CloudConfig } from '../../../../cloud/config.js';
import { sharingEndpoint, sharingProfile } from '../../../../cloud/sharing/profile.js';

const base = loadCloudConfig(undefined, {});
const withApi = (api: Partial<CloudConfig['api']>, sharing: Partial<CloudConfig['sharing']> = {}): CloudConfig => ({ ...base, api: { ...base.api, ...api }, sharing: { ...base.sharing, ...sharing } });

test('the profile file has exactly the protocol\'s four fields', () => {
  const expiresAt = new Date('2027-01-01T00:00:00Z');
  assert.deepEqual(sharingProfile('https://lake.example.com/delta-sharing', 'tok', expiresAt), {
    shareCredentialsVersion: 1,
    endpoint: 'https://lake.example.com/delta-sharing',
    bearerToken: 'tok',
    expirationTime: '2027-01-01T00:00:00.000Z',
  });
});

test('the endpoint is publicUrl + prefix, else the API\'s own address; a wildcard address needs publicUrl', () => {
  assert.equal(sharingEndpoint(withApi({}, { publicUrl: 'https://lake.example.com' })), 'https://lake.example.com/delta-sharing');
  assert.equal(sharingEndpoint(withApi({ host: '10.0.0.5', port: 8443 })), 'http://10.0.0.5:8443/delta-sharing');
  assert.equal(sharingEndpoint(withApi({ host: '::1', port: 9000, tls: { certFile: 'c', keyFile: 'k' } }, { prefix: '/share' })), 'https://[::1]:9000/share');
  assert.throws(() => sharingEndpoint(withApi({ host: '0.0.0.0' })), /set sharing.publicUrl/);
});

test('the sharing role is off by default and its shares are checked for repeated names', () => {
  assert.equal(base.roles.sharing, false);
  assert.deepEqual(base.sharing.shares.map((share) => share.name), ['echolake']);
  const file = join(mkdtempSync(join(tmpdir(), 'echolake-sharing-config-')), 'cloud.yaml');
  writeFileSync(file, 'sharing:\n  shares:\n    - {name: a, schemas: []}\n    - {name: A, schemas: []}\n');
  assert.throws(() => loadCloudConfig(file, {}), /share A is listed twice/);
});
