// `npm run bench ingest`: the cloud's ingest under many sites. One cloud process (cloud/main.ts,
// ingest role only, lake off) takes batches from simulated sites (bench/support/ingest-sites.ts:
// one MQTT client per site on loopback, one batch in flight, resent after the edge's ack timeout,
// 15 s doubling per resend up to 120 s) into Kafka, through the embedded broker (in a process of its own, with the cloud's
// per-site SiteAuthorizer or an allow-everything one) or through Mosquitto (anonymous, or with the
// password and ACL files `echolake-cloud mosquitto-config` writes). Per run: readings/s from publish
// to acknowledged-in-Kafka, publish → ack latency p50/p99, resends, cloud and broker RSS and CPU,
// and how many of the readings topic's records are copies (resent batches).
//
// Sites either drain a backlog (send the next batch as soon as the ack comes: offered load far
// above capacity, the overload case) or offer a set rate (the goal's case: 1,000 sites, 50,000
// readings/s in all). Each run has its own broker, topics and client ids; afterwards the ingest's
// persistent session is discarded, the broker stopped and its data removed, the topics deleted.
//
// Knobs (environment): ECHOLAKE_BENCH_INGEST_SECONDS (measured seconds per run, default 10),
// ECHOLAKE_BENCH_INGEST_WARMUP_S (default 3), ECHOLAKE_BENCH_INGEST_FLEET_SECONDS and …_FLEET_WARMUP_S
// (the same at 1,000 sites, default 20 and 10), ECHOLAKE_BENCH_INGEST_ONLY (comma-separated run labels
// or prefixes, e.g. `mosquitto-auth`), ECHOLAKE_BENCH_INGEST_CLIENT (the Kafka client of the matrix,
// default the cloud's default), ECHOLAKE_BENCH_INGEST_MAX_SITES (default 1000),
// ECHOLAKE_BENCH_INGEST_CLOUD_FLAGS (Node flags of the cloud process, e.g. `--cpu-prof`),
// ECHOLAKE_BENCH_INGEST_WINDOW (the cloud's ingest.maxInFlightBatches; default its own),
// ECHOLAKE_BENCH_INGEST_COMPRESSION (the cloud's kafka.producer.compression; default its own).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { connectAsync } from 'mqtt';
import type { Site } from '../cloud/sites/registry.js';
import { CLOUD_PASSWORD, CLOUD_USER, testSecret } from '../test/support/cloud-sites.js';
import { Deployable } from '../test/support/deployable.js';
import { requiredEnv } from '../test/support/env.js';
import { startBenchMosquitto, type BenchMosquitto } from './support/ingest-mosquitto.js';
import { benchSiteId, benchSites, writeBenchMosquittoFiles, writeBenchRegistry } from './support/ingest-registry.js';
import { SiteLoad } from './support/ingest-sites.js';
import { cpuSeconds, machineLine, pidListeningOn, rssBytes } from './support/proc.js';
import { mib, num, percentile, runBenchmark, sleep, table } from './support/report.js';

/** A fleet of 1,000 takes a while to fill its pipeline: a batch's trip is the whole fleet's queue. */
const MEASURE_S = Number(process.env.ECHOLAKE_BENCH_INGEST_SECONDS ?? 10);
const WARMUP_S = Number(process.env.ECHOLAKE_BENCH_INGEST_WARMUP_S ?? 3);
const FLEET_MEASURE_S = Number(process.env.ECHOLAKE_BENCH_INGEST_FLEET_SECONDS ?? 20);
const FLEET_WARMUP_S = Number(process.env.ECHOLAKE_BENCH_INGEST_FLEET_WARMUP_S ?? 10);
const FLEET = 1000;
const ONLY = (process.env.ECHOLAKE_BENCH_INGEST_ONLY ?? '').split(',').filter(Boolean);
const MAX_SITES = Number(process.env.ECHOLAKE_BENCH_INGEST_MAX_SITES ?? 1000);
/** The cloud's ingest.maxInFlightBatches (its default when unset). */
const WINDOW = process.env.ECHOLAKE_BENCH_INGEST_WINDOW;
/** The cloud's kafka.producer.compression (its default when unset). */
const COMPRESSION = process.env.ECHOLAKE_BENCH_INGEST_COMPRESSION;
/** Node flags for the cloud process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where its time goes. */
const CLOUD_NODE_FLAGS = (process.env.ECHOLAKE_BENCH_INGEST_CLOUD_FLAGS ?? '').split(/\s+/).filter(Boolean);
/** The edge's uplink.ackTimeoutMs and ackTimeoutMaxMs defaults (the wait doubles per resend up to the cap). */
const ACK_TIMEOUT_MS = 15_000;
const ACK_TIMEOUT_MAX_MS = 120_000;
const SAMPLE_MS = 500;
/** After the load stops, how long batches in flight get to be acknowledged before the topic is counted. */
const FINISH_WAIT_MS = 5000;
const GOAL = { perSecond: 50_000, p99Ms: 2000 };

