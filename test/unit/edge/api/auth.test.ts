import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeSources, TOKEN, apiServer, capturingLogger, type ErrorShape } from '../../../support/api-fakes.js';

async function discover(server: ReturnType<typeof apiServer>, authorization?: string) {
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/v1/discovery',
    headers: authorization === undefined ? {} : { authorization },
  });
  return { status: response.statusCode, body: response.json<unknown>(), challenge: response.headers['www-authenticate'] };
}

test('POST /api/v1/discovery with the token runs a search and answers how many nodes answered', async () => {
  const sources = new FakeSources();
  const server = apiServer({}, sources);
  assert.deepEqual(await discover(server, `Bearer ${TOKEN}`), { status: 200, body: { nodesAnswered: 2 }, challenge: undefined });
  assert.equal((await discover(server, `bearer ${TOKEN}`)).status, 200, 'the scheme is case-insensitive');
  assert.equal(sources.searches, 2);
  await server.stop();
});

test('without a token, or with a wrong one, it is a 401 with a Bearer challenge and no search', async () => {
  const { logger, lines } = capturingLogger();
  const sources = new FakeSources();
  const server = apiServer({}, sources, logger);
  const cases: [string | undefined, string][] = [
    [undefined, 'Bearer realm="echolake-edge"'],
    ['Basic dXNlcjpwYXNz', 'Bearer realm="echolake-edge"'],
    ['Bearer', 'Bearer realm="echolake-edge"'],
    ['Bearer wrong-token-0123456789', 'Bearer realm="echolake-edge", error="invalid_token"'],
    [`Bearer ${TOKEN}x`, 'Bearer realm="echolake-edge", error="invalid_token"'],
    [`Bearer ${TOKEN.slice(0, -1)}`, 'Bearer realm="echolake-edge", error="invalid_token"'],
  ];
  for (const [authorization, challenge] of cases) {
    const answer = await discover(server, authorization);
    assert.equal(answer.status, 401, authorization);
    assert.equal(answer.challenge, challenge, authorization);
    assert.equal((answer.body as ErrorShape).error.code, 'unauthorized');
  }
  assert.equal(sources.searches, 0);
  assert.ok(lines.some((line) => line.msg === 'refused: wrong bearer token' && line.level === 40), 'wrong tokens are logged as warnings');
  assert.ok(!JSON.stringify(lines).includes(TOKEN.slice(0, 12)), 'tokens never reach the log');
  await server.stop();
});

test('a gateway without api.token refuses changes with a 403 saying how to allow them', async () => {
  const sources = new FakeSources();
  const server = apiServer({ token: undefined }, sources);
  for (const authorization of [undefined, `Bearer ${TOKEN}`]) {
    const answer = await discover(server, authorization);
    assert.equal(answer.status, 403);
    assert.equal((answer.body as ErrorShape).error.code, 'forbidden');
    assert.match((answer.body as ErrorShape).error.message, /configure api\.token/);
  }
  assert.equal(sources.searches, 0);
  await server.stop();
});

test('a token too short to resist guessing is refused when the server is made', () => {
  assert.throws(() => apiServer({ token: 'short' }), /api\.token must be at least 16 characters/);
  assert.throws(() => apiServer({ token: '' }), /api\.token must be at least 16 characters/);
});

test('requests during a running search join it instead of starting another', async () => {
  let finish: (nodes: number) => void = () => undefined;
  const sources = new FakeSources(() => new Promise<number>((resolve) => (finish = resolve)));
  const server = apiServer({}, sources);
  const first = discover(server, `Bearer ${TOKEN}`);
  const second = discover(server, `Bearer ${TOKEN}`);
  await new Promise((resolve) => setTimeout(resolve, 20));
  finish(3);
  assert.deepEqual((await Promise.all([first, second])).map((a) => a.body), [{ nodesAnswered: 3 }, { nodesAnswered: 3 }]);
  assert.equal(sources.searches, 1);
  await server.stop();
});

test('a search that fails is a 503, logged, and the next request may search again', async () => {
  const { logger, lines } = capturingLogger();
  let fail = true;
  const sources = new FakeSources(() => (fail ? Promise.reject(new Error('socket closed')) : Promise.resolve(1)));
  const server = apiServer({}, sources, logger);
  const failed = await discover(server, `Bearer ${TOKEN}`);
  assert.equal(failed.status, 503);
  assert.equal((failed.body as ErrorShape).error.code, 'unavailable');
  assert.ok(lines.some((line) => line.msg === 'discovery on request failed' && JSON.stringify(line).includes('socket closed')));
  fail = false;
  assert.deepEqual((await discover(server, `Bearer ${TOKEN}`)).body, { nodesAnswered: 1 });
  await server.stop();
});

test('reading routes stay open without a token', async () => {
  const server = apiServer();
  for (const url of ['/elapi/v1/devices', '/api/v1/status', '/metrics', '/openapi.json']) {
    assert.equal((await server.app.inject({ url })).statusCode, 200, url);
  }
  await server.stop();
});
