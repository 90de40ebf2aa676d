/**
 * `jsonPredicateHints` (PROTOCOL.md, "JSON predicates for Filtering") applied to partition values,
 * so a query for one day does not list every day's files. Best effort, as the protocol allows: a
 * file is left out only when the predicate is certainly false for its partition; anything this
 * cannot decide (a data column, a value that does not cast, a null compared) keeps the file, and a
 * predicate that does not parse, or is too large, filters nothing. Clients filter the rows again.
 */

type Truth = 'true' | 'false' | 'unknown';

interface Node {
  op?: unknown;
  children?: unknown;
  name?: unknown;
  value?: unknown;
  valueType?: unknown;
}

/** Nodes and depth a predicate may have before it is ignored: it is evaluated once per file. */
const MAX_NODES = 1000;
const MAX_DEPTH = 32;

/** A filter of partition values, or undefined when the hint is absent, malformed or too large. */
export function partitionFilter(hint: string | undefined, partitionColumns: readonly string[]): ((values: Record<string, string | null>) => boolean) | undefined {
  if (hint === undefined) return undefined;
  let tree: unknown;
  try {
    tree = JSON.parse(hint);
  } catch {
    return undefined;
  }
  if (!wellFormed(tree, 0, { nodes: 0 })) return undefined;
  const columns = new Map(partitionColumns.map((column) => [column.toLowerCase(), column]));
  return (values) => evaluate(tree as Node, values, columns) !== 'false';
}

function wellFormed(node: unknown, depth: number, count: { nodes: number }): boolean {
  count.nodes += 1;
  if (depth > MAX_DEPTH || count.nodes > MAX_NODES || typeof node !== 'object' || node === null) return false;
  const { op, children } = node as Node;
  if (typeof op !== 'string') return false;
  if (children === undefined) return true;
  return Array.isArray(children) && children.every((child) => wellFormed(child, depth + 1, count));
}

function evaluate(node: Node, values: Record<string, string | null>, columns: Map<string, string>): Truth {
  const children = Array.isArray(node.children) ? (node.children as Node[]) : [];
  switch (node.op) {
    case 'and': {
      const results = children.map((child) => evaluate(child, values, columns));
      return results.includes('false') ? 'false' : results.length > 0 && results.every((r) => r === 'true') ? 'true' : 'unknown';
    }
    case 'or': {
      const results = children.map((child) => evaluate(child, values, columns));
      return results.includes('true') ? 'true' : results.length > 0 && results.every((r) => r === 'false') ? 'false' : 'unknown';
    }
    case 'not': {
      if (children.length !== 1) return 'unknown';
      const result = evaluate(children[0] as Node, values, columns);
      return result === 'unknown' ? 'unknown' : result === 'true' ? 'false' : 'true';
    }
    case 'isNull': {
      const operand = children.length === 1 ? leaf(children[0] as Node, values, columns) : undefined;
      return operand === undefined ? 'unknown' : operand.raw === null ? 'true' : 'false';
    }
    case 'equal':
    case 'lessThan':
    case 'lessThanOrEqual':
    case 'greaterThan':
    case 'greaterThanOrEqual':
      return compare(node.op, children, values, columns);
    default:
      return 'unknown';
  }
}

/** A column (partition columns only) or literal, with its raw value (null for a null partition). */
function leaf(node: Node, values: Record<string, string | null>, columns: Map<string, string>): { raw: string | null; type: string } | undefined {
  if (typeof node.valueType !== 'string') return undefined;
  if (node.op === 'literal' && typeof node.value === 'string') return { raw: node.value, type: node.valueType };
  if (node.op === 'column' && typeof node.name === 'string') {
    const column = columns.get(node.name.toLowerCase());
    if (column === undefined) return undefined;
    const raw = values[column];
    // An empty string is a null partition value too (PROTOCOL.md, "Partition Value Serialization").
    return { raw: raw === undefined || raw === null || raw === '' ? null : raw, type: node.valueType };
  }
  return undefined;
}

function compare(op: string, children: Node[], values: Record<string, string | null>, columns: Map<string, string>): Truth {
  if (children.length !== 2) return 'unknown';
  const [left, right] = children.map((child) => leaf(child, values, columns));
  if (left === undefined || right === undefined || left.raw === null || right.raw === null) return 'unknown';
  const a = cast(left.raw, left.type);
  const b = cast(right.raw, right.type);
  if (a === undefined || b === undefined || typeof a !== typeof b) return 'unknown';
  const order = a < b ? -1 : a > b ? 1 : 0;
  const holds = { equal: order === 0, lessThan: order < 0, lessThanOrEqual: order <= 0, greaterThan: order > 0, greaterThanOrEqual: order >= 0 }[op];
  return holds === undefined ? 'unknown' : holds ? 'true' : 'false';
}

/** The value as something that compares right for its type, or undefined when it does not cast. */
function cast(raw: string, type: string): string | number | boolean | undefined {
  switch (type) {
    case 'string':
      return raw;
    case 'bool':
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
    case 'int':
    case 'long':
    case 'float':
    case 'double': {
      const number = Number(raw);
      return raw.trim() === '' || Number.isNaN(number) ? undefined : number;
    }
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(raw) ? raw : undefined;
    case 'timestamp': {
      // Partition values say `1970-01-01 00:00:00[.ffffff]` (UTC); literals use the ISO form with a zone.
      const iso = raw.includes('T') ? raw : `${raw.replace(' ', 'T')}Z`;
      const ms = Date.parse(iso);
      return Number.isNaN(ms) ? undefined : ms;
    }
    default:
      return undefined;
  }
}
