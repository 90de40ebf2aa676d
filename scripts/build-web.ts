/**
 * Bundles the web pages into static files at build time: `dist/web/<page>/` holds index.html,
 * app.js and app.css, which the programs serve as they are (no CDN, nothing fetched at run time).
 * Called by `npm run build:web` (part of `npm run build`) and by the test runner before the tests.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The pages: one folder of web/ each, served by the program of the same name. */
export const PAGES = ['edge', 'cloud'] as const;
export type Page = (typeof PAGES)[number];

export function bundleDir(page: Page): string {
  return join(root, 'dist', 'web', page);
}

async function buildPage(page: Page): Promise<void> {
  const out = bundleDir(page);
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { app: join(root, 'web', page, 'main.tsx') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020', 'chrome100', 'safari15', 'firefox100'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: out,
    // uPlot's stylesheet comes in through app.css (below), not through the script.
    logLevel: 'warning',
    legalComments: 'none',
  });
  await build({
    entryPoints: { app: join(root, 'web', 'shared', 'styles.css') },
    bundle: true,
    minify: true,
    outdir: out,
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'web', page, 'index.html'), join(out, 'index.html'));
}

export async function buildWeb(): Promise<void> {
  for (const page of PAGES) await buildPage(page);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildWeb().then(
    () => console.log(`web pages bundled into ${join(root, 'dist', 'web')}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
