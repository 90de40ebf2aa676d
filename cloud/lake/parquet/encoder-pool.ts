import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { encodeReadings, type EncodedPartition, type EncodeJob } from './encode-readings.js';

/** Encodes readings into Parquet files. */
export interface ReadingsEncoder {
  encode(job: EncodeJob): Promise<EncodedPartition[]>;
  close(): Promise<void>;
}

/** On the calling thread: for tests and tools where blocking does not matter. */
export const inlineEncoder: ReadingsEncoder = {
  encode: (job) => Promise.resolve(encodeReadings(job)),
  close: () => Promise.resolve(),
};

/** Built, the worker is the .js beside this file; from source, the .ts. */
const SOURCE = import.meta.url.endsWith('.ts');

/** Below this many rows per worker a job is not split. */
const MIN_ROWS_PER_WORKER = 20_000;

type Reply = { id: number; files: EncodedPartition[] } | { id: number; error: string };

/**
 * Worker threads that encode, so a commit of a quarter million readings (seconds of CPU) never
 * stalls the Kafka consumer's heartbeats. A job is split across the workers by row count; each
 * returns its files (transferred, not copied), and the parts of one partition stay separate files.
 */
export class EncoderPool implements ReadingsEncoder {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (files: EncodedPartition[]) => void; reject: (err: Error) => void }>();
  private nextId = 0;
  private closed = false;

  constructor(size = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    const file = new URL(SOURCE ? './encode-worker.ts' : './encode-worker.js', import.meta.url);
    this.workers = Array.from({ length: size }, (_, index) => this.spawn(file, index));
  }

  async encode(job: EncodeJob): Promise<EncodedPartition[]> {
    if (this.closed) throw new Error('the encoder pool is closed');
    // Small jobs go to one worker: splitting them would only make more small files.
    const workers = Math.min(this.workers.length, Math.ceil(job.readings.length / MIN_ROWS_PER_WORKER));
    const share = Math.ceil(job.readings.length / workers);
    const parts = this.workers
      .map((worker, i) => ({ worker, readings: job.readings.slice(i * share, (i + 1) * share) }))
      .filter((part) => part.readings.length > 0);
    const results = await Promise.all(parts.map(({ worker, readings }) => this.run(worker, { readings })));
    return results.flat();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private spawn(file: URL, index: number): Worker {
    // Run from source (tests, benchmarks under tsx) a worker registers tsx itself first: loader hooks are per thread.
    const worker = SOURCE
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(file.href)}); })`, { eval: true })
      : new Worker(file);
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if ('error' in reply) waiter?.reject(new Error(`encoding failed: ${reply.error}`));
      else waiter?.resolve(reply.files);
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => {
      if (this.closed) return;
      // Its jobs fail (and are retried by the next flush); a fresh worker takes its place.
      this.failAll(new Error(`an encoder worker exited with code ${code}`));
      this.workers[index] = this.spawn(file, index);
    });
    return worker;
  }

  private run(worker: Worker, job: EncodeJob): Promise<EncodedPartition[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, job });
    });
  }

  private failAll(err: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }
}
