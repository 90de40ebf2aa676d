import { readFileSync } from 'node:fs';

/**
 * The project's version from its package.json, found by walking up from this file: the same
 * code runs from the TypeScript sources and from dist/, which sit at different depths.
 */
export function projectVersion(): string {
  for (let depth = 1; depth <= 4; depth += 1) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(`${'../'.repeat(depth)}package.json`, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'echolake' && manifest.version !== undefined) return manifest.version;
    } catch {
      // not at this depth; look one folder higher
    }
  }
  return 'unknown';
}
