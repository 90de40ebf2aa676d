import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { sparkPython, sparkSessionPreamble } from '../services/spark.js';
import { stopChild } from './wait.js';

/** Marks the driver's replies among whatever else Spark and py4j print on stdout. */
const REPLY = '@@echolake-spark ';

/**
 * The driver: one Spark session that runs the scripts it is sent, one JSON line each. Delta's log
 * cache is cleared before every script, so each sees the table as the files now are (other writers
 * and deleted log files included), as a fresh session would.
 */
const DRIVER = `
import json, sys, traceback
for line in sys.stdin:
    request = json.loads(line)
    scope = {"spark": spark, "json": json, "path": request["path"]}
    try:
        spark._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()
        exec(request["code"], scope)
        reply = {"ok": True, "result": scope.get("result")}
    except Exception:
        reply = {"ok": False, "error": traceback.format_exc()}
    sys.stdout.write(${JSON.stringify(REPLY)} + json.dumps(reply) + "\\n")
    sys.stdout.flush()
`;

/** Bytes of Spark's stderr kept for error messages. */
const STDERR_KEPT = 8_000;

/**
 * One local[2] Spark session (with Delta) kept for a whole test file: starting Spark and resolving
 * its packages takes far longer than most checks, so scripts share one JVM. Each script gets
 * `spark`, `json` and `path`, and sets `result` to what it returns.
 */
export class SparkSession {
  private stderr = '';
  private queue: Promise<unknown> = Promise.resolve();
  private readonly replies: Array<(line: string) => void> = [];
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEPT);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith(REPLY)) this.replies.shift()?.(line.slice(REPLY.length));
    });
    this.exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
    void this.exited.then((code) => {
      for (const reply of this.replies.splice(0)) reply(JSON.stringify({ ok: false, error: `Spark exited (${code})\n${this.stderr}` }));
    });
  }

  static start(appName: string): SparkSession {
    const child = spawn(sparkPython(), ['-u', '-c', `${sparkSessionPreamble(appName)}\n${DRIVER}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new SparkSession(child);
  }

  /** Runs a script against the table at `path` (one at a time, in call order) and returns its `result`. */
  run<T>(path: string, code: string): Promise<T> {
    const next = this.queue.then(() => this.send<T>(path, code));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Ends the session: stdin closed, so the driver's loop ends; its own PID is signalled should it linger. */
  async close(): Promise<void> {
    this.child.stdin?.end();
    const ended = await Promise.race([this.exited.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 60_000).unref())]);
    if (!ended) await stopChild(this.child, this.exited, 'SIGTERM', 15_000);
  }

  private send<T>(path: string, code: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.replies.push((line) => {
        const reply = JSON.parse(line) as { ok: boolean; result?: T; error?: string };
        if (reply.ok) resolve(reply.result as T);
        else reject(new Error(`spark failed:\n${reply.error ?? ''}\n${this.stderr.slice(-2000)}`));
      });
      this.child.stdin?.write(`${JSON.stringify({ path, code })}\n`);
    });
  }
}
