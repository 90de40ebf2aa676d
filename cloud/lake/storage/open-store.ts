import { join } from 'node:path';
import { LocalObjectStore } from './local-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore, s3Client, type S3Settings } from './s3-store.js';

/**
 * The store of one table under the lake's root: `s3://bucket/prefix` is an S3 prefix (settings from
 * `lake.s3`), anything else a local folder. Other URL schemes are refused rather than taken for a
 * folder name.
 */
export function openTableStore(root: string, table: string, s3: S3Settings): ObjectStore {
  const url = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(root);
  if (url === null) return new LocalObjectStore(join(root, table));
  const [, scheme, rest] = url as unknown as [string, string, string];
  if (scheme.toLowerCase() !== 's3' && scheme.toLowerCase() !== 's3a') {
    throw new Error(`lake.root ${root}: the scheme ${scheme}:// is not supported; use a local folder or s3://bucket/prefix`);
  }
  const [bucket = '', ...prefix] = rest.split('/');
  if (bucket === '') throw new Error(`lake.root ${root} names no bucket; use s3://bucket/prefix`);
  const path = [...prefix.filter((part) => part !== ''), table].join('/');
  return new S3ObjectStore(s3Client(s3), bucket, path);
}
