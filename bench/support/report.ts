// Small helpers for a benchmark's human summary (a Markdown table) and its figures.
import { once } from 'node:events';

/** Minimum, median and maximum of repeated measurements, and how many there were. */
export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly n: number;
}

/** The q-quantile (0–1) of sorted values, interpolated between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  return a + (b - a) * (position - lower);
}

const sortedCopy = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

export const median = (values: readonly number[]): number => quantile(sortedCopy(values), 0.5);

/** The p-th percentile (0–100) of unsorted values. */
export const percentile = (values: readonly number[], p: number): number => quantile(sortedCopy(values), p / 100);

export function spread(values: readonly number[]): Spread {
  const sorted = sortedCopy(values);
  return { min: sorted[0] ?? Number.NaN, median: quantile(sorted, 0.5), max: sorted[sorted.length - 1] ?? Number.NaN, n: sorted.length };
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function roundSpread(s: Spread, digits = 2): Spread {
  return { min: round(s.min, digits), median: round(s.median, digits), max: round(s.max, digits), n: s.n };
}

/** `min / median / max`, or the one value when all agree. */
export function showSpread(s: Spread, digits = 2, unit = ''): string {
  const f = (v: number): string => `${v.toFixed(digits)}${unit}`;
  return s.min === s.max ? f(s.min) : `${f(s.min)} / ${f(s.median)} / ${f(s.max)}`;
}

/** 12345.6 → "12,346"; small values keep a decimal or two. */
export function num(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return '–';
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** "12,346 (11,900–12,800)": median and range over repetitions. */
export function ranged(s: Spread, digits?: number): string {
  if (s.min === s.max) return num(s.median, digits);
  return `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)})`;
}

export const goal = (met: boolean): string => (met ? 'met' : 'NOT met');

export const mib = (bytes: number): number => bytes / 2 ** 20;

/** A Markdown table, columns aligned: the first to the left, figures to the right. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export { sleep } from '../../test/services/processes.js';

/**
 * Runs a benchmark's main and exits with its code once stdout has drained (CI pipes it); a
 * benchmark that cannot run says why and exits 1.
 */
export function runBenchmark(name: string, main: () => Promise<number>): void {
  main().then(
    async (code) => {
      if (process.stdout.writableLength > 0) await once(process.stdout, 'drain');
      process.exit(code);
    },
    (error: unknown) => {
      console.error(`${name} failed to run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
