'use strict';
// Structured logs: one JSON line per entry ({level, time, msg, ...fields}) on stderr, at or
// above LOG_LEVEL (default info). A user's logger ({ debug, info, warn, error }) replaces the
// output. It is called as the design calls its logger, logger[level](msg, fields) (winston
// and console take that form too), unless it is a pino or bunyan logger (or `style` says
// 'pino'): those take logger[level](fields, msg).

const { ValidationError } = require('./errors');

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 };

function threshold(name) {
  return LEVELS[String(name || '').toLowerCase()] ?? LEVELS.info;
}

/** Whether a logger takes (fields, msg): pino's (its `levels.values` map) and bunyan's (its
 * `streams` list and `fields`). */
function takesFieldsFirst(target) {
  const pino = target.levels !== null && typeof target.levels === 'object' && typeof target.levels.values === 'object';
  const bunyan = Array.isArray(target.streams) && target.fields !== null && typeof target.fields === 'object';
  return pino || bunyan;
}

/**
 * A logger writing JSON lines to `stream`, or forwarding to `target` when given. `style`:
 * 'design' calls target[level](msg, fields), 'pino' calls target[level](fields, msg);
 * unset, pino and bunyan loggers get 'pino' and every other logger 'design'.
 */
function createLogger({ target, style, level = process.env.LOG_LEVEL, stream = process.stderr } = {}) {
  if (style !== undefined && style !== 'design' && style !== 'pino') {
    throw new ValidationError('loggerStyle', "must be 'design' or 'pino'");
  }
  const fieldsFirst = target ? (style ?? (takesFieldsFirst(target) ? 'pino' : 'design')) === 'pino' : false;
  const min = threshold(level);
  const log = (lvl, msg, fields = {}) => {
    if (LEVELS[lvl] < min) return;
    if (target && typeof target[lvl] === 'function') {
      if (fieldsFirst) target[lvl](fields, msg);
      else target[lvl](msg, fields);
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
