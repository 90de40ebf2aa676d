import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCloudConfig, plainTextWarnings } from '../../../cloud/config.js';
import { ConfigError } from '../../../shared/config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadCloudConfig(undefined, env);
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, not ${String(err)}`);
    return err.problems;
  }
}

test('the embedded broker with MQTT 5 or a shared group is refused, naming the setting and its variable', () => {
  const problems = problemsOf({ ECHOLAKE_CLOUD_BROKER__ENABLED: 'true' }).join('\n');
  assert.match(problems, /embedded broker speaks MQTT 3\.1\.1 only: set mqtt\.protocolVersion to 4 \(ECHOLAKE_CLOUD_MQTT__PROTOCOL_VERSION=4\)/);
  assert.match(problems, /no shared subscriptions: set mqtt\.sharedGroup to ''/);
});

test('the embedded broker with 3.1.1 and a plain subscription is fine', () => {
  const env = { ECHOLAKE_CLOUD_BROKER__ENABLED: 'true', ECHOLAKE_CLOUD_MQTT__PROTOCOL_VERSION: '4', ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: '' };
  assert.deepEqual(problemsOf(env), []);
});

test('a broker-only process (no ingest, no commands) needs neither', () => {
  assert.deepEqual(problemsOf({ ECHOLAKE_CLOUD_BROKER__ENABLED: 'true', ECHOLAKE_CLOUD_ROLES__INGEST: 'false' }), []);
});

test('secrets in clear are warned about: the cloud password over mqtt:// to another host, an embedded broker without TLS off loopback', () => {
  const remote = loadCloudConfig(undefined, { ECHOLAKE_CLOUD_MQTT__URL: 'mqtt://broker.example:1883' });
  assert.match(plainTextWarnings(remote).join('\n'), /password goes over plain mqtt:\/\/ to broker\.example: use mqtts:\/\//);
  const exposed = loadCloudConfig(undefined, {
    ECHOLAKE_CLOUD_ROLES__INGEST: 'false',
    ECHOLAKE_CLOUD_BROKER__ENABLED: 'true',
    ECHOLAKE_CLOUD_BROKER__HOST: '0.0.0.0',
  });
  assert.match(plainTextWarnings(exposed).join('\n'), /embedded broker listens on 0\.0\.0\.0 without TLS/);
  assert.deepEqual(plainTextWarnings(loadCloudConfig(undefined, {})), [], 'the loopback defaults warn of nothing');
  assert.deepEqual(plainTextWarnings(loadCloudConfig(undefined, { ECHOLAKE_CLOUD_MQTT__URL: 'mqtts://broker.example:8883' })), []);
});
