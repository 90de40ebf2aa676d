import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSettable } from '../../../../shared/contract/commands.js';
import { SETTABLE_FIELDS, offers } from '../../../../web/edge/settable-fields.js';

test('the page offers every settable property of the contract with the values the contract allows', () => {
  const byName = Object.fromEntries(SETTABLE_FIELDS.map(({ name, field }) => [name, field]));
  assert.deepEqual(byName, {
    operationStatus: { kind: 'choice', options: [true, false] },
    operationMode: { kind: 'choice', options: ['auto', 'cooling', 'heating', 'dehumidification', 'circulation', 'other'] },
    targetTemperature: { kind: 'integer', min: 0, max: 50 },
    airFlowLevel: { kind: 'choice', options: [1, 2, 3, 4, 5, 6, 7, 8, 'auto'] },
  });
});

test('every value the page offers passes the contract, and the bounds of a number field are the contract\'s', () => {
  for (const { name, field } of SETTABLE_FIELDS) {
    const values = field.kind === 'choice' ? field.options : [field.min, field.max];
    for (const value of values) assert.ok(checkSettable({ [name]: value }).ok, `${name} = ${String(value)}`);
    if (field.kind === 'integer') {
      assert.equal(checkSettable({ [name]: field.min - 1 }).ok, false);
      assert.equal(checkSettable({ [name]: field.max + 1 }).ok, false);
    }
  }
});

test('the form starts from the device\'s value only when it offers it', () => {
  const field = (name: string) => SETTABLE_FIELDS.find((f) => f.name === name)?.field;
  const temperature = field('targetTemperature');
  const flow = field('airFlowLevel');
  assert.ok(temperature && flow);
  assert.equal(offers(temperature, 26), true);
  assert.equal(offers(temperature, 26.5), false);
  assert.equal(offers(temperature, 51), false);
  assert.equal(offers(temperature, null), false);
  assert.equal(offers(flow, 'auto'), true);
  assert.equal(offers(flow, 9), false);
});
