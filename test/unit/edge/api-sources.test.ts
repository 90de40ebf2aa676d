import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { systemTimeZone } from '../../../edge/api-sources.js';

const original = process.env.TZ;
afterEach(() => {
  if (original === undefined) delete process.env.TZ;
  else process.env.TZ = original;
});

test('the site\'s time zone is the one the system names', () => {
  process.env.TZ = 'Asia/Tokyo';
  assert.equal(systemTimeZone(), 'Asia/Tokyo');
  process.env.TZ = 'America/St_Johns';
  assert.equal(systemTimeZone(), 'America/St_Johns');
});

test('a zone Node cannot resolve is reported as UTC, the zone Node then works in', () => {
  process.env.TZ = 'Nowhere/Atlantis';
  assert.equal(systemTimeZone(), 'UTC');
  process.env.TZ = '';
  assert.equal(systemTimeZone(), 'UTC');
});
