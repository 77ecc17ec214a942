'use strict';
// The shards benchmark (`npm run bench:shards`): N queues at once, each with its producer and
// its worker, on a Redis Cluster of M masters against the same queues on one redis-server,
// for this package's coordinator and for BullMQ 6, in one run. It starts its own servers
// (loopback, free ports, stopped by pid) and prints a markdown table of medians: throughput,
// the ratio cluster ÷ one server per peer and ours ÷ BullMQ per topology, and where the CPU
// went (the client processes, every Redis server, the busiest one, the whole machine). It
// writes bench/last-shards.json. The producers and workers run in client processes
// (bench/shards-client.js, forked per run); this process only starts servers and measures.
//
// The queues are named `{sh<k>}`: the hash tag is the whole name, so a queue's keys share a
// slot, and k is chosen so the queues spread evenly over the masters (the driver asks the
// cluster which master serves each candidate and reports the placement).
//
// Environment:
//   BENCH_SHARDS_QUEUES=6       queues
//   BENCH_SHARDS_MASTERS=3      cluster masters
//   BENCH_SHARDS_REPLICAS=0     replicas per master; the single server gets as many, so both
//                               sides replicate each write the same number of times
//   BENCH_SHARDS_AOF=no         appendonly on every server: no, everysec or always
//   BENCH_SHARDS_CONCURRENCY=100  concurrency of each queue's worker
//   BENCH_SHARDS_PROCS=1        client processes; queue i is driven by process i % PROCS
//   BENCH_JOBS=120000           jobs per phase over all queues (rounded down to a multiple of N)
//   BENCH_REPS=3                repetitions of each (peer, topology)
//   BENCH_PEERS=ours,bullmq     peers

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const v8 = require('node:v8');
const vm = require('node:vm');
const { performance } = require('node:perf_hooks');
const { fork } = require('node:child_process');

const Redis = require('ioredis');
const { RedisProbe } = require('./redis-probe');
const { BULK_CHUNK } = require('./scenarios');
const { medians, FORMATS } = require('./report');
const { PEERS } = require('./shards-peers');
const { startCluster, until, withNode } = require('../scripts/redis-topology');
const { RedisServer, freePort } = require('../chaos/redis');

const RUN_TIMEOUT_MS = 10 * 60 * 1000;
const CLOSE_TIMEOUT_MS = 30 * 1000;
const TOPOLOGIES = ['single', 'cluster'];

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const log = (msg) => process.stderr.write(`${msg}\n`);

function intEnv(name, fallback, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${raw}`);
  return n;
}

function readConfig() {
  const queues = intEnv('BENCH_SHARDS_QUEUES', 6);
  const jobs = intEnv('BENCH_JOBS', 120000);
  const aof = process.env.BENCH_SHARDS_AOF || 'no';
  if (!['no', 'everysec', 'always'].includes(aof)) throw new Error(`BENCH_SHARDS_AOF must be no, everysec or always, got ${aof}`);
  const peers = (process.env.BENCH_PEERS || 'ours,bullmq').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = peers.filter((p) => !PEERS[p]);
  if (unknown.length) throw new Error(`BENCH_PEERS: unknown ${unknown.join(', ')} (known: ${Object.keys(PEERS).join(', ')})`);
  const perQueue = Math.floor(jobs / queues);
  if (perQueue < 1) throw new Error(`BENCH_JOBS (${jobs}) must be at least BENCH_SHARDS_QUEUES (${queues})`);
  return {
    queues,
    masters: intEnv('BENCH_SHARDS_MASTERS', 3),
    replicas: intEnv('BENCH_SHARDS_REPLICAS', 0, 0),
    aof,
    concurrency: intEnv('BENCH_SHARDS_CONCURRENCY', 100),
    procs: intEnv('BENCH_SHARDS_PROCS', 1),
    perQueue,
    jobs: perQueue * queues,
    reps: intEnv('BENCH_REPS', 3),
    peers: Object.keys(PEERS).filter((p) => peers.includes(p)),
  };
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Busy and total jiffies of the whole machine (Linux /proc/stat), or null elsewhere. */
function machineCpu() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = f[3] + (f[4] || 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** One redis-server (plus `replicas` replicas) on loopback; the "one server" side. */
async function startSingle({ replicas, aof }) {
  const persist = aof !== 'no';
  const port = await freePort();
  const master = new RedisServer({ port, aof: persist, fsync: persist ? aof : 'everysec' });
  const reps = [];
  try {
    await master.start();
    for (let i = 0; i < replicas; i++) {
      const r = new RedisServer({ port: await freePort(), aof: persist, fsync: persist ? aof : 'everysec', args: ['--replicaof', '127.0.0.1', String(port)] });
      reps.push(r);
      await r.start();
    }
    await until(async () => {
      const info = await withNode(port, (c) => c.call('INFO', 'replication'));
      return Number(/connected_slaves:(\d+)/.exec(info)?.[1]) === replicas;
    }, 30000, 'replicas connected');
  } catch (err) {
    await Promise.all([master, ...reps].map((s) => s.stop()));
    throw err;
  }
  return {
    kind: 'single',
    target: { kind: 'single', url: `redis://127.0.0.1:${port}` },
    servers: [{ port, role: 'master' }, ...reps.map((r) => ({ port: r.port, role: 'replica' }))],
    stop: () => Promise.all([master, ...reps].map((s) => s.stop())),
  };
}

