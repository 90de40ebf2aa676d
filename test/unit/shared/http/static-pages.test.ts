import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import fastify from 'fastify';
import { buildWeb } from '../../../../scripts/build-web.js';
import { installErrorHandling } from '../../../../shared/http/errors.js';
import { bundleDir, registerStaticPage } from '../../../../shared/http/static-pages.js';

before(() => buildWeb());

test('the bundle folder is dist/web/<page> of the repo when run from the sources', () => {
  assert.ok(bundleDir('edge').endsWith(join('dist', 'web', 'edge')));
  assert.ok(existsSync(join(bundleDir('edge'), 'index.html')));
});

test('the page, its script and style are served with their types and a policy that allows nothing from elsewhere', async () => {
  const app = fastify();
  installErrorHandling(app);
  registerStaticPage(app, { page: 'edge' });
  const page = await app.inject({ url: '/' });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /^text\/html/);
  assert.match(page.body, /<script type="module" src="app.js">/);
  const csp = page.headers['content-security-policy'] as string;
  assert.match(csp, /default-src 'self'/);
  assert.doesNotMatch(csp, /https?:/);
  assert.match((await app.inject({ url: '/app.js' })).headers['content-type'] as string, /^text\/javascript/);
  assert.match((await app.inject({ url: '/app.css' })).headers['content-type'] as string, /^text\/css/);
  await app.close();
});

test('without a bundle the page answers 503 saying how to build it, and nothing else breaks', async () => {
  const app = fastify();
  installErrorHandling(app);
  registerStaticPage(app, { page: 'no-such-page' });
  app.get('/other', () => ({ ok: true }));
  const page = await app.inject({ url: '/' });
  assert.equal(page.statusCode, 503);
  assert.match(page.json<{ error: { message: string } }>().error.message, /npm run build:web/);
  assert.equal((await app.inject({ url: '/other' })).statusCode, 200);
  await app.close();
});
