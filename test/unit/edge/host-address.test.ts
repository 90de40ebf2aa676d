import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { mock, test } from 'node:test';
import { AddressGate, addressProblems, hostAddresses, isHostAddress, type BoundAddress } from '../../../edge/host-address.js';
import { capturingLogger } from '../../support/api-fakes.js';

const bound: BoundAddress = { field: 'echonet.interface', variable: 'ECHOLAKE_EDGE_ECHONET__INTERFACE', address: '192.0.2.10', binder: 'the ECHONET Lite transport' };

test('the host\'s own addresses are what os.networkInterfaces() lists; wildcards and localhost need none', () => {
  const listed = Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).map((e) => e.address));
  assert.deepEqual(hostAddresses(), listed);
  assert.ok(isHostAddress('127.0.0.1', hostAddresses()), 'loopback is on every host');
  assert.equal(isHostAddress('192.0.2.10', ['127.0.0.1', '10.0.0.2']), false);
  assert.ok(isHostAddress('0.0.0.0', ['127.0.0.1']));
  assert.ok(isHostAddress('::', []));
  assert.ok(isHostAddress('[FE80::1]', ['fe80::1']), 'IPv6 in brackets and any case');
  assert.ok(isHostAddress('192.0.2.10', undefined), 'a host whose addresses cannot be listed cannot say no: binding will tell');
});

test('--check-config\'s problem names the field, the address, the host\'s addresses and the fix', () => {
  const [problem, ...more] = addressProblems([bound, { ...bound, field: 'api.host', variable: 'ECHOLAKE_EDGE_API__HOST', address: '10.0.0.2' }], ['127.0.0.1', '10.0.0.2']);
  assert.equal(more.length, 0, 'api.host 10.0.0.2 is on the host');
  assert.match(problem ?? '', /^echonet\.interface: 192\.0\.2\.10 is not an address of this host \(its addresses: 127\.0\.0\.1, 10\.0\.0\.2\)/);
  assert.match(problem ?? '', /set echonet\.interface \(ECHOLAKE_EDGE_ECHONET__INTERFACE\) to this gateway's own address/);
  assert.match(problem ?? '', /the edge starts anyway and binds the ECHONET Lite transport once it appears/);
  assert.deepEqual(addressProblems([bound], ['192.0.2.10']), []);
});

/** A part that records its start and stop. */
function recordingPart(): { part: { name: string; start(): void; stop(): void }; calls: string[] } {
  const calls: string[] = [];
  return { calls, part: { name: 'echonet', start: () => void calls.push('start'), stop: () => void calls.push('stop') } };
}

test('an address already there: the part starts within start(), nothing is waited for', async () => {
  const { part, calls } = recordingPart();
  const gate = new AddressGate({ bound, part, onFailure: assert.fail, log: capturingLogger().logger, addresses: () => ['192.0.2.10'] });
  await gate.start();
  assert.deepEqual(calls, ['start']);
  assert.equal(gate.waitingFor(), undefined);
  await gate.stop();
  assert.deepEqual(calls, ['start', 'stop']);
});

test('an address not yet there: start() returns, the wait is said (status, a log line a minute), the part starts when it appears', async (t) => {
  mock.timers.enable({ apis: ['setInterval', 'Date'] });
  t.after(() => mock.timers.reset());
  const { part, calls } = recordingPart();
  const { logger, lines } = capturingLogger();
  let addresses = ['127.0.0.1'];
  const gate = new AddressGate({ bound, part, onFailure: assert.fail, log: logger, addresses: () => addresses });
  await gate.start();
  assert.deepEqual(calls, [], 'nothing binds an address the host does not have');
  assert.match(gate.waitingFor() ?? '', /^echonet\.interface 192\.0\.2\.10 is not an address of this host yet: the ECHONET Lite transport binds it once it appears/);
  const waits = (): number => lines.filter((l) => l.msg.startsWith('waiting for echonet.interface 192.0.2.10')).length;
  assert.equal(waits(), 1, 'said at once');

  mock.timers.tick(59_000);
  assert.equal(waits(), 1, 'not once a second');
  mock.timers.tick(1_000);
  assert.equal(waits(), 2, 'once a minute');
  assert.match(gate.waitingFor() ?? '', /waiting 60 s/);
  for (let second = 0; second < 180; second += 1) mock.timers.tick(1_000);
  assert.equal(waits(), 5);

  addresses = ['127.0.0.1', '192.0.2.10'];
  mock.timers.tick(1_000);
  await Promise.resolve();
  assert.deepEqual(calls, ['start'], 'bound within a second of the address appearing');
  assert.equal(gate.waitingFor(), undefined);
  assert.ok(lines.some((l) => l.msg === 'echonet.interface 192.0.2.10 appeared on this host; binding' && l.waitedSeconds === 241));
  mock.timers.tick(120_000);
  assert.equal(waits(), 5, 'no more wait lines once bound');
  await gate.stop();
  assert.deepEqual(calls, ['start', 'stop']);
});

test('a gate told another logs the wait for its address stays quiet, but still says what it waits for', async () => {
  const { part } = recordingPart();
  const { logger, lines } = capturingLogger();
  const gate = new AddressGate({ bound, part, onFailure: assert.fail, log: logger, addresses: () => [], logWait: false });
  await gate.start();
  assert.deepEqual(lines, []);
  assert.notEqual(gate.waitingFor(), undefined);
  await gate.stop();
});

test('stopped while waiting: the part is never started nor stopped', async (t) => {
  mock.timers.enable({ apis: ['setInterval'] });
  t.after(() => mock.timers.reset());
  const { part, calls } = recordingPart();
  let addresses: string[] = [];
  const gate = new AddressGate({ bound, part, onFailure: assert.fail, log: capturingLogger().logger, addresses: () => addresses });
  await gate.start();
  await gate.stop();
  addresses = ['192.0.2.10'];
  mock.timers.tick(5_000);
  assert.deepEqual(calls, []);
});

test('a part that fails to start after the wait asks for the orderly stop', async (t) => {
  mock.timers.enable({ apis: ['setInterval'] });
  t.after(() => mock.timers.reset());
  let addresses: string[] = [];
  const failures: Error[] = [];
  const part = { name: 'echonet', start: () => Promise.reject(new Error('bind EADDRINUSE 192.0.2.10:3610')), stop: () => assert.fail('never started') };
  const gate = new AddressGate({ bound, part, onFailure: (err) => failures.push(err), log: capturingLogger().logger, addresses: () => addresses });
  await gate.start();
  addresses = ['192.0.2.10'];
  mock.timers.tick(1_000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(failures.length, 1);
  assert.match(failures[0]?.message ?? '', /EADDRINUSE/);
  await gate.stop();
});
