import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { MqttConfig } from './config.js';

/** The cloud's own broker credentials and its unguessable client id (see cloud/context.ts). */
export interface CloudMqttCredentials {
  username: string;
  password: string | undefined;
  clientId: string;
}

/**
 * Options for a cloud-side MQTT session (the ingest's, the commands'): persistent, so the broker
 * keeps QoS 1 messages across a restart, with the broker's certificate always checked.
 */
export function cloudMqttClientOptions(
  mqtt: MqttConfig,
  credentials: CloudMqttCredentials,
  session: { clientId: string; expirySeconds: number },
): IClientOptions {
  const tls = mqtt.tls;
  return {
    clientId: session.clientId,
    clean: false,
    protocolVersion: mqtt.protocolVersion,
    ...(mqtt.protocolVersion === 5 && {
      properties: { sessionExpiryInterval: session.expirySeconds, maximumPacketSize: mqtt.maxPacketBytes },
    }),
    reconnectPeriod: 2000,
    username: credentials.username,
    password: credentials.password,
    ...(tls.caFile !== undefined && { ca: readFileSync(tls.caFile) }),
    ...(tls.certFile !== undefined && { cert: readFileSync(tls.certFile) }),
    ...(tls.keyFile !== undefined && { key: readFileSync(tls.keyFile) }),
    rejectUnauthorized: true,
  };
}
