// `npm run demo`: simulated air conditioners, the edge and the cloud together on the embedded
// defaults (an MQTT broker inside the cloud, a local single-node Kafka, Delta tables in a local
// folder), all on loopback, printing what arrives where until Ctrl-C or --duration.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installKafka, startKafka } from '../test/services/kafka.js';
import { freePorts } from '../test/services/processes.js';
import { Deployable, type LogEvent } from '../test/support/deployable.js';
import { addSite } from '../cloud/sites/admin.js';
import { newSecret } from '../cloud/sites/secrets.js';

const USAGE = 'usage: npm run demo -- [--aircons N (1-250, default 3)] [--duration SECONDS] [--port ECHONET_LITE_UDP_PORT (default 3610)]';
/** The demo's processes log a line per batch; a few hundred recent ones are all anybody reads. */
const EVENTS_KEPT = 500;
const REPORT_EVERY_MS = 5_000;

interface DemoOptions {
  aircons: number;
  durationS: number | undefined;
  echonetPort: number;
}

function integerFlag(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} ${text}: expected a whole number from ${min} to ${max}`);
  return value;
}

function demoOptions(): DemoOptions {
  const { values } = parseArgs({
    options: { aircons: { type: 'string', default: '3' }, duration: { type: 'string' }, port: { type: 'string', default: '3610' } },
  });
  return {
    aircons: integerFlag('aircons', values.aircons, 1, 250),
    durationS: values.duration === undefined ? undefined : integerFlag('duration', values.duration, 1, 365 * 24 * 3600),
    echonetPort: integerFlag('port', values.port, 1, 65535),
  };
}

const say = (line: string) => console.log(`[demo] ${line}`);

/** What the demo reports, counted from the processes' log lines as they arrive. */
class Tally {
  devices = 0;
  acknowledged = 0;
  inKafka = 0;
  tableVersion: number | undefined;
  tableRows = 0;

  edge(event: LogEvent): void {
    if (event.msg === 'echonet device discovered') this.devices += 1;
    if (event.msg === 'batch acknowledged by the cloud') this.acknowledged += Number(event.readings ?? 0);
  }

  cloud(event: LogEvent): void {
    if (event.msg === 'batch in kafka') this.inKafka += Number(event.readings ?? 0);
    if (event.msg === 'readings committed to delta') {
      this.tableVersion = Number(event.version);
      this.tableRows += Number(event.rows ?? 0);
    }
  }

  line(aircons: number): string {
    const table = this.tableVersion === undefined ? 'no commit yet' : `version ${this.tableVersion}, ${this.tableRows} rows`;
    return `aircons found ${this.devices}/${aircons} | edge → cloud acknowledged ${this.acknowledged} | in Kafka ${this.inKafka} | Delta readings: ${table}`;
  }
}

/** Everything the demo started, stopped in reverse on every way out: Ctrl-C, --duration, a failure. */
const started: Array<{ name: string; stop: () => Promise<unknown> }> = [];
let stopping: Promise<void> | undefined;

function stopEverything(exitCode: number): Promise<void> {
  stopping ??= (async () => {
    for (const part of started.reverse()) await part.stop().catch((err: unknown) => say(`${part.name} did not stop cleanly: ${(err as Error).message}`));
    process.exit(exitCode);
  })();
  return stopping;
}

// Before anything starts: a Ctrl-C while Kafka installs or boots must not leave its JVM behind.
process.on('SIGINT', () => void stopEverything(0));
process.on('SIGTERM', () => void stopEverything(0));

async function main(options: DemoOptions): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'echolake-demo-'));
  const lakeRoot = join(work, 'lake');
  say(`working folder ${work}`);
  say('installing Kafka if it is not cached yet (first run: a few minutes)…');
  await installKafka();
  const kafka = await startKafka();
  started.push({ name: 'kafka', stop: () => kafka.stop() });
  const brokers = kafka.env.ECHOLAKE_TEST_KAFKA_BROKERS ?? '';
  say(`Kafka (KRaft, single node) on ${brokers}`);
  const [mqttPort] = (await freePorts(1)) as [number];
  const tally = new Tally();
  const launch = (deployable: Deployable, count: (event: LogEvent) => void): Deployable => {
    started.push({ name: deployable.name, stop: () => deployable.stop() });
    return deployable.retainAtMost(EVENTS_KEPT).onEvent(count);
  };

  // The site as an operator would register it (`echolake-cloud site add`), and the cloud's own MQTT password.
  const sitesFile = join(work, 'sites.yaml');
  const site = await addSite(sitesFile, { id: 'demo-site', name: 'Demo site', location: { latitude: 35.68, longitude: 139.77 }, timeZone: 'Asia/Tokyo' });
  const cloudPasswordFile = join(work, 'cloud.password');
  writeFileSync(cloudPasswordFile, newSecret(), { mode: 0o600 });
  const cloud = launch(
    new Deployable('cloud', 'cloud/main.ts', [], {
      LOG_LEVEL: 'info',
      ECHOLAKE_CLOUD_SITES__FILE: sitesFile,
      ECHOLAKE_CLOUD_MQTT__PASSWORD_FILE: cloudPasswordFile,
      ECHOLAKE_CLOUD_API__PORT: '0',
      ECHOLAKE_CLOUD_BROKER__ENABLED: 'true',
      ECHOLAKE_CLOUD_BROKER__PORT: String(mqttPort),
      ECHOLAKE_CLOUD_MQTT__URL: `mqtt://127.0.0.1:${mqttPort}`,
      ECHOLAKE_CLOUD_MQTT__PROTOCOL_VERSION: '4',
      ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: '',
      ECHOLAKE_CLOUD_KAFKA__BROKERS: brokers,
      ECHOLAKE_CLOUD_LAKE__ROOT: lakeRoot,
      ECHOLAKE_CLOUD_LAKE__MAX_AGE_MS: '2000',
    }),
    (event) => tally.cloud(event),
  );
  await cloud.waitFor((e) => e.msg === 'lake writer started', 120_000, 'the cloud');
  say(`cloud up: embedded MQTT on 127.0.0.1:${mqttPort}, Delta tables under ${lakeRoot}`);

  const echonetPort = String(options.echonetPort);
  launch(
    new Deployable('sim', 'edge/simulator/main.ts', [
      '--nodes', String(options.aircons), '--base-address', '127.0.0.2', '--port', echonetPort, '--interface', '127.0.0.1', '--time-scale', '60',
    ], { LOG_LEVEL: 'info' }),
    () => undefined,
  );
  const edge = launch(
    new Deployable('edge', 'edge/main.ts', [], {
      LOG_LEVEL: 'info',
      ECHOLAKE_EDGE_SITE_ID: 'demo-site',
      ECHOLAKE_EDGE_STATE_DIR: join(work, 'edge'),
      ECHOLAKE_EDGE_ECHONET__INTERFACE: '127.0.0.1',
      ECHOLAKE_EDGE_ECHONET__PORT: echonetPort,
      ECHOLAKE_EDGE_ECHONET__POLL_INTERVAL_MS: '5000',
      ECHOLAKE_EDGE_UPLINK__URL: `mqtt://127.0.0.1:${mqttPort}`,
      ECHOLAKE_EDGE_UPLINK__PROTOCOL_VERSION: '4',
      ECHOLAKE_EDGE_UPLINK__USERNAME: site.siteId,
      ECHOLAKE_EDGE_UPLINK__PASSWORD: site.secret,
      ECHOLAKE_EDGE_API__PORT: '0',
    }),
    (event) => tally.edge(event),
  );
  say(`${options.aircons} simulated air conditioners on 127.0.0.2…, ECHONET Lite port ${echonetPort}, multicast on 127.0.0.1 only`);
  const table = join(lakeRoot, 'readings');
  say('Ctrl-C stops everything. Query the table meanwhile with delta-rs (pip install deltalake): ' +
    `python3 -c "from deltalake import DeltaTable; print(DeltaTable('${table}').to_pandas().sort_values('ts').tail(5))"`);
  say(`or with DuckDB where it can download its delta extension: SELECT deviceId, ts, roomTemperature FROM delta_scan('${table}') ORDER BY ts DESC LIMIT 5`);
  const api = await edge.waitFor((e) => e.msg === 'local API listening', 60_000, 'the local API');
  say(`the edge's local API: ${String(api.url)}/elapi/v1/devices, ${String(api.url)}/api/v1/status`);

  const startedAt = Date.now();
  setInterval(() => {
    say(tally.line(options.aircons));
    if (options.durationS !== undefined && Date.now() - startedAt >= options.durationS * 1000) {
      say(`stopping after ${options.durationS} s. The table stays at ${join(lakeRoot, 'readings')}`);
      void stopEverything(0);
    }
  }, REPORT_EVERY_MS);
}

let options: DemoOptions;
try {
  options = demoOptions();
} catch (err) {
  console.error(`[demo] ${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
main(options).catch((err: unknown) => {
  console.error(`[demo] failed: ${(err as Error).message}`);
  void stopEverything(1);
});
