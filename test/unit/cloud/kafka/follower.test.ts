import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kafka } from 'kafkajs';
import { TopicFollower } from '../../../../cloud/kafka/follower.js';

/** A Kafka whose admin answers `fetchTopicOffsets` from the given list of outcomes, one per call. */
function kafkaAnswering(outcomes: Array<Error | Array<{ partition: number; high: string }>>) {
  let calls = 0;
  const kafka = {
    consumer: () => ({ on: () => undefined, events: { END_BATCH_PROCESS: 'end-batch' } }),
    admin: () => ({
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      fetchTopicOffsets: () => {
        const outcome = outcomes[Math.min(calls, outcomes.length - 1)];
        calls += 1;
        return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
      },
    }),
  };
  return { kafka: kafka as unknown as Kafka, calls: () => calls };
}

const notLeader = Object.assign(new Error('This server is not the leader for that topic-partition'), { retriable: true });

test('a topic just made, whose partitions have no leader yet, is asked again until it answers', async () => {
  const { kafka, calls } = kafkaAnswering([notLeader, notLeader, [{ partition: 0, high: '0' }]]);
  await new TopicFollower(kafka, { topic: 't', groupPrefix: 'g' }, () => undefined).caughtUp(5_000);
  assert.equal(calls(), 3);
});

test('an error that will not pass, or one past the deadline, fails the start', async () => {
  const denied = Object.assign(new Error('Not authorized to access topics'), { retriable: false });
  await assert.rejects(new TopicFollower(kafkaAnswering([denied]).kafka, { topic: 't', groupPrefix: 'g' }, () => undefined).caughtUp(5_000), /Not authorized/);
  await assert.rejects(new TopicFollower(kafkaAnswering([notLeader]).kafka, { topic: 't', groupPrefix: 'g' }, () => undefined).caughtUp(300), /not the leader/);
});
