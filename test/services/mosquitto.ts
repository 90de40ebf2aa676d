// Mosquitto for tests: Debian's package (installed when missing and we are root), one broker per start
// on a free loopback port with its own config, persistence and log in a fresh temp dir.
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeRunDir, progress, removeRunDir, seconds, withInstallLock } from './cache.js';
import { ServiceProcess, canConnect, freePorts, portWasTaken, runCommand, tailText, waitUntil } from './processes.js';
import type { RunningService } from './service.js';

const READY_TIMEOUT_MS = 20_000;

/** The mosquitto binary: PATH, then /usr/sbin (not on a normal user's PATH). */
function findMosquitto(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, 'mosquitto');
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Install Debian's mosquitto when the binary is missing (root only; otherwise say what to install). */
export async function installMosquitto(): Promise<void> {
  if (findMosquitto()) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'mosquitto is not installed and this process is not root, so it cannot install it.\n' +
        'Install it with `sudo apt-get install -y mosquitto` (Debian/Ubuntu), or point the tests at a broker ' +
        'with ECHOLAKE_TEST_MQTT_URL=mqtt://127.0.0.1:<port>.',
    );
  }
  await withInstallLock('mosquitto', async () => {
    if (findMosquitto()) return;
    const started = Date.now();
    progress('mosquitto: not found; apt-get update && apt-get install -y mosquitto');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = await runCommand('apt-get', ['update'], { env, timeoutMs: 10 * 60_000 });
    if (update.code !== 0) {
      throw new Error(`mosquitto: apt-get update failed (exit ${update.code}):\n${tailText(update.output)}`);
    }
    const install = await runCommand('apt-get', ['install', '-y', '--no-install-recommends', 'mosquitto'], {
      env,
      timeoutMs: 10 * 60_000,
    });
    if (install.code !== 0 || !findMosquitto()) {
      throw new Error(
        `mosquitto: apt-get install -y mosquitto failed (exit ${install.code}); install it by hand.\n` +
          tailText(install.output),
      );
    }
    progress(`mosquitto: installed in ${seconds(started)}`);
  });
}

/** uid/gid of a local user from /etc/passwd, if it exists. */
function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[2] !== undefined && f[3] !== undefined) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // no /etc/passwd: no such user
  }
  return undefined;
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, uid, gid);
    else chownSync(p, uid, gid);
  }
}

/** Whether every directory from / down to `dir` lets other users through (o+x). */
function othersCanReach(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (d === path.dirname(d)) return true;
  }
}

/**
 * A broker as a real site's cloud runs one: TLS only, a client certificate signed by the CA
 * required, and a password per site. PEM files are copied into the broker's run dir.
 */
export interface SecureListener {
  caFile: string;
  certFile: string;
  keyFile: string;
  users: Record<string, string>;
}

/** A plain listener that admits only the users of a password file, within an ACL file (as `echolake-cloud mosquitto-config` writes them). */
export interface RegistryListener {
  passwordFile: string;
  aclFile: string;
}

