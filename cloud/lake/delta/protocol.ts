import { DeltaLogError, type MetaDataAction, type ProtocolAction } from './actions.js';

/**
 * Reader features whose tables this code can replay and read correctly. Anything else (deletion
 * vectors, v2 checkpoints, column mapping, …) changes what the log or the files mean.
 */
const READABLE_FEATURES = new Set(['timestampNtz', 'vacuumProtocolCheck']);

/**
 * Writer features an append-only writer honours: appendOnly (it only appends; OPTIMIZE is a
 * dataChange:false rewrite, allowed), invariants and checkConstraints when the table declares none,
 * changeDataFeed (appends need no CDC files), domainMetadata (kept through checkpoints),
 * vacuumProtocolCheck (vacuum checks the protocol first), timestampNtz (a type, not a rule).
 */
const WRITABLE_FEATURES = new Set([
  'appendOnly',
  'invariants',
  'checkConstraints',
  'changeDataFeed',
  'domainMetadata',
  'vacuumProtocolCheck',
  'timestampNtz',
]);

/** What a legacy (pre-features) writer version asks of a writer, as the features it implies. */
const LEGACY_WRITER_FEATURES: Record<number, string[]> = {
  2: ['appendOnly', 'invariants'],
  3: ['appendOnly', 'invariants', 'checkConstraints'],
  4: ['appendOnly', 'invariants', 'checkConstraints', 'changeDataFeed', 'generatedColumns'],
  5: ['appendOnly', 'invariants', 'checkConstraints', 'changeDataFeed', 'generatedColumns', 'columnMapping'],
  6: ['appendOnly', 'invariants', 'checkConstraints', 'changeDataFeed', 'generatedColumns', 'columnMapping', 'identityColumns'],
};

/**
 * A table this code refuses to read for what its protocol asks, not for damage: `needs` names it
 * (reader features, or a reader version) so a caller can tell its own users without the location.
 */
export class UnreadableTableError extends DeltaLogError {
  override name = 'UnreadableTableError';

  constructor(
    readonly needs: string,
    message: string,
  ) {
    super(message);
  }
}

/** Refuses a table whose log this code cannot read the way the protocol means it. */
export function assertReadable(protocol: ProtocolAction, location: string): void {
  const { minReaderVersion } = protocol;
  if (minReaderVersion === 1) return;
  if (minReaderVersion === 2) {
    throw new UnreadableTableError('reader version 2 (columnMapping)', `table at ${location} needs reader version 2 (columnMapping), which this lake does not support: point the lake at another root`);
  }
  if (minReaderVersion !== 3) {
    throw new UnreadableTableError(`reader version ${minReaderVersion}`, `table at ${location} needs reader version ${minReaderVersion}; this lake reads versions 1 and 3 (with features): point the lake at another root`);
  }
  const missing = (protocol.readerFeatures ?? []).filter((feature) => !READABLE_FEATURES.has(feature));
  if (missing.length > 0) {
    const features = missing.join(', ');
    throw new UnreadableTableError(`reader feature(s) ${features}`, `table at ${location} uses reader feature(s) ${features}, which this lake does not support: point the lake at another root`);
  }
}

/**
 * Refuses a table this writer would corrupt by appending: unsupported writer features by name, and
 * rules it cannot evaluate (invariants, CHECK constraints, generated or identity columns, column mapping).
 */
export function assertWritable(protocol: ProtocolAction, metaData: MetaDataAction, location: string): void {
  assertReadable(protocol, location);
  if (!metaData.schemaString.startsWith('{')) throw new DeltaLogError(`table at ${location} has no schema in its metaData: the log is damaged`);
  const { minWriterVersion } = protocol;
  let features: string[];
  if (minWriterVersion === 7) features = protocol.writerFeatures ?? [];
  else if (minWriterVersion >= 1 && minWriterVersion <= 6) features = LEGACY_WRITER_FEATURES[minWriterVersion] ?? [];
  else throw new DeltaLogError(`table at ${location} needs writer version ${minWriterVersion}; this lake writes versions 1 to 7: point the lake at another root`);
  const unsupported = features.filter((feature) => !WRITABLE_FEATURES.has(feature) && inUse(feature, metaData));
  if (unsupported.length > 0) {
    throw new DeltaLogError(`table at ${location} uses writer feature(s) ${unsupported.join(', ')}, which this lake cannot honour: point the lake at another root`);
  }
  const rules = rulesItCannotEvaluate(metaData);
  if (rules.length > 0) {
    throw new DeltaLogError(`table at ${location} has ${rules.join(', ')}, which this lake cannot evaluate; drop them or point the lake at another root`);
  }
}

/** Legacy writer versions imply features a table may not use: only those in use matter. */
function inUse(feature: string, metaData: MetaDataAction): boolean {
  if (feature === 'columnMapping') return (metaData.configuration['delta.columnMapping.mode'] ?? 'none') !== 'none';
  if (feature === 'generatedColumns') return metaData.schemaString.includes('delta.generationExpression');
  if (feature === 'identityColumns') return metaData.schemaString.includes('delta.identity.');
  return true;
}

function rulesItCannotEvaluate(metaData: MetaDataAction): string[] {
  const rules = Object.keys(metaData.configuration)
    .filter((key) => key.startsWith('delta.constraints.'))
    .map((key) => `CHECK constraint ${key.slice('delta.constraints.'.length)}`);
  if (metaData.schemaString.includes('delta.invariants')) rules.push('column invariants');
  if (metaData.schemaString.includes('delta.generationExpression')) rules.push('generated columns');
  if (metaData.schemaString.includes('delta.identity.')) rules.push('identity columns');
  if ((metaData.configuration['delta.columnMapping.mode'] ?? 'none') !== 'none') rules.push('column mapping');
  return rules;
}
