import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactUrl, urlCredentials } from '../../../shared/redact.js';

test('a URL loses its user name and password, and nothing else', () => {
  assert.equal(redactUrl('mqtts://site-7:s3cr%40t@broker.example:8883'), 'mqtts://broker.example:8883');
  assert.equal(redactUrl('mqtt://:only-a-password@127.0.0.1:1883'), 'mqtt://127.0.0.1:1883');
  assert.equal(redactUrl('https://site-7:secret@cloud.example/ingest?x=1'), 'https://cloud.example/ingest?x=1');
  assert.equal(redactUrl('mqtts://broker.example:8883'), 'mqtts://broker.example:8883', 'a URL without userinfo is left as written');
});

test('what URL cannot parse still loses anything between // and @', () => {
  assert.equal(redactUrl('mqtt://user:pa ss@[bad'), 'mqtt://[bad');
  assert.equal(redactUrl('not a url'), 'not a url');
});

test("a URL's credentials, decoded", () => {
  assert.deepEqual(urlCredentials('mqtts://site-7:s3cr%40t@broker.example:8883'), { username: 'site-7', password: 's3cr@t' });
  assert.deepEqual(urlCredentials('mqtts://broker.example:8883'), { username: undefined, password: undefined });
});
