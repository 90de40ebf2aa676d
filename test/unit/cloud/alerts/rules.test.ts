import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compare, durationMs, loadRulesFile, parseRules, RulesError } from '../../../../cloud/alerts/rules.js';

const DEFAULT_RULES = fileURLToPath(new URL('../../../../cloud/alerts/default-rules.yaml', import.meta.url));

function problemsOf(text: string): string[] {
  try {
    parseRules(text, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof RulesError);
    return err.problems;
  }
  assert.fail('the rules were accepted');
}

test('the shipped default rules load, one of each kind', () => {
  const rules = loadRulesFile(DEFAULT_RULES);
  assert.deepEqual(new Set(rules.map((r) => r.type)), new Set(['window', 'instant', 'absence']));
  const notCooling = rules.find((r) => r.name === 'aircon-not-cooling');
  assert.equal(notCooling?.type, 'window');
  if (notCooling?.type !== 'window') return;
  assert.deepEqual(notCooling.window, { sizeMs: 300_000, hopMs: 300_000 });
  assert.equal(notCooling.referenceProperty, 'targetTemperature');
  assert.deepEqual(notCooling.where, [['operationStatus', [true]], ['operationMode', ['cooling']]]);
  assert.equal(notCooling.for, 3);
});

test('a problem names the rule and the field', () => {
  const problems = problemsOf(`
rules:
  - { name: ok, type: absence, summary: s, severity: info, scope: site, after: 5m }
  - name: hot
    type: window
    summary: s
    severity: loud
    scope: device
    window: { size: 5 minutes }
    aggregate: avg
    property: roomTemperature
    condition: { op: '>', threshold: 30 }
`);
  assert.ok(problems.some((p) => p.startsWith('rule "hot" (rules[1]): severity must be equal to one of the allowed values: info, warning, critical')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('rule "hot" (rules[1]): window.size must match pattern')), problems.join('\n'));
});

test('unknown fields, duplicate names and impossible windows are refused', () => {
  const rule = (name: string, extra: string) =>
    `  - { name: ${name}, type: window, summary: s, severity: info, scope: device, aggregate: avg, property: humidity, condition: { op: '<', threshold: 30 }, ${extra} }\n`;
  const problems = problemsOf(
    'rules:\n' + rule('a', 'window: { size: 5m }, colour: red') + rule('b', 'window: { size: 5m, hop: 10m }') + rule('c', 'window: { size: 5m, hop: 2m }') + rule('c', 'window: { size: 5m }'),
  );
  assert.ok(problems.some((p) => p === 'rule "a" (rules[0]): rule must NOT have additional properties (colour)'), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('rule "b" (rules[1]): window.hop 10m is longer than window.size 5m')), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('rule "c" (rules[2]): window.size 5m is not a whole number of window.hop 2m')), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('rule "c" (rules[3]): name is used by an earlier rule')), problems.join('\n'));
});

test('a file that is no YAML, or has no rules list, says so', () => {
  assert.match(problemsOf('rules: [')[0]!, /not valid YAML/);
  assert.match(problemsOf('alerts: []')[0]!, /file \(top level\) must have required property 'rules'/);
  assert.throws(() => loadRulesFile('/nonexistent/rules.yaml'), /cannot be read: .*set alerts.rulesFile/);
});

test('instant rules are per device; thresholds on two different properties are refused', () => {
  assert.match(problemsOf(`rules:\n  - { name: f, type: instant, summary: s, severity: info, scope: site, property: faultStatus, condition: { op: '==', value: true } }`)[0]!, /rule "f" \(rules\[0\]\): scope must be equal to constant/);
  const problems = problemsOf(`rules:
  - name: t
    type: window
    summary: s
    severity: info
    scope: device
    window: { size: 5m }
    aggregate: avg
    property: roomTemperature
    condition: { op: '>', threshold: { property: targetTemperature, offset: 3 } }
    resolve: { threshold: { property: outdoorTemperature } }`);
  assert.match(problems[0]!, /refer to different properties/);
});

test('durations and comparisons', () => {
  assert.equal(durationMs('250ms'), 250);
  assert.equal(durationMs('30s'), 30_000);
  assert.equal(durationMs('5m'), 300_000);
  assert.equal(durationMs('2h'), 7_200_000);
  assert.equal(compare(3, '>', 2), true);
  assert.equal(compare('3', '>', 2), false, 'no string-to-number coercion');
  assert.equal(compare(true, '==', true), true);
  assert.equal(compare('cooling', '!=', 'heating'), true);
});
