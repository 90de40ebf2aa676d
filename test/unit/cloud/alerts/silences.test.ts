import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SILENCE_MS, newSilence, Silences, type Silence, type SilenceRequest } from '../../../../cloud/alerts/silences.js';

const NOW = Date.UTC(2026, 0, 1);
const alert = { rule: 'aircon-fault', siteId: 'osaka', deviceId: 'dev-1' };

function silence(matchers: Pick<SilenceRequest, 'rule' | 'siteId' | 'deviceId'>): Silence {
  const made = newSilence({ until: new Date(NOW + 3_600_000).toISOString(), comment: 'maintenance', ...matchers } as SilenceRequest, 'ops', NOW);
  assert.ok(!('problem' in made));
  return made;
}

test('a silence matches when every field it gives matches', () => {
  const silences = new Silences();
  const bySite = silence({ siteId: 'osaka' });
  silences.apply(bySite.id, bySite, NOW);
  assert.equal(silences.matching(alert, NOW)?.id, bySite.id);
  assert.equal(silences.matching({ ...alert, siteId: 'kobe' }, NOW), undefined);
  const byRuleAndDevice = silence({ rule: 'aircon-fault', deviceId: 'dev-2' });
  silences.apply(byRuleAndDevice.id, byRuleAndDevice, NOW);
  assert.equal(silences.matching({ ...alert, siteId: 'kobe', deviceId: 'dev-2' }, NOW)?.id, byRuleAndDevice.id);
  assert.equal(silences.matching({ rule: 'room-too-hot', siteId: 'kobe', deviceId: 'dev-2' }, NOW), undefined);
});

test('a silence ends at its time, or when removed', () => {
  const silences = new Silences();
  const s = silence({ siteId: 'osaka' });
  silences.apply(s.id, s, NOW);
  assert.equal(silences.matching(alert, NOW + 3_600_000), undefined, 'over at until');
  assert.deepEqual(silences.active(NOW), [], 'and forgotten');
  silences.apply(s.id, s, NOW);
  silences.apply(s.id, null, NOW);
  assert.equal(silences.matching(alert, NOW), undefined);
});

test('a silence must end in the future, within 90 days', () => {
  const past = newSilence({ siteId: 'osaka', until: new Date(NOW - 1).toISOString(), comment: 'x' }, 'ops', NOW);
  assert.match('problem' in past ? past.problem : '', /not in the future/);
  const far = newSilence({ siteId: 'osaka', until: new Date(NOW + MAX_SILENCE_MS + 1).toISOString(), comment: 'x' }, 'ops', NOW);
  assert.match('problem' in far ? far.problem : '', /more than 90 days/);
  const made = silence({ siteId: 'osaka' });
  assert.equal(made.createdBy, 'ops');
  assert.equal(made.createdAt, new Date(NOW).toISOString());
});
