import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { FakeSources, apiServer, echonetOnSite, healthyStatus } from '../../../support/api-fakes.js';

const sources = new FakeSources();
const server = apiServer({}, sources);
after(() => server.stop());

test('GET /api/v1/status reports uplink, backlog, drops, database size, version, uptime and devices', async () => {
  const response = await server.app.inject({ url: '/api/v1/status' });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), {
    ...healthyStatus,
    version: '0.1.0-test',
    devices: { online: 1, unreachable: 1, offline: 1 },
  });
});

test('GET /healthz answers while the process runs', async () => {
  const response = await server.app.inject({ url: '/healthz' });
  assert.deepEqual({ status: response.statusCode, body: response.json<unknown>() }, { status: 200, body: { status: 'ok' } });
});

test('GET /readyz is 200 when ready and 503 with the reasons when not', async () => {
  const ready = await server.app.inject({ url: '/readyz' });
  assert.deepEqual({ status: ready.statusCode, body: ready.json<unknown>() }, { status: 200, body: { ready: true, reasons: [] } });

  sources.readiness = { ready: false, reasons: ['outbox database is not open', 'ECHONET Lite socket is not bound'] };
  const notReady = await server.app.inject({ url: '/readyz' });
  assert.deepEqual(
    { status: notReady.statusCode, body: notReady.json<unknown>() },
    { status: 503, body: { ready: false, reasons: ['outbox database is not open', 'ECHONET Lite socket is not bound'] } },
  );
  sources.readiness = { ready: true };
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text exposition format 0.0.4: throws on any line it cannot read. */
function parsePrometheusText(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type?.[1] !== undefined && type[2] !== undefined) {
      types.set(type[1], type[2]);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (sample?.[1] === undefined || sample[3] === undefined) throw new Error(`line ${index + 1} is not Prometheus text: ${line}`);
    const value = numberOf(sample[3]);
    if (value === undefined) throw new Error(`line ${index + 1} has no number: ${line}`);
    samples.push({ name: sample[1], labels: parseLabels(sample[2] ?? '', index + 1), value });
  }
  for (const { name } of samples) {
    const family = name.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(name) && !types.has(family)) throw new Error(`sample ${name} has no # TYPE line`);
  }
  return { types, samples };
}

