'use strict';
// Structured logs: one JSON line per entry ({level, time, msg, ...fields}) on stderr, at or
// above LOG_LEVEL (default info). A user's pino-style logger ({ debug, info, warn, error })
// replaces the output; entries then go to logger[level](fields, msg), as pino takes them.

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 };

function threshold(name) {
  return LEVELS[String(name || '').toLowerCase()] ?? LEVELS.info;
}

/** A logger writing JSON lines to `stream`, or forwarding to `target` when given. */
function createLogger({ target, level = process.env.LOG_LEVEL, stream = process.stderr } = {}) {
  const min = threshold(level);
  const log = (lvl, msg, fields = {}) => {
    if (LEVELS[lvl] < min) return;
    if (target && typeof target[lvl] === 'function') {
      target[lvl](fields, msg);
      return;
    }
    stream.write(`${JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...fields })}\n`);
  };
  return {
    /** Whether entries at `lvl` are kept: check before building costly fields. */
    enabled: (lvl) => LEVELS[lvl] >= min,
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
  };
}

module.exports = { createLogger, LEVELS };
