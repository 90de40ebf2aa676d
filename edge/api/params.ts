/** Path parameters several routes share, validated before any handler sees them. */

/** Device ids are the reading contract's deviceIds: the node's 0x83 (or address) and the EOJ. */
const DEVICE_ID_PATTERN = '^[0-9A-Za-z._-]{1,128}$';

/** Property names are the appendix's shortNames, e.g. `operationStatus`. */
const PROPERTY_NAME_PATTERN = '^[A-Za-z][0-9A-Za-z]{0,63}$';

const deviceId = { type: 'string', pattern: DEVICE_ID_PATTERN, description: 'the device\'s id, as in /elapi/v1/devices' } as const;
const propertyName = { type: 'string', pattern: PROPERTY_NAME_PATTERN, description: 'a property name such as roomTemperature' } as const;

export const deviceParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: deviceId },
} as const;

export const devicePropertyParams = {
  type: 'object',
  required: ['id', 'name'],
  additionalProperties: false,
  properties: { id: deviceId, name: propertyName },
} as const;

export interface DeviceParams {
  id: string;
}

export interface DevicePropertyParams extends DeviceParams {
  name: string;
}
