'use strict';
// Application metrics of this process: the design's MetricsCollector (incrementCounter,
// setGauge, recordHistogram) and their Prometheus text. They live in memory, per process,
// next to the queue metrics read from Redis; a name the Redis-backed exposition already
// carries is refused, so the exposition never holds one family twice.

const { ValidationError } = require('../errors');

/** Families exported from Redis by exportPrometheusMetrics; custom metrics may not reuse them. */
const RESERVED = new Set([
  'jobs_completed_total',
  'jobs_failed_total',
  'job_retries_total',
  'jobs_dead_letter_total',
  'job_processing_duration_seconds',
  'job_wait_duration_seconds',
  'jobs_stalled_total',
  'queue_jobs_waiting',
  'queue_jobs_active',
  'queue_jobs_completed',
  'queue_jobs_failed',
  'queue_jobs_delayed',
  'queue_paused',
  'queue_active_workers',
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
]);

/** Default histogram bucket upper bounds: the design records histograms in ms. */
const DEFAULT_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000];

/** Label sets one metric may hold: a bound on memory when a label takes unbounded values. */
const MAX_SERIES = 10_000;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SUFFIXES = ['_bucket', '_sum', '_count'];

const escapeLabel = (v) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** A number as Prometheus writes it. */
function num(v) {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** `labels` as sorted `[name, value]` pairs, checked. */
function labelPairs(labels) {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== 'object' || Array.isArray(labels)) throw new ValidationError('labels', 'must be an object of label values');
  const pairs = [];
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL.test(k) || k.startsWith('__')) throw new ValidationError('labels', `label name ${JSON.stringify(k)} is not a valid Prometheus label name`);
    if (k === 'le') throw new ValidationError('labels', 'the label name "le" is kept for histogram buckets');
    if (v === undefined || v === null) continue;
    if (!['string', 'number', 'boolean'].includes(typeof v)) throw new ValidationError('labels', `label ${k} must be a string, number or boolean`);
    pairs.push([k, String(v)]);
  }
  return pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function renderLabels(pairs, extra) {
  const all = extra ? [...pairs, extra] : pairs;
  if (all.length === 0) return '';
  return `{${all.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

class MetricRegistry {
  constructor() {
    this._families = new Map(); // name -> { type, help, buckets, series: Map<key, {pairs, value|hist}> }
  }

  _family(name, type, field = 'name') {
    if (typeof name !== 'string' || !NAME.test(name)) throw new ValidationError(field, `${JSON.stringify(name)} is not a valid Prometheus metric name`);
    if (RESERVED.has(name) || SUFFIXES.some((x) => name.endsWith(x) && RESERVED.has(name.slice(0, -x.length)))) throw new ValidationError(field, `${name} is exported from Redis by exportPrometheusMetrics; choose another name`);
    let f = this._families.get(name);
    if (!f) {
      // a histogram's sample names must not collide with another family
      for (const [other, fam] of this._families) {
        const clash = (fam.type === 'histogram' && SUFFIXES.some((s) => name === other + s)) ||
          (type === 'histogram' && SUFFIXES.some((s) => other === name + s));
        if (clash) throw new ValidationError(field, `${name} clashes with the samples of ${other}`);
      }
      f = { type, help: defaultHelp(name, type), buckets: type === 'histogram' ? DEFAULT_BUCKETS : undefined, series: new Map() };
      this._families.set(name, f);
    } else if (f.type !== type) {
      throw new ValidationError(field, `${name} is a ${f.type}, not a ${type}`);
    }
    return f;
  }

  _series(f, name, labels, make) {
    const pairs = labelPairs(labels);
    const key = JSON.stringify(pairs);
    let s = f.series.get(key);
    if (!s) {
      if (f.series.size >= MAX_SERIES) throw new ValidationError('labels', `${name} already has ${MAX_SERIES} label sets`);
      s = { pairs, ...make() };
      f.series.set(key, s);
    }
    return s;
  }

  /** Sets the help text (and, for a histogram not yet recorded, its bucket bounds). */
  describe(name, { type, help, buckets } = {}) {
    if (!['counter', 'gauge', 'histogram'].includes(type)) throw new ValidationError('type', 'must be counter, gauge or histogram');
    const f = this._family(name, type);
    if (help !== undefined) {
      if (typeof help !== 'string') throw new ValidationError('help', 'must be a string');
      f.help = help;
    }
    if (buckets !== undefined) {
      if (type !== 'histogram') throw new ValidationError('buckets', 'only histograms have buckets');
      const ok = Array.isArray(buckets) && buckets.length > 0 && buckets.every((b, i) => Number.isFinite(b) && (i === 0 || b > buckets[i - 1]));
      if (!ok) throw new ValidationError('buckets', 'must be a non-empty increasing list of finite numbers');
      if (f.series.size > 0) throw new ValidationError('buckets', `${name} has been recorded already`);
      f.buckets = [...buckets];
    }
  }

  incrementCounter(name, labels, value = 1) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ValidationError('value', 'a counter grows by a finite number ≥ 0');
    const f = this._family(name, 'counter');
    this._series(f, name, labels, () => ({ value: 0 })).value += value;
  }

  setGauge(name, value, labels) {
    if (typeof value !== 'number' || Number.isNaN(value)) throw new ValidationError('value', 'must be a number');
    const f = this._family(name, 'gauge');
    this._series(f, name, labels, () => ({ value: 0 })).value = value;
  }

  recordHistogram(name, value, labels) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError('value', 'must be a finite number');
    const f = this._family(name, 'histogram');
    const s = this._series(f, name, labels, () => ({ counts: new Array(f.buckets.length).fill(0), sum: 0, count: 0 }));
    const i = f.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i] += 1;
    s.sum += value;
    s.count += 1;
  }

  /** The current value of a counter or gauge series (0 when never set), for tests and callers. */
  value(name, labels) {
    const f = this._families.get(name);
    const s = f?.series.get(JSON.stringify(labelPairs(labels)));
    if (!s) return 0;
    return f.type === 'histogram' ? { count: s.count, sum: s.sum } : s.value;
  }

  /** Prometheus text exposition (0.0.4) of every metric recorded here. */
  render() {
    let out = '';
    for (const [name, f] of this._families) {
      if (f.series.size === 0) continue;
      out += `# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n`;
      for (const s of f.series.values()) {
        if (f.type !== 'histogram') {
          out += `${name}${renderLabels(s.pairs)} ${num(s.value)}\n`;
          continue;
        }
        let cumulative = 0;
        f.buckets.forEach((b, i) => {
          cumulative += s.counts[i];
          out += `${name}_bucket${renderLabels(s.pairs, ['le', num(b)])} ${cumulative}\n`;
        });
        out += `${name}_bucket${renderLabels(s.pairs, ['le', '+Inf'])} ${s.count}\n`;
        out += `${name}_sum${renderLabels(s.pairs)} ${num(s.sum)}\n`;
        out += `${name}_count${renderLabels(s.pairs)} ${s.count}\n`;
      }
    }
    return out;
  }
}

/** HELP texts of the metrics the managers record themselves. */
const HELP = {
  job_retries_exhausted_total: 'Retry decisions (handleJobRetry) that failed the job.',
  job_retry_decisions_total: 'Retry decisions (handleJobRetry) that retry the job.',
  job_retry_delay_ms: 'Retry delays decided by handleJobRetry, in ms.',
  dead_letters_handled_total: 'Jobs failed for good recorded by this process (handleFailedJob, its own workers).',
  failed_jobs_requeued_total: 'Dead letters requeued by this process.',
  worker_scaling_events: 'Worker count changes by this process: workers added (positive) or removed (negative).',
};

function defaultHelp(name, type) {
  return HELP[name] ?? `Application ${type} ${name}.`;
}

module.exports = { MetricRegistry, RESERVED, DEFAULT_BUCKETS, LABEL, escapeLabel };
