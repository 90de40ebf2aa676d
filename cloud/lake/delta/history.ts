import type { LogListing, LogStore } from './log-store.js';

/** When a version was committed, in ms since 1970. */
export interface CommitTime {
  version: number;
  timestamp: number;
}

/**
 * When each listed commit was made, oldest first, for time travel by timestamp. As Delta readers do
 * for tables without in-commit timestamps: the commit file's modification time, made strictly
 * increasing (a clock step back, or a copied log, could otherwise put version 5 before version 4).
 */
export async function commitTimes(log: LogStore): Promise<CommitTime[]> {
  return commitTimesOf(await log.list(0));
}

export function commitTimesOf(listing: LogListing): CommitTime[] {
  const times: CommitTime[] = [];
  for (const [version, meta] of [...listing.commits].sort(([a], [b]) => a - b)) {
    const previous = times.at(-1)?.timestamp ?? Number.NEGATIVE_INFINITY;
    times.push({ version, timestamp: Math.max(Math.floor(meta.lastModified), previous + 1) });
  }
  return times;
}

/** The newest version committed at or before `timestamp`; undefined when every listed commit is later. */
export function versionAtOrBefore(times: readonly CommitTime[], timestamp: number): number | undefined {
  let found: number | undefined;
  for (const time of times) {
    if (time.timestamp > timestamp) break;
    found = time.version;
  }
  return found;
}

/** The oldest version committed at or after `timestamp`; undefined when every listed commit is earlier. */
export function versionAtOrAfter(times: readonly CommitTime[], timestamp: number): number | undefined {
  return times.find((time) => time.timestamp >= timestamp)?.version;
}