type KafkaClient = 'kafkajs' | 'platformatic';
const CLIENTS: readonly KafkaClient[] = ['kafkajs', 'platformatic'];
const MATRIX_CLIENT = (process.env.ECHOLAKE_BENCH_INGEST_CLIENT ?? 'platformatic') as KafkaClient;

type BrokerKind = 'embedded' | 'mosquitto';

interface RunSpec {
  label: string;
  broker: BrokerKind;
  auth: boolean;
  client: KafkaClient;
  sites: number;
  batch: number;
  /** Readings per second per site; Infinity: a backlog. */
  rate: number;
}

interface RunResult {
  spec: RunSpec;
  ok: boolean;
  problems: string[];
  connectSeconds: number;
  perSecond: number;
  /** Records the readings topic grew by per second in the measured window, copies included. */
  kafkaPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  resends: number;
  staleAcks: number;
  /** Sites whose last batch was still unacknowledged 5 s after the load stopped (the queue the overload built). */
  unfinished: number;
  /** CPU the cloud process spent per record into Kafka, µs: records/s at one core = 1e6 / this. */
  cloudCpuUsPerReading: number;
  backlog: number;
  /** Records in the readings topic that are copies of readings already there (resent batches). */
  copiesShare: number;
  cloudRss: { first: number; last: number; peak: number };
  brokerRss: { first: number; last: number; peak: number };
  cpu: { cloud: number; broker: number; kafka: number };
  mosquittoDbBytes: number | undefined;
}