async function startClusterTopology({ masters, replicas, aof }) {
  // a long node timeout: a master starved of CPU for a moment must not be voted down mid-run
  const cluster = await startCluster({ masters, replicas, aof: aof === 'no' ? false : aof, nodeTimeout: 15000 });
  const shards = await cluster.shards();
  return {
    kind: 'cluster',
    cluster,
    shards,
    target: { kind: 'cluster', nodes: cluster.nodes },
    servers: shards.flatMap((s) => [{ port: s.master, role: 'master' }, ...s.replicas.map((port) => ({ port, role: 'replica' }))]),
    stop: () => cluster.stop(),
  };
}

/**
 * `count` queue names `{sh<k>}`, k from 0 up, each taken only while its master serves fewer
 * than its share (ceil(count / masters)), so the queues spread evenly. Returns the names and
 * the master port of each.
 */
async function placeQueues(topo, count) {
  const masters = topo.shards.map((s) => s.master);
  const share = Math.ceil(count / masters.length);
  const load = new Map(masters.map((m) => [m, 0]));
  const names = [];
  const masterOf = [];
  const c = new Redis({ host: '127.0.0.1', port: masters[0] });
  try {
    for (let k = 0; names.length < count; k++) {
      if (k > 10000) throw new Error('could not spread the queues over the masters');
      const name = `{sh${k}}`;
      const slot = await c.call('CLUSTER', 'KEYSLOT', name);
      const master = topo.shards.find((s) => s.slots.some(([a, b]) => slot >= a && slot <= b)).master;
      if (load.get(master) >= share) continue;
      load.set(master, load.get(master) + 1);
      names.push(name);
      masterOf.push(master);
    }
  } finally {
    c.disconnect();
  }
  return { names, masterOf };
}

/** A probe per server of a topology: INFO snapshots, DBSIZE, FLUSHALL between runs. */
class TopologyProbe {
  constructor(topo) {
    this.servers = topo.servers.map((s) => ({ ...s, probe: new RedisProbe(`redis://127.0.0.1:${s.port}`) }));
  }

  async snapshot() {
    return {
      servers: await Promise.all(this.servers.map((s) => s.probe.snapshot())),
      machine: machineCpu(),
    };
  }

  resetStats() {
    return Promise.all(this.servers.map((s) => s.probe.cmd('CONFIG', 'RESETSTAT')));
  }

  /** Keys held by each master. */
  async keysPerMaster() {
    const out = {};
    for (const s of this.servers.filter((x) => x.role === 'master')) out[s.port] = Number(await s.probe.cmd('DBSIZE'));
    return out;
  }

