import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { parse as parseYaml } from 'yaml';
import type { AggregateName, WindowSpec } from './windows.js';

/**
 * The rules file: what the alerts role watches for. YAML (or JSON), validated at start and on every
 * reload; a problem names the rule and the field, e.g. `rule "room-too-hot" (rules[1]): window.size …`.
 */

const DURATION = { type: 'string', pattern: '^[1-9][0-9]*(ms|s|m|h)$', description: 'e.g. 30s, 5m, 1h' } as const;
const NAME = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' } as const;
const PROPERTY = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9]{0,63}$' } as const;
const SCALAR = { type: ['string', 'number', 'boolean'] } as const;
const OPERATOR = { enum: ['>', '>=', '<', '<=', '==', '!='] } as const;

/** A number, another property of the same readings plus an offset, or a site setting (with a default) plus an offset. */
const THRESHOLD = {
  anyOf: [
    { type: 'number' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['property'],
      properties: { property: PROPERTY, offset: { type: 'number' } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['site', 'default'],
      properties: { site: PROPERTY, default: { type: 'number' }, offset: { type: 'number' } },
    },
  ],
} as const;

const COMMON = {
  name: NAME,
  type: { enum: ['window', 'instant', 'absence'] },
  summary: { type: 'string', minLength: 1, maxLength: 200 },
  severity: { enum: ['info', 'warning', 'critical'] },
  scope: { enum: ['device', 'site'] },
  /** ECHONET class codes (the EOJ's first four hex digits) the rule applies to; empty: every class. */
  classes: { type: 'array', maxItems: 32, items: { type: 'string', pattern: '^[0-9a-f]{4}$' } },
  /** Only readings whose properties have these values (or one of these values) count. */
  where: { type: 'object', maxProperties: 16, propertyNames: PROPERTY, additionalProperties: { anyOf: [SCALAR, { type: 'array', minItems: 1, maxItems: 16, items: SCALAR }] } },
} as const;

const windowRuleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type', 'summary', 'severity', 'scope', 'window', 'aggregate', 'property', 'condition'],
  properties: {
    ...COMMON,
    window: {
      type: 'object',
      additionalProperties: false,
      required: ['size'],
      properties: { size: DURATION, hop: DURATION },
    },
    aggregate: { enum: ['avg', 'min', 'max', 'sum', 'count', 'delta', 'rate'] },
    property: PROPERTY,
    condition: { type: 'object', additionalProperties: false, required: ['op', 'threshold'], properties: { op: OPERATOR, threshold: THRESHOLD } },
    /** Hysteresis: a firing alert resolves only once the aggregate no longer passes this threshold (same operator). */
    resolve: { type: 'object', additionalProperties: false, required: ['threshold'], properties: { threshold: THRESHOLD } },
    /** Consecutive breaching windows before the alert fires (Prometheus' `for`, counted in windows). */
    for: { type: 'integer', minimum: 1, maximum: 100 },
  },
} as const;

const instantRuleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type', 'summary', 'severity', 'scope', 'property', 'condition'],
  properties: {
    ...COMMON,
    scope: { const: 'device' },
    property: PROPERTY,
    condition: { type: 'object', additionalProperties: false, required: ['op', 'value'], properties: { op: OPERATOR, value: SCALAR } },
  },
} as const;

const absenceRuleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type', 'summary', 'severity', 'scope', 'after'],
  properties: {
    name: NAME,
    type: COMMON.type,
    summary: COMMON.summary,
    severity: COMMON.severity,
    scope: COMMON.scope,
    classes: COMMON.classes,
    /** Silent this long (processing time: when the cloud received the subject's last reading) before firing. */
    after: DURATION,
  },
} as const;

const fileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    rules: { type: 'array', maxItems: 500, items: { type: 'object', required: ['name', 'type'], properties: { name: NAME, type: COMMON.type } } },
  },
} as const;

export type WindowRuleSpec = FromSchema<typeof windowRuleSchema>;
export type InstantRuleSpec = FromSchema<typeof instantRuleSchema>;
export type AbsenceRuleSpec = FromSchema<typeof absenceRuleSchema>;
export type Threshold = FromSchema<typeof THRESHOLD>;
export type Operator = FromSchema<typeof OPERATOR>;
export type Scalar = string | number | boolean;
export type Severity = WindowRuleSpec['severity'];
export type Scope = 'device' | 'site';

interface RuleBase {
  name: string;
  summary: string;
  severity: Severity;
  scope: Scope;
  classes: string[];
}

export interface WindowRule extends RuleBase {
  type: 'window';
  window: WindowSpec;
  aggregate: AggregateName;
  property: string;
  where: Array<[string, Scalar[]]>;
  op: Operator;
  threshold: Threshold;
  resolveThreshold: Threshold;
  /** The property a threshold refers to (e.g. targetTemperature), tracked beside the value; null if none. */
  referenceProperty: string | null;
  for: number;
}

export interface InstantRule extends RuleBase {
  type: 'instant';
  property: string;
  where: Array<[string, Scalar[]]>;
  op: Operator;
  value: Scalar;
}

