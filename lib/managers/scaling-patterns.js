'use strict';
// The design's scaling patterns, as auto-scaling policies (`policy.pattern`):
// - reactive (the default): enough workers to drain the backlog within
//   `targetProcessingTime` at the rate each worker achieves now, times `scalingFactor`; with
//   nothing waiting, 70% of the current count (gradual scale-down);
// - predictive: the jobs finished per minute over the last `historyMinutes` (BullMQ's
//   per-minute metrics lists in Redis) fitted with a least-squares line, extrapolated
//   `forecastMinutes` ahead; the forecast load plus the backlog to drain, divided by what a
//   worker finishes per minute;
// - scheduled: `schedule` is a list of `{hours: [from, to], days?, workers}` or
//   `{cron, workers}` (either may give `{minWorkers, maxWorkers}` instead of `workers`, to
//   bound the reactive count); the first entry matching the local time decides, and outside
//   every entry the policy is reactive.
// All read a queue's metrics as engineQueueMetrics returns them (the engine's units).

const { ValidationError } = require('../errors');

const PATTERNS = ['reactive', 'predictive', 'scheduled'];

/** Jobs a worker finishes per minute: measured over the last 5 minutes when it ran, else
 * from the mean processing time, else one a second. */
function perWorkerPerMinute(m, workers) {
  const finished = finishedSeries(m, 6).slice(1); // complete minutes only
  const recent = finished.reduce((a, b) => a + b, 0) / Math.max(1, finished.length);
  if (workers > 0 && recent > 0) return recent / workers;
  if (m.processingTime?.average > 0) return 60_000 / m.processingTime.average;
  return 60;
}

/** Jobs finished (completed + failed for good) per minute, the current minute first. */
function finishedSeries(m, minutes) {
  const out = [];
  for (let i = 0; i < minutes; i++) out.push((m.completedPerMinute?.[i] ?? 0) + (m.failedPerMinute?.[i] ?? 0));
  return out;
}

/** Least-squares line through `ys` (x = 0, 1, ...): `{a, b}` with y ≈ a + b·x. */
function fitLine(ys) {
  const n = ys.length;
  if (n === 0) return { a: 0, b: 0 };
  const mx = (n - 1) / 2;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  const b = den === 0 ? 0 : num / den;
  return { a: my - b * mx, b };
}

/** The backlog: runnable jobs (waiting and prioritized). */
const backlogOf = (m) => m.jobCounts.waiting + m.jobCounts.prioritized;

function reactive(m, workers, policy) {
  const waiting = backlogOf(m);
  if (waiting === 0) return { workers: Math.floor(workers * 0.7), reason: 'nothing waiting: scale down gradually' };
  // jobs/s per worker now; before any job finished, assume one job per second per worker
  const perWorker = workers > 0 && m.processingRate > 0 ? m.processingRate / workers : 1;
  const required = Math.ceil(waiting / (perWorker * (policy.targetProcessingTime / 1000)));
  return {
    workers: Math.ceil(required * policy.scalingFactor),
    reason: `${waiting} waiting, ${perWorker.toFixed(2)} jobs/s per worker, drain within ${policy.targetProcessingTime} ms`,
  };
}

/** The per-minute load `forecastMinutes` ahead, from the trend of the finished-jobs series. */
function forecastLoad(m, policy) {
  // complete minutes, oldest first
  const series = finishedSeries(m, policy.historyMinutes + 1).slice(1).reverse();
  const { a, b } = fitLine(series);
  const forecast = Math.max(0, a + b * (series.length - 1 + policy.forecastMinutes));
  return { forecast, slope: b, minutes: series.length };
}

function predictive(m, workers, policy) {
  const { forecast, slope } = forecastLoad(m, policy);
  const perWorker = perWorkerPerMinute(m, workers);
  const backlog = backlogOf(m);
  const drain = backlog / (policy.targetProcessingTime / 60_000); // jobs/min to drain in time
  const wanted = Math.ceil(((forecast + drain) / perWorker) * policy.scalingFactor);
  return {
    workers: wanted,
    reason: `forecast ${forecast.toFixed(1)} jobs/min in ${policy.forecastMinutes} min (trend ${slope >= 0 ? '+' : ''}${slope.toFixed(2)}/min), ${backlog} waiting, ${perWorker.toFixed(1)} jobs/min per worker`,
  };
}

// ---- cron (5 fields: minute hour day-of-month month day-of-week) ----

const CRON_RANGES = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

function cronField(text, [lo, hi]) {
  const allowed = new Set();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return null;
    let from = lo;
    let to = hi;
    if (m[1] !== '*') {
      from = Number(m[2]);
      to = m[3] === undefined ? (m[4] ? hi : from) : Number(m[3]);
    }
    const step = m[4] === undefined ? 1 : Number(m[4]);
    if (from < lo || to > hi || from > to || step < 1) return null;
    for (let v = from; v <= to; v += step) allowed.add(v);
  }
  return allowed;
}

