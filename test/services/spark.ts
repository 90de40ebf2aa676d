// Spark 3.5 with Delta 3.2 for the lake's reader checks and benchmark: a venv of its own (pyspark is
// large, so it stays out of `npm test`'s install), and the Maven packages Spark resolves itself,
// cached in an Ivy folder beside it. Run Spark local[2], on loopback only.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, progress, seconds, sha256, withInstallLock } from './cache.js';
import { runCommand, tailText } from './processes.js';

const REQUIREMENTS = fileURLToPath(new URL('./spark-requirements.txt', import.meta.url));

/** Spark's Maven packages: Delta, and the Kafka source for the benchmark's Structured Streaming reference. */
export const SPARK_PACKAGES = 'io.delta:delta-spark_2.12:3.2.1,org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.3';

export function sparkPython(): string {
  return path.join(cacheDir(), 'spark-venv', 'bin', 'python');
}

export function sparkIvyDir(): string {
  return path.join(cacheDir(), 'spark-ivy');
}

/** Builds the Spark venv when spark-requirements.txt changed (or on first use); Java 17 must be on PATH. */
export async function installSpark(): Promise<void> {
  const venv = path.dirname(path.dirname(sparkPython()));
  const marker = path.join(venv, '.requirements.sha256');
  const want = sha256(readFileSync(REQUIREMENTS, 'utf8'));
  const ready = (): boolean => existsSync(marker) && readFileSync(marker, 'utf8').trim() === want;
  if (ready()) return;
  await withInstallLock('spark-venv', async () => {
    if (ready()) return;
    const started = Date.now();
    progress(`spark: building ${venv} (pyspark and delta-spark, about 350 MB; first run or requirements changed)`);
    rmSync(venv, { recursive: true, force: true });
    const base = process.env.ECHOLAKE_PYTHON_BASE ?? 'python3';
    const steps: Array<[string, string[]]> = [
      [base, ['-m', 'venv', venv]],
      [path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', '-r', REQUIREMENTS]],
    ];
    for (const [command, args] of steps) {
      const result = await runCommand(command, args, { timeoutMs: 30 * 60_000 });
      if (result.code !== 0) {
        rmSync(venv, { recursive: true, force: true });
        throw new Error(`spark: \`${command} ${args.join(' ')}\` failed (exit ${result.code}); is PyPI reachable, is python3-venv installed?\n${tailText(result.output)}`);
      }
    }
    writeFileSync(marker, `${want}\n`);
    progress(`spark: venv ready in ${seconds(started)}`);
  });
}

/** The Python preamble that starts a local[2] Spark session with Delta, bound to loopback. */
export function sparkSessionPreamble(appName: string): string {
  return `
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]").appName(${JSON.stringify(appName)})
  .config("spark.jars.packages", ${JSON.stringify(SPARK_PACKAGES)})
  .config("spark.jars.ivy", ${JSON.stringify(sparkIvyDir())})
  .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
  .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
  .config("spark.sql.session.timeZone", "UTC")
  .config("spark.ui.enabled", "false")
  .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
  .config("spark.driver.memory", "1g").config("spark.sql.shuffle.partitions", "2")
  .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
`;
}