  /** Empties every master (the servers are the benchmark's own); replicas follow. */
  async flush() {
    await Promise.all(this.servers.filter((s) => s.role === 'master').map((s) => s.probe.cmd('FLUSHALL', 'SYNC')));
  }

  close() {
    return Promise.all(this.servers.map((s) => s.probe.close()));
  }
}

/** Runs `fn` (which resolves with the client processes' CPU ms) and reports wall time, the
 * clients' CPU, each Redis server's CPU and commands, and the machine's CPU. Percentages are
 * of one core, but the machine's (of all cores). */
async function measure(probe, jobs, fn) {
  gc();
  await probe.resetStats();
  const before = await probe.snapshot();
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const nodeMs = await fn();
  const ms = performance.now() - t0;
  const own = process.cpuUsage(own0);
  const after = await probe.snapshot();
  const perServer = probe.servers.map((s, i) => {
    const d = RedisProbe.delta(before.servers[i], after.servers[i]);
    return { port: s.port, role: s.role, cpuMs: d.redisCpuMs, pct: (d.redisCpuMs / ms) * 100, commands: d.commands };
  });
  const redisMs = perServer.reduce((a, s) => a + s.cpuMs, 0);
  const machine =
    before.machine && after.machine
      ? ((after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)) * 100
      : null;
  const cores = os.cpus().length;
  // what else ran on the machine meanwhile: busy time less the clients, Redis and this driver
  const driverMs = (own.user + own.system) / 1000;
  const otherPct = machine === null ? null : Math.max(0, (machine * cores) - ((nodeMs + redisMs + driverMs) / ms) * 100);
  return {
    jobs,
    seconds: ms / 1000,
    jobsPerSec: jobs / (ms / 1000),
    nodeCpuPct: (nodeMs / ms) * 100,
    nodeCpuMsPer1k: (nodeMs * 1000) / jobs,
    redisCpuMsPer1k: (redisMs * 1000) / jobs,
    redisSumPct: (redisMs / ms) * 100,
    redisMaxPct: Math.max(...perServer.map((s) => s.pct)),
    machineBusyPct: machine,
    otherCpuPct: otherPct,
    cmdsPerJob: perServer.reduce((a, s) => a + s.commands, 0) / jobs,
    perServer,
  };
}

/** The client processes of one run: `procs` forks of shards-client.js, queue i going to
 * client i % procs. `all(msg, reply)` sends msg to each and waits for `reply` from every one. */
const liveClients = new Set(); // for the signal handler

