/** Errors Node answers before any route sees the request come in the API's own shape too. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { apiServer } from '../../../support/api-fakes.js';

const server = apiServer({ host: '127.0.0.1', port: 0 });
after(() => server.stop());

/** Sends raw bytes and returns everything the server answered before closing. */
function rawRequest(url: URL, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.end(request));
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject).on('close', () => resolve(answer));
  });
}

test('headers over 16 KiB get a 431 with {error:{code,message}}, a malformed request a 400', async () => {
  await server.start();
  const url = new URL(server.url);
  const tooLarge = await rawRequest(url, `GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-Junk: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.match(tooLarge, /^HTTP\/1\.1 431 /);
  assert.match(tooLarge, /content-type: application\/json/i);
  assert.deepEqual(JSON.parse(tooLarge.slice(tooLarge.indexOf('\r\n\r\n') + 4)), { error: { code: 'invalid_request', message: "the request's headers are too large (16 KiB at most)" } });
  const garbage = await rawRequest(url, 'NOT HTTP AT ALL\r\n\r\n');
  assert.match(garbage, /^HTTP\/1\.1 400 /);
  assert.equal((JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4)) as { error: { code: string } }).error.code, 'invalid_request');
});
