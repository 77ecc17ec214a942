'use strict';
// The design's PerformanceOptimizer: bottlenecks, recommendations and a scaling
// recommendation per queue, computed from what Redis holds (counts, BullMQ's per-minute
// metrics lists, our latency histograms) and from depth samples this optimizer takes itself:
// Redis keeps no history of a queue's depth, so each analysis (and, with
// `performance.optimization.enabled`, a sampler every `sampleInterval`, by default a tenth of
// the analysis interval) records the backlog, and avgQueueDepth is the time-weighted mean
// of the samples of the last `depthWindow` (15 minutes).

const os = require('node:os');
const v8 = require('node:v8');
const { checkQueueName } = require('../input');
const { ValidationError } = require('../errors');
const { Periodic, periodOf } = require('./periodic');
const { wantedWorkers, checkPattern, PATTERN_DEFAULTS, backlogOf, forecastLoad } = require('./scaling-patterns');

const DEPTH_WINDOW_MS = 15 * 60_000;
/** Samples kept per queue, at most (the window bounds them too). */
const MAX_SAMPLES = 1_000;

/** The design's thresholds of optimizeQueue, and ours. */
const THRESHOLDS = {
  avgQueueDepth: 100,
  avgProcessingTime: 30_000,
  memoryUsage: 0.8,
  cpuUsage: 0.8,
  errorRate: 0.1,
  avgWaitTime: 60_000,
};

/** Score points a recommendation of each priority is expected to win back. */
const IMPACT = { high: 25, medium: 15, low: 5 };

/** Policy defaults of recommendScaling (the design's AutoScalingPolicy defaults). */
const SCALING_DEFAULTS = { targetProcessingTime: 60_000, scalingFactor: 1.2, ...PATTERN_DEFAULTS };

/** Time-weighted mean of samples `[{t, depth}]` (oldest first), each holding until the next
 * one (the last until `now`); a single sample is its own mean. */
function timeWeightedMean(samples, now) {
  if (samples.length === 1) return samples[0].depth;
  let area = 0;
  for (let i = 0; i < samples.length; i++) {
    const until = i + 1 < samples.length ? samples[i + 1].t : now;
    area += samples[i].depth * (until - samples[i].t);
  }
  const span = now - samples[0].t;
  return span > 0 ? area / span : samples[samples.length - 1].depth;
}

class PerformanceOptimizerImpl {
  /**
   * `metrics` is the metrics collector (engineQueueMetrics), `queues` the queue manager (the
   * queue list), `pools` the worker pool manager (a pool's bounds and policy), `bounds(q)`
   * the queue type's `{minWorkers, maxWorkers}` if any.
   */
  constructor(ctx, { metrics, queues, pools, bounds }) {
    this._ctx = ctx;
    this._metrics = metrics;
    this._queues = queues;
    this._pools = pools;
    this._bounds = bounds;
    this._samples = new Map(); // queue -> [{t, depth}]
    this._cpu = { at: process.hrtime.bigint(), usage: process.cpuUsage() };
    const o = ctx.config.performance?.optimization;
    const interval = periodOf(o, 'performance.optimization', { analysisInterval: 300_000 });
    this._tasks = [];
    if (interval !== null) {
      const sample = o.sampleInterval ?? Math.max(1000, Math.floor(interval / 10));
      if (typeof sample !== 'number' || !(sample > 0)) throw new ValidationError('performance.optimization.sampleInterval', 'must be a positive number of ms');
      const log = (what) => (err) => ctx.logger.error(what, { error: err.message });
      this._tasks.push(new Periodic(interval, () => this._analyzeAll(), log('performance analysis failed')));
      if (sample < interval) this._tasks.push(new Periodic(sample, () => this._sampleAll(), log('queue depth sampling failed')));
    }
  }

  /** Starts the periodic analysis (and depth sampling) when `performance.optimization.enabled`. */
  start() {
    for (const t of this._tasks) t.start();
  }

  async stop() {
    await Promise.all(this._tasks.map((t) => t.stop()));
  }

  async _sampleAll() {
    for (const name of await this._queues.queueNamesInRedis()) this._sample(name, await this._metrics.engineQueueMetrics(name));
  }

