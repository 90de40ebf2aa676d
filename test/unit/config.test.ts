import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCloudConfig } from '../../cloud/config.js';
import { ConfigError } from '../../shared/config.js';

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'echolake-config-')), 'cloud.yaml');
  writeFileSync(path, text);
  return path;
};

test('defaults fill what the file leaves out', () => {
  const config = loadCloudConfig(file('lake:\n  root: /data/lake\n'), {});
  assert.equal(config.lake.root, '/data/lake');
  assert.equal(config.lake.maxRecords, 5000);
  assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']);
  assert.equal(config.roles.ingest, true);
});

test('environment overrides the file, by path, with types coerced', () => {
  const config = loadCloudConfig(file('kafka:\n  brokers: [a:1]\n'), {
    ECHOLAKE_CLOUD_KAFKA__BROKERS: 'k1:9092, k2:9092',
    ECHOLAKE_CLOUD_LAKE__MAX_RECORDS: '42',
    ECHOLAKE_CLOUD_ROLES__INGEST: 'false',
    ECHOLAKE_CLOUD_MQTT__EMBEDDED__PORT: '1999',
  });
  assert.deepEqual(config.kafka.brokers, ['k1:9092', 'k2:9092']);
  assert.equal(config.lake.maxRecords, 42);
  assert.equal(config.roles.ingest, false);
  assert.equal(config.mqtt.embedded.port, 1999);
});

test('every problem names its field and the fix', () => {
  const error = captureConfigError(() =>
    loadCloudConfig(file('lake:\n  maxRecords: 0\n  rooot: x\nkafka:\n  brokers: [nohostport]\n'), {}),
  );
  const text = error.problems.join('\n');
  assert.match(text, /lake\.maxRecords: must be >= 1/);
  assert.match(text, /lake\.rooot: unknown setting; remove it or check its spelling/);
  assert.match(text, /kafka\.brokers\.0: must match pattern/);
});

test('an unreadable file is a config error naming the path', () => {
  const error = captureConfigError(() => loadCloudConfig('/nonexistent/cloud.yaml', {}));
  assert.match(error.message, /cannot read config file \/nonexistent\/cloud\.yaml/);
});

function captureConfigError(action: () => unknown): ConfigError {
  try {
    action();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}
