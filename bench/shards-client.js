'use strict';
// A client process of the shards benchmark (forked by bench/shards.js): one peer (ours or
// BullMQ) on its share of the queues, driven phase by phase over IPC. Each phase answers with
// the CPU this process used doing it, so the driver can time the phase across all clients and
// sum their CPU; the counts are checked afterwards, outside the timed part.
//
//   → { type: 'open', peer, target, prefix, queues, perQueue, concurrency }  ← { type: 'opened' }
//   → { type: 'enqueue' } or { type: 'process' }                             ← { type: 'done', cpuMs }
//   → { type: 'check', expected }                                          ← { type: 'checked' }
//   → { type: 'close' }                                      ← { type: 'closed', warnings }, exit
// Any failure answers { type: 'error', message }.

const v8 = require('node:v8');
const vm = require('node:vm');
const { completion, BULK_CHUNK } = require('./scenarios');
const { PEERS, totalCounts } = require('./shards-peers');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const noop = async () => {};

let peer = null;
let cfg = null;

async function timed(fn) {
  gc();
  const cpu0 = process.cpuUsage();
  await fn();
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000;
}

async function enqueue() {
  await Promise.all(
    cfg.queues.map(async (_, q) => {
      for (let start = 0; start < cfg.perQueue; start += BULK_CHUNK) {
        const items = [];
        for (let i = start; i < Math.min(cfg.perQueue, start + BULK_CHUNK); i++) items.push({ q, i });
        await peer.enqueueBulk(q, items);
      }
    }),
  );
}

async function processAll() {
  const done = completion({ counts: () => totalCounts(peer) }, cfg.perQueue * cfg.queues.length);
  try {
    await peer.startWorkers({ concurrency: cfg.concurrency, processor: noop, onCompleted: done.hit });
    await done.wait();
  } finally {
    done.cancel();
  }
}

/** Every queue of this client at `expected` (a few tries: finishing may trail events). */
async function check(expected) {
  let last;
  for (let i = 0; i < 30; i++) {
    last = await Promise.all(peer.queues.map((q) => peer.countsOf(q)));
    if (last.every((c) => Object.entries(expected).every(([k, v]) => c[k] === v))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`queue counts ${JSON.stringify(last)}, expected ${JSON.stringify(expected)} in each`);
}

async function handle(msg) {
  switch (msg.type) {
    case 'open':
      cfg = msg;
      peer = PEERS[msg.peer].create({ target: msg.target, prefix: msg.prefix, queues: msg.queues });
      await peer.open();
      return { type: 'opened' };
    case 'enqueue':
      return { type: 'done', cpuMs: await timed(enqueue) };
    case 'process':
      return { type: 'done', cpuMs: await timed(processAll) };
    case 'check':
      await check(msg.expected);
      return { type: 'checked' };
    case 'close': {
      if (peer) await peer.close();
      return { type: 'closed', warnings: peer ? peer.warnings() : [] };
    }
    default:
      throw new Error(`unknown message ${msg.type}`);
  }
}

// the driver is gone (or done with us): nothing else will come
process.on('disconnect', () => process.exit(0));

process.on('message', (msg) => {
  handle(msg).then(
    (reply) => {
      process.send(reply, () => {
        if (reply.type === 'closed') process.disconnect();
      });
    },
    (err) => process.send({ type: 'error', message: err && err.message ? err.message : String(err) }),
  );
});
