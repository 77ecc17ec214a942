'use strict';
// The checker's verdict from its records (acknowledgements, worker logs, faults) and Redis's
// final state. See README "Proving no job is lost" for what each figure means.

/** Faults that can make any job run twice: they break every worker's locks or writes. */
const GLOBAL = new Set(['redis-kill', 'redis-stop', 'client-kill', 'debug-sleep', 'oom']);
/** How much of the last acknowledged writes `appendfsync everysec` may lose at a kill: Redis
 * promises one second; a slow fsync can make it two. */
const EVERYSEC_WINDOW_MS = 2000;

function analyze({ opts, faults, logs, state, drainedAt, t0 }) {
  const acked = new Map();
  for (const a of logs.acks) if (!acked.has(a.id)) acked.set(a.id, a);
  const completed = new Set(state.completed);
  const failed = new Set(state.failed);
  const redisKills = faults.filter((f) => f.kind === 'redis-kill');

  const byId = new Map();
  for (const r of logs.worker) {
    if (!r.id) continue;
    if (!byId.has(r.id)) byId.set(r.id, []);
    byId.get(r.id).push(r);
  }
  for (const list of byId.values()) list.sort((a, b) => a.t - b.t);

  let nCompleted = 0;
  let failedByPolicy = 0;
  const failedOther = [];
  const lost = [];
  const unfinished = [];
  const lostInWindow = [];
  for (const [id, ack] of acked) {
    if (completed.has(id)) nCompleted += 1;
    else if (failed.has(id)) {
      const reason = state.failedReason[id] || '';
      const byPolicy = (ack.k === 'throw' && /boom/.test(reason)) || (ack.k === 'hang' && /time/i.test(reason));
      if (byPolicy) failedByPolicy += 1;
      else failedOther.push({ id, k: ack.k, reason });
    } else {
      // not in a final state: under everysec, an ack just before a Redis kill may be gone
      const kill = opts.fsync === 'everysec' && redisKills.find((f) => ack.t <= f.start && ack.t >= f.start - EVERYSEC_WINDOW_MS);
      const where = Object.keys(state).find((s) => Array.isArray(state[s]) && s !== 'jobHashes' && state[s].includes(id));
      const rec = { id, k: ack.k, ackedAt: ack.t - t0, in: where || 'nowhere', started: (byId.get(id) || []).some((r) => r.ev === 's') };
      if (where) unfinished.push(rec);
      else if (kill) lostInWindow.push({ ...rec, beforeKillMs: kill.start - ack.t });
      else lost.push(rec);
    }
  }

  // duplicates: a start whose previous start did not throw (a thrown attempt is retried by
  // policy). Each must be explained by a fault recorded in its window: a kill or stop of the
  // worker that ran the previous start, a fault of Redis or of every connection, or a job
  // blocking that worker's event loop.
  const duplicates = [];
  for (const [id, list] of byId) {
    const starts = list.filter((r) => r.ev === 's');
    for (let n = 1; n < starts.length; n++) {
      const prev = starts[n - 1];
      const cur = starts[n];
      const threw = list.some((r) => r.ev === 'r' && !r.ok && r.pid === prev.pid && r.t >= prev.t && r.t <= cur.t);
      if (threw) continue;
      const from = prev.t - opts.lockDuration;
      const why = faults.filter(
        (f) => f.start <= cur.t && f.end >= from && (GLOBAL.has(f.kind) || f.pid === prev.pid),
      );
      const blocked = logs.worker.some(
        (r) => r.ev === 's' && r.pid === prev.pid && isBlock(r.id, acked) && r.t <= cur.t && r.t >= from - opts.blockMs,
      );
      const explanation = why.map((f) => `${f.kind}${f.pid ? ` ${f.pid}` : ''}`);
      if (blocked) explanation.push('event loop blocked');
      duplicates.push({ id, prevPid: prev.pid, pid: cur.pid, gapMs: cur.t - prev.t, explanation });
    }
  }
  const unexplained = duplicates.filter((d) => d.explanation.length === 0);

  // counts: getJobCounts against Redis's sets and against the job hashes
  const jc = state.jobCounts;
  const inStates = state.completed.length + state.failed.length + state.active.length + state.wait.length +
    state.delayed.length + state.prioritized.length + state.paused.length;
  const counts = {
    getJobCounts: jc,
    consistent:
      jc.completed === state.completed.length &&
      jc.failed === state.failed.length &&
      jc.active === state.active.length &&
      jc.delayed === state.delayed.length &&
      inStates === state.jobHashes.length,
    jobHashes: state.jobHashes.length,
    inStates,
  };
  const hashSet = new Set(state.jobHashes);
  const orphans = state.jobHashes.filter((id) => !completed.has(id) && !failed.has(id) &&
    ![state.active, state.wait, state.delayed, state.prioritized, state.paused].some((l) => l.includes(id)));
  const missingHashes = [...completed, ...failed].filter((id) => !hashSet.has(id));

  // rejected adds must be typed (an error class with a code)
  const untyped = logs.rejects.filter((r) => !r.code);
  const rejectCodes = {};
  for (const r of logs.rejects) rejectCodes[`${r.cls}/${r.code}`] = (rejectCodes[`${r.cls}/${r.code}`] || 0) + 1;

  // time to resume: from a fault's end to the first job settled after it
  const settles = logs.worker.filter((r) => r.ev === 'c' || r.ev === 'f').map((r) => r.t).sort((a, b) => a - b);
  const resume = faults.map((f) => {
    const next = settles.find((t) => t >= f.end);
    return { kind: f.kind, at: f.start - t0, faultMs: f.end - f.start, resumeMs: next === undefined ? null : next - f.end };
  });

  const stuck = state.active.length;
  const verdict = {
    seed: opts.seed,
    impl: opts.impl,
    fsync: opts.fsync,
    acknowledged: acked.size,
    completed: nCompleted,
    failedByPolicy,
    failedOther: failedOther.length,
    lost: lost.length,
    unfinished: unfinished.length,
    lastSettleAt: settles.length ? settles[settles.length - 1] - t0 : null,
    lostInFsyncWindow: lostInWindow.length,
    duplicates: duplicates.length,
    unexplainedDuplicates: unexplained.length,
    stuckInActive: stuck,
    drained: drainedAt !== null,
    countsConsistent: counts.consistent && orphans.length === 0 && missingHashes.length === 0,
    rejectedAdds: logs.rejects.length,
    untypedRejects: untyped.length,
    faults: resume,
    details: { lost, unfinished: unfinished.slice(0, 50), lostInWindow, failedOther, duplicates, counts, orphans, missingHashes, rejectCodes, untyped: untyped.slice(0, 10) },
  };
  verdict.pass =
    verdict.lost === 0 &&
    verdict.unfinished === 0 &&
    verdict.unexplainedDuplicates === 0 &&
    verdict.stuckInActive === 0 &&
    verdict.drained &&
    verdict.countsConsistent &&
    verdict.untypedRejects === 0 &&
    verdict.failedOther === 0;
  return verdict;
}

