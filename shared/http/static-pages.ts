/**
 * Serves a web page bundled at build time (`npm run build:web`, part of `npm run build`) from
 * `dist/web/<page>/`: index.html at `/`, its app.js and app.css beside it. The files are a few
 * dozen KB, read once at registration and kept in memory; nothing is fetched from elsewhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, preHandlerHookHandler } from 'fastify';
import { ApiError } from './errors.js';

const FILES = { 'index.html': 'text/html; charset=utf-8', 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' } as const;
type FileName = keyof typeof FILES;

/** Only the page's own files, no inline script or style, no other origin, never inside a frame. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** `dist/web/<page>`: from the sources the repo's dist/, from the build the dist/ this file is in. */
export function bundleDir(page: string): string {
  const above = fileURLToPath(new URL('../../', import.meta.url));
  const dist = basename(above) === 'dist' ? above : join(above, 'dist');
  return join(dist, 'web', page);
}

export interface StaticPageOptions {
  /** The folder of web/ the page was built from: `edge` or `cloud`. */
  page: string;
  /** Run before the page itself, not its script and style, which hold no data (the cloud: the login page without a session). */
  preHandler?: preHandlerHookHandler;
}

function send(reply: FastifyReply, name: FileName, body: Buffer): FastifyReply {
  return reply
    .header('content-type', FILES[name])
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('referrer-policy', 'no-referrer')
    .send(body);
}

/**
 * Registers `/`, `/app.js` and `/app.css`. Without a bundle (sources run before `npm run build:web`)
 * the routes answer 503 saying so, and the rest of the API works on.
 */
export function registerStaticPage(app: FastifyInstance, options: StaticPageOptions): void {
  const dir = bundleDir(options.page);
  const files = new Map<FileName, Buffer>();
  for (const name of Object.keys(FILES) as FileName[]) {
    const path = join(dir, name);
    if (existsSync(path)) files.set(name, readFileSync(path));
  }
  if (files.size < Object.keys(FILES).length) {
    app.log.warn({ dir }, 'the web page is not built: run `npm run build:web` (part of `npm run build`); / answers 503 until then');
  }
  const routes: Array<[string, FileName]> = [['/', 'index.html'], ['/app.js', 'app.js'], ['/app.css', 'app.css']];
  for (const [url, name] of routes) {
    app.get(url, { schema: { hide: true }, ...(options.preHandler && name === 'index.html' ? { preHandler: options.preHandler } : {}) }, (_request, reply) => {
      const body = files.get(name);
      if (body === undefined) throw new ApiError(503, 'unavailable', `the web page is not built (no ${join(dir, name)}): run \`npm run build:web\``);
      return send(reply, name, body);
    });
  }
}
