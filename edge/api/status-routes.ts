/**
 * The gateway's own state: a status page for installers, and the liveness and readiness probes
 * supervisors and load balancers ask.
 */
import type { FastifyPluginCallback } from 'fastify';
import { AVAILABILITIES, countByAvailability } from './availability.js';
import type { DeviceSource, StatusSource } from './sources.js';

const count = { type: 'integer', minimum: 0 } as const;
const timestampOrNull = { type: ['string', 'null'], format: 'date-time' } as const;

const statusSchema = {
  type: 'object',
  required: [
    'siteId', 'version', 'uptimeSeconds', 'uplink', 'backlog', 'readingsRecorded', 'droppedReadings', 'droppedByReason', 'databaseBytes',
    'databaseCapBytes', 'diskFreeBytes', 'clock', 'echonet', 'waitingFor', 'devices',
  ],
  additionalProperties: false,
  properties: {
    siteId: { type: 'string' },
    version: { type: 'string', description: 'the gateway software\'s version' },
    uptimeSeconds: { type: 'number', minimum: 0 },
    uplink: {
      type: 'object',
      required: ['state', 'lastAckAt', 'inFlight', 'batchesAcknowledged', 'readingsAcknowledged', 'resends', 'acksRejected', 'link', 'failure'],
      additionalProperties: false,
      properties: {
        state: { type: 'string', enum: ['connected', 'disconnected'] },
        lastAckAt: { ...timestampOrNull, description: 'when the cloud last acknowledged a batch; null if not since start' },
        inFlight: {
          type: ['object', 'null'],
          description: 'the batch waiting for the cloud\'s acknowledgement',
          required: ['batchId', 'attempts'],
          additionalProperties: false,
          properties: { batchId: { type: 'string' }, attempts: { type: 'integer', minimum: 1 } },
        },
        batchesAcknowledged: count,
        readingsAcknowledged: count,
        resends: count,
        failure: {
          type: ['object', 'null'],
          description: 'why the last attempt to reach the cloud failed; null while connected',
          required: ['reason', 'detail', 'at'],
          additionalProperties: false,
          properties: {
            reason: { type: 'string', enum: ['dns', 'tls', 'credentials', 'refused', 'closed', 'no_route', 'timeout', 'other'] },
            detail: { type: 'string', description: 'the error\'s code and message' },
            at: { type: 'string', format: 'date-time' },
          },
        },
        acksRejected: {
          type: 'object',
          description: 'acks not taken since start, by reason: malformed, otherSite (for another site), notInFlight (for a batch not in flight), wrongTopic',
          additionalProperties: count,
        },
        link: {
          type: 'object',
          description: "the transport's own counts since start: oversizedPackets (MQTT), refusals and dead letters (HTTPS)",
          additionalProperties: count,
        },
      },
    },
    backlog: {
      type: 'object',
      required: ['depth', 'oldestUnsentAgeSeconds'],
      additionalProperties: false,
      properties: {
        depth: { ...count, description: 'readings stored but not yet acknowledged by the cloud' },
        oldestUnsentAgeSeconds: { type: ['number', 'null'], minimum: 0, description: 'null when the backlog is empty' },
      },
    },
    readingsRecorded: { ...count, description: 'readings this gateway recorded since it started' },
    droppedReadings: { ...count, description: 'readings given up unsent, at the byte cap or with the corrupt database file this one replaced, ever' },
    droppedByReason: {
      type: 'object',
      description: 'droppedReadings by reason: cap, corrupt (given up in the database), disk-full, shutdown (never saved); reasons with none are absent',
      additionalProperties: count,
    },
    databaseBytes: count,
    databaseCapBytes: { ...count, description: 'buffer.maxBytes: at it the oldest unsent readings are given up' },
    diskFreeBytes: { type: ['integer', 'null'], minimum: 0, description: 'free bytes on the state directory\'s file system' },
    clock: {
      type: 'object',
      required: ['now', 'plausible', 'timeZone'],
      additionalProperties: false,
      properties: {
        now: { type: 'string', format: 'date-time', description: 'the gateway\'s clock; a reader compares it with its own' },
        plausible: { type: 'boolean', description: 'false when the clock is before this software existed (no NTP, no real-time clock)' },
        timeZone: {
          type: 'string',
          description: 'the site\'s IANA time zone, e.g. Asia/Tokyo: the gateway system\'s (timedatectl set-timezone, or TZ); UTC when the system names none. The status page shows times in it',
        },
      },
    },
    echonet: {
      type: 'object',
      required: ['interface', 'up'],
      additionalProperties: false,
      properties: {
        interface: { type: 'string', description: 'echonet.interface: the gateway\'s address on the aircons\' LAN' },
        up: { type: 'boolean', description: 'whether a network interface holds that address now' },
      },
    },
    waitingFor: {
      type: 'array',
      items: { type: 'string' },
      description: 'what the gateway waits for before it does its whole job, e.g. echonet.interface not yet an address of this host (DHCP); empty when nothing',
    },
    devices: {
      type: 'object',
      description: 'how many devices are in each availability state',
      required: AVAILABILITIES,
      additionalProperties: false,
      properties: Object.fromEntries(AVAILABILITIES.map((state) => [state, count])),
    },
  },
} as const;

const readinessSchema = {
  type: 'object',
  required: ['ready', 'reasons'],
  additionalProperties: false,
  properties: {
    ready: { type: 'boolean' },
    reasons: { type: 'array', items: { type: 'string' }, description: 'why not; empty when ready' },
  },
} as const;

export const statusRoutes: FastifyPluginCallback<{ status: StatusSource; devices: DeviceSource; version: string }> = (
  app,
  { status, devices, version },
  done,
) => {
  app.get('/api/v1/status', {
    schema: { tags: ['gateway'], summary: 'Uplink, backlog, drops, database size, version, uptime, devices', response: { 200: statusSchema } },
  }, () => {
    const current = status.status();
    return { ...current, version, devices: countByAvailability(devices.list()) };
  });

  app.get('/healthz', {
    schema: {
      tags: ['gateway'],
      summary: 'Liveness: the process answers',
      response: { 200: { type: 'object', required: ['status'], additionalProperties: false, properties: { status: { type: 'string', enum: ['ok'] } } } },
    },
  }, () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: {
      tags: ['gateway'],
      summary: 'Readiness: 200 when the gateway does its job, 503 with the reasons when not',
      response: { 200: readinessSchema, 503: readinessSchema },
    },
  }, (_request, reply) => {
    const readiness = status.ready();
    if (readiness.ready) return { ready: true, reasons: [] };
    return reply.code(503).send({ ready: false, reasons: readiness.reasons });
  });

  done();
};
