/**
 * The setting form's fields, read from the command contract's schema of what may be set (one
 * definition: shared/contract/settable.ts), so a property or value added there shows on the page.
 */
import { SETTABLE_NAMES, type SettableName, settablePropertiesSchema } from '../../shared/contract/settable.js';

export type SettableValue = boolean | number | string;

/** The parts of JSON Schema the settable properties use. */
interface SchemaPart {
  readonly type?: string;
  readonly enum?: readonly SettableValue[];
  readonly const?: SettableValue;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly oneOf?: readonly SchemaPart[];
}

/** A list to choose from, or a whole number between bounds. */
export type Field = { readonly kind: 'choice'; readonly options: readonly SettableValue[] } | { readonly kind: 'integer'; readonly min: number; readonly max: number };

/** An integer range this short is offered as a list (air flow 1–8); a longer one as a number field (0–50 °C). */
const MAX_LISTED = 12;

function optionsOf(part: SchemaPart): SettableValue[] | undefined {
  if (part.enum !== undefined) return [...part.enum];
  if (part.const !== undefined) return [part.const];
  if (part.type === 'boolean') return [true, false];
  const { minimum, maximum } = part;
  if (part.type === 'integer' && minimum !== undefined && maximum !== undefined && maximum - minimum < MAX_LISTED) {
    return Array.from({ length: maximum - minimum + 1 }, (_, i) => minimum + i);
  }
  if (part.oneOf === undefined) return undefined;
  const each = part.oneOf.map(optionsOf);
  return each.every((options) => options !== undefined) ? each.flat() : undefined;
}

function fieldOfPart(name: string, part: SchemaPart): Field {
  const options = optionsOf(part);
  if (options !== undefined) return { kind: 'choice', options };
  if (part.type === 'integer' && part.minimum !== undefined && part.maximum !== undefined) return { kind: 'integer', min: part.minimum, max: part.maximum };
  // Only a change to the contract gets here; the unit test of this module catches it before a page does.
  throw new Error(`the settable property ${name} has a schema the page cannot offer: give it enum, const, boolean or a bounded integer`);
}

/** Every settable property with its field, in the contract's order. */
export const SETTABLE_FIELDS: ReadonlyArray<{ readonly name: SettableName; readonly field: Field }> = SETTABLE_NAMES.map((name) => ({
  name,
  field: fieldOfPart(name, settablePropertiesSchema.properties[name]),
}));

/** Whether a device's current value is one the field offers, so the form can start from it. */
export function offers(field: Field, value: unknown): value is SettableValue {
  if (field.kind === 'choice') return field.options.includes(value as SettableValue);
  return typeof value === 'number' && Number.isInteger(value) && value >= field.min && value <= field.max;
}
