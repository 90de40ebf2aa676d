/**
 * A bound on the requests one fastify app serves at once, shared by the cloud's API and the edge's
 * local API. More at once are answered 503 with Retry-After in the API's error shape, before their
 * body is read: a flood of requests cannot take the memory or the event loop the pipeline behind
 * the API needs (Kafka producer in the cloud, polling and the uplink on the edge).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

export function limitConcurrency(app: FastifyInstance, limit: number): void {
  let active = 0;
  // Only admitted requests hold a slot. A refused one is answered too (onResponse runs for it), and
  // giving a slot back for it would raise the limit by one with every refusal: a flood would undo it.
  const admitted = new WeakSet<FastifyRequest>();
  app.addHook('onRequest', (request, _reply, done) => {
    if (active >= limit) {
      done(new ApiError(503, 'unavailable', `the API is at its limit of ${limit} requests at once; retry shortly`, { 'retry-after': '1' }));
      return;
    }
    active += 1;
    admitted.add(request);
    done();
  });
  const release = (request: FastifyRequest, _reply: FastifyReply, done: () => void): void => {
    // delete() is true once per admitted request, also when an aborted one is answered twice.
    if (admitted.delete(request)) active -= 1;
    done();
  };
  app.addHook('onResponse', release);
}
