// The shape every started test service has.

export interface RunningService {
  /** Short name for messages: kafka, mosquitto, s3. */
  readonly name: string;
  /** ECHOLAKE_TEST_* variables this service provides. */
  readonly env: Record<string, string>;
  /** Temp dir with its config, data and logs (removed on stop unless ECHOLAKE_TEST_KEEP_DIRS=1). */
  readonly dir: string;
  /** Stop the process (by its own pid/process group) and remove the temp dir. */
  stop(): Promise<void>;
  /** Freeze the process (SIGSTOP to its group) and thaw it (SIGCONT): a service that is down and comes back with its data. */
  pause?(): void;
  resume?(): void;
}
