import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadCloudConfig } from '../../../cloud/config.js';
import { loadEdgeConfig } from '../../../edge/config.js';
import { ConfigError } from '../../../shared/config.js';
import { parseCommandLine } from '../../../shared/lifecycle.js';

const dir = mkdtempSync(join(tmpdir(), 'echolake-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = (text: string) => {
  const path = join(dir, `config-${(files += 1)}.yaml`);
  writeFileSync(path, text);
  return path;
};

test('defaults fill what the file leaves out', () => {
  const config = loadCloudConfig(file('lake:\n  root: /data/lake\n'), {});
  assert.equal(config.lake.root, '/data/lake');
  assert.equal(config.lake.maxRecords, 250000);
  assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']);
  assert.equal(config.roles.ingest, true);
});

test('environment overrides the file, by path, with types coerced', () => {
  const config = loadCloudConfig(file('kafka:\n  brokers: [a:1]\n'), {
    ECHOLAKE_CLOUD_KAFKA__BROKERS: 'k1:9092, k2:9092',
    ECHOLAKE_CLOUD_LAKE__MAX_RECORDS: '42',
    ECHOLAKE_CLOUD_ROLES__INGEST: 'false',
    ECHOLAKE_CLOUD_BROKER__PORT: '1999',
  });
  assert.deepEqual(config.kafka.brokers, ['k1:9092', 'k2:9092']);
  assert.equal(config.lake.maxRecords, 42);
  assert.equal(config.roles.ingest, false);
  assert.equal(config.broker.port, 1999);
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

test('--set overrides the file and the environment, by the path the file uses', () => {
  const config = loadEdgeConfig(
    file('siteId: site-a\nechonet:\n  interface: 127.0.0.1\nuplink:\n  url: mqtt://file:1883\n  batchMaxReadings: 100\n'),
    { ECHOLAKE_EDGE_UPLINK__URL: 'mqtt://env:1883', ECHOLAKE_EDGE_UPLINK__BATCH_MAX_READINGS: '200' },
    ['uplink.url=mqtts://flag:8883', 'echonet.staticAddresses=10.0.0.5, 10.0.0.6'],
  );
  assert.equal(config.uplink.url, 'mqtts://flag:8883');
  assert.equal(config.uplink.batchMaxReadings, 200, 'the environment still wins over the file');
  assert.deepEqual(config.echonet.staticAddresses, ['10.0.0.5', '10.0.0.6']);
});

test('a --set that names no setting, or has no value, is refused with the fix', () => {
  const error = captureConfigError(() => loadEdgeConfig(file('siteId: site-a\n'), {}, ['uplink.uri=mqtt://x:1', 'uplink.url']));
  assert.match(error.problems[0] ?? '', /--set uplink\.uri=mqtt:\/\/x:1: uplink\.uri is not a setting; check its spelling/);
  assert.match(error.problems[1] ?? '', /--set uplink\.url: expected path=value/);
});

test('an environment variable with the prefix that names no setting is refused, not ignored', () => {
  const error = captureConfigError(() =>
    loadEdgeConfig(file('siteId: site-a\nechonet:\n  interface: 127.0.0.1\nuplink:\n  url: mqtt://a:1\n'), { ECHOLAKE_EDGE_UPLNK__URL: 'mqtt://b:1' }),
  );
  assert.match(error.problems[0] ?? '', /ECHOLAKE_EDGE_UPLNK__URL: names no setting; check its spelling/);
});

test('uplink settings that must agree, and TLS files the service cannot read, are refused with the fix', () => {
  const pem = file('-----BEGIN CERTIFICATE-----\n');
  const base = 'siteId: site-a\nechonet:\n  interface: 127.0.0.1\n';
  const tlsOverPlain = captureConfigError(() => loadEdgeConfig(file(`${base}uplink:\n  url: mqtt://a:1883\n  tls:\n    caFile: ${pem}\n`), {}));
  assert.match(tlsOverPlain.problems.join('\n'), /uplink\.tls: set, but uplink\.url is mqtt:\/\/ \(no TLS\); use mqtts:\/\//);
  const halfPair = captureConfigError(() => loadEdgeConfig(file(`${base}uplink:\n  url: mqtts://a:8883\n  tls:\n    certFile: ${pem}\n`), {}));
  assert.match(halfPair.problems.join('\n'), /certFile and uplink\.tls\.keyFile go together/);
  const missing = captureConfigError(() => loadEdgeConfig(file(`${base}uplink:\n  url: mqtts://a:8883\n  tls:\n    caFile: /nonexistent/ca.pem\n`), {}));
  assert.match(missing.problems.join('\n'), /uplink\.tls\.caFile: cannot read \/nonexistent\/ca\.pem \(ENOENT\).*LoadCredential=/);
  const backoff = captureConfigError(() =>
    loadEdgeConfig(file(`${base}uplink:\n  url: mqtt://a:1883\n  reconnectMinMs: 90000\n`), {}),
  );
  assert.match(backoff.problems.join('\n'), /uplink\.reconnectMinMs \(90000\) is above uplink\.reconnectMaxMs \(60000\)/);
  const good = loadEdgeConfig(file(`${base}uplink:\n  url: mqtts://a:8883\n  tls:\n    caFile: ${pem}\n    certFile: ${pem}\n    keyFile: ${pem}\n`), {});
  assert.equal(good.uplink.tls?.keyFile, pem);
});

test('the command line refuses flags it does not know instead of ignoring them', () => {
  assert.deepEqual(parseCommandLine(['--config', 'a.yaml', '--set', 'x=1', '--set', 'y=2']), { action: 'run', file: 'a.yaml', overrides: ['x=1', 'y=2'] });
  assert.deepEqual(parseCommandLine(['--check-config', 'a.yaml']), { action: 'check', file: 'a.yaml', overrides: [] });
  assert.match(captureConfigError(() => parseCommandLine(['--confg', 'a.yaml'])).message, /command line: Unknown option '--confg'.*usage:/);
  assert.match(captureConfigError(() => parseCommandLine(['--config', 'a', '--check-config', 'b'])).message, /exclude each other/);
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
