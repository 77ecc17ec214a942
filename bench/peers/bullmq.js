'use strict';
// BullMQ 6 peer: Queue + Worker on ioredis connections made from REDIS_URL.

const { Queue, Worker } = require('bullmq');
const IORedis = require('ioredis');

const JOB_NAME = 'bench';

class BullMQPeer {
  constructor({ url, prefix, queue }) {
    this.url = url;
    this.prefix = prefix;
    this.queueName = queue;
    this.connections = [];
    this.queue = null;
    this.worker = null;
  }

  connection() {
    const conn = new IORedis(this.url, { maxRetriesPerRequest: null });
    this.connections.push(conn);
    return conn;
  }

  async open() {
    this.queue = new Queue(this.queueName, { connection: this.connection(), prefix: this.prefix });
    this.queue.on('error', (err) => console.error(`bullmq queue error: ${err.message}`));
    await this.queue.waitUntilReady();
  }

  /** `{attempts, backoffMs}` in BullMQ's spelling; BullMQ's default is already 1 attempt. */
  jobOptions({ attempts = 1, backoffMs = 0 } = {}) {
    return attempts > 1 ? { attempts, backoff: { type: 'fixed', delay: backoffMs } } : { attempts: 1 };
  }

  enqueueOne(data, opts) {
    return this.queue.add(JOB_NAME, data, opts);
  }

  enqueueBulk(items) {
    return this.queue.addBulk(items.map(({ data, opts }) => ({ name: JOB_NAME, data, opts })));
  }

  async startWorker({ concurrency, processor, onCompleted }) {
    this.worker = new Worker(this.queueName, (job) => processor(job.data), {
      connection: this.connection(),
      prefix: this.prefix,
      concurrency,
    });
    this.worker.on('error', (err) => console.error(`bullmq worker error: ${err.message}`));
    if (onCompleted) this.worker.on('completed', () => onCompleted());
    await this.worker.waitUntilReady();
  }

  async counts() {
    const c = await this.queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    return { waiting: c.waiting + c.prioritized, active: c.active, completed: c.completed, failed: c.failed, delayed: c.delayed };
  }

  async close() {
    if (this.worker) await this.worker.close();
    if (this.queue) await this.queue.close();
    // BullMQ leaves connections it was given open.
    await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
    this.worker = null;
    this.queue = null;
    this.connections = [];
  }
}

module.exports = {
  name: 'bullmq',
  version: require('bullmq/package.json').version,
  create: (opts) => new BullMQPeer(opts),
};
