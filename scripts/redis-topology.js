'use strict';
// Real multi-server Redis deployments on loopback for the tests, the chaos runs and the
// benchmark: a Redis Cluster (redis-server --cluster-enabled yes, joined by
// `redis-cli --cluster create`) and a Sentinel set (a master, replicas, redis-sentinel
// processes). Every server gets a free loopback port and a temp dir, and is stopped by its
// own pid in `stop()`.
//
//   const { startCluster, startSentinels } = require('./scripts/redis-topology');
//   const cluster = await startCluster({ masters: 3, replicas: 1 });
//   ... cluster.nodes  // [{ host, port }] seeds for `redis: { cluster: { nodes } }`
//   await cluster.stop();

const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const Redis = require('ioredis');
const { RedisServer, freePort, sleep } = require('../chaos/redis');

const run = promisify(execFile);

/** Polls `check` (async, truthy = done) every 50 ms until it is truthy or `ms` pass. */
async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not within ${ms} ms (last: ${last && last.message ? last.message : last})`);
    await sleep(50);
  }
}

async function ports(n) {
  const out = [];
  while (out.length < n) {
    const p = await freePort();
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** A short-lived ioredis connection to one server (logged in with `password`), closed after `fn`. */
async function withNode(port, fn, password) {
  const c = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  c.on('error', () => {});
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

class Cluster {
  constructor(servers, replicas) {
    this.servers = servers; // RedisServer, by port
    this.replicas = replicas;
    this.nodes = servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
    /** The cluster as a `redis+cluster://` URL (the engine's URL form). */
    this.url = `redis+cluster://${this.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  }

  server(port) {
    return this.servers.find((s) => s.port === port);
  }

  /** CLUSTER SHARDS from a live node: [{ slots: [[from, to]], master: port, replicas: [port] }]. */
  async shards() {
    for (const s of this.servers) {
      if (s.proc?.exitCode !== null || s.proc?.signalCode !== null) continue;
      try {
        return await withNode(s.port, async (c) => {
          const raw = await c.call('CLUSTER', 'SHARDS');
          return raw.map((shard) => {
            const f = Object.fromEntries(chunk(shard));
            const slots = [];
            for (let i = 0; i < f.slots.length; i += 2) slots.push([Number(f.slots[i]), Number(f.slots[i + 1])]);
            const nodes = f.nodes.map((n) => Object.fromEntries(chunk(n)));
            const master = nodes.find((n) => n.role === 'master' && n.health === 'online');
            return {
              slots,
              master: master ? Number(master.port) : null,
              replicas: nodes.filter((n) => n.role === 'replica').map((n) => Number(n.port)),
              ids: Object.fromEntries(nodes.map((n) => [Number(n.port), n.id])),
            };
          });
        });
      } catch {
        /* try the next node */
      }
    }
    throw new Error('no cluster node answers');
  }

  /** The slot of `key` (asked of the cluster). */
  async slotOf(key) {
    return withNode(this.liveServer().port, (c) => c.call('CLUSTER', 'KEYSLOT', key));
  }

  liveServer() {
    return this.servers.find((s) => s.proc && s.proc.exitCode === null && s.proc.signalCode === null);
  }

  /** The port of the master serving `key`'s slot. */
  async masterOf(key) {
    const slot = await this.slotOf(key);
    const shard = (await this.shards()).find((s) => s.slots.some(([a, b]) => slot >= a && slot <= b));
    return shard?.master ?? null;
  }

  /**
   * One hash tag per master, in master-port order: `${base}0`, `${base}1`... tried in turn,
   * the first that hashes to each master's slots kept. Queues named `{tag}...` (or keys
   * under a `{tag}` prefix) then land on that master.
   */
  async tagsPerMaster(base = 'jq') {
    const shards = (await this.shards()).filter((s) => s.master !== null).sort((a, b) => a.master - b.master);
    const tags = new Array(shards.length).fill(null);
    for (let i = 0; tags.includes(null); i++) {
      if (i > 10000) throw new Error('no tag found for every master');
      const tag = `${base}${i}`;
      const slot = await this.slotOf(`{${tag}}`);
      const at = shards.findIndex((s) => s.slots.some(([a, b]) => slot >= a && slot <= b));
      if (at >= 0 && tags[at] === null) tags[at] = tag;
    }
    return tags;
  }

  /** The ports of the masters serving slots now. */
  async masters() {
    return (await this.shards()).map((s) => s.master).filter((p) => p !== null).sort((a, b) => a - b);
  }

  /** Every key matching `pattern` on every live master (SCAN per master). */
  async keys(pattern) {
    const out = [];
    for (const port of await this.masters()) {
      await withNode(port, async (c) => {
        let cursor = '0';
        do {
          const [next, batch] = await c.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          out.push(...batch);
        } while (cursor !== '0');
      });
    }
    return out.sort();
  }

  /** A replica port of master `port`. */
  async replicaOf(port) {
    const shard = (await this.shards()).find((s) => s.master === port);
    return shard?.replicas[0] ?? null;
  }

  /** Waits until every slot is served by an online master and the cluster says ok. */
  async waitHealthy(ms = 30000) {
    await until(async () => {
      for (const s of this.servers) {
        if (!s.proc || s.proc.exitCode !== null || s.proc.signalCode !== null) continue;
        const info = await withNode(s.port, (c) => c.call('CLUSTER', 'INFO'));
        if (!/cluster_state:ok/.test(info)) return false;
      }
      const shards = await this.shards();
      const covered = shards.filter((s) => s.master !== null).reduce((n, s) => n + s.slots.reduce((m, [a, b]) => m + b - a + 1, 0), 0);
      return covered === 16384;
    }, ms, 'cluster healthy');
  }

  /** Waits until every live replica's link to its master is up (its first sync done). */
  async waitReplicasSynced(ms = 30000) {
    await until(async () => {
      for (const shard of await this.shards()) {
        for (const port of shard.replicas) {
          const s = this.server(port);
          if (!s.proc || s.proc.exitCode !== null || s.proc.signalCode !== null) continue;
          const info = await withNode(port, (c) => c.call('INFO', 'replication'));
          if (!/master_link_status:up/.test(info)) return false;
        }
      }
      return true;
    }, ms, 'replicas synced');
  }

  /** SIGKILLs the master serving `key`; resolves with its port once a replica took over. */
  async killMasterOf(key, ms = 30000) {
    const port = await this.masterOf(key);
    await this.server(port).kill();
    await until(async () => {
      const m = await this.masterOf(key);
      return m !== null && m !== port;
    }, ms, `a replica promoted after killing ${port}`);
    return port;
  }

  /** CLUSTER FAILOVER on a replica of `key`'s master; resolves once that replica is master. */
  async failoverOf(key, ms = 30000) {
    const master = await this.masterOf(key);
    const replica = await this.replicaOf(master);
    await withNode(replica, (c) => c.call('CLUSTER', 'FAILOVER'));
    await until(async () => (await this.masterOf(key)) === replica, ms, `replica ${replica} promoted`);
    return { from: master, to: replica };
  }

  /**
   * Moves `key`'s slot to another master (`to`, a master's port, or the first other one) with
   * CLUSTER SETSLOT IMPORTING/MIGRATING and MIGRATE in batches of `batch` keys (the
   * resharding `redis-cli --cluster reshard` does); `between` (may be async) runs after each
   * batch. Resolves with { slot, from, to, keys } (`keys`: how many were migrated).
   */
  async moveSlotOf(key, { batch = 10, between, to: toPort } = {}) {
    const slot = await this.slotOf(key);
    const shards = await this.shards();
    const fromShard = shards.find((s) => s.slots.some(([a, b]) => slot >= a && slot <= b));
    const toShard = shards.find((s) => s !== fromShard && s.master !== null && (toPort === undefined || s.master === toPort));
    if (!toShard) throw new Error(`no other master ${toPort ?? ''} to move slot ${slot} to`);
    const from = fromShard.master;
    const to = toShard.master;
    const fromId = fromShard.ids[from];
    const toId = toShard.ids[to];
    await withNode(to, (c) => c.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId));
    await withNode(from, (c) => c.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId));
    let moved = 0;
    for (;;) {
      const keys = await withNode(from, (c) => c.call('CLUSTER', 'GETKEYSINSLOT', slot, batch));
      if (keys.length === 0) break;
      await withNode(from, (c) => c.call('MIGRATE', '127.0.0.1', to, '', 0, 5000, 'REPLACE', 'KEYS', ...keys));
      moved += keys.length;
      if (between) await between();
    }
    for (const port of [to, from]) await withNode(port, (c) => c.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId));
    for (const s of shards) {
      for (const p of [s.master, ...s.replicas]) {
        if (p !== null && p !== to && p !== from) await withNode(p, (c) => c.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId)).catch(() => {});
      }
    }
    return { slot, from, to, keys: moved };
  }

  async stop() {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}

function chunk(flat) {
  const out = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

/**
 * Starts `masters` × (1 + `replicas`) redis-servers with cluster mode on, joins them with
 * `redis-cli --cluster create`, and waits until the cluster serves every slot. `aof`
 * ('always' | 'everysec' | false) sets persistence. `nodeTimeout` is cluster-node-timeout (ms):
 * how long a master may be silent before its replica takes over.
 */
async function startCluster({ masters = 3, replicas = 1, aof = 'everysec', nodeTimeout = 2000 } = {}) {
  const n = masters * (1 + replicas);
  const servers = (await ports(n)).map(
    (port) =>
      new RedisServer({
        port,
        aof: aof !== false,
        fsync: aof || 'everysec',
        // repl-diskless-sync-delay 0: a replica's first sync starts at once (the default
        // waits 5 s for more replicas), so a failover soon after start has a synced replica
        args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeout), '--repl-diskless-sync-delay', '0'],
      }),
  );
  const cluster = new Cluster(servers, replicas);
  try {
    await Promise.all(servers.map((s) => s.start()));
    await run('redis-cli', ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 60000 });
    await cluster.waitHealthy();
    // every replica attached and synced (a replica that never synced cannot take over)
    await until(async () => (await cluster.shards()).every((s) => s.replicas.length === replicas), 30000, 'replicas attached');
    await cluster.waitReplicasSynced();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/**
 * A TCP relay on loopback between a replica and its master that holds what the master sends
 * for `lag` ms before passing it on (what the replica sends goes at once): a replication
 * link that is `lag` ms behind. `cut()` drops the connections and what they held, as the
 * loss of a master that had not sent it yet.
 */
class LaggingLink {
  constructor(targetPort, lag) {
    this.targetPort = targetPort;
    this.lag = lag;
    this.sockets = new Set();
    this.cutOff = false;
  }

  async start() {
    const net = require('node:net');
    this.port = await freePort();
    this.server = net.createServer((down) => {
      if (this.cutOff) return down.destroy();
      const up = net.connect(this.targetPort, '127.0.0.1');
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          down.destroy();
          up.destroy();
        });
      }
      down.on('data', (d) => up.write(d));
      up.on('data', (d) => {
        setTimeout(() => {
          if (!this.cutOff && !down.destroyed) down.write(d);
        }, this.lag);
      });
    });
    await new Promise((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    return this;
  }

  cut() {
    this.cutOff = true;
    for (const s of this.sockets) s.destroy();
    this.server?.close();
  }
}

class SentinelSet {
  constructor(name, master, replicas, sentinels, { password, sentinelPassword, links = [] }) {
    this.links = links;
    this.name = name;
    this.servers = [master, ...replicas];
    this.sentinelServers = sentinels;
    this.sentinels = sentinels.map((s) => ({ host: '127.0.0.1', port: s.port }));
    this.password = password; // the data nodes' (requirepass and masterauth)
    this.sentinelPassword = sentinelPassword; // the sentinels' own (requirepass on them)
  }

  /** Runs `fn(client)` on data node `port`, logged in. */
  node(port, fn) {
    return withNode(port, fn, this.password);
  }

  /** Runs `fn(client)` on the `i`th sentinel, logged in. */
  sentinel(i, fn) {
    return withNode(this.sentinelServers[i].port, fn, this.sentinelPassword);
  }

  /** The port the sentinels name as master now (the first sentinel that answers). */
  async masterPort() {
    for (let i = 0; i < this.sentinelServers.length; i++) {
      try {
        const [, port] = await this.sentinel(i, (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name));
        return Number(port);
      } catch {
        /* next */
      }
    }
    throw new Error('no sentinel answers');
  }

  server(port) {
    return this.servers.find((s) => s.port === port);
  }

  /** 'master' or 'slave' (ROLE) of data node `port`. */
  async role(port) {
    return (await this.node(port, (c) => c.call('ROLE')))[0];
  }

  /** SIGKILLs the master; resolves with { from, to } once the sentinels named another. */
  async killMaster(ms = 60000) {
    const from = await this.masterPort();
    await this.server(from).kill();
    // what a lagging link still held never reaches the replica
    for (const link of this.links) link.cut();
    const to = await until(async () => {
      const p = await this.masterPort();
      if (p === from) return false;
      return (await this.role(p)) === 'master' ? p : false;
    }, ms, 'sentinels promote a replica');
    return { from, to };
  }

  /**
   * Starts data node `port` again (a killed master comes back as the master its config
   * says it was) and resolves once the sentinels have made it a replica of the current
   * master and it has synced.
   */
  async rejoin(port, ms = 60000) {
    await this.server(port).restart();
    await until(async () => {
      const info = await this.node(port, (c) => c.call('INFO', 'replication'));
      return /role:slave/.test(info) && /master_link_status:up/.test(info);
    }, ms, `node ${port} rejoins as a replica`);
  }

  async stop() {
    for (const link of this.links) link.cut();
    await Promise.all([...this.sentinelServers, ...this.servers].map((s) => s.stop()));
  }
}

/**
 * Starts a master, `replicas` replicas and `sentinels` redis-sentinel processes watching it
 * as `name` (quorum 2, down-after `downAfter` ms). `password` sets
 * requirepass and masterauth on the data nodes (and the sentinels' auth-pass);
 * `sentinelPassword` sets requirepass on the sentinels (and what they use with each other).
 * `replicaLag` (ms) has each replica replicate through a LaggingLink: it is that far behind,
 * and what the link holds when `killMaster()` kills the master is lost. The sentinels point a
 * replica that replicates from another address back at the master after `failoverTimeout`
 * (ms; 10 s, or 60 s with `replicaLag`, so the link stays in place for a test's length).
 */
async function startSentinels({ name = 'mymaster', replicas = 1, sentinels = 3, aof = 'everysec', downAfter = 1000, password, sentinelPassword, replicaLag, failoverTimeout = replicaLag ? 60000 : 10000 } = {}) {
  const [mp, ...rest] = await ports(1 + replicas + sentinels);
  // a replica's first sync starts at once (Redis 7 waits 5 s for more replicas by default)
  const common = ['--repl-diskless-sync-delay', '0', ...(password ? ['--requirepass', password, '--masterauth', password] : [])];
  const node = (port, args) => new RedisServer({ port, aof: aof !== false, fsync: aof || 'everysec', args: [...common, ...args], password });
  const master = node(mp, []);
  const links = replicaLag ? await Promise.all(Array.from({ length: replicas }, () => new LaggingLink(mp, replicaLag).start())) : [];
  const reps = rest.slice(0, replicas).map((port, i) => node(port, ['--replicaof', '127.0.0.1', String(links[i]?.port ?? mp)]));
  const sents = rest.slice(replicas).map((port) => new SentinelServer(port, name, mp, downAfter, { password, sentinelPassword, failoverTimeout }));
  const set = new SentinelSet(name, master, reps, sents, { password, sentinelPassword, links });
  try {
    await master.start();
    await Promise.all(reps.map((r) => r.start()));
    // connected is not enough: a replica in wait_bgsave has nothing yet (WAIT counts it
    // only once its initial sync is done)
    await until(async () => {
      const info = await set.node(mp, (c) => c.call('INFO', 'replication'));
      return (info.match(/^slave\d+:.*state=online/gm) || []).length === replicas;
    }, 30000, 'replicas synced');
    await Promise.all(sents.map((s) => s.start()));
    // every sentinel sees the replicas and the other sentinels
    await until(async () => {
      for (let i = 0; i < sents.length; i++) {
        const m = await set.sentinel(i, (c) => c.call('SENTINEL', 'MASTER', name));
        const f = Object.fromEntries(chunk(m));
        if (Number(f['num-slaves']) < replicas || Number(f['num-other-sentinels']) < sentinels - 1) return false;
      }
      return true;
    }, 30000, 'sentinels discover each other');
  } catch (err) {
    await set.stop();
    throw err;
  }
  return set;
}

/** A redis-sentinel process with its own config file in its temp dir. */
class SentinelServer extends RedisServer {
  constructor(port, name, masterPort, downAfter, { password, sentinelPassword, failoverTimeout = 10000 } = {}) {
    super({ port, aof: false, password: sentinelPassword });
    this.conf = require('node:path').join(this.dir, 'sentinel.conf');
    require('node:fs').writeFileSync(
      this.conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        'logfile sentinel.log',
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${name} ${downAfter}`,
        `sentinel failover-timeout ${name} ${failoverTimeout}`,
        `sentinel parallel-syncs ${name} 1`,
        ...(password ? [`sentinel auth-pass ${name} ${password}`] : []),
        ...(sentinelPassword ? [`requirepass ${sentinelPassword}`, `sentinel sentinel-pass ${sentinelPassword}`] : []),
        '',
      ].join('\n'),
    );
  }

  async start() {
    const { spawn } = require('node:child_process');
    const proc = spawn('redis-server', [this.conf, '--sentinel'], { stdio: 'ignore', cwd: this.dir });
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    await until(() => withNode(this.port, (c) => c.ping(), this.password), 30000, `sentinel on ${this.port}`);
    return this;
  }
}

module.exports = { startCluster, startSentinels, until, withNode };
