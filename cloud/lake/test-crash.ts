import { writeSync } from 'node:fs';

/**
 * TEST ONLY, off unless set: `ECHOLAKE_TEST_CRASH_AT=<point>` makes the process SIGKILL itself the
 * first time it reaches that named point of the lake's write path, so a test can pin a crash where a
 * power cut or an OOM kill could land (test/integration/cloud/lake-crash-points.test.ts). The
 * variable is read here and nowhere else; unset or empty, every call is a no-op.
 */
export const CRASH_POINTS = [
  /** A batch is planned; none of its files is in the store yet. */
  'before-upload',
  /** Its files are in the store; the commit naming them is not written. */
  'after-upload',
  /** A commit (of any of the lake's tables) is about to be written. */
  'before-commit',
  /** The commit is in the log; nothing after it (checkpoint, Kafka offsets) has happened. */
  'after-commit',
  /** A checkpoint file is written; `_last_checkpoint` still names the one before. */
  'checkpoint-before-last',
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

const armed = armedPoint(process.env.ECHOLAKE_TEST_CRASH_AT);

function armedPoint(value: string | undefined): CrashPoint | undefined {
  if (value === undefined || value === '') return undefined;
  const point = CRASH_POINTS.find((p) => p === value);
  if (point === undefined) throw new Error(`ECHOLAKE_TEST_CRASH_AT=${value} names no crash point; use one of ${CRASH_POINTS.join(', ')}, or unset it`);
  return point;
}

/** Dies here, at once and without cleanup, when the test armed this point. */
export function crashPoint(point: CrashPoint): void {
  if (armed !== point) return;
  // Synchronous, so the test sees which point was reached before the process is gone.
  writeSync(2, `echolake test crash point reached: ${point}\n`);
  process.kill(process.pid, 'SIGKILL');
}
