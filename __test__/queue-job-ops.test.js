'use strict';
// Queue's per-job operations by id (getJobState, getJobLogs, addJobLog, updateJobProgress)
// against a real Redis, each checked against BullMQ's own Queue on the same queue.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Queue: BullQueue, QueueEvents: BullQueueEvents } = require('bullmq');
const { Queue, ValidationError } = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, cleanup, waitFor } = require('./helpers');

test('getJobState, getJobLogs, addJobLog and updateJobProgress by job id agree with BullMQ', { timeout: 20000 }, async (t) => {
  const prefix = uniquePrefix('jqt-qjob');
  const connection = { url: REDIS_URL };
  const bullConnection = { url: RAW_REDIS_URL }; // BullMQ's (on a cluster: the node of the test's keys)
  const ours = new Queue('ops', { connection, prefix });
  const bull = new BullQueue('ops', { connection: bullConnection, prefix });
  const events = new BullQueueEvents('ops', { connection: bullConnection, prefix });
  t.after(async () => {
    await Promise.all([ours.close(), bull.close(), events.close()]);
    await cleanup(REDIS_URL, prefix);
  });
  await events.waitUntilReady();
  const job = await ours.add('j', { n: 1 });
  const later = await ours.add('d', { n: 2 }, { delay: 60_000 });
  assert.equal(await ours.getJobState(job.id), await bull.getJobState(job.id));
  assert.equal(await ours.getJobState(later.id), 'delayed');
  assert.equal(await ours.getJobState('missing'), 'unknown');

  assert.equal(await ours.addJobLog(job.id, 'one'), 1);
  assert.equal(await ours.addJobLog(job.id, 'two'), 2);
  assert.equal(await bull.addJobLog(job.id, 'three'), 3);
  assert.deepEqual(await ours.getJobLogs(job.id), await bull.getJobLogs(job.id));
  assert.deepEqual(await ours.getJobLogs(job.id, 0, 0), { logs: ['one'], count: 3 });
  assert.deepEqual(await ours.getJobLogs(job.id, 0, -1, false), await bull.getJobLogs(job.id, 0, -1, false));
  assert.equal(await ours.addJobLog(job.id, 'four', 2), 2, 'keepLogs trims to the newest rows');
  assert.deepEqual((await ours.getJobLogs(job.id)).logs, ['three', 'four']);

  const progress = [];
  events.on('progress', ({ jobId, data }) => progress.push([jobId, data]));
  await ours.updateJobProgress(job.id, { done: 50 });
  assert.deepEqual((await bull.getJob(job.id)).progress, { done: 50 });
  await waitFor(() => progress.length === 1, { message: "BullMQ's QueueEvents hears the progress" });
  assert.deepEqual(progress[0], [job.id, { done: 50 }]);

  await assert.rejects(ours.updateJobProgress(job.id, undefined), ValidationError);
  await assert.rejects(ours.addJobLog(job.id, null), ValidationError);
  await assert.rejects(ours.getJobLogs(job.id, 'x'), ValidationError);
  assert.equal((await ours.getJobLogs(job.id)).count, 2, 'refused calls wrote nothing');
});
