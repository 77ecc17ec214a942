'use strict';
// Statistics and the markdown report.

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Median of every numeric field over the runs that did not fail. */
function medians(runs) {
  const ok = runs.filter((r) => !r.error);
  if (ok.length === 0) return null;
  const out = {};
  for (const key of Object.keys(ok[0])) {
    if (typeof ok[0][key] === 'number') out[key] = median(ok.map((r) => r[key]));
  }
  return out;
}

const digits = (v) => (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);

const FORMATS = {
  rate: (v) =>
    v >= 1e6 ? `${(v / 1e6).toFixed(2)}M jobs/s` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k jobs/s` : `${v.toFixed(0)} jobs/s`,
  ms: (v) => `${v.toFixed(digits(v))} ms`,
  bytes: (v) => `${v.toFixed(0)} B`,
  count: (v) => v.toFixed(2),
};

const COST_FIGURES = [
  { key: 'nodeCpuMsPer1k', label: 'Node CPU / 1k jobs', format: 'ms' },
  { key: 'redisCpuMsPer1k', label: 'Redis CPU / 1k jobs', format: 'ms' },
  { key: 'cmdsPerJob', label: 'Redis commands / job', format: 'count' },
];

function ratio(value, base) {
  if (base === null || base === undefined || !Number.isFinite(base) || base === 0) return '';
  const r = value / base;
  return ` (${r.toFixed(r >= 10 ? 0 : r < 0.1 ? 2 : 1)}×)`;
}

function cell(entry, figure, baseEntry, isBase) {
  if (!entry) return '–';
  if (entry.skipped) return 'skipped';
  if (!entry.median) return 'failed';
  const v = entry.median[figure.key];
  if (v === null || v === undefined) return '–';
  let text = FORMATS[figure.format](v);
  if (!isBase && baseEntry && baseEntry.median) text += ratio(v, baseEntry.median[figure.key]);
  const failures = entry.runs.filter((r) => r.error).length;
  if (failures) text += ` [${entry.runs.length - failures}/${entry.runs.length} runs ok]`;
  return text;
}

/**
 * Extra columns: one peer's figure ÷ another's, where both ran. `ours-classes ÷ ours` is what
 * our BullMQ-style classes cost over the coordinator on the same engine; `ours-prefetch ÷
 * ours` what holding a job ahead changes.
 */
const PAIRS = [
  { peer: 'ours-classes', base: 'ours' },
  { peer: 'ours-prefetch', base: 'ours' },
];

/** Median of `peer` ÷ median of `base` for one figure, or null when either is missing. */
function pairRatio(byPeer, pair, figure) {
  const a = byPeer[pair.peer]?.median?.[figure.key];
  const b = byPeer[pair.base]?.median?.[figure.key];
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

/**
 * One markdown table: a row per figure (the scenario's own, then its costs), a column per
 * peer, each figure followed by its ratio to BullMQ's, then a column per pair of `pairs`
 * whose peers are both in the run (that ratio to two decimals).
 */
function markdownTable(scenarios, peerNames, results, base = 'bullmq', pairs = PAIRS) {
  const shown = pairs.filter((p) => peerNames.includes(p.peer) && peerNames.includes(p.base));
  const heads = [...peerNames, ...shown.map((p) => `${p.peer} ÷ ${p.base}`)];
  const lines = [`| scenario | figure | ${heads.join(' | ')} |`, `|---|---|${heads.map(() => '---:').join('|')}|`];
  for (const s of scenarios) {
    const byPeer = results[s.name] || {};
    const figures = [...s.figures, ...COST_FIGURES];
    figures.forEach((f, i) => {
      const cells = peerNames.map((p) => cell(byPeer[p], f, byPeer[base], p === base));
      for (const pair of shown) {
        const r = pairRatio(byPeer, pair, f);
        cells.push(r === null ? '–' : `${r.toFixed(2)}×`);
      }
      lines.push(`| ${i === 0 ? `**${s.name}**${s.label ? ` ${s.label}` : ''}` : ''} | ${f.label} | ${cells.join(' | ')} |`);
    });
  }
  return lines.join('\n');
}

/** Progress line for one run. */
function runSummary(scenario, result) {
  if (result.error) return `error: ${result.error}`;
  const main = scenario.figures.map((f) => `${f.label} ${FORMATS[f.format](result[f.key])}`).join(', ');
  const cost = COST_FIGURES.map((f) => `${f.label} ${FORMATS[f.format](result[f.key])}`).join(', ');
  return `${main}; ${cost}; ${result.seconds.toFixed(2)} s`;
}

module.exports = { median, percentile, medians, markdownTable, runSummary, pairRatio, FORMATS, COST_FIGURES, PAIRS };