/** As Prometheus reads values (Go's ParseFloat): NaN and Inf in any case; prom-client writes `Nan`. */
function numberOf(text: string): number | undefined {
  if (/^nan$/i.test(text)) return NaN;
  if (/^[+-]?inf$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

function parseLabels(text: string, lineNumber: number): Record<string, string> {
  const labels: Record<string, string> = {};
  const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
  let consumed = 0;
  for (let match = pair.exec(text); match !== null; match = pair.exec(text)) {
    labels[match[1] ?? ''] = match[2] ?? '';
    consumed = pair.lastIndex;
  }
  if (consumed !== text.length) throw new Error(`line ${lineNumber} has unreadable labels: ${text}`);
  return labels;
}

test('GET /metrics is Prometheus text with process metrics and the gateway\'s own, read from the sources', async () => {
  await server.app.inject({ url: '/healthz' });
  const response = await server.app.inject({ url: '/metrics' });
  assert.equal(response.statusCode, 200);
  assert.match(response.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  const { types, samples } = parsePrometheusText(response.body);
  const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

  assert.ok(value('process_cpu_user_seconds_total') !== undefined, 'default process metrics');
  assert.ok(value('nodejs_heap_size_used_bytes') !== undefined, 'default Node metrics');
  assert.equal(value('echolake_edge_info', { version: '0.1.0-test', site_id: 'site-a' }), 1);
  assert.equal(value('echolake_edge_uplink_connected'), 1);
  assert.equal(value('echolake_edge_uplink_last_ack_timestamp_seconds'), Date.parse('2026-11-23T05:00:09.000Z') / 1000);
  assert.equal(value('echolake_edge_backlog_readings'), 10);
  assert.equal(value('echolake_edge_backlog_oldest_age_seconds'), 4.2);
  assert.equal(value('echolake_edge_database_bytes'), 1_234_567);
  assert.equal(value('echolake_edge_readings_recorded_total'), 80);
  assert.equal(value('echolake_edge_readings_dropped_total'), 3);
  assert.equal(value('echolake_edge_uplink_batches_acknowledged_total'), 7);
  assert.equal(value('echolake_edge_uplink_readings_acknowledged_total'), 70);
  assert.equal(value('echolake_edge_uplink_resends_total'), 2);
  assert.equal(value('echolake_edge_uplink_acks_rejected_total', { reason: 'otherSite' }), 4);
  assert.equal(value('echolake_edge_uplink_acks_rejected_total', { reason: 'notInFlight' }), 1);
  assert.equal(value('echolake_edge_uplink_link_events_total', { event: 'oversizedPackets' }), 1);
  assert.equal(value('echolake_edge_commands_total', { outcome: 'received' }), 3);
  assert.equal(value('echolake_edge_commands_total', { outcome: 'duplicate' }), 2);
  assert.equal(value('echolake_edge_commands_total', { outcome: 'refused' }), 1);
  assert.equal(value('echolake_edge_command_restores_total'), 1);
  assert.equal(value('echolake_edge_command_results_pending'), 4);
  for (const availability of ['online', 'unreachable', 'offline']) {
    assert.equal(value('echolake_edge_devices', { availability }), 1, availability);
  }
  assert.ok((value('echolake_edge_api_requests_total', { method: 'GET', route: '/healthz', status: '200' }) ?? 0) >= 1);
  assert.equal(types.get('echolake_edge_readings_dropped_total'), 'counter');
  assert.equal(types.get('echolake_edge_backlog_readings'), 'gauge');
  const ours = [...types.keys()].filter((name) => name.startsWith('echolake'));
  assert.ok(ours.every((name) => name.startsWith('echolake_edge_')), ours.join(', '));
});

test('GET /metrics tells the ECHONET Lite side: searches, frames, drops by reason, and per device requests, answers, timeouts, retries, Get_SNA, batch size, availability', async () => {
  const { types, samples } = parsePrometheusText((await server.app.inject({ url: '/metrics' })).body);
  const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(value('echolake_edge_echonet_searches_total'), echonetOnSite.searches);
  assert.equal(value('echolake_edge_echonet_frames_received_total'), 120);
  assert.equal(value('echolake_edge_echonet_frames_sent_total'), 118);
  for (const [reason, n] of Object.entries(echonetOnSite.framesDropped)) assert.equal(value('echolake_edge_echonet_frames_dropped_total', { reason }), n, reason);
  const slow = { device_id: '192.168.1.21-013001' };
  assert.equal(value('echolake_edge_echonet_device_requests_total', slow), 60);
  assert.equal(value('echolake_edge_echonet_device_answers_total', slow), 52);
  assert.equal(value('echolake_edge_echonet_device_timeouts_total', slow), 8);
  assert.equal(value('echolake_edge_echonet_device_retries_total', slow), 16);
  assert.equal(value('echolake_edge_echonet_device_get_sna_total', slow), 3);
  assert.equal(value('echolake_edge_echonet_device_batch_size', slow), 3);
  assert.equal(value('echolake_edge_echonet_device_availability', slow), 1, 'unreachable');
  assert.equal(value('echolake_edge_echonet_device_availability', { device_id: 'fe000008000102030405060708090a0b0c-013001' }), 2, 'online');
  assert.equal(types.get('echolake_edge_echonet_device_timeouts_total'), 'counter');
  assert.equal(types.get('echolake_edge_echonet_device_batch_size'), 'gauge');
});

test('requests to unknown routes are counted under one series, not one per URL', async () => {
  await server.app.inject({ url: '/no/such/route/1' });
  await server.app.inject({ url: '/no/such/route/2' });
  const { samples } = parsePrometheusText((await server.app.inject({ url: '/metrics' })).body);
  const unmatched = samples.filter((s) => s.name === 'echolake_edge_api_requests_total' && s.labels.status === '404');
  assert.deepEqual(unmatched.map((s) => [s.labels.route, s.value]), [['unmatched', 2]]);
});
