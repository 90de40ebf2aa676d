/**
 * ECHONET Lite frame codec, specified message format (EHD1 0x10, EHD2 0x81):
 *
 *   EHD1 | EHD2 | TID(2) | SEOJ(3) | DEOJ(3) | ESV | OPC | OPC × { EPC | PDC | EDT(PDC) }
 *
 * SetGet-family ESVs carry two lists: OPCSet and its properties, then OPCGet and its properties.
 * Decoding never throws and never allocates more than the input: every count is checked against the
 * bytes actually present, and EDTs are views into the input buffer (no copies).
 */
import { type Eoj, isValidEoj } from './eoj.js';
import { type SetGetEsv, type SingleListEsv, esvName, isEsv, isSetGetEsv } from './esv.js';
import { type Result, fail, succeed } from './result.js';

export const EHD1_ECHONET_LITE = 0x10;
export const EHD2_SPECIFIED_FORMAT = 0x81;
/** EHD1..OPC of a single-list frame. */
export const HEADER_LENGTH = 12;
const MAX_BYTE = 0xff;

export interface Property {
  readonly epc: number;
  /** Empty in Get requests and for every EPC a device refused (PDC 0). */
  readonly edt: Uint8Array;
}

interface FrameHeader {
  readonly tid: number;
  readonly seoj: Eoj;
  readonly deoj: Eoj;
}

export interface SingleListFrame extends FrameHeader {
  readonly esv: SingleListEsv;
  readonly properties: readonly Property[];
}

export interface SetGetFrame extends FrameHeader {
  readonly esv: SetGetEsv;
  readonly setProperties: readonly Property[];
  readonly getProperties: readonly Property[];
}

/** The ESV decides which shape a frame has, so a SetGet without its second list cannot be written down. */
export type Frame = SingleListFrame | SetGetFrame;

export type FrameErrorCode =
  | 'TOO_SHORT'
  | 'BAD_EHD1'
  | 'UNSUPPORTED_EHD2'
  | 'UNKNOWN_ESV'
  | 'NO_PROPERTIES'
  | 'TRUNCATED'
  | 'EDT_OVERRUN'
  | 'TRAILING_BYTES';

export const FRAME_ERROR_CODES: readonly FrameErrorCode[] = [
  'TOO_SHORT',
  'BAD_EHD1',
  'UNSUPPORTED_EHD2',
  'UNKNOWN_ESV',
  'NO_PROPERTIES',
  'TRUNCATED',
  'EDT_OVERRUN',
  'TRAILING_BYTES',
];

export type FrameDecodeResult = Result<Frame, FrameErrorCode>;

/** Thrown by `encodeFrame` for frames our own code built wrong; decoding never throws. */
export class FrameEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameEncodeError';
  }
}

export function isSetGetFrame(frame: Frame): frame is SetGetFrame {
  return isSetGetEsv(frame.esv);
}

/** Every property a frame carries, in wire order (SetGet: set list, then get list). */
export function allProperties(frame: Frame): readonly Property[] {
  return isSetGetFrame(frame) ? [...frame.setProperties, ...frame.getProperties] : frame.properties;
}

// ---------------------------------------------------------------------------------------------
// Decoding

interface ListRead {
  readonly properties: Property[];
  readonly next: number;
}

function readEoj(bytes: Uint8Array, at: number): Eoj {
  // Callers have checked that at+2 is inside the buffer.
  return { classGroup: bytes[at] as number, classCode: bytes[at + 1] as number, instance: bytes[at + 2] as number };
}

/** Reads `count` properties starting at `at`; every length is checked before it is used. */
function readPropertyList(bytes: Uint8Array, at: number, count: number): Result<ListRead, FrameErrorCode> {
  const properties: Property[] = [];
  let offset = at;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > bytes.length) {
      return fail('TRUNCATED', `OPC ${count} promises property ${i + 1}, but the frame ends at byte ${offset}`);
    }
    const epc = bytes[offset] as number;
    const pdc = bytes[offset + 1] as number;
    const edtStart = offset + 2;
    if (edtStart + pdc > bytes.length) {
      return fail('EDT_OVERRUN', `EPC 0x${epc.toString(16)} PDC ${pdc} runs past the end of the frame`);
    }
    properties.push({ epc, edt: bytes.subarray(edtStart, edtStart + pdc) });
    offset = edtStart + pdc;
  }
  return succeed({ properties, next: offset });
}

function checkNoTrailingBytes(bytes: Uint8Array, end: number): Result<null, FrameErrorCode> {
  return end === bytes.length ? succeed(null) : fail('TRAILING_BYTES', `${bytes.length - end} bytes after the last property`);
}

function decodeSetGetBody(bytes: Uint8Array, header: FrameHeader, esv: SetGetEsv): FrameDecodeResult {
  const setCount = bytes[11] as number;
  const setList = readPropertyList(bytes, HEADER_LENGTH, setCount);
  if (!setList.ok) return setList;
  const opcGetAt = setList.value.next;
  if (opcGetAt >= bytes.length) return fail('TRUNCATED', 'SetGet frame ends before OPCGet');
  const getCount = bytes[opcGetAt] as number;
  if (setCount === 0 && getCount === 0) return fail('NO_PROPERTIES', `${esvName(esv)} with OPCSet 0 and OPCGet 0`);
  const getList = readPropertyList(bytes, opcGetAt + 1, getCount);
  if (!getList.ok) return getList;
  const end = checkNoTrailingBytes(bytes, getList.value.next);
  if (!end.ok) return end;
  return succeed({ ...header, esv, setProperties: setList.value.properties, getProperties: getList.value.properties });
}

