import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { RepeatedWarnings } from '../../../shared/repeated-warnings.js';

function capture(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

test('a flood of one kind is one line, then one summary with the count', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { log, lines } = capture();
  const warnings = new RepeatedWarnings(log, 60_000);
  for (let i = 0; i < 2000; i += 1) warnings.warn('forged-ack', { i }, 'ack refused');
  assert.equal(lines.length, 1);
  t.mock.timers.tick(60_000);
  assert.equal(lines.length, 2);
  assert.equal(lines[1]?.repeated, 1999);
  assert.equal(lines[1]?.i, 1999, 'the summary carries the last example');
});

test('kinds beyond the bound share one window, so a stranger cannot open a window per name', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { log, lines } = capture();
  const warnings = new RepeatedWarnings(log, 10_000, 3);
  for (let i = 0; i < 100; i += 1) warnings.warn(`connect:user-${i}`, { i }, 'connect refused');
  assert.equal(lines.length, 4, 'three kinds, then the shared one');
  assert.equal(lines[3]?.kind, 'too-many-kinds');
  warnings.flush();
  assert.equal(lines.at(-1)?.repeated, 96);
});
