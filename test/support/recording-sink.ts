import type { DeadLetter, Placement, ReadingSink } from '../../cloud/ingest/kafka-readings-sink.js';
import type { ReadingBatch } from '../../shared/reading.js';

/** A sink for the ingest's unit tests that records, or fails like Kafka down. */
export class RecordingSink implements ReadingSink {
  batches: ReadingBatch[] = [];
  letters: DeadLetter[] = [];
  down = false;

  writeBatch(batch: ReadingBatch): Promise<Placement> {
    if (this.down) return Promise.reject(new Error('kafka down'));
    this.batches.push(batch);
    return Promise.resolve([{ partition: 0, baseOffset: '0' }]);
  }

  writeDeadLetter(letter: DeadLetter): Promise<void> {
    if (this.down) return Promise.reject(new Error('kafka down'));
    this.letters.push(letter);
    return Promise.resolve();
  }
}
