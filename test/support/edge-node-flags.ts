import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The Node flags the systemd unit starts the edge with (between `node` and the script), so that
 * benchmarks measure the edge as it is installed and tests can hold the container to the same.
 */
export function unitNodeFlags(): string[] {
  const execStart = /^ExecStart=(.*)$/m.exec(readFileSync(`${root}systemd/echolake-edge.service`, 'utf8'))?.[1];
  if (execStart === undefined) throw new Error('systemd/echolake-edge.service has no ExecStart line');
  return flagsBeforeScript(execStart.trim().split(/\s+/));
}

/** The Node flags of Dockerfile.edge's ENTRYPOINT (exec form). */
export function containerNodeFlags(): string[] {
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(`${root}Dockerfile.edge`, 'utf8'))?.[1];
  if (entrypoint === undefined) throw new Error('Dockerfile.edge has no exec-form ENTRYPOINT line');
  return flagsBeforeScript(JSON.parse(entrypoint) as string[]);
}

function flagsBeforeScript(words: string[]): string[] {
  const script = words.findIndex((word) => word.endsWith('dist/edge/main.js'));
  if (script < 1 || !/(^|\/)node$/.test(words[0] ?? '')) throw new Error(`expected "node [flags] …dist/edge/main.js", got: ${words.join(' ')}`);
  return words.slice(1, script);
}
