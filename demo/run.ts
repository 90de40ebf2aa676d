// `npm run demo`: simulated air conditioners, the edge and the cloud together on the embedded
// defaults (an MQTT broker inside the cloud, a local single-node Kafka, Delta tables in a local
// folder), all on loopback, printing what arrives where until Ctrl-C or --duration.
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeltaLog } from '../cloud/lake/delta-log.js';
import { LocalObjectStore } from '../cloud/lake/object-store.js';
import { Deployable, type LogEvent } from '../test/support/deployable.js';
import { installKafka, startKafka } from '../test/services/kafka.js';

const { values } = parseArgs({
  options: {
    aircons: { type: 'string', default: '3' },
    duration: { type: 'string' },
    port: { type: 'string', description: 'ECHONET Lite UDP port', default: '3610' },
  },
});
const aircons = Number(values.aircons);
const durationS = values.duration === undefined ? undefined : Number(values.duration);
const work = mkdtempSync(join(tmpdir(), 'echolake-demo-'));
const lakeRoot = join(work, 'lake');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

const say = (line: string) => console.log(`[demo] ${line}`);
const count = (events: LogEvent[], msg: string, field: string) =>
  events.filter((e) => e.msg === msg).reduce((sum, e) => sum + Number(e[field] ?? 0), 0);

async function tableSummary(): Promise<string> {
  const snapshot = await new DeltaLog(new LocalObjectStore(join(lakeRoot, 'readings'))).snapshot().catch(() => undefined);
  if (snapshot === undefined) return 'no table yet';
  let rows = 0;
  for (const add of snapshot.files.values()) rows += (JSON.parse(add.stats ?? '{"numRecords":0}') as { numRecords: number }).numRecords;
  return `version ${snapshot.version}, ${snapshot.files.size} files, ${rows} rows`;
}

async function main(): Promise<void> {
  say(`working folder ${work}`);
  say('installing Kafka if it is not cached yet (first run: a few minutes)…');
  await installKafka();
  const kafka = await startKafka();
  const brokers = kafka.env.ECHOLAKE_TEST_KAFKA_BROKERS ?? '';
  say(`Kafka (KRaft, single node) on ${brokers}`);
  const mqttPort = await freePort();
  const echonetPort = values.port ?? '3610';

  const cloud = new Deployable('cloud', 'cloud/main.ts', [], {
    LOG_LEVEL: 'info',
    ECHOLAKE_CLOUD_MQTT__EMBEDDED__ENABLED: 'true',
    ECHOLAKE_CLOUD_MQTT__EMBEDDED__PORT: String(mqttPort),
    ECHOLAKE_CLOUD_MQTT__URL: `mqtt://127.0.0.1:${mqttPort}`,
    ECHOLAKE_CLOUD_MQTT__PROTOCOL_VERSION: '4',
    ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: '',
    ECHOLAKE_CLOUD_KAFKA__BROKERS: brokers,
    ECHOLAKE_CLOUD_LAKE__ROOT: lakeRoot,
    ECHOLAKE_CLOUD_LAKE__MAX_AGE_MS: '2000',
  });
  const sim = new Deployable('sim', 'edge/simulator/main.ts', [
    '--nodes', String(aircons), '--base-address', '127.0.0.2', '--port', echonetPort, '--interface', '127.0.0.1', '--time-scale', '60',
  ], { LOG_LEVEL: 'info' });
  const edge = new Deployable('edge', 'edge/main.ts', [], {
    LOG_LEVEL: 'info',
    ECHOLAKE_EDGE_SITE_ID: 'demo-site',
    ECHOLAKE_EDGE_STATE_DIR: join(work, 'edge'),
    ECHOLAKE_EDGE_ECHONET__INTERFACE: '127.0.0.1',
    ECHOLAKE_EDGE_ECHONET__PORT: echonetPort,
    ECHOLAKE_EDGE_ECHONET__POLL_INTERVAL_MS: '5000',
    ECHOLAKE_EDGE_UPLINK__URL: `mqtt://127.0.0.1:${mqttPort}`,
    ECHOLAKE_EDGE_UPLINK__PROTOCOL_VERSION: '4',
    ECHOLAKE_EDGE_API__PORT: '0',
  });
  const stopAll = async () => {
    for (const part of [edge, sim, cloud]) await part.stop();
    await kafka.stop();
    say(`stopped. The table stays at ${join(lakeRoot, 'readings')}`);
  };
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  await cloud.waitFor((e) => e.msg === 'lake writer started', 120_000, 'the cloud');
  say(`cloud up: embedded MQTT on 127.0.0.1:${mqttPort}, Delta tables under ${lakeRoot}`);
  say(`${aircons} simulated air conditioners on 127.0.0.2…, ECHONET Lite port ${echonetPort}, multicast on 127.0.0.1 only`);
  say('Ctrl-C stops everything. Query the table meanwhile, e.g. with DuckDB: ' +
    `SELECT deviceId, ts, roomTemperature FROM delta_scan('${join(lakeRoot, 'readings')}') ORDER BY ts DESC LIMIT 5`);
  void edge.waitFor((e) => e.msg === 'local API listening', 60_000, 'the local API').then(
    (e) => say(`the edge's local API: ${String(e.url)}/elapi/v1/devices, ${String(e.url)}/api/v1/status`),
    () => undefined,
  );
  const started = Date.now();
  const report = setInterval(() => {
    void tableSummary().then((table) => {
      const devices = edge.events.filter((e) => e.msg === 'echonet device discovered').length;
      const acked = count(edge.events, 'batch acknowledged by the cloud', 'readings');
      const inKafka = count(cloud.events, 'batch in kafka and acknowledged', 'readings');
      say(`aircons found ${devices}/${aircons} | edge → cloud acknowledged ${acked} | in Kafka ${inKafka} | Delta: ${table}`);
    });
    if (durationS !== undefined && Date.now() - started >= durationS * 1000) {
      clearInterval(report);
      stop();
    }
  }, 5000);
}

main().catch((err: unknown) => {
  console.error(`[demo] failed: ${(err as Error).message}`);
  process.exit(1);
});
