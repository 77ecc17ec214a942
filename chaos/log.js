'use strict';
// The checker's records outside Redis: one JSON line per event, appended with a synchronous
// write, so a line written before a SIGKILL survives it (it is in the kernel's page cache).

const fs = require('node:fs');

function openLog(file, extra = {}) {
  const fd = fs.openSync(file, 'a');
  return (record) => {
    fs.writeSync(fd, `${JSON.stringify({ t: Date.now(), ...extra, ...record })}\n`);
  };
}

function readLog(file) {
  if (!fs.existsSync(file)) return [];
  const out = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      /* a line cut by a kill */
    }
  }
  return out;
}

/** mulberry32: a small seeded PRNG, so schedules and job kinds replay from a seed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

module.exports = { openLog, readLog, rng };