export interface AbsenceRule extends RuleBase {
  type: 'absence';
  afterMs: number;
}

export type Rule = WindowRule | InstantRule | AbsenceRule;

/** What an alert record says of its rule. */
export type RuleLabel = Pick<Rule, 'name' | 'type' | 'summary' | 'severity' | 'scope'>;

/**
 * What a rule evaluates, as a short hash: everything but its name and its words (summary, severity).
 * Two versions of a rule with one fingerprint judge readings alike, so their state carries over.
 */
export function ruleFingerprint(rule: Rule): string {
  const { name: _name, summary: _summary, severity: _severity, ...evaluated } = rule;
  return createHash('sha256').update(JSON.stringify(evaluated)).digest('hex').slice(0, 16);
}

/** Why a rules file was refused: every problem found, each naming its rule and field. */
export class RulesError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.join('; ')}`);
    this.name = 'RulesError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validateFile = ajv.compile<{ rules: Array<{ name: string; type: Rule['type'] }> }>(fileSchema);
const validators = {
  window: ajv.compile<WindowRuleSpec>(windowRuleSchema),
  instant: ajv.compile<InstantRuleSpec>(instantRuleSchema),
  absence: ajv.compile<AbsenceRuleSpec>(absenceRuleSchema),
};

/** Reads and checks a rules file; throws RulesError listing every problem. */
export function loadRulesFile(path: string): Rule[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RulesError(path, [`cannot be read: ${(err as Error).message}; set alerts.rulesFile to a readable YAML file`]);
  }
  return parseRules(text, path);
}

/** Parses and checks rules from YAML or JSON text. */
export function parseRules(text: string, source = 'rules'): Rule[] {
  let document: unknown;
  try {
    document = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new RulesError(source, [`is not valid YAML: ${(err as Error).message}`]);
  }
  if (!validateFile(document)) throw new RulesError(source, describeAll(validateFile.errors, (path) => `file${path || ' (top level)'}`));
  const specs = document.rules;
  const problems: string[] = [];
  const rules: Rule[] = [];
  const names = new Set<string>();
  specs.forEach((spec, index) => {
    const label = `rule "${spec.name}" (rules[${index}])`;
    if (names.has(spec.name)) problems.push(`${label}: name is used by an earlier rule; names must be unique`);
    names.add(spec.name);
    const validate: (typeof validators)[keyof typeof validators] = validators[spec.type];
    if (!validate(spec)) {
      problems.push(...describeAll(validate.errors, (path) => `${label}: ${path === '' ? 'rule' : path.slice(1).replaceAll('/', '.')}`));
      return;
    }
    const compiled = compile(spec, (problem) => problems.push(`${label}: ${problem}`));
    if (compiled !== undefined) rules.push(compiled);
  });
  if (problems.length > 0) throw new RulesError(source, problems);
  return rules;
}

/** The shortest and the longest duration a rule may name: polled readings come seconds apart, and state is kept for at most a week. */
const MIN_DURATION_MS = 1000;
const MAX_DURATION_MS = 7 * 24 * 3_600_000;
/** Windows one reading lands in (size / hop): each costs work per reading and memory per subject. */
const MAX_WINDOWS_PER_READING = 60;

function compile(spec: WindowRuleSpec | InstantRuleSpec | AbsenceRuleSpec, problem: (text: string) => void): Rule | undefined {
  const base = { name: spec.name, summary: spec.summary, severity: spec.severity, scope: spec.scope, classes: spec.classes ?? [] };
  if (spec.type === 'absence') {
    const { after } = spec as AbsenceRuleSpec;
    const afterMs = durationMs(after);
    if (!withinDurationBounds(afterMs)) return void problem(`after ${after} is outside 1s to 168h`);
    return { ...base, type: 'absence', afterMs };
  }
  if (spec.type === 'instant') {
    const instant = spec as InstantRuleSpec;
    return { ...base, type: 'instant', property: instant.property, where: whereList(instant.where), op: instant.condition.op, value: instant.condition.value };
  }
  const window = spec as WindowRuleSpec;
  const sizeMs = durationMs(window.window.size);
  const hopMs = window.window.hop === undefined ? sizeMs : durationMs(window.window.hop);
  if (!withinDurationBounds(sizeMs)) return void problem(`window.size ${window.window.size} is outside 1s to 168h`);
  if (hopMs > sizeMs) return void problem(`window.hop ${window.window.hop} is longer than window.size ${window.window.size}; a hop may not skip time`);
  if (sizeMs % hopMs !== 0) return void problem(`window.size ${window.window.size} is not a whole number of window.hop ${window.window.hop}`);
  if (sizeMs / hopMs > MAX_WINDOWS_PER_READING) {
    return void problem(`window.hop ${window.window.hop} puts each reading in ${sizeMs / hopMs} windows of ${window.window.size}; at most ${MAX_WINDOWS_PER_READING} (make the hop at least size / ${MAX_WINDOWS_PER_READING})`);
  }
  const forWindows = window.for ?? 1;
  const toFireMs = sizeMs + (forWindows - 1) * hopMs;
  if (toFireMs > MAX_DURATION_MS) return void problem(`for ${forWindows} windows of ${window.window.size} every ${window.window.hop ?? window.window.size} take longer than 168h to fire; use fewer or shorter windows`);
  if (window.resolve !== undefined && (window.condition.op === '==' || window.condition.op === '!=')) {
    return void problem(`resolve needs an ordering condition.op (<, <=, >, >=), not ${window.condition.op}`);
  }
  const references = [window.condition.threshold, window.resolve?.threshold].flatMap((t) => (typeof t === 'object' && 'property' in t ? [t.property] : []));
  if (new Set(references).size > 1) return void problem(`condition.threshold and resolve.threshold refer to different properties (${references.join(', ')}); use one`);
  if (window.resolve !== undefined && resolvesBeyond(window.condition.op, window.condition.threshold, window.resolve.threshold)) {
    const side = window.condition.op === '>' || window.condition.op === '>=' ? 'at or below' : 'at or above';
    return void problem(
      `resolve.threshold ${JSON.stringify(window.resolve.threshold)} is beyond condition.threshold ${JSON.stringify(window.condition.threshold)} for ${window.condition.op}: a firing alert would resolve while the condition still holds, then fire again; set it ${side} the condition's`,
    );
  }
  return {
    ...base,
    type: 'window',
    window: { sizeMs, hopMs },
    aggregate: window.aggregate,
    property: window.property,
    where: whereList(window.where),
    op: window.condition.op,
    threshold: window.condition.threshold,
    resolveThreshold: window.resolve?.threshold ?? window.condition.threshold,
    referenceProperty: references[0] ?? null,
    for: forWindows,
  };
}

