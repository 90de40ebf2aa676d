import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';
import { parse as parseYaml } from 'yaml';

/**
 * Settings come from four layers, later ones winning: the schema's defaults, one file (YAML or
 * JSON), environment variables, then `--set path=value` flags. An environment variable names a
 * setting by its path, `PREFIX` + segments joined by `__`, case-insensitively:
 * `ECHOLAKE_EDGE_UPLINK__URL` sets `uplink.url`; a flag names it as the file does, `--set uplink.url=…`.
 * A variable with the prefix that names no setting is refused like an unknown flag: a typo in a
 * systemd drop-in must not leave a site on a default. Everything is validated against the schema
 * at start, then by the deployable's own cross-field checks, and every problem names the field
 * and the fix.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type SchemaNode = {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  description?: string;
};

export interface LoadConfigOptions<T> {
  schema: SchemaObject;
  /** Path of the YAML or JSON file; none means defaults plus environment. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  envPrefix: string;
  /** `path=value` from the command line's `--set`, e.g. `uplink.url=mqtts://broker:8883`. */
  overrides?: string[];
  /** What a schema cannot say (fields that must agree, files that must be readable): one problem per line, with the fix. */
  crossCheck?: (config: T) => string[];
}

export function loadConfig<T>(options: LoadConfigOptions<T>): T {
  const schema = options.schema as SchemaNode;
  const fromFile = options.file === undefined ? {} : readConfigFile(options.file);
  const fromEnv = applyEnvironment(fromFile, schema, options.env ?? process.env, options.envPrefix);
  const config = validateConfig<T>(options.schema, applyOverrides(fromEnv, schema, options.overrides ?? []));
  const problems = options.crossCheck?.(config) ?? [];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export function validateConfig<T>(schema: SchemaObject, candidate: unknown): T {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, strict: true });
  const validate = ajv.compile<T>(schema);
  const copy: unknown = structuredClone(candidate);
  if (!validate(copy)) {
    throw new ConfigError((validate.errors ?? []).map((e) => describeProblem(e, schema as SchemaNode)));
  }
  return copy;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${file}: ${(err as Error).message}; check the path and its permissions`]);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`config file ${file} is not valid YAML or JSON: ${(err as Error).message}`]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`config file ${file} must hold a mapping of settings at its top level`]);
  }
  return parsed as Record<string, unknown>;
}

function applyEnvironment(
  base: Record<string, unknown>,
  schema: SchemaNode,
  env: NodeJS.ProcessEnv,
  prefix: string,
): Record<string, unknown> {
  const result = structuredClone(base);
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.toUpperCase().startsWith(prefix.toUpperCase())) continue;
    const segments = name.slice(prefix.length).split('__');
    const path = resolvePath(schema, segments);
    if (path === undefined) {
      problems.push(`${name}: names no setting; check its spelling against the configuration table in the README (segments joined by __, e.g. ${prefix}UPLINK__URL)`);
      continue;
    }
    setAtPath(result, path.keys, parseSettingText(value, path.node));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result;
}

function applyOverrides(base: Record<string, unknown>, schema: SchemaNode, overrides: string[]): Record<string, unknown> {
  const result = structuredClone(base);
  const problems: string[] = [];
  for (const override of overrides) {
    const equals = override.indexOf('=');
    const keys = override.slice(0, Math.max(0, equals)).split('.');
    const node = equals > 0 ? schemaAt(schema, keys) : undefined;
    if (equals <= 0) problems.push(`--set ${override}: expected path=value, e.g. --set uplink.url=mqtts://broker:8883`);
    else if (node === undefined) problems.push(`--set ${override}: ${keys.join('.')} is not a setting; check its spelling against the configuration table in the README`);
    else setAtPath(result, keys, parseSettingText(override.slice(equals + 1), node));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result;
}

function schemaAt(schema: SchemaNode, keys: string[]): SchemaNode | undefined {
  let node = schema;
  for (const key of keys) {
    const child = node.properties !== undefined && Object.hasOwn(node.properties, key) ? node.properties[key] : undefined;
    if (child === undefined) return undefined;
    node = child;
  }
  return node;
}

/** Maps upper-case environment segments onto the schema's camelCase keys. */
function resolvePath(schema: SchemaNode, segments: string[]): { keys: string[]; node: SchemaNode } | undefined {
  const keys: string[] = [];
  let node = schema;
  for (const segment of segments) {
    const entry = Object.entries(node.properties ?? {}).find(
      ([key]) => key.toUpperCase() === segment.replaceAll('_', '').toUpperCase(),
    );
    if (entry === undefined) return undefined;
    keys.push(entry[0]);
    node = entry[1];
  }
  return keys.length === 0 ? undefined : { keys, node };
}

function parseSettingText(value: string, node: SchemaNode): unknown {
  if (node.type === 'array') return value.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
  if (node.type === 'object') {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value; // the schema check reports it with the field's name
    }
  }
  return value; // ajv coerces numbers and booleans and reports what it cannot
}

function setAtPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let cursor = target;
  for (const key of keys.slice(0, -1)) {
    const next = cursor[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cursor[key] = {};
    cursor = cursor[key] as Record<string, unknown>;
  }
  cursor[keys[keys.length - 1] as string] = value;
}

function describeProblem(error: ErrorObject, schema: SchemaNode): string {
  const field = fieldName(error);
  const hint = fieldDescription(schema, field);
  const suffix = hint === undefined ? '' : ` (${hint})`;
  switch (error.keyword) {
    case 'required':
      return `${field}: missing; set it in the config file, its environment variable or --set${suffix}`;
    case 'additionalProperties':
      return `${field}: unknown setting; remove it or check its spelling`;
    case 'enum':
      return `${field}: must be one of ${JSON.stringify(error.params.allowedValues)}${suffix}`;
    default:
      return `${field}: ${error.message ?? 'is invalid'}${suffix}`;
  }
}

function fieldName(error: ErrorObject): string {
  const base = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const extra = params.missingProperty ?? params.additionalProperty;
  if (extra === undefined) return base === '' ? '(top level)' : base;
  return base === '' ? extra : `${base}.${extra}`;
}

function fieldDescription(schema: SchemaNode, field: string): string | undefined {
  let node: SchemaNode | undefined = schema;
  for (const key of field.split('.')) node = node?.properties?.[key] ?? node?.items;
  return node?.description;
}
