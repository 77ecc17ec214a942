#!/usr/bin/env node
'use strict';
// `npm run soak`: the soak run. Producer and worker processes push `--jobs` jobs (default
// 1,000,000) through a private redis-server over `--duration` seconds (default 600) with
// removeOnComplete; every `--sample` seconds (5) it records each process's RSS, heap and
// active handles, Redis's used_memory and connected clients, and the jobs done. It fails when
// not every job was processed, or when a curve keeps growing: the mean of the last quarter of
// samples against the mean of the second quarter (after warm-up), beyond both a ratio and a
// floor (see LIMITS). It writes the samples (JSON) and a plot (SVG) to `--out` (a directory,
// default the temp dir).
//   node chaos/soak.js [--duration S] [--jobs N] [--producers N] [--workers N]
//                      [--concurrency N] [--sample S] [--port P] [--out DIR]

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fork } = require('node:child_process');
const Redis = require('ioredis');
const { RedisServer, freePort, sleep } = require('./redis');

/** A curve "keeps growing" when its late mean exceeds its early mean by both. */
const LIMITS = {
  rss: { ratio: 1.5, floor: 64 * 2 ** 20 },
  heap: { ratio: 1.5, floor: 32 * 2 ** 20 },
  usedMemory: { ratio: 1.5, floor: 32 * 2 ** 20 },
  handles: { ratio: 1.5, floor: 20 },
  clients: { ratio: 1.5, floor: 5 },
};

