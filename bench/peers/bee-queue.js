'use strict';
// bee-queue 2 peer. The producer is a non-worker Queue that neither subscribes to events nor
// keeps the jobs it saves (it has no use for either, like BullMQ's Queue); the worker Queue
// keeps bee-queue's defaults, including publishing an event per finished job.

const BeeQueue = require('bee-queue');

class BeeQueuePeer {
  constructor({ url, prefix, queue }) {
    this.url = url;
    this.prefix = prefix;
    this.queueName = queue;
    this.producer = null;
    this.worker = null;
  }

  settings(extra) {
    return { prefix: this.prefix, redis: { url: this.url }, ...extra };
  }

  async open() {
    this.producer = new BeeQueue(this.queueName, this.settings({ isWorker: false, getEvents: false, storeJobs: false }));
    this.producer.on('error', (err) => console.error(`bee-queue producer error: ${err.message}`));
    await this.producer.ready();
  }

  /**
   * bee-queue has no attempts count: `retries` is attempts − 1. Its `backoff('fixed', 0)`
   * throws (the delay must be positive), so a zero delay is spelled `backoff('immediate')`,
   * which retries with delay 0 exactly like fixed/0 would.
   */
  jobOptions({ attempts = 1, backoffMs = 0 } = {}) {
    const retries = attempts - 1;
    const backoff = retries > 0 ? (backoffMs > 0 ? ['fixed', backoffMs] : ['immediate']) : null;
    return (job) => {
      job.retries(retries);
      if (backoff) job.backoff(...backoff);
      return job;
    };
  }

  enqueueOne(data, opts) {
    return opts(this.producer.createJob(data)).save();
  }

  async enqueueBulk(items) {
    const errors = await this.producer.saveAll(items.map(({ data, opts }) => opts(this.producer.createJob(data))));
    if (errors.size > 0) {
      const [first] = errors.values();
      throw new Error(`bee-queue saveAll: ${errors.size} jobs failed (${first.message})`);
    }
  }

  async startWorker({ concurrency, processor, onCompleted }) {
    this.worker = new BeeQueue(this.queueName, this.settings({ isWorker: true, getEvents: false }));
    this.worker.on('error', (err) => console.error(`bee-queue worker error: ${err.message}`));
    if (onCompleted) this.worker.on('succeeded', () => onCompleted());
    await this.worker.ready();
    this.worker.process(concurrency, (job) => processor(job.data));
  }

  async counts() {
    const h = await this.producer.checkHealth();
    return { waiting: h.waiting, active: h.active, completed: h.succeeded, failed: h.failed, delayed: h.delayed };
  }

  async close() {
    if (this.worker) await this.worker.close();
    if (this.producer) await this.producer.close();
    this.worker = null;
    this.producer = null;
  }
}

module.exports = {
  name: 'bee-queue',
  version: require('bee-queue/package.json').version,
  create: (opts) => new BeeQueuePeer(opts),
};
