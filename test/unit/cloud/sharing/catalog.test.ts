import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalog, catalogProblems, pageOf } from '../../../../cloud/sharing/catalog.js';
import { SharingError } from '../../../../cloud/sharing/errors.js';

const shares = [
  { name: 'Plant', schemas: [{ name: 'lake', tables: [{ name: 'readings', table: 'readings' }, { name: 'letters', table: 'dead_letters' }] }] },
  { name: 'office', schemas: [{ name: 'lake', tables: [{ name: 'readings', table: 'readings' }] }, { name: 'other', tables: [] }] },
];

test('names are found ignoring case and keep their configured spelling', () => {
  const catalog = new Catalog(shares);
  assert.equal(catalog.share('PLANT')?.name, 'Plant');
  assert.deepEqual(catalog.table('plant', 'LAKE', 'Readings'), { share: 'Plant', schema: 'lake', name: 'readings', table: 'readings' });
  assert.equal(catalog.table('plant', 'lake', 'missing'), undefined);
  assert.equal(catalog.schema('office', 'other')?.name, 'other');
  assert.deepEqual(catalog.tablesOf('plant').map((t) => t.name), ['readings', 'letters']);
  assert.deepEqual(catalog.tablesOf('office', 'other'), []);
  assert.deepEqual(catalog.tablesOf('office').map((t) => `${t.schema}.${t.name}`), ['lake.readings']);
});

test('names used twice at one level (ignoring case) are problems naming them', () => {
  assert.deepEqual(catalogProblems(shares), []);
  const twice = [...shares, { name: 'PLANT', schemas: [{ name: 's', tables: [{ name: 't', table: 'x' }, { name: 'T', table: 'y' }] }, { name: 'S', tables: [] }] }];
  assert.deepEqual(catalogProblems(twice), [
    'sharing.shares: share PLANT is listed twice (names ignore case)',
    'sharing.shares PLANT: schema S is listed twice',
    'sharing.shares PLANT.s: table T is listed twice',
  ]);
});

test('pages follow each other with tokens and maxResults is capped', () => {
  const all = Array.from({ length: 7 }, (_, i) => i);
  const first = pageOf(all, 3, undefined, 100);
  assert.deepEqual(first.items, [0, 1, 2]);
  const second = pageOf(all, 3, first.nextPageToken, 100);
  assert.deepEqual(second.items, [3, 4, 5]);
  const last = pageOf(all, 3, second.nextPageToken, 100);
  assert.deepEqual(last, { items: [6] });
  assert.deepEqual(pageOf(all, 1000, undefined, 4).items, [0, 1, 2, 3], 'the server cap wins over maxResults');
  assert.deepEqual(pageOf(all, undefined, '', 5).items.length, 5);
});

test('following the tokens always ends: maxResults 0 (a page that could only point back at itself) is a 400', () => {
  const all = Array.from({ length: 7 }, (_, i) => i);
  for (const maxResults of [undefined, 1, 2, 3, 7, 100]) {
    const seen: number[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = pageOf(all, maxResults, token, 5);
      seen.push(...page.items);
      token = page.nextPageToken;
      pages += 1;
    } while (token !== undefined && pages <= all.length);
    assert.deepEqual(seen, all, `maxResults ${String(maxResults)}`);
  }
  assert.throws(() => pageOf(all, 0, undefined, 100), (err: unknown) => err instanceof SharingError && err.statusCode === 400 && /maxResults 0/.test(err.message));
});

test('a page token this server did not make is a 400 naming pageToken', () => {
  const tokenAt = (offset: unknown) => Buffer.from(JSON.stringify({ offset })).toString('base64url');
  assert.deepEqual(pageOf([1, 2], 1, tokenAt(2), 10), { items: [] }, 'the end of the listing');
  for (const token of ['garbage', tokenAt(-1), tokenAt('2'), tokenAt(3)]) {
    assert.throws(() => pageOf([1, 2], 1, token, 10), (err: unknown) => err instanceof SharingError && err.statusCode === 400 && /pageToken/.test(err.message));
  }
});
