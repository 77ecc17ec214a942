'use strict';
// The event emitter under BullMQ's classes (Queue, Worker, QueueEvents and a queue's
// JobScheduler), with BullMQ's QueueBase.emit: a listener that throws does not throw into
// the code that emitted (the engine's callbacks, a method half done); its exception is
// emitted as `error` instead, and if that throws as well (no `error` listener, or one that
// throws) it is written to the console and emit returns false.

const { EventEmitter } = require('node:events');

class GuardedEmitter extends EventEmitter {
  emit(event, ...args) {
    try {
      return super.emit(event, ...args);
    } catch (err) {
      try {
        return super.emit('error', err);
      } catch (again) {
        console.error(again);
        return false;
      }
    }
  }
}

module.exports = { GuardedEmitter };
