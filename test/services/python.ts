// The Python virtualenvs of the test services in the cache, each rebuilt whenever its requirements
// file changes: the readers' and S3 server's (deltalake, pyarrow, duckdb, pandas, moto[server]), and
// the ECHONET Lite interoperability peers' (uecho) and the Delta Sharing client's, kept apart because uecho needs netifaces, which
// PyPI has only as source (a C compiler and Python headers to build), and because a venv shared by
// every test is rebuilt — under the feet of whoever is using it — whenever its requirements change.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, progress, seconds, sha256, withInstallLock } from './cache.js';
import { runCommand, tailText } from './processes.js';

/** One venv: its folder name in the cache and its requirements file beside this one. */
export interface PythonVenv {
  readonly name: string;
  readonly requirements: string;
}

export const READERS_VENV: PythonVenv = { name: 'venv', requirements: 'requirements.txt' };
export const INTEROP_VENV: PythonVenv = { name: 'interop-venv', requirements: 'interop-requirements.txt' };
/** The Delta Sharing client: its pins (pandas<3, pyarrow<=23.0.1) clash with the readers' venv. */
export const SHARING_VENV: PythonVenv = { name: 'sharing-venv', requirements: 'sharing-requirements.txt' };

/** Bump to force a rebuild when the way the venv is made changes. */
const VENV_RECIPE = '1';

function requirementsFile(venv: PythonVenv): string {
  return fileURLToPath(new URL(`./${venv.requirements}`, import.meta.url));
}

export function venvDir(venv: PythonVenv = READERS_VENV): string {
  return path.join(cacheDir(), venv.name);
}

/** Absolute path of the venv's python. */
export function venvPython(venv: PythonVenv = READERS_VENV): string {
  return path.join(venvDir(venv), 'bin', 'python');
}

/** The interpreter the venv is made from: $ECHOLAKE_PYTHON_BASE or python3. */
function basePython(): string {
  return process.env.ECHOLAKE_PYTHON_BASE ?? 'python3';
}

function wantedHash(venv: PythonVenv): string {
  return sha256(`${VENV_RECIPE}\n${readFileSync(requirementsFile(venv), 'utf8')}`);
}

async function venvUsable(venv: PythonVenv, marker: string, want: string): Promise<boolean> {
  if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== want) return false;
  // The base interpreter may have gone away (pyenv uninstall, OS upgrade): then the venv is dead too.
  const res = await runCommand(venvPython(venv), ['-c', 'import sys'], { timeoutMs: 30_000 });
  return res.code === 0;
}

/** Create (or rebuild) the venv when its requirements file changed since it was built. */
export async function installPythonVenv(venv: PythonVenv = READERS_VENV): Promise<void> {
  const requirements = requirementsFile(venv);
  const marker = path.join(venvDir(venv), '.requirements.sha256');
  const want = wantedHash(venv);
  if (await venvUsable(venv, marker, want)) return;
  await withInstallLock(venv.name, async () => {
    if (await venvUsable(venv, marker, want)) return;
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
    progress(`python: building venv ${venvDir(venv)} with Python ${major}.${minor} from ${path.basename(requirements)} (first run or requirements changed)`);
    rmSync(venvDir(venv), { recursive: true, force: true });
    const mk = await runCommand(base, ['-m', 'venv', venvDir(venv)], { timeoutMs: 5 * 60_000 });
    if (mk.code !== 0) {
      rmSync(venvDir(venv), { recursive: true, force: true });
      throw new Error(
        `python: \`${base} -m venv ${venvDir(venv)}\` failed (exit ${mk.code}); on Debian install python3-venv.\n` +
          tailText(mk.output),
      );
    }
    const pip = await runCommand(
      venvPython(venv),
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', '-r', requirements],
      { timeoutMs: 20 * 60_000 },
    );
    if (pip.code !== 0) {
      rmSync(venvDir(venv), { recursive: true, force: true });
      throw new Error(
        `python: pip install -r ${requirements} failed (exit ${pip.code}); is PyPI reachable, do the pinned ` +
          `versions have wheels for Python ${major}.${minor}, or for a package PyPI has only as source (netifaces), ` +
          `are a C compiler and the Python headers installed (Debian: apt-get install build-essential python3-dev)?\n${tailText(pip.output)}`,
      );
    }
    writeFileSync(marker, `${want}\n`);
    progress(`python: venv ready in ${seconds(started)}`);
  });
}
