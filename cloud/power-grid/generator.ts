/**
 * Dummy power-grid supply and demand, shaped like the published hourly figures of a Japanese
 * utility in summer: demand low at night, rising with the day's heat to an afternoon peak, lower
 * at weekends; supply capacity with a reserve that runs thin on some hot afternoons. Seeded, so
 * the same arguments give the same table.
 */
import { seededRandom } from '../../shared/random.js';
import type { PowerGridHour } from '../lake/tables/power-grid.js';

/** Areas and their typical summer peak demand (MW), in the order of the utilities' size. */
export const AREAS: Readonly<Record<string, number>> = { tokyo: 55_000, kansai: 27_000, chubu: 24_000, kyushu: 16_000, tohoku: 14_000 };

export interface GeneratorOptions {
  areas: readonly string[];
  /** First day (UTC midnight of that date, ms). */
  fromMs: number;
  days: number;
  seed: number;
}

/** Share of the day's peak, by local hour (JST): a summer weekday's curve. */
const DAILY_SHAPE = [0.62, 0.6, 0.58, 0.57, 0.57, 0.59, 0.64, 0.72, 0.8, 0.86, 0.9, 0.93, 0.94, 0.97, 1, 0.99, 0.97, 0.94, 0.9, 0.86, 0.82, 0.77, 0.71, 0.66];
const JST_OFFSET_HOURS = 9;

export function generatePowerGrid(options: GeneratorOptions): PowerGridHour[] {
  const random = seededRandom(options.seed);
  const hours: PowerGridHour[] = [];
  for (const area of options.areas) {
    const peak = AREAS[area];
    if (peak === undefined) throw new Error(`unknown area ${area}: use one of ${Object.keys(AREAS).join(', ')}`);
    for (let day = 0; day < options.days; day += 1) {
      // Some days are hotter than others; a heat wave pushes the peak up to ~8 % over the typical one.
      const heat = 0.9 + random() * 0.18;
      const supply = peak * (1.05 + random() * 0.08);
      for (let hour = 0; hour < 24; hour += 1) {
        const hourMs = options.fromMs + (day * 24 + hour) * 3_600_000;
        const local = (hour + JST_OFFSET_HOURS) % 24;
        const weekday = new Date(hourMs + JST_OFFSET_HOURS * 3_600_000).getUTCDay();
        const weekend = weekday === 0 || weekday === 6 ? 0.88 : 1;
        const demand = peak * (DAILY_SHAPE[local] ?? 1) * heat * weekend * (0.98 + random() * 0.04);
        hours.push({ area, hourMs, demandMw: Math.round(demand), supplyCapacityMw: Math.round(supply) });
      }
    }
  }
  return hours;
}
