import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyLinkError, linkFailure } from '../../../../edge/uplink/link-failure.js';

const errorWith = (code: string | number, message = 'failed'): Error & { code: string | number } => Object.assign(new Error(message), { code });

test('connection errors are told apart by what the technician must check', () => {
  assert.equal(classifyLinkError(errorWith('ENOTFOUND', 'getaddrinfo ENOTFOUND cloud.example')), 'dns');
  assert.equal(classifyLinkError(errorWith('EAI_AGAIN')), 'dns');
  assert.equal(classifyLinkError(errorWith('ECONNREFUSED')), 'refused');
  assert.equal(classifyLinkError(errorWith('EHOSTUNREACH')), 'no_route');
  assert.equal(classifyLinkError(errorWith('ENETUNREACH')), 'no_route');
  assert.equal(classifyLinkError(errorWith('ETIMEDOUT')), 'timeout');
  assert.equal(classifyLinkError(errorWith('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')), 'tls');
  assert.equal(classifyLinkError(errorWith('ERR_TLS_CERT_ALTNAME_INVALID')), 'tls');
  assert.equal(classifyLinkError(errorWith(4, 'Connection refused: Bad username or password')), 'credentials');
  assert.equal(classifyLinkError(errorWith(5, 'Connection refused: Not authorized')), 'credentials');
  assert.equal(classifyLinkError(errorWith(0x87, 'Connection refused: Not authorized')), 'credentials');
  assert.equal(classifyLinkError(errorWith(3, 'Server unavailable')), 'other');
  assert.equal(classifyLinkError(new Error('something odd')), 'other');
});

test('a failure keeps the error\'s code and message, bounded, with its time; the caller may name the reason', () => {
  const at = new Date('2026-12-07T12:00:00Z');
  assert.deepEqual(linkFailure(errorWith('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1883'), undefined, at), {
    reason: 'refused',
    detail: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1883',
    at: '2026-12-07T12:00:00.000Z',
  });
  assert.equal(linkFailure(new Error('401'), 'credentials', at).reason, 'credentials');
  assert.equal(linkFailure(new Error('x'.repeat(1000))).detail.length, 300);
});
