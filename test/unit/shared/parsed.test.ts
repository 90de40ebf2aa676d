import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parseJson, parseWithSchema } from '../../../shared/parsed.js';

const validate = new Ajv({ strict: true }).compile<{ n: number }>({
  type: 'object',
  required: ['n'],
  properties: { n: { type: 'integer' } },
});

test('bytes that are not JSON are named so, with the parser\'s words', () => {
  const parsed = parseJson(Buffer.from('{"n":'));
  assert.equal(parsed.ok, false);
  assert.match(!parsed.ok ? parsed.error : '', /^not JSON: /);
});

test('a schema error names the field and the contract it breaks', () => {
  const wrongField = parseWithSchema('{"n":"x"}', validate, 'the test contract');
  assert.deepEqual(wrongField, { ok: false, error: '/n must be integer' });
  const missing = parseWithSchema('{}', validate, 'the test contract');
  assert.deepEqual(missing, { ok: false, error: "(top level) must have required property 'n'" });
});

test('a value that fits comes back typed', () => {
  assert.deepEqual(parseWithSchema(Buffer.from('{"n":3}'), validate, 'the test contract'), { ok: true, value: { n: 3 } });
});
