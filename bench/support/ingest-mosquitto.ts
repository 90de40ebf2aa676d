// A Mosquitto of its own for each run of `npm run bench ingest`: fresh persistence, so no session a
// run leaves behind can take a later run's batches (stale shared-subscription sessions once grew a
// broker's database to 1.3 GB), and either anonymous or with the password and ACL files the cloud
// writes from its site registry (`echolake-cloud mosquitto-config`).
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { canConnect, freePorts, ServiceProcess, waitUntil } from '../../test/services/processes.js';

export interface BenchMosquitto {
  url: string;
  pid: number;
  /** Bytes of its persistence directory (the session database). */
  dataBytes(): number;
  stop(): Promise<void>;
}

function mosquittoBinary(): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']) {
    const candidate = join(dir, 'mosquitto');
    try {
      if (dir !== '' && statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  throw new Error('mosquitto is not installed: run `node --import tsx test/services/cli.ts install` (or apt-get install -y mosquitto)');
}

export async function startBenchMosquitto(auth: { passwordFile: string; aclFile: string } | undefined): Promise<BenchMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'echolake-bench-mosquitto-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  const [port] = (await freePorts(1)) as [number];
  const conf = join(dir, 'mosquitto.conf');
  const access = auth === undefined
    ? ['allow_anonymous true']
    : ['allow_anonymous false', `password_file ${auth.passwordFile}`, `acl_file ${auth.aclFile}`];
  writeFileSync(conf, [
    // As root it would drop to user mosquitto, which cannot read the 0600 files the cloud writes.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    'per_listener_settings false',
    `listener ${port} 127.0.0.1`,
    ...access,
    'persistence true',
    `persistence_location ${data}/`,
    'set_tcp_nodelay true',
    // Per client: one batch in flight per site; the ingest takes up to its window.
    'max_inflight_messages 1000',
    'max_queued_messages 10000',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n'));
  const proc = await ServiceProcess.start('mosquitto', mosquittoBinary(), ['-c', conf], { cwd: dir, logFile: join(dir, 'mosquitto.log') });
  await waitUntil(`mosquitto on 127.0.0.1:${port}`, () => canConnect(port), { timeoutMs: 20_000, intervalMs: 100, proc });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid: proc.pid,
    dataBytes: () => {
      try {
        return statSync(join(data, 'mosquitto.db')).size;
      } catch {
        return 0;
      }
    },
    stop: async () => {
      await proc.stop(10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
