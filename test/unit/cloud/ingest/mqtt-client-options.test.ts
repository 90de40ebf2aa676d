import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MqttConfig } from '../../../../cloud/ingest/config.js';
import { cloudMqttClientOptions } from '../../../../cloud/ingest/mqtt-client-options.js';

const credentials = { username: 'echolake-cloud', password: 's3cret', clientId: 'echolake-cloud-abc' };

function mqttConfig(overrides: Partial<MqttConfig>): MqttConfig {
  return {
    url: 'mqtt://127.0.0.1:1883',
    protocolVersion: 5,
    clientId: '',
    sharedGroup: 'echolake-ingest',
    username: 'echolake-cloud',
    tls: {},
    maxPacketBytes: 1_048_576,
    ...overrides,
  };
}

test('an MQTT 5 session asks for its expiry and the largest packet it takes', () => {
  const options = cloudMqttClientOptions(mqttConfig({}), credentials, { clientId: 'x-commands', expirySeconds: 3600 });
  assert.equal(options.clientId, 'x-commands');
  assert.equal(options.clean, false);
  assert.deepEqual(options.properties, { sessionExpiryInterval: 3600, maximumPacketSize: 1_048_576 });
  assert.equal(options.password, 's3cret');
  assert.equal(options.rejectUnauthorized, true);
});

test('an MQTT 3.1.1 session sends no MQTT 5 properties', () => {
  const options = cloudMqttClientOptions(mqttConfig({ protocolVersion: 4 }), credentials, { clientId: 'x', expirySeconds: 600 });
  assert.equal(options.protocolVersion, 4);
  assert.equal(options.properties, undefined);
});

test('TLS files named in the config are read, and only those', () => {
  const dir = mkdtempSync(join(tmpdir(), 'echolake-mqtt-tls-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  const options = cloudMqttClientOptions(mqttConfig({ tls: { caFile: join(dir, 'ca.pem') } }), credentials, { clientId: 'x', expirySeconds: 600 });
  assert.equal(String(options.ca), 'CA');
  assert.equal(options.cert, undefined);
  assert.equal(options.key, undefined);
});
