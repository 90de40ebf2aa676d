/**
 * Command results on their way to the cloud: kept in the edge database until the broker took
 * them (PUBACK), sent in order whenever the link is up, so a result made while the link is down
 * (a restore at the window's end) arrives once it is back. A result may arrive twice (a resend
 * after a lost PUBACK); the cloud takes each (command, device, state) once.
 */
import { type CommandResult, encodeCommandResult } from '../../shared/contract/commands.js';
import type { Logger } from '../../shared/log.js';
import type { CommandStore } from './command-store.js';

/** Publishes one result; `done` without an error once the broker has it. */
export type ResultPublisher = (payload: string, done: (err?: Error) => void) => void;

/** Results handed to the broker at once; the rest wait for these to be taken. */
const WINDOW = 20;

export class ResultOutbox {
  private publish: ResultPublisher | undefined;
  private readonly inFlight = new Set<number>();

  constructor(
    private readonly store: CommandStore,
    private readonly log: Logger,
  ) {}

  add(result: CommandResult): void {
    this.store.addResult(encodeCommandResult(result));
    this.flush();
  }

  linkUp(publish: ResultPublisher): void {
    this.publish = publish;
    this.inFlight.clear();
    this.flush();
  }

  linkDown(): void {
    this.publish = undefined;
  }

  /** Results kept and not yet taken by the broker. */
  pending(): number {
    return this.store.pendingResultCount();
  }

  private flush(): void {
    const publish = this.publish;
    if (publish === undefined || this.inFlight.size >= WINDOW) return;
    for (const { id, payload } of this.store.pendingResults(WINDOW + this.inFlight.size)) {
      if (this.inFlight.has(id)) continue;
      if (this.inFlight.size >= WINDOW) break;
      this.inFlight.add(id);
      publish(payload, (err) => {
        this.inFlight.delete(id);
        if (err !== undefined) {
          this.log.warn({ err }, 'command result not taken by the broker; it goes again when the link is back');
          return;
        }
        this.store.resultSent(id);
        this.flush();
      });
    }
  }
}
