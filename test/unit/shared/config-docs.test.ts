import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cloudConfigSchema } from '../../../cloud/config.js';
import { settingsTable, withSettingsTable } from '../../../shared/config-docs.js';

test('the README\'s cloud settings table is the one the schema makes (npm run docs:settings rewrites it)', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  assert.equal(withSettingsTable(readme, 'cloud', settingsTable(cloudConfigSchema, 'ECHOLAKE_CLOUD_')), readme);
});

test('every leaf setting gets a row with its path, default and variable', () => {
  const table = settingsTable(
    { type: 'object', properties: { mqtt: { type: 'object', properties: { maxPacketBytes: { type: 'integer', default: 5, description: 'a | b' }, password: { type: 'string' } } } } },
    'P_',
  );
  assert.match(table, /\| `mqtt.maxPacketBytes` \| `5` \| `P_MQTT__MAX_PACKET_BYTES` \| a \\\| b \|/);
  assert.match(table, /\| `mqtt.password` \| — \| `P_MQTT__PASSWORD` \|/);
});
