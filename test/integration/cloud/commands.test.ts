// Commands from the API to the units, every part real: the cloud process (commands and lake roles,
// its embedded broker, Kafka), two edge processes, simulated air conditioners whose journal of
// received requests is the truth; the audit read back from Kafka and, by delta-rs, from the lake.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { connectAsync } from 'mqtt';
import { pino } from 'pino';
import { newOperatorToken } from '../../../cloud/http/auth.js';
import { writeRegistryFile } from '../../../cloud/sites/file-registry.js';
import type { CommandView } from '../../../cloud/commands/ledger.js';
import { type SimulatorHandle, startSimulator } from '../../../edge/simulator/simulator.js';
import { COMMAND_SCHEMA_VERSION, encodeCommand, encodeCommandResult } from '../../../shared/contract/commands.js';
import { siteTopic } from '../../../shared/contract/topics.js';
import { freePorts } from '../../services/processes.js';
import { CLOUD_PASSWORD, CLOUD_USER, testSecret, testSite } from '../../support/cloud-sites.js';
import { Deployable } from '../../support/deployable.js';
import { requiredEnv } from '../../support/env.js';
import { readWholeTopic } from '../../support/kafka-topic.js';
import { sleep } from '../../support/wait.js';

const run = randomUUID().slice(0, 8);
const siteA = `tokyo-${run}`;
const siteB = `osaka-${run}`;
const auditTopic = `commands-${run}`;
const dir = mkdtempSync(join(tmpdir(), 'echolake-commands-cloud-'));
const operator = newOperatorToken('ops');
const parts: Array<{ stop(): Promise<unknown> }> = [];
let api: string;
let cloud: Deployable;
const sims: Record<string, SimulatorHandle> = {};
const edges: Record<string, Deployable> = {};
let mqttUrl: string;

async function startEdge(siteId: string, sim: SimulatorHandle, port: number): Promise<Deployable> {
  const edge = new Deployable(`edge-${siteId}`, 'edge/main.ts', [], {
    ECHOLAKE_EDGE_SITE_ID: siteId,
    ECHOLAKE_EDGE_STATE_DIR: join(dir, siteId),
    ECHOLAKE_EDGE_ECHONET__INTERFACE: '127.0.0.1',
    ECHOLAKE_EDGE_ECHONET__PORT: String(port),
    ECHOLAKE_EDGE_ECHONET__POLL_INTERVAL_MS: '1000',
    ECHOLAKE_EDGE_API__ENABLED: 'false',
    ECHOLAKE_EDGE_UPLINK__URL: mqttUrl,
    ECHOLAKE_EDGE_UPLINK__PROTOCOL_VERSION: '4',
    ECHOLAKE_EDGE_UPLINK__USERNAME: siteId,
    ECHOLAKE_EDGE_UPLINK__PASSWORD: testSecret(siteId),
    ECHOLAKE_EDGE_COMMANDS__ENABLED: 'true',
  });
  parts.push(edge);
  await edge.waitFor((e) => e.msg === 'uplink subscribed', 30_000, `${siteId} subscribed`);
  await edge.waitFor(() => edge.events.filter((e) => e.msg === 'echonet device discovered').length >= sim.devices().length, 30_000, `${siteId}'s units found`);
  return edge;
}

