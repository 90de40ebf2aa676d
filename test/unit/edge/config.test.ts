import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadEdgeConfig } from '../../../edge/config.js';
import { ConfigError } from '../../../shared/config.js';

const base = { ECHOLAKE_EDGE_SITE_ID: 'plant-7', ECHOLAKE_EDGE_ECHONET__INTERFACE: '192.0.2.10', ECHOLAKE_EDGE_UPLINK__URL: 'mqtts://cloud.example:8883' };

test('out-of-range numbers and empty lists from the environment are refused like any other bad value', () => {
  const refused = (env: Record<string, string>, why: RegExp): void => {
    assert.throws(
      () => loadEdgeConfig(undefined, { ...base, ...env }),
      (error: unknown) => error instanceof ConfigError && why.test(error.message),
      JSON.stringify(env),
    );
  };
  refused({ ECHOLAKE_EDGE_BUFFER__MAX_BYTES: '1e99' }, /buffer\.maxBytes: must be <= 1099511627776/);
  refused({ ECHOLAKE_EDGE_ECHONET__STATIC_ADDRESSES: ',,,' }, /echonet\.staticAddresses/);
  refused({ ECHOLAKE_EDGE_API__HOST: 'not-a-host' }, /api\.host: must match pattern/);
  assert.equal(loadEdgeConfig(undefined, { ...base, ECHOLAKE_EDGE_API__HOST: '::1' }).api.host, '::1');
  assert.equal(loadEdgeConfig(undefined, base).echonet.sendDeviceEvents, true, 'device events go to the cloud by default: its lake stores them');
  assert.equal(loadEdgeConfig(undefined, { ...base, ECHOLAKE_EDGE_ECHONET__SEND_DEVICE_EVENTS: 'false' }).echonet.sendDeviceEvents, false);
});
