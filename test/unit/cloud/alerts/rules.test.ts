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

test('windows are bounded: at most 60 per reading, 1 s to 168 h long, and `for` may not take over 168 h to fire', () => {
  const rule = (name: string, window: string, extra = '') =>
    `  - { name: ${name}, type: window, summary: s, severity: info, scope: device, aggregate: avg, property: p, condition: { op: '>', threshold: 1 }, window: ${window}${extra} }\n`;
  const problems = problemsOf(
    'rules:\n' +
      rule('hop', '{ size: 1m, hop: 500ms }') +
      rule('day-ms', '{ size: 24h, hop: 1ms }') +
      rule('huge', '{ size: 99999999999999999999h }') +
      rule('tiny', '{ size: 500ms }') +
      rule('week', '{ size: 169h }') +
      rule('slow', '{ size: 24h }', ', for: 8') +
      '  - { name: long-silence, type: absence, summary: s, severity: info, scope: device, after: 200h }\n',
  );
  assert.deepEqual(problems, [
    'rule "hop" (rules[0]): window.hop 500ms puts each reading in 120 windows of 1m; at most 60 (make the hop at least size / 60)',
    'rule "day-ms" (rules[1]): window.hop 1ms puts each reading in 86400000 windows of 24h; at most 60 (make the hop at least size / 60)',
    'rule "huge" (rules[2]): window.size 99999999999999999999h is outside 1s to 168h',
    'rule "tiny" (rules[3]): window.size 500ms is outside 1s to 168h',
    'rule "week" (rules[4]): window.size 169h is outside 1s to 168h',
    'rule "slow" (rules[5]): for 8 windows of 24h every 24h take longer than 168h to fire; use fewer or shorter windows',
    'rule "long-silence" (rules[6]): after 200h is outside 1s to 168h',
  ]);
});

test('the bounds themselves are allowed: 60 windows per reading, a week-long window or silence', () => {
  const rules = parseRules(`rules:
  - { name: a, type: window, summary: s, severity: info, scope: device, aggregate: avg, property: p, condition: { op: '>', threshold: 1 }, window: { size: 1m, hop: 1s } }
  - { name: b, type: window, summary: s, severity: info, scope: device, aggregate: avg, property: p, condition: { op: '>', threshold: 1 }, window: { size: 24h }, for: 7 }
  - { name: c, type: absence, summary: s, severity: info, scope: device, after: 168h }`);
  assert.equal(rules.length, 3);
});

test('a resolve threshold beyond the condition’s is refused (it would resolve a breaching alert and fire it again); where only data can tell, it is left to it', () => {
  const rule = (name: string, op: string, threshold: string, resolve: string) =>
    `  - { name: ${name}, type: window, summary: s, severity: info, scope: device, window: { size: 5m }, aggregate: avg, property: roomTemperature, condition: { op: '${op}', threshold: ${threshold} }, resolve: { threshold: ${resolve} } }\n`;
  const problems = problemsOf(
    'rules:\n' +
      rule('above', '>', '30', '35') +
      rule('below', '<=', '30', '25') +
      rule('offset', '>', '{ property: targetTemperature, offset: 3 }', '{ property: targetTemperature, offset: 4 }') +
      rule('site-default', '<', '{ site: humidityMin, default: 30 }', '{ site: humidityMin, default: 20, offset: 5 }') +
      rule('fine', '>', '30', '28') +
      rule('fine-site', '<', '{ site: humidityMin, default: 30 }', '{ site: humidityMin, default: 30, offset: 5 }') +
      rule('data-decides', '>', '{ site: roomTemperatureMax, default: 40 }', '28'),
  );
  assert.deepEqual(problems, [
    'rule "above" (rules[0]): resolve.threshold 35 is beyond condition.threshold 30 for >: a firing alert would resolve while the condition still holds, then fire again; set it at or below the condition\'s',
    'rule "below" (rules[1]): resolve.threshold 25 is beyond condition.threshold 30 for <=: a firing alert would resolve while the condition still holds, then fire again; set it at or above the condition\'s',
    'rule "offset" (rules[2]): resolve.threshold {"property":"targetTemperature","offset":4} is beyond condition.threshold {"property":"targetTemperature","offset":3} for >: a firing alert would resolve while the condition still holds, then fire again; set it at or below the condition\'s',
    'rule "site-default" (rules[3]): resolve.threshold {"site":"humidityMin","default":20,"offset":5} is beyond condition.threshold {"site":"humidityMin","default":30} for <: a firing alert would resolve while the condition still holds, then fire again; set it at or above the condition\'s',
  ]);
});
