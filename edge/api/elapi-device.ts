/**
 * How a device looks in the ECHONET Lite Web API guideline's shape (API仕様部 v1.1.0): a device
 * type named as in the guideline, protocol and manufacturer objects, and properties keyed by the
 * machine-readable appendix's shortNames. We add what installers need on site: EOJ, address,
 * availability and when the device was last heard from.
 */
import type { PropertyValue } from '../../shared/reading.js';
import { AVAILABILITIES } from './availability.js';
import type { Availability, DeviceView, LatestValues } from './sources.js';

export interface ElapiProtocol {
  type: 'ECHONET_Lite';
  /** The appendix release the device follows (EPC 0x82), e.g. `Rel.R`, once we have read it. */
  version?: string;
}

export interface ElapiDeviceSummary {
  id: string;
  deviceType: string;
  eoj: string;
  protocol: ElapiProtocol;
  manufacturer: { code: string } | null;
  address: string;
  availability: Availability;
  lastSeenAt: string;
}

export interface ElapiDeviceDescription extends ElapiDeviceSummary {
  latest: LatestValues | null;
}


/** EPC 0x82 of a device object is `00 00 <release letter> <revision>`. */
function releaseOf(raw: Readonly<Record<string, string>> | undefined): string | undefined {
  const edt = raw?.['82'];
  if (edt === undefined || !/^[0-9a-f]{8}$/.test(edt)) return undefined;
  const letter = Number.parseInt(edt.slice(4, 6), 16);
  return letter >= 0x41 && letter <= 0x5a ? `Rel.${String.fromCharCode(letter)}` : undefined;
}

function protocolOf(device: DeviceView): ElapiProtocol {
  const version = releaseOf(device.latest?.raw);
  return version === undefined ? { type: 'ECHONET_Lite' } : { type: 'ECHONET_Lite', version };
}

export function summarise(device: DeviceView): ElapiDeviceSummary {
  return {
    id: device.id,
    deviceType: device.deviceType,
    eoj: device.eoj,
    protocol: protocolOf(device),
    manufacturer: device.manufacturer === null ? null : { code: `0x${device.manufacturer}` },
    address: device.address,
    availability: device.availability,
    lastSeenAt: device.lastSeenAt,
  };
}

export function describeDevice(device: DeviceView): ElapiDeviceDescription {
  return { ...summarise(device), latest: device.latest };
}

/** The device's latest decoded values by name; empty until its first values arrive. */
export function propertiesOf(device: DeviceView): Readonly<Record<string, PropertyValue>> {
  return device.latest?.properties ?? {};
}

const timestamp = { type: 'string', format: 'date-time' } as const;

export const propertyValueSchema = {
  type: ['string', 'number', 'boolean', 'null'],
  description: 'the decoded value in the appendix\'s unit; null where the device reported no valid value',
} as const;

export const propertyValuesSchema = {
  type: 'object',
  description: 'property name (appendix shortName) → latest value; absent where the device does not implement it',
  additionalProperties: propertyValueSchema,
} as const;

const summaryProperties = {
  id: { type: 'string' },
  deviceType: { type: 'string', description: 'guideline device type, e.g. homeAirConditioner; else the class code as 0xXXXX' },
  eoj: { type: 'string', pattern: '^[0-9a-f]{6}$', description: 'class group, class and instance, six hex digits' },
  protocol: {
    type: 'object',
    required: ['type'],
    additionalProperties: false,
    properties: {
      type: { type: 'string', enum: ['ECHONET_Lite'] },
      version: { type: 'string', description: 'appendix release from EPC 0x82, e.g. Rel.R' },
    },
  },
  manufacturer: {
    type: ['object', 'null'],
    description: 'maker code from EPC 0x8A; null until the device told us',
    required: ['code'],
    additionalProperties: false,
    properties: { code: { type: 'string', pattern: '^0x[0-9a-f]{6}$' } },
  },
  address: { type: 'string', description: 'the IP address the device answers at now' },
  availability: { type: 'string', enum: AVAILABILITIES },
  lastSeenAt: timestamp,
} as const;

const summaryRequired = ['id', 'deviceType', 'eoj', 'protocol', 'manufacturer', 'address', 'availability', 'lastSeenAt'] as const;

export const deviceSummarySchema = {
  type: 'object',
  required: summaryRequired,
  additionalProperties: false,
  properties: summaryProperties,
} as const;

export const deviceDescriptionSchema = {
  type: 'object',
  required: [...summaryRequired, 'latest'],
  additionalProperties: false,
  properties: {
    ...summaryProperties,
    latest: {
      type: ['object', 'null'],
      description: 'the latest values; null until the device\'s first values arrive',
      required: ['properties', 'raw', 'updatedAt'],
      additionalProperties: false,
      properties: {
        properties: propertyValuesSchema,
        raw: {
          type: 'object',
          description: 'EPC (two hex digits) → raw EDT in hex, exactly as the device sent it',
          additionalProperties: { type: 'string' },
        },
        updatedAt: timestamp,
      },
    },
  },
} as const;

const requestCount = { type: 'integer', minimum: 0 } as const;

/** A device as the status page lists it: the description plus the controller's request statistics. */
export const deviceOverviewSchema = {
  type: 'object',
  required: [...deviceDescriptionSchema.required, 'requests'],
  additionalProperties: false,
  properties: {
    ...deviceDescriptionSchema.properties,
    requests: {
      type: ['object', 'null'],
      description: 'Get requests since the gateway started; null for a device not polled (yet)',
      required: ['requests', 'answers', 'timeouts', 'retries', 'getSna', 'batchSize'],
      additionalProperties: false,
      properties: {
        requests: requestCount,
        answers: requestCount,
        timeouts: requestCount,
        retries: requestCount,
        getSna: { ...requestCount, description: 'answers refusing some properties (Get_SNA)' },
        batchSize: { ...requestCount, description: 'properties asked per Get now' },
      },
    },
  },
} as const;
