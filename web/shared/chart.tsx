/** A time-series chart drawn by uPlot (canvas, ~50 KB, no dependencies), sized to its container. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface Series {
  label: string;
  color: string;
  /** One value per x; null where there is none. */
  values: Array<number | null>;
  /** The axis it is read against: 'left' or 'right'. */
  scale: 'left' | 'right';
}

export interface ChartProps {
  /** Seconds since 1970. */
  xs: number[];
  series: Series[];
  leftUnit: string;
  rightUnit: string;
  title: string;
  /** BCP 47 locale for the time axis (the page's language). */
  locale: string;
  /** IANA zone the time axis is drawn in (the site's); the viewer's own when absent. Must be one the browser knows. */
  timeZone?: string | undefined;
}

/**
 * Time-axis steps in whole seconds, from a second to a day: the labels show no fractions, so a
 * sub-second step would write one second twice. Labels are about 70 px wide.
 */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];
const TIME_LABEL_SPACE = 70;

/** Tick labels in the reader's locale: hours and minutes, with seconds when the chart spans under ten minutes. */
function timeTicks(locale: string, timeZone: string | undefined, spanSeconds: number): (self: uPlot, splits: number[]) => string[] {
  const format = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', ...(spanSeconds < 600 ? { second: '2-digit' } : {}), ...(timeZone === undefined ? {} : { timeZone }) });
  return (_self, splits) => splits.map((seconds) => format.format(new Date(seconds * 1000)));
}

export function Chart({ xs, series, leftUnit, rightUnit, title, locale, timeZone }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (element === null) return undefined;
    const width = Math.max(280, element.clientWidth);
    const plot = new uPlot(
      {
        title,
        width,
        height: 260,
        scales: { x: { time: true }, left: {}, right: {} },
        // Ticks fall on whole hours of the zone the labels are in.
        ...(timeZone === undefined ? {} : { tzDate: (seconds: number) => uPlot.tzDate(new Date(seconds * 1000), timeZone) }),
        axes: [
          { values: timeTicks(locale, timeZone, (xs.at(-1) ?? 0) - (xs[0] ?? 0)), incrs: TIME_STEPS, space: TIME_LABEL_SPACE },
          { scale: 'left', label: leftUnit },
          { scale: 'right', side: 1, label: rightUnit, grid: { show: false } },
        ],
        // The legend's time on hover, in the reader's locale too.
        series: [{ value: (_self: uPlot, seconds: number | null) => (seconds === null ? '—' : new Date(seconds * 1000).toLocaleString(locale, { timeZone })) }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, scale: s.scale, spanGaps: true }))],
      },
      [xs, ...series.map((s) => s.values)],
      element,
    );
    const onResize = (): void => plot.setSize({ width: Math.max(280, element.clientWidth), height: 260 });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      plot.destroy();
    };
  }, [xs, series, leftUnit, rightUnit, title, locale, timeZone]);
  return <div ref={box} class="chart" role="img" aria-label={title} />;
}
