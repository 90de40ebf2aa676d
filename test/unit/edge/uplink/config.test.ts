// The uplink section of edge/config.ts: the new settings, their defaults, and what must agree.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadEdgeConfig } from '../../../../edge/config.js';
import { ConfigError } from '../../../../shared/config.js';

const dir = mkdtempSync(join(tmpdir(), 'echolake-uplink-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = (text: string) => {
  const path = join(dir, `file-${(files += 1)}`);
  writeFileSync(path, text);
  return path;
};
const base = 'siteId: site-a\nechonet:\n  interface: 127.0.0.1\n';

function problems(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, not ${String(err)}`);
    return err.problems.join('\n');
  }
  assert.fail('the configuration was accepted');
}

test('an https:// URL, the password from a file, and the new bounds with their defaults', () => {
  const secret = file('s3cret\n');
  const config = loadEdgeConfig(file(`${base}uplink:\n  url: https://cloud.example/ingest\n  username: site-a\n  passwordFile: ${secret}\n`), {});
  assert.equal(config.uplink.url, 'https://cloud.example/ingest');
  assert.equal(config.uplink.passwordFile, secret);
  assert.equal(config.uplink.ackTimeoutMs, 15_000);
  assert.equal(config.uplink.ackTimeoutMaxMs, 120_000);
  assert.equal(config.uplink.maxIncomingBytes, 65_536);
});

test('a password file the service cannot read, both password and passwordFile, an https:// URL without a secret, and an inverted ack timeout are refused with the fix', () => {
  const unreadable = problems(() => loadEdgeConfig(file(`${base}uplink:\n  url: mqtts://a:8883\n  passwordFile: /nonexistent/uplink.password\n`), {}));
  assert.match(unreadable, /uplink\.passwordFile: cannot read \/nonexistent\/uplink.password \(ENOENT\).*LoadCredential=/);
  const both = problems(() => loadEdgeConfig(file(`${base}uplink:\n  url: mqtts://a:8883\n  password: x\n  passwordFile: ${file('x')}\n`), {}));
  assert.match(both, /uplink\.password and uplink\.passwordFile are both set: keep passwordFile/);
  const noSecret = problems(() => loadEdgeConfig(file(`${base}uplink:\n  url: https://cloud.example\n`), {}));
  assert.match(noSecret, /uplink\.url is https:\/\/: the cloud wants the site secret as bearer token; set uplink\.passwordFile/);
  const inverted = problems(() => loadEdgeConfig(file(`${base}uplink:\n  url: mqtt://a:1883\n  ackTimeoutMs: 200000\n`), {}));
  assert.match(inverted, /uplink\.ackTimeoutMs \(200000\) is above uplink\.ackTimeoutMaxMs \(120000\)/);
  const plainHttp = problems(() => loadEdgeConfig(file(`${base}uplink:\n  url: http://cloud.example\n  password: x\n`), {}));
  assert.match(plainHttp, /uplink\.url/, 'no bearer secret over plain http://');
  const tooBig = problems(() => loadEdgeConfig(file(`${base}uplink:\n  url: mqtts://a:8883\n  maxIncomingBytes: 67108864\n`), {}));
  assert.match(tooBig, /uplink\.maxIncomingBytes/);
});