before(async () => {
  const [brokerPort, echonetA, echonetB] = (await freePorts(3)) as [number, number, number];
  mqttUrl = `mqtt://127.0.0.1:${brokerPort}`;
  const sitesFile = join(dir, 'sites.yaml');
  writeRegistryFile(sitesFile, {
    sites: [await testSite(siteA, { location: { latitude: 35.68, longitude: 139.77 } }), await testSite(siteB, { location: { latitude: 34.69, longitude: 135.5 } })],
  });
  const passwordFile = join(dir, 'cloud.password');
  writeFileSync(passwordFile, CLOUD_PASSWORD, { mode: 0o600 });
  const configFile = join(dir, 'cloud.yaml');
  writeFileSync(configFile, `api:\n  operators:\n    - name: ${operator.entry.name}\n      tokenSha256: ${operator.entry.tokenSha256}\n`);
  cloud = new Deployable('cloud', 'cloud/main.ts', ['--config', configFile], {
    ECHOLAKE_CLOUD_SITES__FILE: sitesFile,
    ECHOLAKE_CLOUD_MQTT__USERNAME: CLOUD_USER,
    ECHOLAKE_CLOUD_MQTT__PASSWORD_FILE: passwordFile,
    ECHOLAKE_CLOUD_API__PORT: '0',
    ECHOLAKE_CLOUD_ROLES__INGEST: 'false',
    ECHOLAKE_CLOUD_ROLES__LAKE: 'true',
    ECHOLAKE_CLOUD_LAKE__COMMANDS_TABLE: 'true',
    ECHOLAKE_CLOUD_LAKE__ROOT: join(dir, 'lake'),
    ECHOLAKE_CLOUD_LAKE__GROUP_ID: `lake-${run}`,
    ECHOLAKE_CLOUD_ROLES__COMMANDS: 'true',
    ECHOLAKE_CLOUD_BROKER__ENABLED: 'true',
    ECHOLAKE_CLOUD_BROKER__PORT: String(brokerPort),
    ECHOLAKE_CLOUD_MQTT__URL: mqttUrl,
    ECHOLAKE_CLOUD_MQTT__PROTOCOL_VERSION: '4',
    ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: '',
    ECHOLAKE_CLOUD_KAFKA__BROKERS: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS'),
    ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: `readings-${run}`,
    ECHOLAKE_CLOUD_KAFKA__TOPICS__DEAD_LETTER: `dlq-${run}`,
    ECHOLAKE_CLOUD_COMMANDS__TOPIC: auditTopic,
  });
  parts.push(cloud);
  api = String((await cloud.waitFor((e) => e.msg === 'cloud API listening', 60_000, 'the cloud API')).url);
  await cloud.waitFor((e) => e.msg === 'commands subscribed to results', 30_000, 'the commands role');
  const log = pino({ level: 'silent' });
  sims[siteA] = await startSimulator({ interfaceAddress: '127.0.0.1', baseAddress: '127.0.5.2', nodes: 2, port: echonetA, tickMs: 0, logger: log });
  sims[siteB] = await startSimulator({ interfaceAddress: '127.0.0.1', baseAddress: '127.0.5.20', nodes: 1, port: echonetB, tickMs: 0, logger: log });
  parts.push(sims[siteA], sims[siteB]);
  edges[siteA] = await startEdge(siteA, sims[siteA], echonetA);
  edges[siteB] = await startEdge(siteB, sims[siteB], echonetB);
});

