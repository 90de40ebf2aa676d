// Chromium for the browser tests: Debian's package (installed when missing and we are root), driven
// by playwright-core. Playwright's and Puppeteer's own browser downloads do not work here, and a
// distribution's browser is what an installer would use anyway.
import { statSync } from 'node:fs';
import path from 'node:path';
import { progress, seconds, withInstallLock } from './cache.js';
import { runCommand, tailText } from './processes.js';

const NAMES = ['chromium', 'chromium-browser'];

/** The chromium binary on PATH (Debian installs /usr/bin/chromium), if any. */
export function findChromium(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of NAMES) {
      if (!dir) continue;
      const candidate = path.join(dir, name);
      try {
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** Install Debian's chromium when it is missing (root only; otherwise say what to install). */
export async function installChromium(): Promise<void> {
  if (findChromium()) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'chromium is not installed and this process is not root, so it cannot install it.\n' +
        'Install it with `sudo apt-get install -y chromium` (Debian/Ubuntu), or point the browser tests at a ' +
        'Chromium binary with ECHOLAKE_TEST_CHROMIUM=/path/to/chromium.',
    );
  }
  await withInstallLock('chromium', async () => {
    if (findChromium()) return;
    const started = Date.now();
    progress('chromium: not found; apt-get update && apt-get install -y chromium fonts-noto-cjk (Japanese glyphs for the pages)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = await runCommand('apt-get', ['update'], { env, timeoutMs: 10 * 60_000 });
    if (update.code !== 0) throw new Error(`chromium: apt-get update failed (exit ${update.code}):\n${tailText(update.output)}`);
    const install = await runCommand('apt-get', ['install', '-y', '--no-install-recommends', 'chromium', 'fonts-noto-cjk'], { env, timeoutMs: 15 * 60_000 });
    if (install.code !== 0 || !findChromium()) {
      throw new Error(`chromium: apt-get install -y chromium failed (exit ${install.code}); install it by hand.\n${tailText(install.output)}`);
    }
    progress(`chromium: installed in ${seconds(started)}`);
  });
}

/** The binary to launch: installed (or found) by `installChromium`. */
export function chromiumPath(): string {
  const found = findChromium();
  if (found === undefined) throw new Error('chromium is not installed: run `node --import tsx test/services/cli.ts install` (as root) or `apt-get install -y chromium`');
  return found;
}
