'use strict';
// Runs a command with a reachable Redis in REDIS_URL, so the demo, the tests and the benchmark
// work on a fresh machine without setup: REDIS_URL if set (it must answer PING), else
// 127.0.0.1:6379 if it answers, else a private redis-server on a free loopback port with a
// throwaway data dir, stopped by its own pid when the command ends or this script is signalled.
// `--private` always starts a private server (the benchmark wants a quiet one).
//
//   node scripts/with-redis.js [--private] -- <command> [args...]

const net = require('node:net');
const tls = require('node:tls');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const log = (msg) => console.error(`with-redis: ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const resp = (...args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

// Sends AUTH (when credentials are given) and PING over a raw socket and reads the simple-string
// replies. Resolves null when PING got +PONG, else a short reason (error reply, socket error,
// timeout). A failed AUTH is only fatal if PING then fails too (as on a server with a password).
function ping(target, timeoutMs = 500) {
  return new Promise((resolve) => {
    const { host = '127.0.0.1', port = 6379, socketPath, useTls, username, password } = target;
    const opts = socketPath ? { path: socketPath } : { host, port };
    // A reachability probe only: certificates are the client's business, not ours.
    const socket = useTls
      ? tls.connect({ ...opts, rejectUnauthorized: false, ...(net.isIP(host) ? {} : { servername: host }) })
      : net.connect(opts);
    const commands = password ? [resp('AUTH', ...(username ? [username] : []), password)] : [];
    commands.push(resp('PING'));
    let buf = '';
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    function done(reason) {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    }
    socket.once('error', (err) => done(err.message));
    socket.once(useTls ? 'secureConnect' : 'connect', () => socket.write(commands.join('')));
    socket.on('data', (chunk) => {
      buf += chunk;
      const replies = buf.split('\r\n').slice(0, -1);
      if (replies.length < commands.length) return;
      const pong = replies[commands.length - 1] === '+PONG';
      done(pong ? null : (replies.find((r) => r.startsWith('-')) || replies[commands.length - 1]).replace(/^-/, ''));
    });
  });
}

// REDIS_URL -> ping target, for the schemes the engine accepts.
function parseRedisUrl(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const creds = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  if (url.protocol === 'redis:' || url.protocol === 'rediss:') {
    const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    return { host, port: Number(url.port) || 6379, useTls: url.protocol === 'rediss:', ...creds };
  }
  if (url.protocol === 'unix:' || url.protocol === 'redis+unix:') {
    return { socketPath: decodeURIComponent(url.pathname), ...creds };
  }
  return null;
}

function redactedUrl(raw) {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return raw;
  }
}

function findOnPath(bin) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, bin);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
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

// --- the private server: at most one, always stopped before this script exits ---------------

let server = null; // { proc, dir, exited }
let shuttingDown = false;
let stopping = null;

function stopServer() {
  stopping ??= (async () => {
    if (!server) return;
    const { proc, dir, exited } = server;
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  })();
  return stopping;
}

async function startPrivate() {
  const bin = findOnPath('redis-server');
  if (!bin) {
    log(
      'no usable Redis and no redis-server on PATH. Install one:\n' +
        '  Debian/Ubuntu: sudo apt-get install redis-server\n' +
        '  macOS:         brew install redis\n' +
        '  or set REDIS_URL to a running Redis server.',
    );
    process.exit(1);
  }
  let failure = '';
  // Another process may take the free port before redis-server binds it: hence the retries.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    if (shuttingDown) return null;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'job-queue-redis-'));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const proc = spawn(bin, [...args, '--dir', dir, '--daemonize', 'no'], { stdio: 'ignore' });
    let spawnError = null;
    const exited = new Promise((resolve) => {
      proc.once('exit', resolve);
      proc.once('error', (err) => {
        spawnError = err;
        resolve();
      });
    });
    server = { proc, dir, exited };
    stopping = null;
    const running = () => !spawnError && proc.exitCode === null && proc.signalCode === null;
    const deadline = Date.now() + 10000;
    let reason = await ping({ port });
    while (reason !== null && !shuttingDown && running() && Date.now() < deadline) {
      await sleep(50);
      reason = await ping({ port });
    }
    if (reason === null && !shuttingDown) {
      log(`using private redis-server on 127.0.0.1:${port} (pid ${proc.pid})`);
      return `redis://127.0.0.1:${port}`;
    }
    const died = !running();
    await stopServer();
    server = null;
    if (shuttingDown) return null;
    if (spawnError) throw new Error(`cannot run ${bin}: ${spawnError.message}`);
    if (!died) {
      failure = `no PING answer on 127.0.0.1:${port} within 10 s (${reason})`;
      break; // it ran but never answered: another port will not help
    }
    failure = `it exited (${proc.exitCode ?? proc.signalCode}) on port ${port}`;
  }
  throw new Error(`could not start ${bin}: ${failure}`);
}

// --- main ---------------------------------------------------------------------------------------

async function main() {
  const argv = process.argv.slice(2);
  const sep = argv.indexOf('--');
  const flags = sep === -1 ? [] : argv.slice(0, sep);
  const command = sep === -1 ? [] : argv.slice(sep + 1);
  if (command.length === 0 || flags.some((f) => f !== '--private')) {
    console.error('usage: node scripts/with-redis.js [--private] -- <command> [args...]');
    process.exit(2);
  }

  let child = null;
  const onSignal = async (signal) => {
    const code = 128 + os.constants.signals[signal];
    if (child && !shuttingDown) {
      shuttingDown = true;
      child.kill(signal); // the normal path below stops the server once the command exits
      setTimeout(() => {
        child.kill('SIGKILL'); // it ignored the signal; the server is going away anyway
        stopServer().then(() => process.exit(code));
      }, 5000).unref();
      return;
    }
    shuttingDown = true; // still starting up, or a second signal: stop now
    await stopServer();
    process.exit(code);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  let url;
  if (flags.includes('--private')) {
    url = await startPrivate();
  } else if (process.env.REDIS_URL) {
    url = process.env.REDIS_URL;
    const target = parseRedisUrl(url);
    if (!target) throw new Error(`REDIS_URL=${redactedUrl(url)} is not a redis://, rediss:// or unix:// URL`);
    const reason = await ping(target, 3000);
    if (reason !== null) throw new Error(`REDIS_URL=${redactedUrl(url)} does not answer PING: ${reason}`);
    log(`using REDIS_URL=${redactedUrl(url)}`);
  } else if ((await ping({ port: 6379 })) === null) {
    url = 'redis://127.0.0.1:6379';
    log('using redis on 127.0.0.1:6379');
  } else {
    url = await startPrivate();
  }
  if (shuttingDown || url === null) return; // a signal arrived during startup; onSignal exits

  child = spawn(command[0], command.slice(1), {
    stdio: 'inherit',
    shell: false,
    env: { ...process.env, REDIS_URL: url },
  });
  const code = await new Promise((resolve) => {
    child.once('exit', (c, signal) => resolve(c ?? 128 + (os.constants.signals[signal] || 0)));
    child.once('error', (err) => {
      log(`cannot run ${command[0]}: ${err.message}`);
      resolve(127);
    });
  });
  await stopServer();
  process.exit(code);
}

main().catch(async (err) => {
  log(err.message);
  await stopServer();
  process.exit(1);
});
