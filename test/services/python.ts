// The Python virtualenv of the test services (deltalake, pyarrow, duckdb, pandas, moto[server]) in the
// cache, rebuilt whenever requirements.txt changes.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, progress, seconds, sha256, withInstallLock } from './cache.js';
import { runCommand, tailText } from './processes.js';

const REQUIREMENTS = fileURLToPath(new URL('./requirements.txt', import.meta.url));
/** Bump to force a rebuild when the way the venv is made changes. */
const VENV_RECIPE = '1';

export function venvDir(): string {
  return path.join(cacheDir(), 'venv');
}

/** Absolute path of the venv's python. */
export function venvPython(): string {
  return path.join(venvDir(), 'bin', 'python');
}

/** The interpreter the venv is made from: $ECHOLAKE_PYTHON_BASE or python3. */
function basePython(): string {
  return process.env.ECHOLAKE_PYTHON_BASE ?? 'python3';
}

function wantedHash(): string {
  return sha256(`${VENV_RECIPE}\n${readFileSync(REQUIREMENTS, 'utf8')}`);
}

async function venvUsable(marker: string, want: string): Promise<boolean> {
  if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== want) return false;
  // The base interpreter may have gone away (pyenv uninstall, OS upgrade): then the venv is dead too.
  const res = await runCommand(venvPython(), ['-c', 'import sys'], { timeoutMs: 30_000 });
  return res.code === 0;
}

/** Create (or rebuild) the venv when requirements.txt changed since it was built. */
export async function installPythonVenv(): Promise<void> {
  const marker = path.join(venvDir(), '.requirements.sha256');
  const want = wantedHash();
  if (await venvUsable(marker, want)) return;
  await withInstallLock('venv', async () => {
    if (await venvUsable(marker, want)) return;
    const started = Date.now();
    const base = basePython();
    const ver = await runCommand(base, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
      timeoutMs: 30_000,
    });
    const [major, minor] = ver.output.trim().split('.').map(Number) as [number, number];
    if (ver.code !== 0 || !(major === 3 && minor >= 10)) {
      throw new Error(
        `python: need Python 3.10+ to build the test venv, \`${base}\` gave (exit ${ver.code}): ${tailText(ver.output, 5)}\n` +
          'Install python3 (with python3-venv on Debian) or set ECHOLAKE_PYTHON_BASE to a Python 3.10+ interpreter.',
      );
    }
    progress(`python: building venv ${venvDir()} with Python ${major}.${minor} from ${path.basename(REQUIREMENTS)} (first run or requirements changed)`);
    rmSync(venvDir(), { recursive: true, force: true });
    const mk = await runCommand(base, ['-m', 'venv', venvDir()], { timeoutMs: 5 * 60_000 });
    if (mk.code !== 0) {
      rmSync(venvDir(), { recursive: true, force: true });
      throw new Error(
        `python: \`${base} -m venv ${venvDir()}\` failed (exit ${mk.code}); on Debian install python3-venv.\n` +
          tailText(mk.output),
      );
    }
    const pip = await runCommand(
      venvPython(),
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', '-r', REQUIREMENTS],
      { timeoutMs: 20 * 60_000 },
    );
    if (pip.code !== 0) {
      rmSync(venvDir(), { recursive: true, force: true });
      throw new Error(
        `python: pip install -r ${REQUIREMENTS} failed (exit ${pip.code}); is PyPI reachable, do the pinned ` +
          `versions have wheels for Python ${major}.${minor}?\n${tailText(pip.output)}`,
      );
    }
    writeFileSync(marker, `${want}\n`);
    progress(`python: venv ready in ${seconds(started)}`);
  });
}
