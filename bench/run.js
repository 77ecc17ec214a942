'use strict';
// Benchmark driver: ours vs BullMQ vs bee-queue on one Redis (REDIS_URL). `npm run bench`
// starts a private redis-server for it. Prints a markdown table of medians (each figure with
// its ratio to BullMQ's, and a column of the classes peer's ratio to the coordinator's) and
// writes bench/last-run.json.
//
// Our peers: `ours` (the coordinator: enqueueJob / enqueueBulk / registerWorker at default
// options), `ours-prefetch` (the same with `prefetch: 'auto'` on the worker) and
// `ours-classes` (our Queue and Worker driven exactly as the bullmq peer drives BullMQ's).
//
// Environment:
//   BENCH_JOBS=50000         jobs per scenario (enqueue-*, process-c100, retry)
//   BENCH_C1_JOBS            jobs for process-c1 (default: BENCH_JOBS, at most 10,000)
//   BENCH_REPS=3             repetitions of each scenario per peer
//   BENCH_ONLY=a,b           only these scenarios
//   BENCH_PEERS=ours,bullmq  only these peers (default all: ours, ours-prefetch, ours-classes,
//                            bullmq, bee-queue)
//   BENCH_LATENCY_RATE=2000  e2e-latency: jobs/s offered
//   BENCH_LATENCY_SECONDS=10 e2e-latency: seconds of offered load
//   BENCH_PRIVATE=1          the Redis server is ours: CONFIG RESETSTAT is allowed even on 6379

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const v8 = require('node:v8');
const vm = require('node:vm');

const { RedisProbe } = require('./redis-probe');
const { SCENARIOS, BULK_CHUNK, LATENCY_CONCURRENCY } = require('./scenarios');
const { medians, markdownTable, runSummary } = require('./report');

const PEERS = {
  ours: () => require('./peers/ours'),
  'ours-prefetch': () => require('./peers/ours').prefetch,
  'ours-classes': () => require('./peers/ours-classes'),
  bullmq: () => require('./peers/bullmq'),
  'bee-queue': () => require('./peers/bee-queue'),
};
const RUN_TIMEOUT_MS = 10 * 60 * 1000;
const CLOSE_TIMEOUT_MS = 30 * 1000;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc'); // collect between runs so one peer's garbage is not the next one's cost

function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

function listEnv(name, known) {
  const raw = process.env[name];
  if (!raw) return known;
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = list.filter((x) => !known.includes(x));
  if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return known.filter((x) => list.includes(x)); // keep the canonical order
}