class Clients {
  constructor(procs) {
    this.children = Array.from({ length: procs }, () => fork(path.join(__dirname, 'shards-client.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    this.exits = this.children.map((c) => new Promise((resolve) => c.once('exit', resolve)));
    // a send to a client that is gone fails that call (below), not the process
    for (const c of this.children) c.on('error', () => {});
    liveClients.add(this);
  }

  /** SIGKILLs, by pid, every client still running. */
  kill() {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
  }

  /** Sends `msgs[i]` (or `msg` to all) and resolves with every client's reply of type `want`. */
  all(msg, want, ms = RUN_TIMEOUT_MS) {
    const msgs = Array.isArray(msg) ? msg : this.children.map(() => msg);
    return withTimeout(
      Promise.all(
        this.children.map(
          (c, i) =>
            new Promise((resolve, reject) => {
              const onMessage = (reply) => {
                c.off('message', onMessage);
                c.off('exit', onExit);
                if (reply.type === want) resolve(reply);
                else reject(new Error(reply.message || `client answered ${reply.type}, expected ${want}`));
              };
              const onExit = (code, signal) => reject(new Error(`client exited (${signal || code}) before answering ${msgs[i].type}`));
              c.on('message', onMessage);
              c.once('exit', onExit);
              if (!c.connected) return onExit(c.exitCode, c.signalCode);
              c.send(msgs[i], (err) => err && reject(err));
            }),
        ),
      ),
      ms,
      msgs[0].type,
    );
  }

  /** Asks each client to close and exit; kills (by pid) any that has not within the timeout. */
  async close() {
    let warnings = [];
    try {
      const replies = await this.all({ type: 'close' }, 'closed', CLOSE_TIMEOUT_MS);
      warnings = replies.flatMap((r) => r.warnings);
    } catch (err) {
      log(`  close failed: ${err.message}`);
    }
    const deadline = setTimeout(() => this.kill(), 5000);
    await Promise.all(this.exits);
    clearTimeout(deadline);
    liveClients.delete(this);
    return warnings;
  }
}

/** Adds up the clients' warnings ([message, count] pairs) by message. */
function mergeWarnings(list) {
  const m = new Map();
  for (const [msg, n] of list) m.set(msg, (m.get(msg) || 0) + n);
  return [...m.entries()];
}

async function runOne(peerModule, topo, probe, queues, cfg) {
  const prefix = `bsh-${crypto.randomBytes(3).toString('hex')}-${peerModule.name}`;
  const procs = Math.min(cfg.procs, queues.length);
  const share = Array.from({ length: procs }, (_, c) => queues.filter((_, i) => i % procs === c));
  const clients = new Clients(procs);
  const out = {};
  try {
    await clients.all(
      share.map((qs) => ({ type: 'open', peer: peerModule.name, target: topo.target, prefix, queues: qs, perQueue: cfg.perQueue, concurrency: cfg.concurrency })),
      'opened',
    );
    const phase = async (type, expected) => {
      let cpuMs = 0;
      const m = await measure(probe, cfg.jobs, async () => {
        const replies = await clients.all({ type }, 'done');
        cpuMs = replies.reduce((a, r) => a + r.cpuMs, 0);
        return cpuMs;
      });
      await clients.all({ type: 'check', expected }, 'checked');
      return m;
    };
    out.enqueue = await phase('enqueue', { waiting: cfg.perQueue });
    out.keysPerMaster = await probe.keysPerMaster();
    out.process = await phase('process', { completed: cfg.perQueue, failed: 0, waiting: 0, active: 0 });
  } catch (err) {
    out.error = err && err.message ? err.message : String(err);
  }
  out.warnings = mergeWarnings(await clients.close());
  await probe.flush();
  return out;
}

const pct = (v) => `${v.toFixed(0)}%`;
const PHASES = ['enqueue', 'process'];
const FIGURES = [
  { key: 'jobsPerSec', label: 'throughput', fmt: FORMATS.rate, ratio: true },
  { key: 'nodeCpuPct', label: 'Node CPU, clients (% of a core)', fmt: pct },
  { key: 'redisSumPct', label: 'Redis CPU, all servers (% of a core)', fmt: pct },
  { key: 'redisMaxPct', label: 'Redis CPU, busiest server (% of a core)', fmt: pct },
  { key: 'machineBusyPct', label: 'machine CPU busy (% of all cores)', fmt: pct },
  { key: 'otherCpuPct', label: 'other processes (% of a core)', fmt: pct },
  { key: 'redisCpuMsPer1k', label: 'Redis CPU / 1k jobs, all servers', fmt: FORMATS.ms, ratio: true },
  { key: 'nodeCpuMsPer1k', label: 'Node CPU / 1k jobs', fmt: FORMATS.ms, ratio: true },
];

function ratioText(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '–';
  return `${(a / b).toFixed(2)}×`;
}

/** Median per (peer, topology, phase), from the runs that did not fail. */
function summarise(results, peers) {
  const m = {};
  for (const p of peers) {
    m[p] = {};
    for (const t of TOPOLOGIES) {
      const runs = results[p][t];
      const ok = runs.filter((r) => !r.error);
      m[p][t] = { runs: runs.length, ok: ok.length };
      for (const ph of PHASES) m[p][t][ph] = medians(ok.map((r) => r[ph]).filter(Boolean));
    }
  }
  return m;
}

function markdownTable(summary, peers) {
  const heads = [];
  for (const p of peers) heads.push(`${p} 1 server`, `${p} cluster`, `${p} cluster ÷ 1 server`);
  const both = peers.includes('ours') && peers.includes('bullmq');
  if (both) heads.push('ours ÷ bullmq, 1 server', 'ours ÷ bullmq, cluster');
  const lines = [`| phase | figure | ${heads.join(' | ')} |`, `|---|---|${heads.map(() => '---:').join('|')}|`];
  for (const ph of PHASES) {
    FIGURES.forEach((f, i) => {
      const cells = [];
      const val = (p, t) => summary[p][t][ph]?.[f.key];
      const show = (p, t) => {
        const s = summary[p][t];
        const v = val(p, t);
        if (typeof v !== 'number' || !Number.isFinite(v)) return s.ok === 0 ? 'failed' : '–';
        return f.fmt(v) + (s.ok < s.runs ? ` [${s.ok}/${s.runs} runs ok]` : '');
      };
      for (const p of peers) cells.push(show(p, 'single'), show(p, 'cluster'), ratioText(val(p, 'cluster'), val(p, 'single')));
      if (both) {
        cells.push(f.ratio ? ratioText(val('ours', 'single'), val('bullmq', 'single')) : '', f.ratio ? ratioText(val('ours', 'cluster'), val('bullmq', 'cluster')) : '');
      }
      lines.push(`| ${i === 0 ? `**${ph}**` : ''} | ${f.label} | ${cells.join(' | ')} |`);
    });
  }
  return lines.join('\n');
}

async function main() {
  const cfg = readConfig();
  const peers = [];
  for (const name of cfg.peers) {
    if (PEERS[name].unavailable) log(`${name}: skipped, the package cannot be loaded (${PEERS[name].unavailable})`);
    else peers.push(PEERS[name]);
  }
  if (peers.length === 0) throw new Error('no peer can run');

  const topos = {};
  const stopAll = async () => {
    for (const t of Object.values(topos)) await t.stop().catch(() => {});
  };
  const onSignal = (sig) => {
    log(`${sig}: stopping the clients and the servers`);
    for (const c of liveClients) c.kill();
    stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const results = {};
  let placement;
  const startedAt = new Date().toISOString();
  let redisVersion;
  try {
    log(`starting one redis-server (+${cfg.replicas} replica(s)) and a ${cfg.masters}-master cluster (+${cfg.replicas} replica(s) each), appendonly ${cfg.aof}`);
    topos.single = await startSingle(cfg);
    topos.cluster = await startClusterTopology(cfg);
    const probes = { single: new TopologyProbe(topos.single), cluster: new TopologyProbe(topos.cluster) };
    redisVersion = (await probes.single.servers[0].probe.serverInfo()).version;
    placement = await placeQueues(topos.cluster, cfg.queues);
    const perMaster = {};
    placement.names.forEach((n, i) => (perMaster[placement.masterOf[i]] ||= []).push(n));
    log(`queues per master: ${Object.entries(perMaster).map(([port, names]) => `${port}: ${names.length} (${names.join(' ')})`).join('; ')}`);
    log(`${cfg.jobs.toLocaleString('en-US')} jobs per phase (${cfg.perQueue.toLocaleString('en-US')} per queue), worker concurrency ${cfg.concurrency}, ${Math.min(cfg.procs, cfg.queues)} client process(es), ${cfg.reps} rep(s)`);

    const combos = [];
    for (const p of peers) {
      results[p.name] = { single: [], cluster: [] };
      for (const t of TOPOLOGIES) combos.push([p, t]);
    }
    for (let rep = 0; rep < cfg.reps; rep++) {
      for (let i = 0; i < combos.length; i++) {
        const [peerModule, t] = combos[(i + rep) % combos.length];
        const r = await runOne(peerModule, topos[t], probes[t], placement.names, cfg);
        results[peerModule.name][t].push(r);
        const line = r.error
          ? `error: ${r.error}`
          : PHASES.map((ph) => `${ph} ${FORMATS.rate(r[ph].jobsPerSec)} (Redis max ${pct(r[ph].redisMaxPct)}, Node ${pct(r[ph].nodeCpuPct)})`).join(', ');
        log(`[${rep + 1}/${cfg.reps}] ${peerModule.name} ${t}: ${line}`);
        for (const [msg, n] of r.warnings) log(`    logged ${n}× ${msg}`);
      }
    }
    await Promise.all(Object.values(probes).map((p) => p.close()));
  } finally {
    await stopAll();
  }

  const peerNames = peers.map((p) => p.name);
  const summary = summarise(results, peerNames);
  const cpus = os.cpus();
  const perMaster = {};
  placement.names.forEach((n, i) => (perMaster[placement.masterOf[i]] ||= []).push(n));
  const keysRun = results[peerNames[0]].cluster.find((r) => r.keysPerMaster);
  const notes = [
    `${cfg.queues} queues, each with its own producer (bulk adds of ${BULK_CHUNK}) and its own worker (concurrency ${cfg.concurrency}, no-op processor), in ${Math.min(cfg.procs, cfg.queues)} client process(es); ${cfg.perQueue.toLocaleString('en-US')} jobs per queue per phase.`,
    `Cluster: ${cfg.masters} masters, ${cfg.replicas} replica(s) each; one server: ${cfg.replicas} replica(s); appendonly ${cfg.aof} everywhere. Queues per master: ${Object.values(perMaster).map((n) => `${n.length} (${n.join(', ')})`).join(' / ')}.`,
    ...(keysRun ? [`Keys per master after the enqueue phase (${peerNames[0]}, first run): ${Object.values(keysRun.keysPerMaster).join(' / ')}.`] : []),
    'enqueue: time until every queue holds its jobs; process: time from starting the workers until every job completed.',
    'Redis CPU = used_cpu_user + used_cpu_sys of each server over the phase; "% of a core" is CPU time ÷ wall time (100% = one core busy all along). Machine CPU busy is /proc/stat over the same time, as a share of all cores; other processes = that busy time less the clients, the Redis servers and the driver (work outside the benchmark).',
    `Everything (Node, every redis-server) shares this machine's ${cpus.length} cores, which bound the absolute figures: a cluster adds servers, not cores.`,
  ];
  for (const p of peerNames) {
    for (const t of TOPOLOGIES) {
      const w = mergeWarnings(results[p][t].flatMap((r) => r.warnings || []));
      if (w.length) notes.push(`${p} on ${t === 'single' ? 'one server' : 'the cluster'} logged, over its runs: ${w.map(([m, n]) => `${n}× ${m}`).join('; ')}.`);
    }
  }
  for (const p of peerNames) {
    for (const t of TOPOLOGIES) {
      for (const r of results[p][t]) if (r.error) notes.push(`${p} on ${t === 'single' ? 'one server' : 'the cluster'}: a run failed: ${r.error}`);
    }
  }
  const report = [
    `## Shards benchmark: median of ${cfg.reps} run(s)`,
    '',
    `${cpus[0] ? cpus[0].model : 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, Redis ${redisVersion}; ` +
      peers.map((p) => `${p.name} ${p.version}`).join(', '),
    '',
    markdownTable(summary, peerNames),
    '',
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
  process.stdout.write(`\n${report}\n`);

  const file = path.join(__dirname, 'last-shards.json');
  fs.writeFileSync(
    file,
    `${JSON.stringify(
      {
        startedAt,
        finishedAt: new Date().toISOString(),
        machine: { cpuModel: cpus[0] ? cpus[0].model : null, cores: cpus.length, node: process.version, platform: `${os.platform()} ${os.release()}`, redisVersion },
        versions: Object.fromEntries(peers.map((p) => [p.name, p.version])),
        config: cfg,
        placement: placement.names.map((name, i) => ({ queue: name, master: placement.masterOf[i] })),
        notes,
        summary,
        runs: results,
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${path.relative(process.cwd(), file)}`);
  setTimeout(() => {
    log(`warning: still running 15 s after the benchmark finished; open: ${process.getActiveResourcesInfo().join(', ')}`);
    process.exit(process.exitCode || 0);
  }, 15000).unref();
}

main().catch((err) => {
  log(`bench:shards: ${err.stack || err.message}`);
  process.exit(1);
});
