/**
 * Errors Node answers before any route sees the request come in the API's own shape too, and so
 * does the bound on requests served at once.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { FakeSources, TOKEN, apiServer } from '../../../support/api-fakes.js';

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

test('requests over api.maxConcurrentRequests get a 503 with Retry-After in the error shape; the slots come back', async () => {
  let finishSearch: (found: number) => void = () => undefined;
  const search = new Promise<number>((resolve) => (finishSearch = resolve));
  const bounded = apiServer({ maxConcurrentRequests: 2 }, new FakeSources(() => search));
  const { app } = bounded;
  // Two discoveries wait on the one search: both hold a slot until it ends.
  const post = () => app.inject({ method: 'POST', url: '/api/v1/discovery', headers: { authorization: `Bearer ${TOKEN}` } });
  const held = [post(), post()];
  await new Promise((resolve) => setTimeout(resolve, 50));
  const refused = await app.inject({ url: '/api/v1/status' });
  assert.equal(refused.statusCode, 503);
  assert.equal(refused.headers['retry-after'], '1');
  assert.deepEqual(refused.json(), { error: { code: 'unavailable', message: 'the API is at its limit of 2 requests at once; retry shortly' } });
  finishSearch(1);
  for (const answer of await Promise.all(held)) assert.equal(answer.statusCode, 200, answer.body);
  assert.equal((await app.inject({ url: '/api/v1/status' })).statusCode, 200, 'slots come back');
  const metrics = (await app.inject({ url: '/metrics' })).body;
  assert.match(metrics, /status="503"/, 'the refusal is counted like any answer');
  await app.close();
});
