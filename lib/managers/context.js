'use strict';
// What every manager of the coordinator is given: the engine (connected on first use), the
// resolved configuration, the logger, and the coordinator's event sink. Managers hold their
// own state and reach each other only through the references the coordinator passes them.

class ManagerContext {
  /**
   * `engine()` resolves to the connected NativeEngine; `emitter` is the coordinator, whose
   * events the managers raise through `emit`.
   */
  constructor({ config, logger, engine, emitter }) {
    this.config = config;
    this.logger = logger;
    this.engine = engine;
    this._emitter = emitter;
  }

  /** True when someone listens to the coordinator's `event`. */
  listening(event) {
    return this._emitter.listenerCount(event) > 0;
  }

  /** Emits a coordinator event when someone listens (an unheard event costs nothing). */
  emit(event, payload) {
    if (this._emitter.listenerCount(event) > 0) this._emitter.emit(event, payload);
  }
}

module.exports = { ManagerContext };
