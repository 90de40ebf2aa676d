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
}

/** Tick labels in the reader's locale: hours and minutes, with seconds when the chart spans under ten minutes. */
function timeTicks(locale: string, spanSeconds: number): (self: uPlot, splits: number[]) => string[] {
  const format = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', ...(spanSeconds < 600 ? { second: '2-digit' } : {}) });
  return (_self, splits) => splits.map((seconds) => format.format(new Date(seconds * 1000)));
}

export function Chart({ xs, series, leftUnit, rightUnit, title, locale }: ChartProps) {
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
        axes: [
          { values: timeTicks(locale, (xs.at(-1) ?? 0) - (xs[0] ?? 0)) },
          { scale: 'left', label: leftUnit },
          { scale: 'right', side: 1, label: rightUnit, grid: { show: false } },
        ],
        // The legend's time on hover, in the reader's locale too.
        series: [{ value: (_self: uPlot, seconds: number | null) => (seconds === null ? '—' : new Date(seconds * 1000).toLocaleString(locale)) }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, scale: s.scale, spanGaps: true }))],
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
  }, [xs, series, leftUnit, rightUnit, title, locale]);
  return <div ref={box} class="chart" role="img" aria-label={title} />;
}
