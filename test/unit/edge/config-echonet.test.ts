/** The edge's ECHONET Lite settings: addresses that would let multicast choose its own way out are refused at start. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadEdgeConfig } from '../../../edge/config.js';
import { ConfigError } from '../../../shared/config.js';

const REQUIRED = { ECHOLAKE_EDGE_SITE_ID: 'site-a', ECHOLAKE_EDGE_UPLINK__URL: 'mqtt://broker:1883' };

function problemsWith(overrides: string[]): string[] {
  try {
    loadEdgeConfig(undefined, REQUIRED, overrides);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems;
  }
  return [];
}

test('echonet.interface 0.0.0.0 is refused, naming the field and what to set instead', () => {
  const [problem, ...others] = problemsWith(['echonet.interface=0.0.0.0']);
  assert.deepEqual(others, []);
  assert.match(problem ?? '', /^echonet\.interface: must match pattern .*\(this gateway's own IPv4 address on the aircons' LAN \(`ip -4 addr` shows it\), not 0\.0\.0\.0;/);
});

test('a static address of 0.0.0.0 is refused; real addresses pass', () => {
  assert.match(problemsWith(['echonet.interface=192.168.1.10', 'echonet.staticAddresses=192.168.1.20,0.0.0.0']).join('\n'), /^echonet\.staticAddresses\.1: must match pattern .*not 0\.0\.0\.0/);
  assert.deepEqual(problemsWith(['echonet.interface=10.0.0.1', 'echonet.staticAddresses=10.0.0.2,10.0.0.30']), []);
  assert.deepEqual(problemsWith(['echonet.interface=192.168.1.10']), []);
});