function listenerLines(port: number, dir: string, secure: SecureListener | RegistryListener | undefined): string {
  if (secure === undefined) return `listener ${port} 127.0.0.1\nallow_anonymous true`;
  if ('aclFile' in secure) {
    const copy = (file: string, name: string) => {
      const target = path.join(dir, name);
      writeFileSync(target, readFileSync(file));
      return target;
    };
    return [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${copy(secure.passwordFile, 'password_file')}`, `acl_file ${copy(secure.aclFile, 'acl_file')}`].join('\n');
  }
  const copy = (file: string, name: string) => {
    const target = path.join(dir, name);
    writeFileSync(target, readFileSync(file));
    return target;
  };
  const passwords = path.join(dir, 'passwords');
  writeFileSync(passwords, '');
  return [
    `listener ${port} 127.0.0.1`,
    `cafile ${copy(secure.caFile, 'ca.pem')}`,
    `certfile ${copy(secure.certFile, 'server.pem')}`,
    `keyfile ${copy(secure.keyFile, 'server.key')}`,
    'require_certificate true',
    'allow_anonymous false',
    `password_file ${passwords}`,
  ].join('\n');
}

async function writePasswords(dir: string, users: Record<string, string>): Promise<void> {
  for (const [user, password] of Object.entries(users)) {
    const result = await runCommand('mosquitto_passwd', ['-b', path.join(dir, 'passwords'), user, password]);
    if (result.code !== 0) throw new Error(`mosquitto_passwd failed (exit ${result.code}):\n${tailText(result.output)}`);
  }
}

async function startOnce(bin: string, secure: SecureListener | RegistryListener | undefined): Promise<RunningService & { portTaken?: boolean }> {
  const dir = makeRunDir('mosquitto');
  const dataDir = path.join(dir, 'data');
  mkdirSync(dataDir);
  const [port] = (await freePorts(1)) as [number];
  const logFile = path.join(dir, 'mosquitto.log');
  const conf = path.join(dir, 'mosquitto.conf');
  // Started as root, mosquitto drops to the user `mosquitto` (its default for `user`), which could not
  // write a root-owned persistence dir: then it silently loses sessions. So hand it the whole run dir,
  // or, where that user is missing or cannot reach the temp dir, keep it running as root.
  const asRoot = process.getuid?.() === 0;
  const account = asRoot && othersCanReach(path.dirname(dir)) ? lookupUser('mosquitto') : undefined;
  const userLine = !asRoot ? '' : account ? 'user mosquitto' : 'user root';
  writeFileSync(
    conf,
    `# Generated by echolake test/services/mosquitto.ts
${userLine}
per_listener_settings false
${listenerLines(port, dir, secure)}
persistence true
persistence_location ${dataDir}/
autosave_interval 1
max_queued_messages 100000
max_inflight_messages 1000
set_tcp_nodelay true
log_dest file ${logFile}
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
log_timestamp true
log_timestamp_format %Y-%m-%dT%H:%M:%S
`,
  );
  writeFileSync(logFile, '');
  if (secure !== undefined && 'users' in secure) await writePasswords(dir, secure.users);
  if (account) chownTree(dir, account.uid, account.gid);
  const proc = await ServiceProcess.start('mosquitto', bin, ['-c', conf], {
    cwd: dir,
    logFile: path.join(dir, 'stdout.log'),
  });
  const stop = async (): Promise<void> => {
    await proc.stop(10_000);
    removeRunDir(dir);
  };
  try {
    await waitUntil(`mosquitto on 127.0.0.1:${port} (log ${logFile})`, () => canConnect(port), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      proc,
    });
  } catch (err) {
    const taken = portWasTaken(logFile) || portWasTaken(proc.logFile);
    await proc.stop(3_000);
    if (taken) {
      removeRunDir(dir);
      return { name: 'mosquitto', env: {}, dir, stop: () => Promise.resolve(), portTaken: true };
    }
    const log = existsSync(logFile) ? `\n${logFile}:\n${tailText(readFileSync(logFile, 'utf8'))}` : '';
    throw new Error(`${(err as Error).message}${log}`);
  }
  const scheme = secure === undefined || 'aclFile' in secure ? 'mqtt' : 'mqtts';
  return { name: 'mosquitto', env: { ECHOLAKE_TEST_MQTT_URL: `${scheme}://127.0.0.1:${port}` }, dir, stop };
}

/** Start a fresh Mosquitto on loopback, plain or with a secured listener. Call installMosquitto() first. */
export async function startMosquitto(secure?: SecureListener | RegistryListener): Promise<RunningService> {
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed: run ensureInstalled() first (or apt-get install -y mosquitto)');
  for (let attempt = 1; ; attempt++) {
    const svc = await startOnce(bin, secure);
    if (!svc.portTaken) return svc;
    if (attempt >= 3) throw new Error('mosquitto: its free port was taken by another process 3 times in a row');
    progress('mosquitto: the port was taken before it could bind; retrying on a new port');
  }
}
