import assert from 'node:assert/strict';
import { test } from 'node:test';
import { everySiteFilter, parseSiteTopic, sharedFilter, siteTopic } from '../../../../shared/contract/topics.js';

test('site topics are built and parsed by one module', () => {
  assert.equal(siteTopic('osaka-1', 'readings'), 'echolake/v1/sites/osaka-1/readings');
  assert.deepEqual(parseSiteTopic('echolake/v1/sites/osaka-1/acks'), { siteId: 'osaka-1', channel: 'acks' });
  assert.equal(everySiteFilter('status'), 'echolake/v1/sites/+/status');
  assert.equal(sharedFilter('g', everySiteFilter('readings')), '$share/g/echolake/v1/sites/+/readings');
  assert.equal(sharedFilter('', 'x/y'), 'x/y');
  assert.equal(siteTopic('osaka-1', 'commands'), 'echolake/v1/sites/osaka-1/commands');
  assert.deepEqual(parseSiteTopic('echolake/v1/sites/osaka-1/command-results'), { siteId: 'osaka-1', channel: 'command-results' });
});

test('topics outside the contract, wildcards and unknown channels parse to nothing', () => {
  for (const topic of ['echolake/v1/sites/+/readings', 'echolake/v1/sites/#', 'echolake/v1/sites/a/b/readings', 'echolake/v1/sites/a/commands2', 'other/v1/sites/a/readings', 'echolake/v1/sites//readings']) {
    assert.equal(parseSiteTopic(topic), undefined, topic);
  }
});