function readConfig() {
  const jobs = intEnv('BENCH_JOBS', 50000);
  return {
    url: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    jobs,
    c1Jobs: intEnv('BENCH_C1_JOBS', Math.min(jobs, 10000)),
    reps: intEnv('BENCH_REPS', 3),
    latencyRate: intEnv('BENCH_LATENCY_RATE', 2000),
    latencySeconds: intEnv('BENCH_LATENCY_SECONDS', 10),
    scenarios: listEnv('BENCH_ONLY', SCENARIOS.map((s) => s.name)),
    peers: listEnv('BENCH_PEERS', Object.keys(PEERS)),
  };
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const log = (msg) => process.stderr.write(`${msg}\n`);

async function runOne(peerModule, scenario, rep, ctx) {
  const prefix = `${ctx.keyBase}-${peerModule.name}`;
  const peer = peerModule.create({ url: ctx.cfg.url, prefix, queue: `${scenario.name}-r${rep + 1}` });
  let result;
  try {
    await peer.open();
    result = await withTimeout(scenario.run(peer, { ...ctx, jobs: scenario.jobCount }), RUN_TIMEOUT_MS, 'run');
  } catch (err) {
    result = { error: err && err.message ? err.message : String(err) };
  }
  try {
    await withTimeout(peer.close(), CLOSE_TIMEOUT_MS, 'close');
  } catch (err) {
    log(`  ${peerModule.name}: close failed: ${err.message}`);
  }
  await ctx.probe.deleteKeys(prefix);
  return result;
}

async function main() {
  const cfg = readConfig();
  const probe = new RedisProbe(cfg.url);
  const server = await probe.serverInfo();
  const keyBase = `bench-${crypto.randomBytes(4).toString('hex')}`;
  const notes = [];

  const peers = [];
  const skipped = {};
  for (const name of cfg.peers) {
    const mod = PEERS[name]();
    if (mod.unavailable) {
      skipped[name] = mod.unavailable;
      log(`${name}: skipped, the package cannot be loaded (${mod.unavailable})`);
      notes.push(`${name} skipped: ${mod.unavailable}`);
    } else {
      peers.push(mod);
    }
  }
  if (!cfg.peers.includes('bullmq')) notes.push('BullMQ not in the run, so no ratios are shown.');

  const scenarios = SCENARIOS.filter((s) => cfg.scenarios.includes(s.name)).map((s) => {
    const jobCount = s.jobs(cfg);
    return { ...s, jobCount, label: `(${jobCount.toLocaleString('en-US')} jobs)` };
  });

  log(
    `Redis ${server.version} at ${cfg.url}${probe.canResetStats ? '' : ' (shared server: deltas only, no CONFIG RESETSTAT)'}; ` +
      `peers ${peers.map((p) => p.name).join(', ') || 'none'}; ${cfg.reps} rep(s); key prefix ${keyBase}-*`,
  );
  const startedAt = new Date().toISOString();
  const ctx = { cfg, probe, gc, keyBase };
  const results = {};
  for (const scenario of scenarios) {
    results[scenario.name] = {};
    for (const name of cfg.peers) {
      results[scenario.name][name] = skipped[name] ? { skipped: true, runs: [] } : { runs: [] };
    }
    for (let rep = 0; rep < cfg.reps; rep++) {
      // Alternate the peers, rotating who goes first each repetition.
      const order = peers.map((_, i) => peers[(i + rep) % peers.length]);
      for (const peerModule of order) {
        const result = await runOne(peerModule, scenario, rep, ctx);
        results[scenario.name][peerModule.name].runs.push(result);
        log(`[${scenario.name} ${rep + 1}/${cfg.reps}] ${peerModule.name}: ${runSummary(scenario, result)}`);
      }
    }
    for (const entry of Object.values(results[scenario.name])) entry.median = medians(entry.runs);
  }
  await probe.close();

  notes.push(
    `Ratios are each figure ÷ BullMQ's: above 1× is better for throughput, below 1× is better for latency, memory, CPU and commands.`,
    ...(cfg.peers.includes('ours') && (cfg.peers.includes('ours-classes') || cfg.peers.includes('ours-prefetch'))
      ? [
          'ours = the coordinator (enqueueJob, enqueueBulk, registerWorker) at default worker options (no prefetch, as BullMQ); ' +
            "ours-prefetch = the same with prefetch: 'auto'; ours-classes = our Queue and Worker driven exactly as the bullmq peer drives BullMQ's. " +
            'The last columns give ours-classes ÷ ours and ours-prefetch ÷ ours.',
        ]
      : []),
    `Bulk calls carry ${BULK_CHUNK} jobs; enqueue-single keeps at most 100 add calls in flight.`,
    `process-*/retry: time from worker start until every job completed, no-op async processor; retry and process-c100 run concurrency 100.`,
    ...(cfg.c1Jobs < cfg.jobs && cfg.scenarios.includes('process-c1')
      ? [`process-c1 uses ${cfg.c1Jobs.toLocaleString('en-US')} jobs rather than ${cfg.jobs.toLocaleString('en-US')} to keep the run short (BENCH_C1_JOBS overrides).`]
      : []),
    `e2e-latency: ${cfg.latencyRate} jobs/s for ${cfg.latencySeconds} s into a concurrency-${LATENCY_CONCURRENCY} worker, enqueue to processor start.`,
    `memory: 10,000 waiting jobs with 200-byte JSON data; Redis memory = (used_memory after − before) / jobs, which also moves with the keyspace's hash table resizing (about ±25 B/job between runs); key bytes = sum of MEMORY USAGE (SAMPLES 0) over the peer's keys / jobs.`,
    ...(cfg.peers.includes('bee-queue')
      ? [
          `bee-queue retry uses .retries(1).backoff('immediate'): its backoff('fixed', 0) throws (delay must be > 0); 'immediate' retries with delay 0.`,
          `bee-queue producer: getEvents and storeJobs off (BullMQ's Queue keeps neither); worker at defaults.`,
        ]
      : []),
    'CPU figures are per 1,000 jobs: Node = process.cpuUsage() of this process (native threads included), Redis = used_cpu_user + used_cpu_sys.',
    "Redis commands / job = INFO commandstats calls delta ÷ jobs, the benchmark's own INFO calls excluded; Redis counts commands run inside Lua scripts too (script invocations alone: scriptCallsPerJob in last-run.json).",
  );
  if (!probe.canResetStats) notes.push('Shared Redis server (port 6379): other clients may add to the Redis CPU and command figures.');

  const table = markdownTable(scenarios, cfg.peers, results);
  const versions = Object.fromEntries(peers.map((p) => [p.name, p.version]));
  const cpus = os.cpus();
  const report = [
    `## Job queue benchmark: median of ${cfg.reps} run(s)`,
    '',
    `${cpus[0] ? cpus[0].model : 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, Redis ${server.version}; ` +
      Object.entries(versions).map(([n, v]) => `${n} ${v}`).join(', '),
    '',
    table,
    '',
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
  process.stdout.write(`\n${report}\n`);

  const out = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpuModel: cpus[0] ? cpus[0].model : null,
      cores: cpus.length,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      totalMemBytes: os.totalmem(),
      redisVersion: server.version,
      redisPrivate: probe.canResetStats,
    },
    versions,
    config: { ...cfg, url: undefined },
    skipped,
    notes,
    results: Object.fromEntries(
      scenarios.map((s) => [s.name, { jobs: s.jobCount, figures: s.figures.map((f) => f.key), peers: results[s.name] }]),
    ),
  };
  const file = path.join(__dirname, 'last-run.json');
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  log(`wrote ${path.relative(process.cwd(), file)}`);

  // Everything is closed, so the process should now exit by itself; say so if it does not.
  setTimeout(() => {
    log(`warning: still running 15 s after the benchmark finished; open: ${process.getActiveResourcesInfo().join(', ')}`);
    process.exit(process.exitCode || 0);
  }, 15000).unref();
}

main().catch((err) => {
  log(`bench: ${err.stack || err.message}`);
  process.exit(1);
});
