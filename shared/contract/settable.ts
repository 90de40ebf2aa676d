/**
 * What a command or the edge's local API may set, by the ECHONET Lite spec names (MRA shortName)
 * and in the reading contract's values: operationStatus true = on. Its own module, free of the
 * validator, so the edge's page can build its form from the same definition without bundling ajv.
 */
import type { FromSchema } from 'json-schema-to-ts';

export const settablePropertiesSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    operationStatus: { type: 'boolean' },
    operationMode: { enum: ['auto', 'cooling', 'heating', 'dehumidification', 'circulation', 'other'] },
    targetTemperature: { type: 'integer', minimum: 0, maximum: 50 },
    airFlowLevel: { oneOf: [{ type: 'integer', minimum: 1, maximum: 8 }, { const: 'auto' }] },
  },
} as const;
export type SettableProperties = FromSchema<typeof settablePropertiesSchema>;
export type SettableName = keyof SettableProperties;
/** The keys of `settablePropertiesSchema.properties` as a tuple, for enums in configuration schemas. */
export const SETTABLE_NAMES = ['operationStatus', 'operationMode', 'targetTemperature', 'airFlowLevel'] as const satisfies readonly SettableName[];
