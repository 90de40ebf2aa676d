import assert from 'node:assert/strict';
import { test } from 'node:test';
import { servedOverHttps } from '../../../../cloud/http/config.js';

const api = { enabled: true, host: '127.0.0.1', port: 0, operators: [], tls: {}, behindTlsProxy: false, maxConcurrentRequests: 1 };

test('cookies are Secure when the API speaks TLS itself or sits behind a proxy that ends TLS, and only then', () => {
  assert.equal(servedOverHttps(api), false);
  assert.equal(servedOverHttps({ ...api, tls: { certFile: 'c.pem', keyFile: 'k.pem' } }), true);
  assert.equal(servedOverHttps({ ...api, behindTlsProxy: true }), true);
});