function parse(argv) {
  const o = { durationS: 600, jobs: 1_000_000, producers: 2, workers: 2, concurrency: 100, sampleS: 5, port: 0, out: os.tmpdir() };
  for (let i = 0; i < argv.length; i++) {
    const v = () => argv[++i];
    const a = argv[i];
    if (a === '--duration') o.durationS = Number(v());
    else if (a === '--jobs') o.jobs = Number(v());
    else if (a === '--producers') o.producers = Number(v());
    else if (a === '--workers') o.workers = Number(v());
    else if (a === '--concurrency') o.concurrency = Number(v());
    else if (a === '--sample') o.sampleS = Number(v());
    else if (a === '--port') o.port = Number(v());
    else if (a === '--out') o.out = v();
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** Early (second quarter) and late (last quarter) means of `values`, and whether it grew. */
function growth(values, { ratio, floor }) {
  const n = values.length;
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const early = mean(values.slice(Math.floor(n / 4), Math.floor(n / 2)));
  const late = mean(values.slice(Math.floor((3 * n) / 4)));
  return { early, late, grew: n >= 8 && late > early * ratio && late - early > floor };
}

/** Four panels (MiB of RSS and heap of all processes, Redis used_memory; handles; clients;
 * jobs done per second) as one SVG. */
function svg(samples, title) {
  const W = 720;
  const H = 170;
  const panels = [
    { label: 'Node RSS (MiB, all processes)', y: (s) => s.rss / 2 ** 20, color: '#1f77b4', second: { label: 'heap', y: (s) => s.heap / 2 ** 20, color: '#aec7e8' } },
    { label: 'Redis used_memory (MiB)', y: (s) => s.usedMemory / 2 ** 20, color: '#d62728' },
    { label: 'active handles (all processes) / Redis clients', y: (s) => s.handles, color: '#2ca02c', second: { label: 'clients', y: (s) => s.clients, color: '#98df8a' } },
    { label: 'jobs completed per second', y: (s) => s.rate, color: '#9467bd' },
  ];
  const t0 = samples[0]?.t ?? 0;
  const tMax = Math.max(1, ...samples.map((s) => s.t - t0));
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H * panels.length + 30}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="18" font-size="13">${title}</text>`];
  panels.forEach((p, k) => {
    const top = 30 + k * H;
    const series = [p, p.second].filter(Boolean);
    const yMax = Math.max(1e-9, ...series.flatMap((q) => samples.map(q.y))) * 1.1;
    const x = (s) => 50 + ((s.t - t0) / tMax) * (W - 70);
    const y = (v) => top + H - 25 - (v / yMax) * (H - 45);
    parts.push(`<rect x="50" y="${top + 20}" width="${W - 70}" height="${H - 45}" fill="none" stroke="#ccc"/>`);
    parts.push(`<text x="50" y="${top + 14}">${p.label}${p.second ? ` (light: ${p.second.label})` : ''}</text>`);
    parts.push(`<text x="4" y="${top + 28}">${yMax.toFixed(yMax < 10 ? 1 : 0)}</text><text x="4" y="${top + H - 25}">0</text>`);
    for (const q of series) {
      const pts = samples.map((s) => `${x(s).toFixed(1)},${y(q.y(s)).toFixed(1)}`).join(' ');
      parts.push(`<polyline fill="none" stroke="${q.color}" stroke-width="1.5" points="${pts}"/>`);
    }
    parts.push(`<text x="${W - 60}" y="${top + H - 10}">${(tMax / 1000).toFixed(0)} s</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

async function main() {
  const o = parse(process.argv.slice(2));
  const port = await freePort(o.port);
  const server = new RedisServer({ port, aof: false });
  fs.mkdirSync(o.out, { recursive: true });
  const children = [];
  const stats = new Map(); // pid -> last sample
  const errors = [];
  let producedAll = 0;
  let admin;
  const say = (m) => console.error(`soak: ${m}`);
  try {
    await server.start();
    admin = new Redis(server.url);
    const base = { url: server.url, queue: 'soak', prefix: 'soak', sampleMs: Math.min(1000, o.sampleS * 1000) };
    const spawnChild = (cfg) => {
      const c = fork(path.join(__dirname, 'soak-child.js'), [], { env: { ...process.env, SOAK: JSON.stringify({ ...base, ...cfg }) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      c.exited = new Promise((r) => c.once('exit', (code, signal) => r({ code, signal })));
      c.on('message', (m) => {
        if (m.type === 'sample') stats.set(c.pid, m);
        else if (m.type === 'error') errors.push(m.message);
        else if (m.type === 'produced') producedAll += m.done;
      });
      children.push(c);
      return c;
    };
    const workers = Array.from({ length: o.workers }, () => spawnChild({ role: 'worker', concurrency: o.concurrency }));
    const per = Math.ceil(o.jobs / o.producers);
    const producers = Array.from({ length: o.producers }, (_, p) => {
      const count = Math.min(per, o.jobs - p * per);
      return spawnChild({ role: 'producer', count, rate: count / o.durationS });
    });
    say(`${o.jobs} jobs over ${o.durationS} s: ${o.producers} producers, ${o.workers} workers x ${o.concurrency}, redis on ${port}`);
    const samples = [];
    const t0 = Date.now();
    let lastDone = 0;
    let lastT = t0;
    const deadline = t0 + o.durationS * 1000 + 120000; // the run, then two minutes to catch up
    for (;;) {
      await sleep(o.sampleS * 1000);
      const mem = await admin.info('memory');
      const cli = await admin.info('clients');
      const workerDone = workers.reduce((a, w) => a + (stats.get(w.pid)?.done ?? 0), 0);
      const all = [...stats.values()];
      const now = Date.now();
      const s = {
        t: now,
        rss: all.reduce((a, x) => a + x.rss, 0),
        heap: all.reduce((a, x) => a + x.heap, 0),
        handles: all.reduce((a, x) => a + x.handles, 0),
        usedMemory: Number(/used_memory:(\d+)/.exec(mem)[1]),
        clients: Number(/connected_clients:(\d+)/.exec(cli)[1]),
        done: workerDone,
        rate: ((workerDone - lastDone) * 1000) / (now - lastT),
      };
      lastDone = workerDone;
      lastT = now;
      samples.push(s);
      say(`${((now - t0) / 1000).toFixed(0)} s: done ${workerDone}, ${s.rate.toFixed(0)}/s, rss ${(s.rss / 2 ** 20).toFixed(0)} MiB, heap ${(s.heap / 2 ** 20).toFixed(0)} MiB, redis ${(s.usedMemory / 2 ** 20).toFixed(1)} MiB, handles ${s.handles}, clients ${s.clients}`);
      if (workerDone >= o.jobs || now > deadline) break;
    }
    // stop by pid: producers are done (or out of time), workers close, each within 10 s
    const stop = async (c, how) => {
      how(c);
      const t = setTimeout(() => c.kill('SIGKILL'), 10000);
      await c.exited;
      clearTimeout(t);
    };
    await Promise.all([
      ...producers.map((p) => stop(p, () => {})),
      ...workers.map((w) => stop(w, () => w.connected && w.send('close'))),
    ]);
    const elapsedS = (samples[samples.length - 1].t - t0) / 1000;
    const done = samples[samples.length - 1].done;
    const curves = Object.fromEntries(Object.entries(LIMITS).map(([k, lim]) => [k, growth(samples.map((s) => s[k]), lim)]));
    const grew = Object.entries(curves).filter(([, g]) => g.grew).map(([k]) => k);
    const result = {
      jobs: o.jobs,
      produced: producedAll,
      completed: done,
      seconds: Number(elapsedS.toFixed(1)),
      jobsPerSecond: Math.round(done / elapsedS),
      processes: { producers: o.producers, workers: o.workers, concurrency: o.concurrency },
      curves,
      grew,
      errors: errors.slice(0, 20),
      pass: done >= o.jobs && grew.length === 0,
      samples,
    };
    const title = `soak: ${done} jobs in ${elapsedS.toFixed(0)} s (${result.jobsPerSecond}/s), ${o.producers} producers, ${o.workers} workers x ${o.concurrency}: ${result.pass ? 'PASS' : 'FAIL'}`;
    fs.writeFileSync(path.join(o.out, 'soak.json'), JSON.stringify(result, null, 2));
    fs.writeFileSync(path.join(o.out, 'soak.svg'), svg(samples, title));
    console.log(title);
    for (const [k, g] of Object.entries(curves)) console.log(`  ${k}: early ${g.early.toFixed(0)}, late ${g.late.toFixed(0)}${g.grew ? '  GREW' : ''}`);
    console.log(`  samples: ${path.join(o.out, 'soak.json')}, plot: ${path.join(o.out, 'soak.svg')}`);
    return result.pass;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (admin) admin.disconnect();
    await server.stop();
  }
}

main().then(
  (pass) => process.exit(pass ? 0 : 1),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