  /**
   * One periodic round: optimizeQueue for every queue of the prefix; each result with
   * recommendations is logged at info; the coordinator emits `optimization` with
   * `{ analyzedAt: Date, results: Map<name, OptimizationResult> }`.
   */
  async _analyzeAll() {
    const results = new Map();
    for (const name of await this._queues.queueNamesInRedis()) {
      const r = await this.optimizeQueue(name);
      results.set(name, r);
      if (r.recommendations.length > 0) {
        this._ctx.logger.info('queue optimization recommended', {
          queue: name,
          currentPerformance: Math.round(r.currentPerformance),
          recommendations: r.recommendations.map((a) => `${a.priority}: ${a.type}`),
        });
      }
    }
    this._ctx.emit('optimization', { analyzedAt: new Date(), results });
  }

  /** Records the queue's backlog now; returns the samples of the window. */
  _sample(queueName, m, now = Date.now()) {
    let list = this._samples.get(queueName);
    if (!list) {
      list = [];
      this._samples.set(queueName, list);
    }
    list.push({ t: now, depth: backlogOf(m) });
    // keep one sample older than the window: it holds the depth at the window's start
    while (list.length > 1 && (list[1].t <= now - DEPTH_WINDOW_MS || list.length > MAX_SAMPLES)) list.shift();
    return list;
  }

  /** This process's CPU use since the last call, as a fraction of the machine's cores. */
  _cpuUsage() {
    const at = process.hrtime.bigint();
    const usage = process.cpuUsage();
    const wallUs = Number(at - this._cpu.at) / 1000;
    const usedUs = usage.user - this._cpu.usage.user + (usage.system - this._cpu.usage.system);
    this._cpu = { at, usage };
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    return wallUs > 0 ? Math.min(1, usedUs / (wallUs * cores)) : 0;
  }

  /**
   * The design's BottleneckAnalysis `{ queueName, avgQueueDepth, avgProcessingTime (ms),
   * throughput (completed jobs/s over 5 min), errorRate (0–1, over 5 min), memoryUsage,
   * cpuUsage }`. memoryUsage is this process's V8 heap in use over its limit (0–1), the
   * memory its processors can run out of; cpuUsage this process's CPU time since the
   * previous analysis over the wall time and cores (0–1). Extras: `depthSamples` and
   * `depthWindowMs` (what avgQueueDepth averages), `currentQueueDepth`, `avgWaitTime` (ms),
   * `activeWorkers`.
   */
  async analyzeBottlenecks(queueName) {
    checkQueueName(queueName);
    const m = await this._metrics.engineQueueMetrics(queueName);
    const now = Date.now();
    const samples = this._sample(queueName, m, now);
    const heap = v8.getHeapStatistics();
    return {
      queueName,
      avgQueueDepth: timeWeightedMean(samples, now),
      avgProcessingTime: m.processingTime.average,
      throughput: m.throughput,
      errorRate: m.errorRate,
      memoryUsage: heap.used_heap_size / heap.heap_size_limit,
      cpuUsage: this._cpuUsage(),
      depthSamples: samples.length,
      depthWindowMs: now - samples[0].t,
      currentQueueDepth: backlogOf(m),
      avgWaitTime: m.waitTime.average,
      activeWorkers: m.workers,
    };
  }

  /**
   * The design's OptimizationResult `{ queueName, currentPerformance, recommendations,
   * estimatedImprovement }`. currentPerformance is the design's score (0–100: the mean of
   * a depth score 100 − avgQueueDepth/10, a throughput score min(100, throughput/10) and an
   * error score 100 − errorRate×100); each recommendation is an OptimizationAction `{type,
   * priority, description, expectedImpact}`; estimatedImprovement is the score points the
   * recommendations are expected to win back (25 per high, 15 per medium, 5 per low
   * priority), at most what is missing to 100. Extra: `analysis` (the BottleneckAnalysis).
   */
  async optimizeQueue(queueName) {
    const a = await this.analyzeBottlenecks(queueName);
    const t = THRESHOLDS;
    const recommendations = [];
    const add = (type, priority, description, expectedImpact) => recommendations.push({ type, priority, description, expectedImpact });
    if (a.activeWorkers === 0 && a.currentQueueDepth > 0) {
      add('scale_workers', 'high', `${a.currentQueueDepth} jobs wait and no worker serves the queue`, 'Jobs start being processed');
    } else if (a.avgQueueDepth > t.avgQueueDepth) {
      add('scale_workers', 'high', `Scale up workers to handle queue backlog (average depth ${Math.round(a.avgQueueDepth)})`, 'Reduce processing latency by 40-60%');
    }
    if (a.avgProcessingTime > t.avgProcessingTime) {
      add('optimize_job_logic', 'medium', `Review and optimize job processing logic (average ${Math.round(a.avgProcessingTime)} ms per attempt)`, 'Reduce processing time by 20-30%');
    }
    if (a.errorRate > t.errorRate) {
      add('investigate_errors', 'high', `${(a.errorRate * 100).toFixed(1)}% of recent jobs failed for good`, 'Fewer dead letters and wasted attempts');
    }
    if (a.avgWaitTime > t.avgWaitTime) {
      add('adjust_concurrency', 'medium', `Jobs wait ${Math.round(a.avgWaitTime / 1000)} s on average before they start`, 'Shorter wait before processing');
    }
    if (a.memoryUsage > t.memoryUsage) {
      add('optimize_memory', 'high', `Optimize memory usage in job processors (heap ${(a.memoryUsage * 100).toFixed(0)}% of its limit)`, 'Prevent memory-related failures');
    }
    if (a.cpuUsage > t.cpuUsage) {
      add('reduce_cpu_load', 'medium', `This process uses ${(a.cpuUsage * 100).toFixed(0)}% of the CPU`, 'Move workers to more processes or machines');
    }
    const currentPerformance = score(a);
    const estimatedImprovement = Math.min(100 - currentPerformance, recommendations.reduce((n, r) => n + IMPACT[r.priority], 0));
    return { queueName, currentPerformance, recommendations, estimatedImprovement, analysis: a };
  }

