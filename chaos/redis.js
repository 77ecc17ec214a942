'use strict';
// A private redis-server for the checker and the soak: a free loopback port, a temp dir, AOF
// on (appendfsync as asked), started and stopped by its own pid. `kill()` SIGKILLs it and
// `restart()` starts it again on the same port and dir, so it reloads what its AOF kept.

const fs = require('node:fs');
const os = require('node:os');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const Redis = require('ioredis');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A port nothing listens on: `preferred` if free, else one the kernel picks. */
async function freePort(preferred) {
  const tryPort = (port) =>
    new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(null));
      s.listen(port, '127.0.0.1', () => {
        const got = s.address().port;
        s.close(() => resolve(got));
      });
    });
  if (preferred) {
    const p = await tryPort(preferred);
    if (p) return p;
  }
  return tryPort(0);
}

class RedisServer {
  constructor({ port, fsync = 'always', dir, aof = true, args = [], bin = 'redis-server', password }) {
    this.port = port;
    this.password = password; // requirepass, when the args set one: the readiness check logs in
    this.extraArgs = args;
    this.bin = bin;
    this.fsync = fsync;
    this.aof = aof;
    this.dir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'jq-chaos-redis-'));
    this.proc = null;
    this.url = `redis://127.0.0.1:${port}`;
  }

  async start() {
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', this.aof ? 'yes' : 'no', '--appendfsync', this.fsync,
      '--enable-debug-command', 'local', '--daemonize', 'no', '--logfile', 'redis.log',
      '--maxmemory-policy', 'noeviction',
      ...this.extraArgs,
    ];
    const proc = spawn(this.bin, args, { stdio: 'ignore', cwd: this.dir });
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 30000;
    for (;;) {
      const c = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, password: this.password });
      c.on('error', () => {});
      try {
        await c.connect();
        // a server loading its AOF answers LOADING; wait until it serves
        if ((await c.ping()) === 'PONG') {
          c.disconnect();
          return this;
        }
      } catch {
        /* not yet */
      }
      c.disconnect();
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start (see ${this.dir}/redis.log)`);
      await sleep(50);
    }
  }

  /** Sends `signal` to the server by its pid. */
  signal(sig) {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) process.kill(this.proc.pid, sig);
  }

  async kill() {
    this.signal('SIGKILL');
    await this.exited;
  }

  async restart() {
    await this.start();
  }

  /** Stops the server (SIGTERM, then SIGKILL) and removes its dir unless `keep`. */
  async stop({ keep = false } = {}) {
    if (this.proc) {
      this.signal('SIGCONT');
      this.signal('SIGTERM');
      const t = setTimeout(() => this.signal('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(t);
    }
    if (!keep) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { RedisServer, freePort, sleep };
