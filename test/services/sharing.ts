// The Delta Sharing Python client (delta-sharing from PyPI) in a venv of its own beside the main one:
// its pins (pandas<3, pyarrow<=23.0.1) clash with the main venv's. Rebuilt when its requirements change.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, progress, seconds, sha256, withInstallLock } from './cache.js';
import { runCommand, tailText } from './processes.js';

const REQUIREMENTS = fileURLToPath(new URL('./sharing-requirements.txt', import.meta.url));

export function sharingPython(): string {
  return path.join(cacheDir(), 'sharing-venv', 'bin', 'python');
}

export async function installSharingVenv(): Promise<void> {
  const venv = path.dirname(path.dirname(sharingPython()));
  const marker = path.join(venv, '.requirements.sha256');
  const want = sha256(readFileSync(REQUIREMENTS, 'utf8'));
  const ready = (): boolean => existsSync(marker) && readFileSync(marker, 'utf8').trim() === want;
  if (ready()) return;
  await withInstallLock('sharing-venv', async () => {
    if (ready()) return;
    const started = Date.now();
    progress(`sharing: building ${venv} (the delta-sharing client; first run or requirements changed)`);
    rmSync(venv, { recursive: true, force: true });
    const base = process.env.ECHOLAKE_PYTHON_BASE ?? 'python3';
    const steps: Array<[string, string[]]> = [
      [base, ['-m', 'venv', venv]],
      [sharingPython(), ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', '-r', REQUIREMENTS]],
    ];
    for (const [command, args] of steps) {
      const result = await runCommand(command, args, { timeoutMs: 20 * 60_000 });
      if (result.code !== 0) {
        rmSync(venv, { recursive: true, force: true });
        throw new Error(`sharing: \`${command} ${args.join(' ')}\` failed (exit ${result.code}); is PyPI reachable, is python3-venv installed?\n${tailText(result.output)}`);
      }
    }
    writeFileSync(marker, `${want}\n`);
    progress(`sharing: venv ready in ${seconds(started)}`);
  });
}
