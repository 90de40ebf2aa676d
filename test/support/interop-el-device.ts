/**
 * A home air conditioner (0x013001) made with the `echonet-lite` package, for interoperability
 * tests: our controller must find and read it. Runs inside a test's network namespace only.
 *
 *   node --import tsx test/support/interop-el-device.ts --interface 10.213.7.11 --config '<json>'
 *
 * Config: { "nodeId": "fe…" (17 bytes hex, node profile and object 0x83),
 *           "properties": { "80": "30", "b3": "17", … } (EDT hex by EPC),
 *           "maps": { "9d": [0x80, …], "9e": […], "9f": […] } (EPC lists; encoded here) }
 *
 * Prints JSON lines: { type: "ready", nodeId, properties } once listening (properties as the device
 * answers them, maps encoded); { type: "request", from, esv, deoj, details } for each request to the
 * air conditioner; { type: "state", properties } after each Set; { type: "library-error", … } when the
 * package's parser threw. SIGTERM / SIGINT: releases the sockets, prints { type: "stopped" }, exits 0.
 */
import { parseArgs } from 'node:util';
import { type ElDeviceDetails, type ElFrame, type ElRemote, bytesToHex, encodeMap, hexToBytes, listening, loadEchonetLite, print } from './interop-echonet-lite.js';

const AIRCON = '013001';

interface DeviceConfig {
  readonly nodeId: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly maps: Readonly<Record<'9d' | '9e' | '9f', readonly number[]>>;
}

function parseConfig(json: string | undefined): DeviceConfig {
  if (json === undefined) throw new Error('--config is required');
  const config = JSON.parse(json) as DeviceConfig;
  if (!/^fe[0-9a-f]{32}$/.test(config.nodeId)) throw new Error(`nodeId must be 17 bytes hex starting fe, got ${config.nodeId}`);
  return config;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { interface: { type: 'string' }, config: { type: 'string' } }, strict: true });
  const address = values.interface;
  if (address === undefined) throw new Error('--interface is required (the namespace address)');
  const config = parseConfig(values.config);
  const EL = loadEchonetLite();

  const aircon: Record<string, number[]> = {};
  for (const [epc, edt] of Object.entries(config.properties)) aircon[epc.toLowerCase()] = hexToBytes(edt);
  for (const [epc, list] of Object.entries(config.maps)) {
    const encoded = encodeMap(list);
    // Cross-check our encoding of the bitmap form with the package's own decoder.
    if (encoded.length === 17) {
      const decoded = EL.parseMapForm2(encoded).slice(1);
      const wanted = [...new Set(list)].sort((a, b) => a - b);
      if (decoded.join() !== wanted.join()) throw new Error(`map ${epc}: package decodes ${decoded.join()} from our bitmap, wanted ${wanted.join()}`);
    }
    aircon[epc] = encoded;
  }
  aircon['83'] = hexToBytes(config.nodeId);
  const details: ElDeviceDetails = { [AIRCON]: aircon };

  const socket = await EL.initialize(
    [AIRCON],
    (rinfo: ElRemote, els: ElFrame | undefined, error?: unknown) => {
      if (error !== undefined || els === undefined) {
        print({ type: 'library-error', from: rinfo.address, message: String(error) });
        return;
      }
      if (els.DEOJ.startsWith('0ef0')) return; // the package answers for its node profile itself
      if (![EL.GET, EL.SETC, EL.SETI].includes(els.ESV)) return;
      print({ type: 'request', from: rinfo.address, port: rinfo.port, tid: els.TID, esv: els.ESV, seoj: els.SEOJ, deoj: els.DEOJ, details: els.DETAILs });
      if (els.ESV === EL.GET) {
        void EL.replyGetDetail(rinfo, els, details);
      } else {
        void EL.replySetDetail(rinfo, els, details).then(() => print({ type: 'state', properties: hexProperties(aircon) }));
      }
    },
    4,
    { v4: address, v6: '', ignoreMe: true, autoGetProperties: false, autoGetDelay: 100, debugMode: false },
  );
  // initialize() derived the node's 0x83 from a MAC address; the test decides it instead.
  EL.Node_details['83'] = hexToBytes(config.nodeId);
  await listening(socket);

  const shutdown = (signal: string): void => {
    EL.release();
    print({ type: 'stopped', signal });
    process.exit(0);
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  print({ type: 'ready', address, pid: process.pid, nodeId: bytesToHex(EL.Node_details['83'] ?? []), properties: hexProperties(aircon) });
}

function hexProperties(properties: Readonly<Record<string, number[]>>): Record<string, string> {
  return Object.fromEntries(Object.entries(properties).map(([epc, edt]) => [epc, bytesToHex(edt)]));
}

main().catch((error: unknown) => {
  process.stderr.write(`interop-el-device: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
