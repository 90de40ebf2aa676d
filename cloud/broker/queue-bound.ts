import { createRequire } from 'node:module';

// CommonJS whose typings claim an ES default export; under NodeNext only require() sees it as it is.
const memory = createRequire(import.meta.url)('aedes-persistence') as () => unknown;

interface Subscription {
  clientId: string;
}

interface QueuePersistence {
  outgoingEnqueueCombi(subs: Subscription[], packet: unknown): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: unknown): Promise<unknown>;
  cleanSubscriptions(client: { id: string }): Promise<unknown>;
}

/**
 * aedes's in-memory persistence with a bound on what waits for one client: QoS 1 messages beyond
 * `maxQueued` for a client that has not acknowledged them are dropped and counted. Without it, a
 * disconnected ingest collected every site's resent batches until the cloud's memory ran out.
 * Nothing is lost by the drop: a site deletes readings only on the cloud's ack and resends.
 */
export function boundOfflineQueues(maxQueued: number, onDrop: () => void): unknown {
  const persistence = memory() as QueuePersistence;
  const queued = new Map<string, number>();
  const enqueue = persistence.outgoingEnqueueCombi.bind(persistence);
  const clear = persistence.outgoingClearMessageId.bind(persistence);
  const clean = persistence.cleanSubscriptions.bind(persistence);
  persistence.outgoingEnqueueCombi = async (subs, packet) => {
    const room = subs.filter((sub) => {
      const count = queued.get(sub.clientId) ?? 0;
      if (count >= maxQueued) {
        onDrop();
        return false;
      }
      queued.set(sub.clientId, count + 1);
      return true;
    });
    if (room.length > 0) await enqueue(room, packet);
  };
  persistence.outgoingClearMessageId = async (client, packet) => {
    const result = await clear(client, packet);
    if (result !== undefined) {
      const count = (queued.get(client.id) ?? 1) - 1;
      if (count <= 0) queued.delete(client.id);
      else queued.set(client.id, count);
    }
    return result;
  };
  persistence.cleanSubscriptions = async (client) => {
    queued.delete(client.id);
    return clean(client);
  };
  return persistence;
}
