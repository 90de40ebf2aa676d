import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storeMaintenance } from '../../../../edge/buffer/maintenance.js';
import { silentLogger } from '../../../../shared/log.js';
import { sleep } from '../../../support/wait.js';

test('housekeeping runs step after step while a step reports more, then waits for its interval', async () => {
  const reports = [true, true, false];
  const ran: number[] = [];
  const maintenance = storeMaintenance(
    {
      maintain: () => {
        ran.push(Date.now());
        return { pruned: 1, more: reports.shift() ?? false };
      },
    },
    300,
    silentLogger(),
  );
  await maintenance.start();
  await sleep(450);
  await maintenance.stop();
  assert.equal(ran.length, 3, 'one step at the interval, two more soon after it, none until the next interval');
  assert.ok((ran[2] ?? 0) - (ran[0] ?? 0) < 250, 'the follow-up steps do not wait a whole interval');
  await sleep(400);
  assert.equal(ran.length, 3, 'nothing runs after stop');
});

test('a failing step is logged and housekeeping carries on at its interval', async () => {
  let calls = 0;
  const maintenance = storeMaintenance(
    {
      maintain: () => {
        calls += 1;
        throw new Error('disk I/O error');
      },
    },
    50,
    silentLogger(),
  );
  await maintenance.start();
  await sleep(280);
  await maintenance.stop();
  assert.ok(calls >= 3, `kept trying after failures (${calls} calls)`);
});
