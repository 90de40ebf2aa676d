/**
 * The edge's state folder, made and checked before anything opens a file in it. A folder that
 * cannot be made or written is a configuration problem (exit 2, no restart loop), said with the
 * path, the cause and the fix — not "unable to open database file" from deep inside SQLite.
 */
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../shared/config.js';

const FIX = 'point stateDir (ECHOLAKE_EDGE_STATE_DIR) at a folder the service can create and write, e.g. the one systemd\'s StateDirectory= makes';

export function prepareStateDir(stateDir: string): void {
  const path = resolve(stateDir);
  try {
    makeFolder(path);
    accessSync(path, constants.W_OK);
    // access() passes for root on a read-only mount; a real write does not.
    const probe = join(path, `.write-check-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    throw new ConfigError([`stateDir ${path}: ${code ?? message} (${message}); ${FIX}`]);
  }
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir never returns for a path under /proc
 * (it retries the ENOENT for ever), and a hang at start is the worst way to say "wrong path".
 */
function makeFolder(path: string): void {
  if (existsSync(path)) return;
  const parent = dirname(path);
  if (parent !== path) makeFolder(parent);
  mkdirSync(path);
}