after(async () => {
  for (const part of parts.reverse()) await part.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function post(body: unknown, token: string | null = operator.token): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${api}/api/v1/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== null && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function view(id: string): Promise<CommandView> {
  const response = await fetch(`${api}/api/v1/commands/${id}`, { headers: { authorization: `Bearer ${operator.token}` } });
  assert.equal(response.status, 200);
  return (await response.json()) as CommandView;
}

/** The rows of one command in the lake's commands table, read by delta-rs, in audit order. */
async function commandsTableRows(commandId: string): Promise<Array<{ type: string; state: string | null; author: string | null; reason: string | null }>> {
  const script = `
import sys
from deltalake import DeltaTable
frame = DeltaTable(sys.argv[1]).to_pandas()
frame = frame[frame["commandId"] == sys.argv[2]].sort_values(["kafkaPartition", "kafkaOffset"])
print(frame[["type", "state", "author", "reason"]].to_json(orient="records"))
`;
  try {
    const { stdout } = await promisify(execFile)(requiredEnv('ECHOLAKE_TEST_PYTHON'), ['-c', script, join(dir, 'lake', 'commands'), commandId]);
    return JSON.parse(stdout) as Array<{ type: string; state: string | null; author: string | null; reason: string | null }>;
  } catch {
    return []; // not written yet
  }
}

/** Polls an async probe until it gives a value. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

const inAnHour = (): string => new Date(Date.now() + 3_600_000).toISOString();
const node = (siteId: string, index: number) => sims[siteId]?.nodes[index] ?? assert.fail(`no node ${index} at ${siteId}`);

test('a command to one device: one SetC with the right EDT at that unit only, verified, and the whole story in the audit', { timeout: 60_000 }, async () => {
  const target = node(siteA, 0);
  const created = await post({ target: { siteId: siteA, deviceId: target.deviceId }, set: { targetTemperature: 26, airFlowLevel: 3 }, expiresAt: inAnHour(), reason: 'too cold in the meeting room' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { commandId } = (created.body as unknown as CommandView).command;
  const done = await eventually('verified', async () => {
    const current = await view(commandId);
    return current.targets[0]?.devices[0]?.state === 'verified' ? current : undefined;
  }, 20_000);
  assert.equal(done.command.author, 'ops');
  assert.equal(done.targets[0]?.state, 'delivered');
  assert.deepEqual(done.targets[0]?.devices[0]?.values, { targetTemperature: 26, airFlowLevel: 3 });
  assert.deepEqual(target.setsReceived().map((s) => s.raw), [{ b3: '1a', a0: '33' }], 'one SetC: 26 °C (0x1a), fan level 3 (0x33)');
  assert.deepEqual([node(siteA, 1), node(siteB, 0)].flatMap((n) => n.setsReceived()), [], 'no other unit was set');

  const audit = (await readWholeTopic(auditTopic)).map((m) => JSON.parse(m.value) as { type: string; result?: { state: string } });
  const story = audit.filter((e) => JSON.stringify(e).includes(commandId)).map((e) => (e.type === 'result' ? `result:${e.result?.state}` : e.type));
  const expected = ['created', 'published', 'result:received', 'result:applied', 'result:verified'];
  assert.deepEqual(story, expected);
  const inDelta = await eventually('the story in the commands table', async () => {
    const rows = await commandsTableRows(commandId);
    return rows.length === expected.length ? rows : undefined;
  }, 20_000);
  assert.deepEqual(inDelta.map((r) => (r.type === 'result' ? `result:${r.state}` : r.type)), expected);
  assert.equal(inDelta[0]?.author, 'ops');
  assert.equal(inDelta[0]?.reason, 'too cold in the meeting room');
});

test('a setpoint offset to several sites: one SetC per unit from its own setpoint, each verified', { timeout: 60_000 }, async () => {
  const units = [node(siteA, 0), node(siteA, 1), node(siteB, 0)];
  const before = units.map((unit) => ({ sets: unit.setsReceived().length, setpoint: unit.state().targetTemperature }));
  const created = await post({ target: { siteIds: [siteA, siteB] }, setpointOffset: 1, expiresAt: inAnHour(), reason: 'demand response drill' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { commandId } = (created.body as unknown as CommandView).command;
  await eventually('three verified', async () => {
    const current = await view(commandId);
    return current.targets.flatMap((t) => t.devices).filter((d) => d.state === 'verified').length === 3 || undefined;
  }, 20_000);
  units.forEach((unit, i) => {
    const sets = unit.setsReceived();
    assert.equal(sets.length, (before[i]?.sets ?? 0) + 1, `one more SetC at unit ${i}`);
    assert.equal(sets.at(-1)?.raw.b3, ((before[i]?.setpoint ?? 0) + 1).toString(16).padStart(2, '0'));
  });
});

test('a demand-response campaign moves every unit of the sites and puts each back at its end', { timeout: 60_000 }, async () => {
  const units = [node(siteA, 0), node(siteA, 1), node(siteB, 0)];
  const before = units.map((unit) => unit.state().targetTemperature);
  const response = await fetch(`${api}/api/v1/demand-response`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${operator.token}` },
    body: JSON.stringify({ name: 'grid tight', target: { siteIds: [siteA, siteB] }, setpointOffset: 2, endsAt: new Date(Date.now() + 6_000).toISOString() }),
  });
  assert.equal(response.status, 201);
  const { commandId, reason, restore } = ((await response.json()) as CommandView).command;
  assert.equal(reason, 'demand response "grid tight"');
  assert.equal(restore, true);
  await eventually('every unit raised', () => Promise.resolve(units.every((unit, i) => unit.state().targetTemperature === (before[i] ?? 0) + 2) ? true : undefined), 10_000);
  const done = await eventually('every unit restored', async () => {
    const current = await view(commandId);
    return current.targets.flatMap((t) => t.devices).filter((d) => d.state === 'restored').length === 3 ? current : undefined;
  }, 20_000);
  assert.deepEqual(units.map((unit) => unit.state().targetTemperature), before, 'back where each was');
  assert.ok(done.targets.every((t) => t.state === 'delivered'));
});

test('operators only, and bad requests are refused naming the problem', async () => {
  assert.equal((await post({ target: { siteId: siteA }, set: { operationStatus: false }, expiresAt: inAnHour(), reason: 'x' }, null)).status, 401);
  const unknown = await post({ target: { siteId: 'nowhere' }, set: { operationStatus: false }, expiresAt: inAnHour(), reason: 'x' });
  assert.equal(unknown.status, 400);
  assert.match(JSON.stringify(unknown.body), /no enabled site nowhere/);
  const nothing = await post({ target: { siteId: siteA }, expiresAt: inAnHour(), reason: 'x' });
  assert.match(JSON.stringify(nothing.body), /sets nothing/);
  const hot = await post({ target: { siteId: siteA }, set: { targetTemperature: 80 }, expiresAt: inAnHour(), reason: 'x' });
  assert.equal(hot.status, 400);
  const box = await post({ target: { box: { south: 34, west: 135, north: 35, east: 136 } }, set: { operationStatus: true }, expiresAt: inAnHour(), reason: 'Kansai only' });
  assert.equal(box.status, 201);
  assert.deepEqual((box.body as unknown as CommandView).command.targets, [{ siteId: siteB, devices: 'all' }], 'the box holds Osaka, not Tokyo');
});

/** One counter of the cloud's /metrics (0 while it has no such series). */
async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** Publishes as a site and waits for the broker's answer to a refused publish: it drops the connection. */
async function publishRefused(siteId: string, clientSuffix: string, topic: string, payload: string): Promise<void> {
  const client = await connectAsync(mqttUrl, { protocolVersion: 4, username: siteId, password: testSecret(siteId), clientId: `echolake-edge-${siteId}.${clientSuffix}`, reconnectPeriod: 0 });
  const answer = await new Promise<string>((resolve) => {
    client.once('close', () => resolve('connection closed'));
    client.publish(topic, payload, { qos: 1 }, (err) => {
      if (!(err instanceof Error)) resolve('PUBACK: the broker took it');
    });
  });
  await client.endAsync(true);
  assert.equal(answer, 'connection closed', `${siteId} publishing on ${topic}`);
}

/** A command the edge of siteA would carry out, had the cloud sent it. */
const validCommand = (siteId: string): string =>
  encodeCommand({
    v: COMMAND_SCHEMA_VERSION,
    commandId: randomUUID(),
    siteId,
    author: 'intruder',
    reason: 'forged',
    issuedAt: new Date().toISOString(),
    notBefore: new Date().toISOString(),
    expiresAt: inAnHour(),
    devices: 'all',
    set: { targetTemperature: 29 },
    restore: false,
  });

test('a site cannot read another\'s commands nor report for it; only the cloud sends commands', { timeout: 60_000 }, async () => {
  const spy = await connectAsync(mqttUrl, { protocolVersion: 4, username: siteB, password: testSecret(siteB), clientId: `echolake-edge-${siteB}.spy`, reconnectPeriod: 0 });
  try {
    for (const filter of [siteTopic(siteA, 'commands'), 'echolake/v1/sites/+/commands']) {
      const granted = await spy.subscribeAsync(filter, { qos: 1 }).then((grants) => grants.map((g) => g.qos), (err: Error) => err.message);
      assert.ok(Array.isArray(granted) ? granted.every((qos) => qos === 128) : /Subscribe error/.test(granted), `${filter} refused: ${String(granted)}`);
    }
  } finally {
    await spy.endAsync(true);
  }

  // Valid commands the edge would carry out: from site B on A's topic, and from A itself on its own.
  const unitsA = [node(siteA, 0), node(siteA, 1)];
  const setsBefore = unitsA.map((unit) => unit.setsReceived().length);
  const foreignBefore = await metric('echolake_broker_refused_total', 'action="publish",reason="foreign-topic"');
  const ownBefore = await metric('echolake_broker_refused_total', 'action="publish",reason="not-allowed"');
  const fromB = validCommand(siteA);
  const fromA = validCommand(siteA);
  await publishRefused(siteB, 'forger-command', siteTopic(siteA, 'commands'), fromB);
  await publishRefused(siteA, 'forger-command', siteTopic(siteA, 'commands'), fromA);
  assert.equal(await metric('echolake_broker_refused_total', 'action="publish",reason="foreign-topic"'), foreignBefore + 1, 'B on A\'s commands topic refused');
  assert.equal(await metric('echolake_broker_refused_total', 'action="publish",reason="not-allowed"'), ownBefore + 1, 'A on its own commands topic refused');

  // A real command to B, and A reporting a failure for it in B's name on B's results topic.
  const real = await post({ target: { siteId: siteB }, set: { operationStatus: true }, expiresAt: inAnHour(), reason: 'the cloud\'s own' });
  assert.equal(real.status, 201, JSON.stringify(real.body));
  const realId = (real.body as unknown as CommandView).command.commandId;
  const forged = { v: 1 as const, commandId: realId, siteId: siteB, deviceId: node(siteB, 0).deviceId, state: 'failed' as const, reason: 'forged by site A', at: new Date().toISOString() };
  await publishRefused(siteA, 'forger-result', siteTopic(siteB, 'command-results'), encodeCommandResult(forged));
  assert.equal(await metric('echolake_broker_refused_total', 'action="publish",reason="foreign-topic"'), foreignBefore + 2, 'A on B\'s results topic refused');

  // The cloud's own command to A after the forgeries, on the same topic: once A has carried it out,
  // anything the broker had let through before it would have arrived too.
  const barrier = await post({ target: { siteId: siteA }, set: { targetTemperature: 25 }, expiresAt: inAnHour(), reason: 'after the forgeries' });
  assert.equal(barrier.status, 201, JSON.stringify(barrier.body));
  const barrierId = (barrier.body as unknown as CommandView).command.commandId;
  await eventually('the cloud\'s commands verified', async () => {
    const states = [...(await view(barrierId)).targets, ...(await view(realId)).targets].flatMap((t) => t.devices.map((d) => d.state));
    return states.length === 3 && states.every((state) => state === 'verified') ? true : undefined;
  }, 20_000);
  unitsA.forEach((unit, i) => {
    const sets = unit.setsReceived().slice(setsBefore[i]);
    assert.deepEqual(sets.map((s) => s.raw.b3), ['19'], `unit ${i} of A: only the cloud's 25 °C, never the forged 29 °C (0x1d)`);
  });
  const forgedIds = [fromA, fromB].map((payload) => (JSON.parse(payload) as { commandId: string }).commandId);
  assert.deepEqual(edges[siteA]?.events.filter((e) => forgedIds.includes(String(e.commandId))), [], 'A\'s edge never heard of the forged commands');

  const audit = (await readWholeTopic(auditTopic)).map((m) => JSON.parse(m.value) as { type: string; result?: { siteId: string; reason?: string } });
  assert.ok(audit.some((e) => e.type === 'result' && e.result?.siteId === siteB && JSON.stringify(e).includes(realId)), 'B\'s own results are audited');
  assert.deepEqual(audit.filter((e) => e.result?.reason === 'forged by site A'), [], 'the forged result is not in the audit');
  assert.equal((await view(realId)).targets[0]?.devices[0]?.state, 'verified', 'nor in the command\'s state');

  // A result naming another site than its own topic: the broker lets it through, the cloud refuses it.
  const forger = await connectAsync(mqttUrl, { protocolVersion: 4, username: siteB, password: testSecret(siteB), clientId: `echolake-edge-${siteB}.forger`, reconnectPeriod: 0 });
  try {
    const inAsName = { v: 1, commandId: randomUUID(), siteId: siteA, state: 'verified', at: new Date().toISOString() };
    await forger.publishAsync(siteTopic(siteB, 'command-results'), JSON.stringify(inAsName), { qos: 1 });
    await cloud.waitFor((e) => e.msg === 'command result for another site than its topic refused', 10_000, 'the forged result refused');
  } finally {
    await forger.endAsync(true);
  }
});
