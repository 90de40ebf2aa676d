import type { ErrorObject } from 'ajv';

/** What a parser of untrusted bytes gives: the value, or one line naming what is wrong. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** JSON of untrusted bytes, or the parser's complaint. */
export function parseJson(payload: Buffer | string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(payload.toString()) as unknown };
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
}

/** The first schema error as one line naming the field (`/seq must be integer`). */
export function describeSchemaErrors(errors: ErrorObject[] | null | undefined, contract: string): string {
  const first = errors?.[0];
  if (first === undefined) return `does not match ${contract}`;
  const where = first.instancePath === '' ? '(top level)' : first.instancePath;
  return `${where} ${first.message ?? 'is invalid'}`;
}

/** JSON checked against a compiled schema: the typed value, or the first thing wrong with it. */
export function parseWithSchema<T>(
  payload: Buffer | string,
  validate: ((value: unknown) => value is T) & { errors?: ErrorObject[] | null },
  contract: string,
): Parsed<T> {
  const json = parseJson(payload);
  if (!json.ok) return json;
  if (!validate(json.value)) return { ok: false, error: describeSchemaErrors(validate.errors, contract) };
  return { ok: true, value: json.value };
}
