import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);
const nodeMajor = Number(process.versions.node.split('.')[0]);

/**
 * better-sqlite3, in the major that works on this Node.js. 12.x wraps its objects in the raw
 * node::ObjectWrap, whose destructor aborts the process on Node >= 24.19 when a garbage collection
 * outside any context finalizes a statement ("Assertion failed: (env) != nullptr"); 13.x moved to
 * Node-API and fixes that, but needs Node >= 22 and segfaults on Node 20. Both are installed (13
 * under the alias better-sqlite3-napi, with prebuilt binaries); the API is the same.
 */
export const Database = require(nodeMajor >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3') as typeof BetterSqlite3;
export type Database = BetterSqlite3.Database;