function decodeSingleListBody(bytes: Uint8Array, header: FrameHeader, esv: SingleListEsv): FrameDecodeResult {
  const count = bytes[11] as number;
  // The specification allows OPC 1–255 for these services; an empty frame is a broken sender.
  if (count === 0) return fail('NO_PROPERTIES', `${esvName(esv)} with OPC 0`);
  const list = readPropertyList(bytes, HEADER_LENGTH, count);
  if (!list.ok) return list;
  const end = checkNoTrailingBytes(bytes, list.value.next);
  if (!end.ok) return end;
  return succeed({ ...header, esv, properties: list.value.properties });
}

export function decodeFrame(bytes: Uint8Array): FrameDecodeResult {
  if (bytes.length < HEADER_LENGTH) return fail('TOO_SHORT', `${bytes.length} bytes, a frame needs at least ${HEADER_LENGTH}`);
  if (bytes[0] !== EHD1_ECHONET_LITE) return fail('BAD_EHD1', `EHD1 0x${(bytes[0] as number).toString(16)} is not ECHONET Lite`);
  if (bytes[1] !== EHD2_SPECIFIED_FORMAT) {
    return fail('UNSUPPORTED_EHD2', `EHD2 0x${(bytes[1] as number).toString(16)}: only the specified message format is supported`);
  }
  const esvByte = bytes[10] as number;
  if (!isEsv(esvByte)) return fail('UNKNOWN_ESV', `ESV 0x${esvByte.toString(16)}`);
  const header: FrameHeader = {
    tid: ((bytes[2] as number) << 8) | (bytes[3] as number),
    seoj: readEoj(bytes, 4),
    deoj: readEoj(bytes, 7),
  };
  return isSetGetEsv(esvByte) ? decodeSetGetBody(bytes, header, esvByte) : decodeSingleListBody(bytes, header, esvByte);
}

// ---------------------------------------------------------------------------------------------
// Encoding

function checkList(properties: readonly Property[], what: string): number {
  if (properties.length > MAX_BYTE) throw new FrameEncodeError(`${what}: ${properties.length} properties, at most 255 fit`);
  let bytes = 0;
  for (const { epc, edt } of properties) {
    if (!Number.isInteger(epc) || epc < 0 || epc > MAX_BYTE) throw new FrameEncodeError(`${what}: EPC ${epc} is not a byte`);
    if (edt.length > MAX_BYTE) throw new FrameEncodeError(`${what}: EPC 0x${epc.toString(16)} EDT of ${edt.length} bytes`);
    bytes += 2 + edt.length;
  }
  return bytes;
}

function writeList(out: Buffer, at: number, properties: readonly Property[]): number {
  let offset = at;
  out[offset++] = properties.length;
  for (const { epc, edt } of properties) {
    out[offset++] = epc;
    out[offset++] = edt.length;
    out.set(edt, offset);
    offset += edt.length;
  }
  return offset;
}

function checkHeader(frame: Frame): void {
  if (!Number.isInteger(frame.tid) || frame.tid < 0 || frame.tid > 0xffff) throw new FrameEncodeError(`TID ${frame.tid} is not 16-bit`);
  if (!isValidEoj(frame.seoj) || !isValidEoj(frame.deoj)) throw new FrameEncodeError('SEOJ/DEOJ parts must be bytes');
  if (!isEsv(frame.esv)) throw new FrameEncodeError(`ESV ${String(frame.esv)} is unknown`);
}

export function encodeFrame(frame: Frame): Buffer {
  checkHeader(frame);
  const lists = isSetGetFrame(frame) ? [frame.setProperties, frame.getProperties] : [frame.properties];
  if (lists.every((list) => list.length === 0)) throw new FrameEncodeError(`${esvName(frame.esv)} without properties`);
  const bodyLength = lists.reduce((sum, list, i) => sum + 1 + checkList(list, `list ${i + 1}`), 0);
  const out = Buffer.allocUnsafe(HEADER_LENGTH - 1 + bodyLength);
  out[0] = EHD1_ECHONET_LITE;
  out[1] = EHD2_SPECIFIED_FORMAT;
  out.writeUInt16BE(frame.tid, 2);
  out.set([frame.seoj.classGroup, frame.seoj.classCode, frame.seoj.instance], 4);
  out.set([frame.deoj.classGroup, frame.deoj.classCode, frame.deoj.instance], 7);
  out[10] = frame.esv;
  let offset = HEADER_LENGTH - 1;
  for (const list of lists) offset = writeList(out, offset, list);
  return out;
}

/**
 * The frame with its EDTs copied out of the bytes it was decoded from (decoded EDTs are views into
 * them): a frame kept after its datagram then holds only its own property bytes.
 */
export function detachedFrame(frame: Frame): Frame {
  const copy = (list: readonly Property[]): Property[] => list.map(({ epc, edt }) => ({ epc, edt: Uint8Array.from(edt) }));
  return isSetGetFrame(frame)
    ? { ...frame, setProperties: copy(frame.setProperties), getProperties: copy(frame.getProperties) }
    : { ...frame, properties: copy(frame.properties) };
}

/** A property list for a Get or INF_REQ: EPCs with empty EDTs. */
export function requestedEpcs(epcs: readonly number[]): Property[] {
  return epcs.map((epc) => ({ epc, edt: new Uint8Array(0) }));
}
