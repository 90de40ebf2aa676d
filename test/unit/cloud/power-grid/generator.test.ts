import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generatePowerGrid } from '../../../../cloud/power-grid/generator.js';

const FROM = Date.parse('2026-08-03T00:00:00Z'); // a Monday

test('hourly supply and demand per area, the same for the same seed', () => {
  const hours = generatePowerGrid({ areas: ['tokyo', 'kansai'], fromMs: FROM, days: 7, seed: 4 });
  assert.equal(hours.length, 2 * 7 * 24);
  assert.deepEqual(hours, generatePowerGrid({ areas: ['tokyo', 'kansai'], fromMs: FROM, days: 7, seed: 4 }));
  assert.notDeepEqual(hours, generatePowerGrid({ areas: ['tokyo', 'kansai'], fromMs: FROM, days: 7, seed: 5 }));
  assert.ok(hours.every((h) => h.demandMw > 0 && h.supplyCapacityMw > 0 && h.hourMs % 3_600_000 === 0));
});

test('demand peaks in the afternoon (JST) and some hours run tight, which is what a campaign is for', () => {
  const tokyo = generatePowerGrid({ areas: ['tokyo'], fromMs: FROM, days: 30, seed: 1 });
  const monday = tokyo.slice(0, 24);
  const peak = monday.reduce((a, b) => (b.demandMw > a.demandMw ? b : a));
  const peakHourJst = (new Date(peak.hourMs).getUTCHours() + 9) % 24;
  assert.ok(peakHourJst >= 12 && peakHourJst <= 16, `peak at ${peakHourJst}:00 JST`);
  const usage = tokyo.map((h) => h.demandMw / h.supplyCapacityMw);
  assert.ok(usage.some((u) => u > 0.95), 'some hours above 95 % usage');
  assert.ok(usage.filter((u) => u > 0.95).length < usage.length / 10, 'but few');
});

test('an unknown area is refused, naming the known ones', () => {
  assert.throws(() => generatePowerGrid({ areas: ['hokkaido-x'], fromMs: FROM, days: 1, seed: 1 }), /unknown area hokkaido-x: use one of tokyo, kansai/);
});
