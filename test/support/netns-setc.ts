/**
 * Another controller on the LAN changes a setting: one ECHONET Lite SetC (0x61), built byte by byte
 * here (independently of our codec), sent from this namespace to a device, and its answer printed:
 *
 *   { "type": "answer", "from": …, "tid": …, "esv": "71", "properties": [{ "epc": "b3", "edt": "" }] }
 *
 * Exits 0 after an answer, 1 when none came (three tries). Replies arrive on port 3610, as devices
 * answer there and not to the request's source port.
 *
 *   node --import tsx test/support/netns-setc.ts --interface 10.213.7.20 --to 10.213.7.11
 *        --eoj 013001 --epc b3 --edt 12 [--port 3610]
 */
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';

const CONTROLLER_EOJ = [0x05, 0xff, 0x01];
const SETC = 0x61;
const TRIES = 3;
const TRY_TIMEOUT_MS = 700;

function hexBytes(hex: string, what: string, length?: number): number[] {
  if (!/^([0-9a-f]{2})+$/i.test(hex) || (length !== undefined && hex.length !== 2 * length)) throw new Error(`--${what} must be ${length ?? 'some'} bytes of hex, got ${hex}`);
  return (hex.match(/../g) ?? []).map((byte) => parseInt(byte, 16));
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function parseAnswer(message: Buffer): { tid: number; esv: number; properties: Array<{ epc: string; edt: string }> } | undefined {
  if (message.length < 12 || message[0] !== 0x10 || message[1] !== 0x81) return undefined;
  const opc = message[11] ?? 0;
  const properties: Array<{ epc: string; edt: string }> = [];
  let at = 12;
  for (let i = 0; i < opc; i++) {
    const epc = message[at];
    const pdc = message[at + 1];
    if (epc === undefined || pdc === undefined || at + 2 + pdc > message.length) return undefined;
    properties.push({ epc: epc.toString(16).padStart(2, '0'), edt: message.subarray(at + 2, at + 2 + pdc).toString('hex') });
    at += 2 + pdc;
  }
  return { tid: message.readUInt16BE(2), esv: message[10] ?? 0, properties };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      interface: { type: 'string' },
      to: { type: 'string' },
      eoj: { type: 'string' },
      epc: { type: 'string' },
      edt: { type: 'string' },
      port: { type: 'string' },
    },
    strict: true,
  });
  const { interface: address, to } = values;
  if (address === undefined || to === undefined) throw new Error('--interface and --to are required');
  const eoj = hexBytes(values.eoj ?? '013001', 'eoj', 3);
  const [epc] = hexBytes(values.epc ?? '', 'epc', 1);
  const edt = hexBytes(values.edt ?? '', 'edt');
  const port = Number(values.port ?? 3610);
  const tid = Math.floor(Math.random() * 0x10000);
  const frame = Buffer.from([0x10, 0x81, tid >> 8, tid & 0xff, ...CONTROLLER_EOJ, ...eoj, SETC, 1, epc as number, edt.length, ...edt]);

  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve());
  });
  const answered = new Promise<boolean>((resolve) => {
    socket.on('message', (message, remote) => {
      const answer = parseAnswer(message);
      if (answer === undefined || answer.tid !== tid || remote.address !== to) return;
      print({ type: 'answer', from: remote.address, tid, esv: answer.esv.toString(16), properties: answer.properties });
      resolve(true);
    });
  });
  let ok = false;
  for (let attempt = 0; attempt < TRIES && !ok; attempt++) {
    socket.send(frame, port, to);
    ok = await Promise.race([answered, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), TRY_TIMEOUT_MS))]);
  }
  socket.close();
  if (!ok) {
    print({ type: 'timeout', to, tid });
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`netns-setc: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
