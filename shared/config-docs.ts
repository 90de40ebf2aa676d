/**
 * The settings table of a deployable, written from its configuration schema: path, default and
 * description of every leaf setting. The README carries it between markers and a test keeps the
 * two equal, so the documentation cannot drift from what the program validates.
 */

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  default?: unknown;
  description?: string;
  enum?: readonly unknown[];
}

export function settingsTable(schema: SchemaNode, envPrefix: string): string {
  const rows = leaves(schema, []).map(({ path, node }) => {
    const env = `${envPrefix}${path.map((key) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__')}`;
    return `| \`${path.join('.')}\` | ${formatDefault(node)} | \`${env}\` | ${escapeCell(node.description ?? '')} |`;
  });
  return ['| setting | default | environment | |', '|---|---|---|---|', ...rows].join('\n');
}

function leaves(node: SchemaNode, path: string[]): Array<{ path: string[]; node: SchemaNode }> {
  const children = node.properties;
  // Objects with properties are sections; objects without (maps, lists of objects) are settings themselves.
  if (children === undefined || Object.keys(children).length === 0) return path.length === 0 ? [] : [{ path, node }];
  return Object.entries(children).flatMap(([key, child]) => leaves(child, [...path, key]));
}

function formatDefault(node: SchemaNode): string {
  if (node.default === undefined) return '—';
  const text = JSON.stringify(node.default);
  return text === '""' ? '(empty)' : `\`${text}\``;
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

const START = (name: string) => `<!-- settings:${name} -->`;
const END = (name: string) => `<!-- /settings:${name} -->`;

/** The README with the named table replaced (it must have the markers already). */
export function withSettingsTable(readme: string, name: string, table: string): string {
  const start = readme.indexOf(START(name));
  const end = readme.indexOf(END(name));
  if (start < 0 || end < start) throw new Error(`README.md has no ${START(name)} … ${END(name)} block`);
  return `${readme.slice(0, start)}${START(name)}\n${table}\n${readme.slice(end)}`;
}
