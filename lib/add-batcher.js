'use strict';
// Coalesced adds: the single-job adds of one tick to one queue (the coordinator's enqueueJob,
// Queue.add) travel to Redis in one engine call, in call order, so ids keep that order. Each
// job is validated and added on its own: one refused job does not fail its neighbours. Calls
// settle in call order even when two engine calls in flight are answered out of order.

const { fromReason } = require('./errors');

/** Most adds sent in one engine call: smaller batches keep several calls in flight, so Redis
 * runs one while JS prepares the next. */
const MAX_COALESCED = 32;

class AddBatcher {
  /**
   * `send(texts)` makes one engine call for the jobs' payload texts and resolves to the
   * engine's answer `{ jobs, opts }`; `settle(entry, opts, meta)` turns one job's answer into
   * what its caller gets (a job, or a promise of one).
   */
  constructor(send, settle) {
    this._send = send;
    this._settle = settle;
    this._pending = null; // the batch of this tick
    this._last = undefined; // settling of the newest batch sent
    this._inFlight = new Set();
  }

  /** Queues a job's payload text for this tick's engine call; resolves with its job. */
  add(text, meta) {
    let batch = this._pending;
    if (!batch || batch.texts.length >= MAX_COALESCED) {
      batch = { texts: [], waiters: [], sent: false };
      this._pending = batch;
      process.nextTick(() => this._flush(batch));
    }
    batch.texts.push(text);
    return new Promise((resolve, reject) => batch.waiters.push({ resolve, reject, meta }));
  }

  /** Sends this tick's batch now instead of at the end of the tick. */
  flush() {
    if (this._pending) this._flush(this._pending);
  }

  /** Resolves when every batch sent so far has settled its callers. */
  async idle() {
    this.flush();
    while (this._inFlight.size > 0) await Promise.all([...this._inFlight]);
  }

  _flush(batch) {
    if (batch.sent) return;
    batch.sent = true;
    if (this._pending === batch) this._pending = null;
    const previous = this._last;
    const settled = (async () => {
      let result;
      try {
        result = await this._send(batch.texts);
      } catch (err) {
        await previous;
        for (const w of batch.waiters) w.reject(err);
        return;
      }
      await previous;
      batch.waiters.forEach((w, i) => {
        const entry = result.jobs[i];
        if (!Array.isArray(entry)) {
          w.reject(fromReason(entry) || new Error(entry?.message ?? 'add failed'));
          return;
        }
        let job;
        try {
          job = this._settle(entry, result.opts, w.meta);
        } catch (err) {
          w.reject(err);
          return;
        }
        if (job instanceof Promise) job.then(w.resolve, w.reject);
        else w.resolve(job);
      });
    })();
    this._last = settled;
    this._inFlight.add(settled);
    settled.finally(() => {
      this._inFlight.delete(settled);
      if (this._last === settled) this._last = undefined;
    });
  }
}

module.exports = { AddBatcher, MAX_COALESCED };
