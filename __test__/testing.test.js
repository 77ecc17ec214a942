'use strict';
// @shared-infra/job-queue/testing: the design's JobQueueTestUtils and its example test, run
// as the design writes it (a coordinator, a test queue, a mock processor, waitForJob), on a
// prefix of this file's own made by isolate() and removed by cleanup().

const test = require('node:test');
const assert = require('node:assert/strict');
const { JobQueueTestUtils } = require('@shared-infra/job-queue/testing');
const { JobQueueCoordinatorImpl, Queue } = require('..');
const { REDIS_URL } = require('./helpers');

test('the design example: a mock processor completes a job that waitForJob then reads', { timeout: 20000 }, async (t) => {
  JobQueueTestUtils.configure({ connection: REDIS_URL });
  const { prefix, config } = JobQueueTestUtils.isolate('jqt-testing');
  t.after(() => JobQueueTestUtils.cleanup());

  const coordinator = new JobQueueCoordinatorImpl(config);
  t.after(() => coordinator.shutdown());
  const testQueue = await JobQueueTestUtils.createTestQueue('test-queue');
  assert.ok(testQueue instanceof Queue);
  assert.equal(testQueue.name, 'test-queue');

  const processor = JobQueueTestUtils.createMockProcessor(50);
  await coordinator.registerWorker('test-queue', processor);
  const job = await coordinator.enqueueJob('test-queue', 'test-job', { message: 'Hello, World!' });

  const completedJob = await JobQueueTestUtils.waitForJob(testQueue, job.id);
  assert.equal(await completedJob.isCompleted(), true);
  assert.equal(completedJob.returnvalue.success, true);
  assert.equal(typeof completedJob.returnvalue.processedAt, 'number');

  // a failing mock fails the job, and waitForJob returns it too
  const failing = await JobQueueTestUtils.createTestQueue('failing');
  await coordinator.registerWorker('failing', JobQueueTestUtils.createMockProcessor(1, true));
  const bad = await coordinator.enqueueJob('failing', 'bad', {}, { attempts: 1 });
  const failedJob = await JobQueueTestUtils.waitForJob(failing, bad.id);
  assert.equal(await failedJob.isFailed(), true);
  assert.equal(failedJob.failedReason, 'Mock processor failure');

  // waitForJob gives up after its timeout
  await assert.rejects(JobQueueTestUtils.waitForJob(testQueue, 'never', 100), /did not complete within 100ms/);

  // after the suite's own coordinator is shut down, cleanup() deletes the prefix's keys
  await coordinator.shutdown();
  await JobQueueTestUtils.cleanup();
  const Redis = require('ioredis');
  const redis = new Redis(REDIS_URL);
  t.after(() => redis.quit());
  const [, keys] = await redis.scan('0', 'MATCH', `${prefix}:*`, 'COUNT', 10000);
  assert.deepEqual(keys, [], 'no key of the isolated prefix is left');
});