  /**
   * A ScalingRecommendation `{ queueName, currentWorkers, recommendedWorkers, action:
   * 'scale_up' | 'scale_down' | 'no_change', reason, confidence, pattern, minWorkers,
   * maxWorkers, forecast }`: what the queue's auto-scaling policy (its pool's, else the
   * coordinator's default with `pattern` from `performance.autoScaling`, reactive unless
   * set) wants now, for the workers of every process (the registry in Redis), within the
   * pool's bounds, else the queue type's scaling bounds, else [1, ∞). `forecast` is the
   * finished-jobs trend `{perMinute, slope}` from the metrics lists. `confidence` (0–1)
   * grows with the minutes of history that had jobs (5 or more: full) and with two or more
   * depth samples; it is 0.2 when no job has finished (no histogram count, no minute of
   * history with jobs).
   */
  async recommendScaling(queueName) {
    checkQueueName(queueName);
    const m = await this._metrics.engineQueueMetrics(queueName);
    this._sample(queueName, m);
    const pool = this._pools.getWorkerPool(queueName);
    const policy = this._pools.policyOf(queueName) ?? checkPattern({ ...SCALING_DEFAULTS, ...this._pools.defaultPolicy() });
    const current = m.workers;
    const want = wantedWorkers(m, current, policy);
    const b = pool ?? this._bounds(queueName) ?? {};
    const minWorkers = b.minWorkers ?? 1;
    const maxWorkers = b.maxWorkers ?? Infinity;
    const recommendedWorkers = Math.max(minWorkers, Math.min(maxWorkers, want.workers));
    const f = forecastLoad(m, policy);
    const series = m.completedPerMinute.slice(1, policy.historyMinutes + 1).map((c, i) => c + (m.failedPerMinute[i + 1] ?? 0));
    const activeMinutes = series.filter((n) => n > 0).length;
    // BullMQ's workers fill the per-minute lists but not our histograms: either shows jobs ran
    const everFinished = activeMinutes > 0 || m.processingTime.count > 0;
    const depthSamples = this._samples.get(queueName).length;
    const confidence = everFinished ? Math.min(1, 0.4 + 0.1 * Math.min(5, activeMinutes) + (depthSamples >= 2 ? 0.1 : 0)) : 0.2;
    return {
      queueName,
      currentWorkers: current,
      recommendedWorkers,
      action: recommendedWorkers > current ? 'scale_up' : recommendedWorkers < current ? 'scale_down' : 'no_change',
      reason: want.reason,
      confidence,
      pattern: policy.pattern,
      minWorkers,
      maxWorkers,
      forecast: { perMinute: f.forecast, slope: f.slope },
    };
  }
}

/** The design's performance score, 0–100. */
function score(a) {
  const queueScore = Math.max(0, 100 - a.avgQueueDepth / 10);
  const throughputScore = Math.min(100, a.throughput / 10);
  const errorScore = Math.max(0, 100 - a.errorRate * 100);
  return (queueScore + throughputScore + errorScore) / 3;
}

module.exports = { PerformanceOptimizerImpl, THRESHOLDS, timeWeightedMean };
