// Worker thread of the EncoderPool: turns accepted readings into one Parquet file per date, so the
// encoding (seconds for a busy commit) never blocks the consumer's event loop.
import { parentPort } from 'node:worker_threads';
import { encodeReadings, type EncodeJob } from './encode-readings.js';

parentPort?.on('message', ({ id, job }: { id: number; job: EncodeJob }) => {
  try {
    const files = encodeReadings(job);
    parentPort?.postMessage({ id, files }, files.map((file) => file.body.buffer as ArrayBuffer));
  } catch (err) {
    parentPort?.postMessage({ id, error: (err as Error).message });
  }
});
