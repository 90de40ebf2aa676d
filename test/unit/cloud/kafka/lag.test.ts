import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kafka } from 'kafkajs';
import { ConsumerLagProbe, lagOf } from '../../../../cloud/kafka/lag.js';
import { silentLogger } from '../../../../shared/log.js';

const ends = [
  { partition: 0, low: '0', high: '100' },
  { partition: 1, low: '40', high: '90' },
  { partition: 2, low: '0', high: '0' },
];

test('lag: the records past each partition\'s committed offset; a partition never committed on counts from its low end', () => {
  assert.equal(lagOf([{ partition: 0, offset: '70' }, { partition: 1, offset: '-1' }, { partition: 2, offset: '-1' }], ends), 30 + 50);
  assert.equal(lagOf([{ partition: 0, offset: '100' }, { partition: 1, offset: '90' }, { partition: 2, offset: '0' }], ends), 0);
});

test('lag: a group that committed nothing has no lag to tell', () => {
  assert.equal(lagOf([{ partition: 0, offset: '-1' }, { partition: 1, offset: '-1' }], ends), null);
  assert.equal(lagOf([], ends), null);
});

/** A Kafka whose admin answers from the arrays above, counting the questions, or never answering. */
function fakeKafka(options: { hang?: boolean } = {}) {
  const asked = { topicOffsets: 0, connects: 0, disconnects: 0 };
  const admin = {
    connect: () => {
      asked.connects += 1;
      return Promise.resolve();
    },
    disconnect: () => {
      asked.disconnects += 1;
      return Promise.resolve();
    },
    fetchTopicOffsets: () => {
      asked.topicOffsets += 1;
      return options.hang === true ? new Promise(() => undefined) : Promise.resolve(ends.map((e) => ({ ...e, offset: e.high })));
    },
    fetchOffsets: ({ groupId }: { groupId: string }) =>
      Promise.resolve([{ topic: 'readings', partitions: groupId === 'lake' ? [{ partition: 0, offset: '90', metadata: null }] : [{ partition: 0, offset: '-1', metadata: null }] }]),
  };
  return { kafka: { admin: () => admin } as unknown as Kafka, asked };
}

const groups = [
  { role: 'lake', groupId: 'lake', topic: 'readings' },
  { role: 'alerts', groupId: 'alerts', topic: 'readings' },
];

test('the probe asks Kafka once per cache period, once per topic, however many ask at once', async () => {
  const { kafka, asked } = fakeKafka();
  const probe = new ConsumerLagProbe(kafka, groups, { cacheMs: 60_000, timeoutMs: 1_000 }, silentLogger());
  const [first, second] = await Promise.all([probe.read(), probe.read()]);
  await probe.read();
  assert.equal(asked.topicOffsets, 1);
  assert.equal(first, second);
  assert.deepEqual(first.groups.map((g) => [g.role, g.lag, g.partitions]), [['lake', 10 + 50, 3], ['alerts', null, 3]]);
  assert.equal(first.error, null);
  await probe.stop();
  assert.equal(asked.disconnects, 1);
});

test('a Kafka that does not answer in time: the lags are null and the answer says why; the connection is made again', async () => {
  const { kafka, asked } = fakeKafka({ hang: true });
  const probe = new ConsumerLagProbe(kafka, groups, { cacheMs: 0, timeoutMs: 50 }, silentLogger());
  const answer = await probe.read();
  assert.match(answer.error ?? '', /did not answer within 50 ms/);
  assert.deepEqual(answer.groups.map((g) => g.lag), [null, null]);
  await probe.read();
  assert.equal(asked.connects, 2, 'a new connection after a failed one');
});