function withinDurationBounds(ms: number): boolean {
  return ms >= MIN_DURATION_MS && ms <= MAX_DURATION_MS;
}

/**
 * Whether a resolve threshold lies on the breaching side of the condition's (above it for `>`,
 * below it for `<`), which would resolve a firing alert while the condition still holds: that defeats
 * the hysteresis. Judged where both can be compared without a reading: two numbers, two offsets of
 * one property, or one site setting (its default and offset). A number against a site setting or a
 * property is left to the data.
 */
function resolvesBeyond(op: Operator, condition: Threshold, resolve: Threshold): boolean {
  return comparableLimits(condition, resolve).some(([fire, end]) => (op === '>' || op === '>=' ? end > fire : op === '<' || op === '<=' ? end < fire : false));
}

/** The (condition, resolve) limits that can be told without a reading: one pair per case, none when only the data can tell. */
function comparableLimits(condition: Threshold, resolve: Threshold): Array<[number, number]> {
  if (typeof condition === 'number' && typeof resolve === 'number') return [[condition, resolve]];
  if (typeof condition !== 'object' || typeof resolve !== 'object') return [];
  if ('property' in condition && 'property' in resolve && condition.property === resolve.property) return [[condition.offset ?? 0, resolve.offset ?? 0]];
  if ('site' in condition && 'site' in resolve && condition.site === resolve.site) {
    const offsets: [number, number] = [condition.offset ?? 0, resolve.offset ?? 0];
    // The site's setting shifts both alike (the offsets decide); without it, the defaults apply.
    return [offsets, [condition.default + offsets[0], resolve.default + offsets[1]]];
  }
  return [];
}

function whereList(where: Record<string, Scalar | Scalar[]> | undefined): Array<[string, Scalar[]]> {
  return Object.entries(where ?? {}).map(([property, allowed]) => [property, Array.isArray(allowed) ? allowed : [allowed]]);
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `30s`, `5m`, `1h`, `250ms` in milliseconds (the schema has checked the form). */
export function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (match === null) throw new Error(`not a duration: ${text}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

function describeAll(errors: ErrorObject[] | null | undefined, where: (path: string) => string): string[] {
  return (errors ?? []).map((error) => {
    const extra = error.keyword === 'additionalProperties' ? ` (${String((error.params as { additionalProperty: string }).additionalProperty)})` : '';
    const allowed = error.keyword === 'enum' ? `: ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` : '';
    return `${where(error.instancePath)} ${error.message ?? 'is invalid'}${extra}${allowed}`;
  });
}

/** Whether `value op limit` holds; values of different types never compare true except through `!=`. */
export function compare(value: Scalar, op: Operator, limit: Scalar): boolean {
  switch (op) {
    case '==':
      return value === limit;
    case '!=':
      return value !== limit;
    case '>':
      return typeof value === 'number' && typeof limit === 'number' && value > limit;
    case '>=':
      return typeof value === 'number' && typeof limit === 'number' && value >= limit;
    case '<':
      return typeof value === 'number' && typeof limit === 'number' && value < limit;
    case '<=':
      return typeof value === 'number' && typeof limit === 'number' && value <= limit;
  }
}
