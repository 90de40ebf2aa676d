/**
 * Throws a million random and mutated frames at the decoders, short ones and long ones (up to an
 * Ethernet frame's payload and beyond). Nothing may throw, every error must carry a known code, and
 * every frame that decodes must re-encode to exactly its input bytes (so the decoder neither
 * invents nor loses anything). The valid frames the mutants come from are checked once, not counted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONTROLLER_EOJ, makeEoj } from '../../../../edge/echonet/eoj.js';
import { ESV, type Esv, isSetGetEsv } from '../../../../edge/echonet/esv.js';
import { type Frame, FRAME_ERROR_CODES, allProperties, decodeFrame, encodeFrame } from '../../../../edge/echonet/frame.js';
import { decodePropertyMap } from '../../../../edge/echonet/property-map.js';
import { codecFor } from '../../../../edge/echonet/properties.js';

/** xorshift32: deterministic, so a failure can be replayed from its iteration number. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const ESVS = Object.values(ESV) as Esv[];
const KNOWN_CODES = new Set<string>(FRAME_ERROR_CODES);

/** A valid frame: usually a few short properties, one in four long (up to 40 properties of up to 60 bytes). */
function validFrame(next: () => number): Buffer {
  const esv = ESVS[next() % ESVS.length] as Esv;
  const [maxProperties, maxEdt] = next() % 4 === 0 ? [40, 60] : [6, 6];
  const list = (max: number) =>
    Array.from({ length: next() % max }, () => ({ epc: 0x80 + (next() % 0x80), edt: Uint8Array.from({ length: next() % maxEdt }, () => next() & 0xff) }));
  const header = { tid: next() & 0xffff, seoj: makeEoj(1, 0x30, 1 + (next() % 3)), deoj: CONTROLLER_EOJ };
  const frame: Frame = isSetGetEsv(esv)
    ? { ...header, esv, setProperties: list(maxProperties), getProperties: [{ epc: 0xb3, edt: new Uint8Array(0) }, ...list(maxProperties)] }
    : { ...header, esv, properties: [{ epc: 0x80, edt: Uint8Array.of(0x30) }, ...list(maxProperties)] };
  return encodeFrame(frame);
}

/** A copy of `bytes` that differs from it. */
function mutate(bytes: Buffer, next: () => number): Buffer {
  const out = Buffer.from(bytes);
  switch (next() % 4) {
    case 0: {
      // flip one to four neighbouring bytes (counts, PDCs and EDTs alike)
      const at = next() % out.length;
      for (let i = next() % 4; i >= 0; i--) out[(at + i) % out.length] = (out[(at + i) % out.length] as number) ^ (1 + (next() % 0xff));
      return out;
    }
    case 1: // truncate
      return out.subarray(0, next() % out.length);
    case 2: // append junk
      return Buffer.concat([out, Buffer.from(Array.from({ length: 1 + (next() % 8) }, () => next() & 0xff))]);
    default: {
      // blow up an OPC or PDC
      const at = 11 + (next() % (out.length - 11));
      out[at] = out[at] === 0xff ? 0xfe : 0xff;
      return out;
    }
  }
}

/** Half of them short (under 40 bytes), most others up to 300, one in eight up to 1,500. */
function randomLength(next: () => number): number {
  const roll = next() % 8;
  return next() % (roll < 4 ? 40 : roll < 7 ? 300 : 1_500);
}

function randomBytes(next: () => number): Buffer {
  const out = Buffer.allocUnsafe(randomLength(next));
  for (let i = 0; i < out.length; i++) out[i] = next() & 0xff;
  // Most random frames would die at EHD1; give half of them a valid header so the body gets exercised.
  if (out.length >= 2 && next() % 2 === 0) {
    out[0] = 0x10;
    out[1] = 0x81;
  }
  return out;
}

function checkDecode(bytes: Buffer, iteration: number): 'ok' | 'error' {
  const result = decodeFrame(bytes);
  if (!result.ok) {
    if (!KNOWN_CODES.has(result.error.code)) assert.fail(`iteration ${iteration}: unknown error code ${result.error.code}`);
    return 'error';
  }
  const edtBytes = allProperties(result.value).reduce((sum, p) => sum + 2 + p.edt.length, 0);
  if (edtBytes > bytes.length) assert.fail(`iteration ${iteration}: properties larger than the frame`);
  const again = encodeFrame(result.value);
  if (!again.equals(bytes)) assert.fail(`iteration ${iteration}: ${bytes.toString('hex')} re-encodes as ${again.toString('hex')}`);
  return 'ok';
}

const FRAMES = 1_000_000;

test(`frame decoder survives ${FRAMES.toLocaleString('en')} random and mutated frames`, () => {
  const next = prng(0xec40);
  const seeds = Array.from({ length: 512 }, () => validFrame(next));
  seeds.forEach((seed, i) => assert.equal(checkDecode(seed, -i), 'ok', `seed ${i} decodes`));
  let ok = 0;
  let errors = 0;
  let longest = 0;
  const started = Date.now();
  for (let i = 0; i < FRAMES; i++) {
    const bytes = i % 2 === 0 ? randomBytes(next) : mutate(seeds[next() % seeds.length] as Buffer, next);
    longest = Math.max(longest, bytes.length);
    if (checkDecode(bytes, i) === 'ok') ok++;
    else errors++;
  }
  const elapsed = Date.now() - started;
  assert.ok(ok > 100_000, `expected mutants that only changed EDT bytes to decode, got ${ok}`);
  assert.ok(errors > 700_000, `expected most random frames and mutants to be rejected, got ${errors}`);
  assert.ok(longest > 1_400, `the longest frame had ${longest} bytes`);
  assert.ok(elapsed < 60_000, `fuzzing took ${elapsed} ms`);
});

test('property map and property codecs survive random EDTs', () => {
  const next = prng(0x9f);
  for (let i = 0; i < 200_000; i++) {
    const edt = Uint8Array.from({ length: next() % 20 }, () => next() & 0xff);
    const map = decodePropertyMap(edt);
    if (map.ok) assert.ok(map.value.every((epc) => epc >= 0x80 && epc <= 0xff));
    const epc = 0x80 + (next() % 0x80);
    const decoded = codecFor(makeEoj(1, 0x30, 1), epc)?.decode(edt);
    if (decoded?.kind === 'value' && typeof decoded.value === 'number') assert.ok(Number.isFinite(decoded.value));
  }
});
