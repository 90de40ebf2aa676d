import unix, { type UnixDgramSocket } from 'unix-dgram';
import type { Logger } from '../../shared/log.js';

/** Why the gateway is not well, or undefined when it is; asked before every watchdog ping. */
export type HealthCheck = () => string | undefined;

/**
 * The sd_notify protocol over the AF_UNIX datagram socket systemd names in $NOTIFY_SOCKET (Node's
 * dgram has no AF_UNIX, hence the small native module). READY=1 goes out once the database is open
 * and the sockets are bound; WATCHDOG=1 every half $WATCHDOG_USEC, but only while the health check
 * passes, so a gateway whose store stopped committing is restarted by systemd rather than left
 * pinging from a live but useless event loop.
 */
export class SystemdNotifier {
  private watchdog: NodeJS.Timeout | undefined;
  private lastProblem: string | undefined;

  private constructor(
    private readonly socket: UnixDgramSocket,
    private readonly path: string,
    private readonly watchdogUsec: number | undefined,
    private readonly log: Logger,
  ) {}

  /** Undefined outside systemd (no $NOTIFY_SOCKET): then there is nobody to tell. */
  static fromEnvironment(env: NodeJS.ProcessEnv, log: Logger): SystemdNotifier | undefined {
    const path = env.NOTIFY_SOCKET;
    if (path === undefined || path === '') return undefined;
    if (path.startsWith('@')) {
      log.warn({ notifySocket: path }, 'abstract NOTIFY_SOCKET is not supported; systemd readiness and watchdog are off');
      return undefined;
    }
    const usec = Number(env.WATCHDOG_USEC);
    const watchdogPid = env.WATCHDOG_PID === undefined ? undefined : Number(env.WATCHDOG_PID);
    // WATCHDOG_PID names the process the watchdog is meant for; a child must not ping for it.
    const forUs = watchdogPid === undefined || watchdogPid === process.pid;
    const socket = unix.createSocket('unix_dgram');
    socket.on('error', (err: Error) => log.warn({ err }, 'sd_notify socket error'));
    return new SystemdNotifier(socket, path, Number.isFinite(usec) && usec > 0 && forUs ? usec : undefined, log);
  }

  ready(status: string): void {
    this.send(`READY=1\nSTATUS=${status}`);
    this.startWatchdog();
  }

  stopping(): void {
    clearInterval(this.watchdog);
    this.send('STOPPING=1');
    // The last message is queued; closing the socket once it is out lets the process end.
    setTimeout(() => this.socket.close(), 100).unref();
  }

  /** Installs the check the watchdog asks; until then every ping goes. */
  healthCheck: HealthCheck = () => undefined;

  private startWatchdog(): void {
    if (this.watchdogUsec === undefined) return;
    const intervalMs = Math.max(100, Math.floor(this.watchdogUsec / 2000));
    this.watchdog = setInterval(() => this.pingIfHealthy(), intervalMs);
    this.log.info({ intervalMs }, 'systemd watchdog pings started');
  }

  private pingIfHealthy(): void {
    const problem = this.healthCheck();
    if (problem === undefined) {
      if (this.lastProblem !== undefined) this.log.info('healthy again; watchdog pings resume');
      this.lastProblem = undefined;
      this.send('WATCHDOG=1');
      return;
    }
    if (problem !== this.lastProblem) this.log.error({ problem }, 'unhealthy: watchdog pings withheld, systemd will restart the gateway');
    this.lastProblem = problem;
  }

  private send(message: string): void {
    const buffer = Buffer.from(message);
    this.socket.send(buffer, 0, buffer.length, this.path, (err?: Error) => {
      if (err) this.log.warn({ err }, 'sd_notify message not delivered');
    });
  }
}
