'use strict';
// The benchmark's own Redis connection: INFO snapshots (CPU, command counts, memory), key
// deletion by prefix, and per-key memory. Every command it sends is counted, so the deltas
// it reports exclude its own traffic.

const IORedis = require('ioredis');

function parseInfo(text) {
  const out = {};
  for (const line of text.split('\r\n')) {
    if (!line || line[0] === '#') continue;
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

/**
 * Sums `calls=` over INFO commandstats: every command, including those run inside Lua
 * scripts (Redis counts both), and separately the script invocations themselves.
 */
function callTotals(info) {
  let calls = 0;
  let scriptCalls = 0;
  for (const [key, value] of Object.entries(info)) {
    if (!key.startsWith('cmdstat_')) continue;
    const m = /(?:^|,)calls=(\d+)/.exec(value);
    if (!m) continue;
    calls += Number(m[1]);
    if (SCRIPT_COMMANDS.has(key.slice('cmdstat_'.length))) scriptCalls += Number(m[1]);
  }
  return { calls, scriptCalls };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class RedisProbe {
  constructor(url) {
    this.url = url;
    this.redis = new IORedis(url, { maxRetriesPerRequest: null });
    this.sent = 0; // commands this probe has sent
    const port = new URL(url).port || '6379';
    // CONFIG RESETSTAT only where we own the server.
    this.canResetStats = process.env.BENCH_PRIVATE === '1' || port !== '6379';
  }

  cmd(...args) {
    this.sent += 1;
    return this.redis.call(...args);
  }

  async info(section) {
    return parseInfo(await this.cmd('INFO', section));
  }

  async serverInfo() {
    const s = await this.info('server');
    return { version: s.redis_version, mode: s.redis_mode, os: s.os };
  }

  /** Redis CPU seconds and total command calls; `adminSent` is how many of our own commands
   * were sent before the commandstats read, so they can be subtracted. */
  async snapshot() {
    const cpu = await this.info('cpu');
    const adminSent = this.sent;
    const stats = await this.info('commandstats');
    return {
      cpuSec: Number(cpu.used_cpu_sys) + Number(cpu.used_cpu_user),
      ...callTotals(stats),
      adminSent,
    };
  }

  /** Redis CPU ms, commands (the probe's own excluded) and script calls between two
   * snapshots. */
  static delta(a, b) {
    return {
      redisCpuMs: (b.cpuSec - a.cpuSec) * 1000,
      commands: b.calls - a.calls - (b.adminSent - a.adminSent),
      scriptCalls: b.scriptCalls - a.scriptCalls,
    };
  }

  async resetStatsIfPrivate() {
    if (this.canResetStats) await this.cmd('CONFIG', 'RESETSTAT');
  }

  async memory() {
    const m = await this.info('memory');
    return { used: Number(m.used_memory), clients: Number(m.mem_clients_normal) };
  }

  /** Waits (up to `maxMs`) until client buffers are back to `baseline` bytes (+ slack), so a
   * memory reading does not include a big bulk command's query buffer. */
  async settleClientMemory(baseline, maxMs = 5000) {
    const deadline = Date.now() + maxMs;
    for (;;) {
      const m = await this.memory();
      if (m.clients <= baseline + 32 * 1024 || Date.now() > deadline) return m;
      await sleep(100);
    }
  }

  async *scanKeys(prefix) {
    let cursor = '0';
    do {
      const [next, keys] = await this.cmd('SCAN', cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) yield keys;
    } while (cursor !== '0');
  }

  /** Deletes every key under `prefix:` (DEL, not UNLINK, so memory is freed at once). */
  async deleteKeys(prefix) {
    let n = 0;
    for await (const keys of this.scanKeys(prefix)) {
      n += await this.cmd('DEL', ...keys);
    }
    return n;
  }

  /** Sum of MEMORY USAGE over every key under `prefix:`. */
  async keyBytes(prefix) {
    let total = 0;
    for await (const keys of this.scanKeys(prefix)) {
      const sizes = await Promise.all(keys.map((k) => this.cmd('MEMORY', 'USAGE', k, 'SAMPLES', '0')));
      for (const s of sizes) total += Number(s) || 0;
    }
    return total;
  }

  async close() {
    await this.redis.quit();
  }
}

module.exports = { RedisProbe, parseInfo };