/** A parsed cron expression, or null when it is not one. */
function parseCron(expr) {
  if (typeof expr !== 'string') return null;
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) return null;
  const fields = parts.map((p, i) => cronField(p, CRON_RANGES[i]));
  if (fields.some((f) => f === null)) return null;
  if (fields[4].has(7)) fields[4].add(0);
  return { fields, domAny: parts[2] === '*', dowAny: parts[4] === '*' };
}

/** Whether the minute of `date` (local time) matches the parsed cron. */
function cronMatches(cron, date) {
  const [min, hour, dom, month, dow] = cron.fields;
  if (!min.has(date.getMinutes()) || !hour.has(date.getHours()) || !month.has(date.getMonth() + 1)) return false;
  const d = dom.has(date.getDate());
  const w = dow.has(date.getDay());
  // as cron: when both day fields are restricted, either may match
  if (!cron.domAny && !cron.dowAny) return d || w;
  return d && w;
}

function entryMatches(e, date) {
  if (e.cron) return cronMatches(e.cron, date);
  const h = date.getHours();
  const [from, to] = e.hours;
  const inHours = from <= to ? h >= from && h < to : h >= from || h < to; // may wrap midnight
  return inHours && (!e.days || e.days.includes(date.getDay()));
}

/** Checks a policy's `schedule`; returns it with cron expressions parsed. */
function checkSchedule(schedule) {
  if (!Array.isArray(schedule) || schedule.length === 0) throw new ValidationError('schedule', 'must be a non-empty list of {hours | cron, workers | minWorkers/maxWorkers}');
  return schedule.map((e, i) => {
    const field = `schedule[${i}]`;
    if (e === null || typeof e !== 'object') throw new ValidationError(field, 'must be an object');
    const out = { ...e };
    if (e.cron !== undefined) {
      out.cron = parseCron(e.cron);
      if (!out.cron) throw new ValidationError(`${field}.cron`, 'must be a 5-field cron expression');
      out.cronText = e.cron;
    } else {
      const ok = Array.isArray(e.hours) && e.hours.length === 2 && e.hours.every((h) => Number.isInteger(h) && h >= 0 && h <= 24);
      if (!ok) throw new ValidationError(`${field}.hours`, 'must be [fromHour, toHour] with hours 0–24 (local time)');
      if (e.days !== undefined && !(Array.isArray(e.days) && e.days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6))) {
        throw new ValidationError(`${field}.days`, 'must be a list of weekdays 0–6 (0 = Sunday)');
      }
    }
    const isCount = (v) => Number.isInteger(v) && v >= 0;
    if (e.workers !== undefined) {
      if (!isCount(e.workers)) throw new ValidationError(`${field}.workers`, 'must be a non-negative integer');
    } else if (!(isCount(e.minWorkers) && isCount(e.maxWorkers) && e.minWorkers <= e.maxWorkers)) {
      throw new ValidationError(field, 'needs workers, or minWorkers ≤ maxWorkers');
    }
    return out;
  });
}

function scheduled(m, workers, policy, now) {
  const date = new Date(now);
  const entry = policy.schedule.find((e) => entryMatches(e, date));
  const when = (e) => (e.cronText ? `cron ${e.cronText}` : `hours ${e.hours[0]}–${e.hours[1]}`);
  if (!entry) {
    const r = reactive(m, workers, policy);
    return { workers: r.workers, reason: `outside the schedule; reactive: ${r.reason}` };
  }
  if (entry.workers !== undefined) return { workers: entry.workers, reason: `schedule (${when(entry)}): ${entry.workers} workers` };
  const r = reactive(m, workers, policy);
  return {
    workers: Math.max(entry.minWorkers, Math.min(entry.maxWorkers, r.workers)),
    reason: `schedule (${when(entry)}): ${entry.minWorkers}–${entry.maxWorkers} workers; reactive: ${r.reason}`,
  };
}

/** Pattern defaults added to AutoScalingPolicy. */
const PATTERN_DEFAULTS = { pattern: 'reactive', historyMinutes: 15, forecastMinutes: 5 };

/** Checks the pattern fields of a policy (merged with defaults); returns the policy. */
function checkPattern(p) {
  if (!PATTERNS.includes(p.pattern)) throw new ValidationError('pattern', `must be one of ${PATTERNS.join(', ')}`);
  for (const f of ['historyMinutes', 'forecastMinutes']) {
    if (!(Number.isInteger(p[f]) && p[f] >= 1 && p[f] <= 60)) throw new ValidationError(f, 'must be an integer number of minutes, 1–60');
  }
  if (p.pattern === 'scheduled') p.schedule = checkSchedule(p.schedule);
  return p;
}

/** `{workers, reason}`: how many workers the policy wants for a queue with metrics `m` that
 * has `workers` now. */
function wantedWorkers(m, workers, policy, now = Date.now()) {
  switch (policy.pattern) {
    case 'predictive':
      return predictive(m, workers, policy);
    case 'scheduled':
      return scheduled(m, workers, policy, now);
    default:
      return reactive(m, workers, policy);
  }
}

module.exports = { wantedWorkers, checkPattern, PATTERN_DEFAULTS, PATTERNS, fitLine, forecastLoad, parseCron, cronMatches, perWorkerPerMinute, backlogOf };