const kafkaBrokers = requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS');
const kafkaAdmin = new Kafka({ clientId: 'bench-ingest-admin', brokers: kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).admin();

function plan(): RunSpec[] {
  const runs: RunSpec[] = [];
  const backlog = Number.POSITIVE_INFINITY;
  const spec = (broker: BrokerKind, auth: boolean, client: KafkaClient, fleet: number, batch: number, rate: number): RunSpec => {
    const sites = Math.min(fleet, MAX_SITES);
    const access = broker === 'embedded' ? (auth ? 'auth' : 'allow-all') : auth ? 'auth' : 'anonymous';
    const load = Number.isFinite(rate) ? `${num(sites * rate, 0)}/s offered` : 'backlog';
    return { label: `${broker}-${access} ${client} ${sites}×${batch} ${load}`, broker, auth, client, sites, batch, rate };
  };
  // The production shapes, every size: per-site auth on, the matrix's client.
  for (const broker of ['embedded', 'mosquitto'] as const) {
    for (const sites of [1, 100, 1000]) for (const batch of [100, 500]) runs.push(spec(broker, true, MATRIX_CLIENT, sites, batch, backlog));
  }
  // What per-site auth costs, at the fleet size that matters.
  for (const broker of ['embedded', 'mosquitto'] as const) for (const batch of [100, 500]) runs.push(spec(broker, false, MATRIX_CLIENT, 1000, batch, backlog));
  // The other Kafka client through the whole ingest, same broker, same run of the bench.
  for (const client of CLIENTS.filter((c) => c !== MATRIX_CLIENT)) for (const batch of [100, 500]) runs.push(spec('mosquitto', true, client, 1000, batch, backlog));
  // The goal's case: 1,000 sites offering 50,000 readings/s in all.
  for (const broker of ['embedded', 'mosquitto'] as const) runs.push(spec(broker, true, MATRIX_CLIENT, 1000, 100, GOAL.perSecond / 1000));
  const unique = runs.filter((run, index) => runs.findIndex((other) => other.label === run.label) === index);
  return unique.filter((run) => ONLY.length === 0 || ONLY.some((only) => run.label.startsWith(only) || run.label.includes(only)));
}

interface Broker {
  url: string;
  pid: number | undefined;
  protocolVersion: 4 | 5;
  mosquitto: BenchMosquitto | undefined;
  stop(): Promise<void>;
}

async function startBroker(spec: RunSpec, dir: string, registryFile: string, sites: Site[]): Promise<Broker> {
  if (spec.broker === 'embedded') {
    const child = new Deployable('broker', 'bench/support/ingest-broker-child.ts', [registryFile, spec.auth ? 'sites' : 'allow-all'], { LOG_LEVEL: 'info' }).retainAtMost(200);
    const listening = await child.waitFor((e) => e.msg === 'embedded mqtt broker listening', 60_000, 'the embedded broker');
    return { url: String(listening.url), pid: child.pid, protocolVersion: 4, mosquitto: undefined, stop: async () => void (await child.stop()) };
  }
  const mosquitto = await startBenchMosquitto(spec.auth ? await writeBenchMosquittoFiles(dir, sites) : undefined);
  return { url: mosquitto.url, pid: mosquitto.pid, protocolVersion: 5, mosquitto, stop: () => mosquitto.stop() };
}

interface Sample {
  at: number;
  cloudRss: number | undefined;
  brokerRss: number | undefined;
  cpu: { cloud: number | undefined; broker: number | undefined; kafka: number | undefined };
}

async function runOnce(spec: RunSpec, allSites: Site[], kafkaPid: number | undefined): Promise<RunResult> {
  const run = randomUUID().slice(0, 8);
  const dir = mkdtempSync(join(tmpdir(), 'echolake-bench-ingest-'));
  const sites = allSites.slice(0, spec.sites);
  const registryFile = writeBenchRegistry(dir, sites);
  const passwordFile = join(dir, 'cloud.password');
  writeFileSync(passwordFile, CLOUD_PASSWORD, { mode: 0o600 });
  const topics = { readings: `bench-ingest-${run}`, deadLetter: `bench-ingest-dlq-${run}` };
  const cloudClientId = `echolake-cloud-bench-${run}`;
  const problems: string[] = [];
  const samples: Sample[] = [];
  let broker: Broker | undefined;
  let cloud: Deployable | undefined;
  let load: SiteLoad | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let mosquittoDbBytes: number | undefined;
  try {
    broker = await startBroker(spec, dir, registryFile, sites);
    const started = broker;
    cloud = new Deployable('cloud', 'cloud/main.ts', [], {
      LOG_LEVEL: 'info',
      ECHOLAKE_CLOUD_ROLES__LAKE: 'false',
      ECHOLAKE_CLOUD_SITES__FILE: registryFile,
      ECHOLAKE_CLOUD_API__PORT: '0',
      ECHOLAKE_CLOUD_MQTT__URL: broker.url,
      ECHOLAKE_CLOUD_MQTT__USERNAME: CLOUD_USER,
      ECHOLAKE_CLOUD_MQTT__PASSWORD_FILE: passwordFile,
      ECHOLAKE_CLOUD_MQTT__PROTOCOL_VERSION: String(broker.protocolVersion),
      ECHOLAKE_CLOUD_MQTT__CLIENT_ID: cloudClientId,
      // aedes has no shared subscriptions; Mosquitto gets one, as replicas would share it.
      ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: spec.broker === 'embedded' ? '' : `bench-${run}`,
      ECHOLAKE_CLOUD_KAFKA__BROKERS: kafkaBrokers,
      ECHOLAKE_CLOUD_KAFKA__PRODUCER__CLIENT: spec.client,
      ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: topics.readings,
      ECHOLAKE_CLOUD_KAFKA__TOPICS__DEAD_LETTER: topics.deadLetter,
      ...(WINDOW !== undefined && { ECHOLAKE_CLOUD_INGEST__MAX_IN_FLIGHT_BATCHES: WINDOW }),
      ...(COMPRESSION !== undefined && { ECHOLAKE_CLOUD_KAFKA__PRODUCER__COMPRESSION: COMPRESSION }),
    }, CLOUD_NODE_FLAGS).retainAtMost(500);
    const ingestSubscribed = cloud.waitFor((e) => e.msg === 'ingest subscribed', 120_000, 'the ingest subscription');
    await ingestSubscribed;
    cloud.onEvent((e) => {
      if (e.msg === 'batch dead-lettered' || (typeof e.level === 'number' && e.level >= 50)) {
        const why = typeof e.reason === 'string' ? e.reason : ((e.err as { message?: string } | undefined)?.message ?? '');
        if (problems.length < 5) problems.push(`cloud: ${String(e.msg)} ${why}`);
      }
    });
    load = new SiteLoad({
      url: broker.url,
      siteIds: sites.map((site) => site.id),
      batchReadings: spec.batch,
      readingsPerSecondPerSite: spec.rate,
      ackTimeoutMs: ACK_TIMEOUT_MS,
      ackTimeoutMaxMs: ACK_TIMEOUT_MAX_MS,
      protocolVersion: broker.protocolVersion,
      credentials: (siteId) => ({ username: siteId, password: testSecret(siteId) }),
      connectConcurrency: 50,
    });
    const connectSeconds = await load.connect();
    const cloudPid = cloud.pid;
    const sample = (): void => {
      samples.push({
        at: Date.now(),
        cloudRss: cloudPid === undefined ? undefined : rssBytes(cloudPid),
        brokerRss: started.pid === undefined ? undefined : rssBytes(started.pid),
        cpu: {
          cloud: cloudPid === undefined ? undefined : cpuSeconds(cloudPid),
          broker: started.pid === undefined ? undefined : cpuSeconds(started.pid),
          kafka: kafkaPid === undefined ? undefined : cpuSeconds(kafkaPid),
        },
      });
    };
    load.start();
    const fleet = spec.sites >= FLEET;
    await sleep((fleet ? FLEET_WARMUP_S : WARMUP_S) * 1000);
    load.startMeasuring();
    const recordsAtStart = await topicRecords(topics.readings);
    sample();
    sampler = setInterval(sample, SAMPLE_MS);
    const measureStart = Date.now();
    await sleep((fleet ? FLEET_MEASURE_S : MEASURE_S) * 1000);
    load.stopMeasuring();
    const measured = (Date.now() - measureStart) / 1000;
    const kafkaPerSecond = ((await topicRecords(topics.readings)) - recordsAtStart) / measured;
    clearInterval(sampler);
    sample();
    // Let the batches in flight be acknowledged, so the topic's copies are told from readings still under way.
    const unfinished = await load.finish(FINISH_WAIT_MS);
    await load.stop();
    const figures = load.figures;
    const records = await topicRecords(topics.readings);
    mosquittoDbBytes = broker.mosquitto?.dataBytes();
    const rss = (pick: (s: Sample) => number | undefined): { first: number; last: number; peak: number } => {
      const values = samples.map(pick).filter((v): v is number => v !== undefined);
      return { first: values[0] ?? Number.NaN, last: values[values.length - 1] ?? Number.NaN, peak: Math.max(...values) };
    };
    const cpuShare = (pick: (s: Sample) => number | undefined): number => {
      const first = samples[0];
      const last = samples[samples.length - 1];
      const a = first === undefined ? undefined : pick(first);
      const b = last === undefined ? undefined : pick(last);
      return a === undefined || b === undefined || first === undefined || last === undefined ? Number.NaN : (b - a) / ((last.at - first.at) / 1000);
    };
    if (figures.ackedBatches === 0) problems.push('no batch acknowledged');
    const cloudCpu = cpuShare((s) => s.cpu.cloud);
    return {
      spec,
      ok: problems.length === 0,
      // A copy: what the cloud logs while it stops (after the figures) is not the run's.
      problems: [...problems],
      unfinished,
      // Per record Kafka took in the window: acks can lag the work by more than the window.
      cloudCpuUsPerReading: (cloudCpu * 1e6) / kafkaPerSecond,
      connectSeconds,
      perSecond: figures.ackedReadings / measured,
      kafkaPerSecond,
      p50Ms: percentile(figures.latenciesMs, 50),
      p99Ms: percentile(figures.latenciesMs, 99),
      maxMs: Math.max(...figures.latenciesMs),
      resends: figures.resends,
      staleAcks: figures.staleAcks,
      backlog: figures.backlog,
      // Only when every batch was acknowledged: one still in flight may be in Kafka already.
      copiesShare: records > 0 && unfinished === 0 ? Math.max(0, records - figures.ackedReadingsInRun) / records : Number.NaN,
      cloudRss: rss((s) => s.cloudRss),
      brokerRss: rss((s) => s.brokerRss),
      cpu: { cloud: cloudCpu, broker: cpuShare((s) => s.cpu.broker), kafka: cpuShare((s) => s.cpu.kafka) },
      mosquittoDbBytes,
    };
  } finally {
    clearInterval(sampler);
    await load?.stop();
    await cloud?.stop();
    // The ingest's session is persistent (clean: false, 10 min expiry): discard it, or it would keep
    // taking its share of every later batch for the shared group.
    if (broker !== undefined && spec.broker === 'mosquitto') await discardSession(broker.url, cloudClientId);
    await broker?.stop();
    await deleteTopics([topics.readings, topics.deadLetter]);
    rmSync(dir, { recursive: true, force: true });
  }

}

async function topicRecords(topic: string): Promise<number> {
  const offsets = await kafkaAdmin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

/** A clean start with session expiry 0 ends what the broker kept for this client id. */
async function discardSession(url: string, clientId: string): Promise<void> {
  try {
    const client = await connectAsync(url, { clientId, clean: true, protocolVersion: 5, properties: { sessionExpiryInterval: 0 }, reconnectPeriod: 0, username: CLOUD_USER, password: CLOUD_PASSWORD });
    await client.endAsync();
  } catch (err) {
    console.error(`could not discard the MQTT session ${clientId}: ${(err as Error).message}`);
  }
}

async function deleteTopics(topics: string[]): Promise<void> {
  try {
    const existing = new Set(await kafkaAdmin.listTopics());
    const present = topics.filter((topic) => existing.has(topic));
    if (present.length > 0) await kafkaAdmin.deleteTopics({ topics: present, timeout: 30_000 });
  } catch (err) {
    console.error(`could not delete topics ${topics.join(', ')}: ${(err as Error).message}`);
  }
}

const ms = (value: number): string => (Number.isFinite(value) ? (value >= 1000 ? `${num(value / 1000, 1)} s` : `${num(value, 0)} ms`) : '–');
const pct = (value: number): string => (Number.isFinite(value) ? `${num(value * 100, 1)} %` : '–');
const rssCell = (r: { first: number; last: number; peak: number }): string => `${num(mib(r.first), 0)}→${num(mib(r.last), 0)} (${num(mib(r.peak), 0)})`;

function report(results: RunResult[]): void {
  console.log(
    table(
      ['run', 'readings/s acked', 'into Kafka/s', 'cloud CPU µs/reading', 'p50', 'p99', 'max', 'resends', 'copies', 'cloud RSS MiB first→last (peak)', 'broker RSS MiB', 'CPU cloud/broker/kafka', 'connect'],
      results.map((r) => [
        r.spec.label + (r.ok ? '' : ' ⚠'),
        num(r.perSecond, 0),
        num(r.kafkaPerSecond, 0),
        num(r.cloudCpuUsPerReading, 1),
        ms(r.p50Ms),
        ms(r.p99Ms),
        ms(r.maxMs),
        num(r.resends, 0),
        r.unfinished > 0 ? `(${r.unfinished} in flight)` : pct(r.copiesShare),
        rssCell(r.cloudRss),
        rssCell(r.brokerRss),
        `${num(r.cpu.cloud, 2)} / ${num(r.cpu.broker, 2)} / ${num(r.cpu.kafka, 2)}`,
        `${num(r.connectSeconds, 1)} s`,
      ]),
    ),
  );
  for (const r of results.filter((x) => !x.ok)) console.log(`⚠ ${r.spec.label}: ${r.problems.join('; ')}`);
  const byLabel = (prefix: string, batch: number): RunResult | undefined => results.find((r) => r.spec.label.startsWith(prefix) && r.spec.sites === 1000 && r.spec.batch === batch && !Number.isFinite(r.spec.rate) && r.spec.client === MATRIX_CLIENT);
  for (const broker of ['embedded', 'mosquitto']) {
    for (const batch of [100, 500]) {
      const withAuth = byLabel(`${broker}-auth`, batch);
      const without = byLabel(`${broker}-${broker === 'embedded' ? 'allow-all' : 'anonymous'}`, batch);
      if (withAuth !== undefined && without !== undefined) {
        console.log(`per-site auth, ${broker}, 1000×${batch}: ${num(withAuth.perSecond, 0)} vs ${num(without.perSecond, 0)} readings/s without (${pct(withAuth.perSecond / without.perSecond)}); goal: not halved → ${withAuth.perSecond >= without.perSecond / 2 ? 'met' : 'NOT met'}`);
      }
    }
  }
  for (const r of results.filter((x) => Number.isFinite(x.spec.rate))) {
    const met = r.perSecond >= GOAL.perSecond * 0.98 && r.p99Ms < GOAL.p99Ms && r.resends === 0;
    console.log(`goal (${r.spec.label}): ${num(r.perSecond, 0)} readings/s, p99 ${ms(r.p99Ms)}, ${r.resends} resends → ${met ? 'met' : 'NOT met'}`);
  }
}

async function main(): Promise<number> {
  const runs = plan();
  console.log(`# ${machineLine()}`);
  console.log(`# ${runs.length} runs, ${WARMUP_S} s warm-up + ${MEASURE_S} s measured each (${FLEET_WARMUP_S} s + ${FLEET_MEASURE_S} s at ${FLEET} sites); sites drain a backlog unless a rate is offered; ack timeout ${ACK_TIMEOUT_MS / 1000} s doubling to ${ACK_TIMEOUT_MAX_MS / 1000} s as the edge's`);
  const started = Date.now();
  const allSites = await benchSites(Math.max(...runs.map((r) => r.sites)));
  console.log(`# registry of ${allSites.length} sites generated in ${num((Date.now() - started) / 1000, 1)} s (site ids ${benchSiteId(0)}…)`);
  await kafkaAdmin.connect();
  const kafkaPid = pidListeningOn(Number(kafkaBrokers.split(',')[0]?.split(':')[1]));
  const results: RunResult[] = [];
  try {
    for (const spec of runs) {
      process.stdout.write(`${spec.label} … `);
      try {
        const result = await runOnce(spec, allSites, kafkaPid);
        results.push(result);
        console.log(`${num(result.perSecond, 0)} readings/s, p99 ${ms(result.p99Ms)}, ${result.resends} resends`);
      } catch (err) {
        console.log(`failed: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    await kafkaAdmin.disconnect();
  }
  console.log(`\n# ${results.length} of ${runs.length} runs in ${num((Date.now() - started) / 60_000, 1)} min; readings/s = acknowledged readings over the measured seconds; latency = first publish → ack`);
  report(results);
  return results.length === runs.length && results.every((r) => r.ok) ? 0 : 1;
}

runBenchmark('ingest', main);
