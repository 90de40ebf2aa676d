/**
 * A controller (0x05FF01) made with the `echonet-lite` package, for interoperability tests: it must
 * find and read our simulator. Runs inside a test's network namespace only.
 *
 *   node --import tsx test/support/interop-el-controller.ts --interface 10.213.7.12 [--search-interval-ms 2000]
 *
 * Searches at start and every interval (`EL.search()`: multicast Get of 0xD6, 0x83 and the maps),
 * lets the package fetch property maps and values on its own (autoGetProperties), and for every
 * air conditioner a node lists in 0xD6 sends its own Get of 0x80, 0xB0, 0xB3, 0xBB once.
 *
 * Prints JSON lines: { type: "ready" }; { type: "frame", from, port, tid, esv, seoj, deoj, details }
 * for everything it receives (details as the package parsed them); { type: "get-sent", to, eoj };
 * { type: "facilities", facilities } on `dump`; { type: "library-error", … } when its parser threw.
 *
 * Commands on stdin, one JSON object per line:
 *   { "cmd": "setc", "to": "10.213.7.11", "eoj": "013001", "epc": "b3", "edt": "12" }
 *   { "cmd": "get", "to": "10.213.7.11", "eoj": "013001", "epcs": ["b3"] }
 *   { "cmd": "dump" }
 */
import { parseArgs } from 'node:util';
import { type ElFrame, type ElRemote, listening, loadEchonetLite, onStdinCommands, print } from './interop-echonet-lite.js';

const CONTROLLER = '05ff01';
const READ_EPCS = ['80', 'b0', 'b3', 'bb'];

/** EOJs (6 hex digits) of a 0xD6/0xD5 instance list: count, then 3 bytes each. */
function instanceList(edt: string): string[] {
  const count = parseInt(edt.slice(0, 2), 16);
  const eojs = edt.slice(2).match(/.{6}/g) ?? [];
  return eojs.slice(0, count);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { interface: { type: 'string' }, 'search-interval-ms': { type: 'string' } }, strict: true });
  const address = values.interface;
  if (address === undefined) throw new Error('--interface is required (the namespace address)');
  const searchIntervalMs = Number(values['search-interval-ms'] ?? 2_000);
  const EL = loadEchonetLite();
  const read = new Set<string>();

  const socket = await EL.initialize(
    [CONTROLLER],
    (rinfo: ElRemote, els: ElFrame | undefined, error?: unknown) => {
      if (error !== undefined || els === undefined) {
        print({ type: 'library-error', from: rinfo.address, message: String(error) });
        return;
      }
      print({ type: 'frame', from: rinfo.address, port: rinfo.port, tid: els.TID, esv: els.ESV, seoj: els.SEOJ, deoj: els.DEOJ, details: els.DETAILs });
      const d6 = els.DETAILs.d6;
      if (!els.SEOJ.startsWith('0ef0') || d6 === undefined || d6 === '') return;
      for (const eoj of instanceList(d6).filter((e) => e.startsWith('0130'))) {
        const key = `${rinfo.address}/${eoj}`;
        if (read.has(key)) continue;
        read.add(key);
        void EL.sendDetails(rinfo.address, CONTROLLER, eoj, EL.GET, READ_EPCS.map((epc) => ({ [epc]: '' })));
        print({ type: 'get-sent', to: rinfo.address, eoj, epcs: READ_EPCS });
      }
    },
    4,
    // v4 pins the send sockets and the multicast interface to our namespace address.
    { v4: address, v6: '', ignoreMe: true, autoGetProperties: true, autoGetDelay: 100, debugMode: false },
  );
  await listening(socket);

  onStdinCommands((command) => {
    const to = typeof command.to === 'string' ? command.to : '';
    const eoj = typeof command.eoj === 'string' ? command.eoj : '013001';
    switch (command.cmd) {
      case 'setc':
        if (typeof command.epc !== 'string' || typeof command.edt !== 'string') throw new Error('setc needs epc and edt as hex strings');
        EL.sendOPC1(to, CONTROLLER, eoj, EL.SETC, command.epc, command.edt);
        print({ type: 'sent', cmd: 'setc', to, eoj, epc: command.epc, edt: command.edt });
        return;
      case 'get':
        if (!Array.isArray(command.epcs)) throw new Error('get needs epcs');
        void EL.sendDetails(to, CONTROLLER, eoj, EL.GET, command.epcs.map((epc) => ({ [String(epc)]: '' })));
        print({ type: 'sent', cmd: 'get', to, eoj, epcs: command.epcs });
        return;
      case 'dump':
        print({ type: 'facilities', facilities: EL.facilities });
        return;
      default:
        print({ type: 'error', message: `unknown command ${JSON.stringify(command)}` });
    }
  });

  const timer = setInterval(() => EL.search(), searchIntervalMs);
  const shutdown = (signal: string): void => {
    clearInterval(timer);
    EL.release();
    print({ type: 'stopped', signal });
    process.exit(0);
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  print({ type: 'ready', address, pid: process.pid });
  EL.search();
}

main().catch((error: unknown) => {
  process.stderr.write(`interop-el-controller: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
