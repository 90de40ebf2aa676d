import type { FastifyInstance } from 'fastify';
import type { Component } from '../../shared/lifecycle.js';
import type { CloudConfig } from '../config.js';
import type { CloudContext } from '../context.js';

/**
 * One job of the cloud (ingest, lake, alerts, sharing, …). Roles run in one process or as separate
 * deployments of the same image, switched on by `roles.<name>`; each builds its parts from the
 * context and may add routes to the cloud API.
 */
export interface Role {
  readonly name: string;
  enabled(config: CloudConfig): boolean;
  /** Its parts in start order; they stop in reverse. */
  components(context: CloudContext): Component[];
  /** Routes on the cloud API, added before it listens. */
  routes?(app: FastifyInstance, context: CloudContext): void;
}
