'use strict';
// A queue's Redis events stream as an EventEmitter: `(eventName, {jobId, ...fields, id})`,
// plus `event` for every entry. Events of every process arrive, BullMQ's included.

const { EventEmitter } = require('node:events');

class QueueEvents extends EventEmitter {
  constructor(queueName) {
    super();
    this.queueName = queueName;
    this._watch = null;
  }

  _deliver(text) {
    for (const [id, fields] of JSON.parse(text)) {
      const { event, ...rest } = fields;
      const payload = { ...rest, id, queueName: this.queueName };
      this.emit(event, payload);
      this.emit('event', event, payload);
    }
  }

  /** Stops following the stream. */
  close() {
    if (!this._watch) return;
    this._watch.close();
    this._watch = null;
    this.emit('close');
  }
}

module.exports = { QueueEvents };