function isBlock(id, acked) {
  return acked.get(id)?.k === 'block';
}

/** The verdicts as a table, one column per run. */
function table(verdicts) {
  const rows = [
    ['run', (v) => `${v.impl}/${v.fsync}`],
    ['seed', (v) => v.seed],
    ['acknowledged', (v) => v.acknowledged],
    ['completed', (v) => v.completed],
    ['failed by policy', (v) => v.failedByPolicy],
    ['failed otherwise', (v) => v.failedOther],
    ['lost (gone from Redis)', (v) => v.lost],
    ['unfinished after recovery', (v) => v.unfinished],
    ['lost in fsync window', (v) => v.lostInFsyncWindow],
    ['duplicates', (v) => v.duplicates],
    ['  unexplained', (v) => v.unexplainedDuplicates],
    ['stuck in active', (v) => v.stuckInActive],
    ['drained', (v) => (v.drained ? 'yes' : 'NO')],
    ['counts consistent', (v) => (v.countsConsistent ? 'yes' : 'NO')],
    ['rejected adds (untyped)', (v) => `${v.rejectedAdds} (${v.untypedRejects})`],
    ['last job settled at s', (v) => (v.lastSettleAt / 1000).toFixed(1)],
    ['resume after fault, max ms', (v) => Math.max(0, ...v.faults.map((f) => f.resumeMs ?? Infinity))],
    ['VERDICT', (v) => (v.pass ? 'PASS' : 'FAIL')],
  ];
  const cells = rows.map(([label, f]) => [label, ...verdicts.map((v) => String(f(v)))]);
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r) => `| ${r.map((x, c) => x.padEnd(widths[c])).join(' | ')} |`;
  const sep = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(cells[0]), sep, ...cells.slice(1).map(line)].join('\n');
}

/** Each fault and the time to the first job settled after it, per run. */
function faultTable(verdict) {
  const lines = ['| at s | fault | lasted ms | resumed after ms |', '|---|---|---|---|'];
  for (const f of verdict.faults) lines.push(`| ${(f.at / 1000).toFixed(1)} | ${f.kind} | ${f.faultMs} | ${f.resumeMs ?? 'never'} |`);
  return lines.join('\n');
}

module.exports = { analyze, table, faultTable, EVERYSEC_WINDOW_MS };
