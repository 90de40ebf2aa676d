// What the kernel says about processes, read from /proc (Linux only): I/O, memory, CPU time,
// and which process listens on a loopback port. Read-only; nothing here signals a process.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export interface ProcIo {
  /** Bytes this process caused to be sent to the storage layer (pages it dirtied). */
  writeBytes: number;
  /** Bytes it dirtied that were truncated away before writeback. */
  cancelledWriteBytes: number;
  readBytes: number;
}

export function procIo(pid: number | 'self' = 'self'): ProcIo {
  const fields = new Map(
    readFileSync(`/proc/${pid}/io`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [key, value] = line.split(':');
        return [key?.trim() ?? '', Number(value?.trim())] as const;
      }),
  );
  return {
    writeBytes: fields.get('write_bytes') ?? 0,
    cancelledWriteBytes: fields.get('cancelled_write_bytes') ?? 0,
    readBytes: fields.get('read_bytes') ?? 0,
  };
}

/** Resident set size in bytes (VmRSS), or undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every Linux this runs on

/** User + system CPU seconds the process (all its threads) has used so far. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU seconds of the whole machine, from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}

/**
 * The process that has a TCP socket listening on 127.0.0.1:port, found through the socket's inode
 * in /proc/net/tcp and the owners of /proc/<pid>/fd. Undefined when it cannot be told (another
 * user's process, or nothing listens).
 */
export function pidListeningOn(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let inode: string | undefined;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A = LISTEN, inode in column 9.
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A') inode = cols[9];
    }
  }
  if (inode === undefined) return undefined;
  const target = `socket:[${inode}]`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${entry}/fd/${fd}`) === target) return Number(entry);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** The machine a benchmark ran on, for its report. */
export interface Machine {
  readonly nproc: number;
  readonly cpu: string;
  readonly memGiB: number;
  readonly node: string;
  /** Load averages over 1, 5 and 15 minutes when the benchmark started. */
  readonly load: string;
}

export function machine(): Machine {
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

export function machineLine(m: Machine = machine()): string {
  return `${m.nproc} × ${m.cpu}, ${m.memGiB} GiB, Node ${m.node}, load ${m.load}`;
}
