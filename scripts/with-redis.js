'use strict';
// Runs a command with a reachable Redis in REDIS_URL, so the demo, the tests and the benchmark
// work on a fresh machine: REDIS_URL if set, else 127.0.0.1:6379 if it answers, else a private
// redis-server on a free loopback port, stopped (by its own pid) when the command ends.
// `--private` always starts a private server (the benchmark wants a quiet one).
//
//   node scripts/with-redis.js [--private] -- <command> [args...]

const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

function ping(port, host = '127.0.0.1', timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

function findOnPath(bin) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, bin);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startPrivate() {
  const bin = findOnPath('redis-server');
  if (!bin) {
    console.error(
      'with-redis: no Redis answers on 127.0.0.1:6379 and no redis-server is installed.\n' +
        '  Debian/Ubuntu: apt-get install redis-server   macOS: brew install redis\n' +
        '  or point REDIS_URL at a Redis server.',
    );
    process.exit(1);
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'job-queue-redis-'));
  const server = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10000;
  while (!(await ping(port))) {
    if (Date.now() > deadline || server.exitCode !== null) {
      await stop();
      throw new Error(`redis-server did not answer on 127.0.0.1:${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  console.error(`with-redis: using private redis-server on 127.0.0.1:${port} (pid ${server.pid})`);
  return { url: `redis://127.0.0.1:${port}`, stop };
}

async function main() {
  const argv = process.argv.slice(2);
  const sep = argv.indexOf('--');
  const flags = sep === -1 ? [] : argv.slice(0, sep);
  const command = sep === -1 ? argv : argv.slice(sep + 1);
  if (command.length === 0) {
    console.error('usage: node scripts/with-redis.js [--private] -- <command> [args...]');
    process.exit(2);
  }
  let redis = { url: null, stop: async () => {} };
  if (flags.includes('--private')) {
    redis = await startPrivate();
  } else if (process.env.REDIS_URL) {
    redis.url = process.env.REDIS_URL;
    console.error(`with-redis: using REDIS_URL=${redis.url}`);
  } else if (await ping(6379)) {
    redis.url = 'redis://127.0.0.1:6379';
    console.error('with-redis: using redis on 127.0.0.1:6379');
  } else {
    redis = await startPrivate();
  }
  const child = spawn(command[0], command.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, REDIS_URL: redis.url },
  });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise((resolve) => {
    child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    child.once('error', (err) => {
      console.error(`with-redis: ${err.message}`);
      resolve(127);
    });
  });
  await redis.stop();
  process.exit(code);
}

main().catch((err) => {
  console.error(`with-redis: ${err.message}`);
  process.exit(1);
});
