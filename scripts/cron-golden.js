#!/usr/bin/env node
// Writes the golden next-fire sequences our cron evaluation is tested against
// (crates/job-queue-core/tests/fixtures/cron-golden.json), computed by cron-parser, the parser
// BullMQ uses. Rerun after changing the cases: `node scripts/cron-golden.js`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { CronExpressionParser } = require('cron-parser');

// [expression, time zone, start (ISO, UTC), how many fire times]
const CASES = [
  ['*/15 * * * *', 'UTC', '2026-01-01T00:07:00Z', 6],
  ['0 9 * * 1-5', 'America/New_York', '2026-03-05T12:00:00Z', 6],
  // spring forward in New York: 2026-03-08 02:00 → 03:00
  ['30 2 * * *', 'America/New_York', '2026-03-06T12:00:00Z', 4],
  ['0 * * * *', 'America/New_York', '2026-03-08T05:30:00Z', 4],
  ['*/30 * * * *', 'America/New_York', '2026-03-08T06:10:00Z', 4],
  // fall back in New York: 2026-11-01 02:00 → 01:00
  ['30 1 * * *', 'America/New_York', '2026-10-30T12:00:00Z', 4],
  ['0 * * * *', 'America/New_York', '2026-11-01T04:30:00Z', 5],
  ['*/30 * * * *', 'America/New_York', '2026-11-01T05:10:00Z', 5],
  ['0 */2 * * *', 'America/New_York', '2026-11-01T03:30:00Z', 4],
  ['30 2 * * 0', 'America/New_York', '2026-03-01T12:00:00Z', 3],
  ['58 2 * * *', 'America/New_York', '2026-03-08T06:50:00Z', 3],
  ['0,30 1-2 * * *', 'America/New_York', '2026-11-01T04:00:00Z', 5],
  // Europe: 2026-03-29 and 2026-10-25
  ['0 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', 4],
  ['15 2 * * *', 'Europe/Berlin', '2026-10-23T12:00:00Z', 4],
  ['0,30 2 * * *', 'Europe/Berlin', '2026-03-28T23:00:00Z', 4],
  ['*/20 * * * *', 'Europe/London', '2026-10-25T00:30:00Z', 6],
  ['0 */2 * * *', 'Australia/Sydney', '2026-04-04T10:00:00Z', 6],
  ['0 0 L * *', 'UTC', '2026-01-15T00:00:00Z', 4],
  ['0 12 * * 5L', 'UTC', '2026-01-01T00:00:00Z', 3],
  ['0 12 * * 1#2', 'Europe/London', '2026-01-01T00:00:00Z', 3],
  ['0 0 1 JAN,JUL *', 'UTC', '2026-02-01T00:00:00Z', 3],
  ['15 10 * * MON-FRI', 'Asia/Tokyo', '2026-05-01T00:00:00Z', 5],
  ['*/10 * * * * *', 'UTC', '2026-01-01T00:00:05Z', 4],
  ['0 0 29 2 *', 'UTC', '2026-01-01T00:00:00Z', 2],
  ['0 0 1,15 * 3', 'UTC', '2026-01-01T00:00:00Z', 6],
  ['5-10/2 8-9 * * *', 'Asia/Kolkata', '2026-06-01T00:00:00Z', 5],
  ['0 0 * * 7', 'UTC', '2026-06-01T00:00:00Z', 2],
  ['@daily', 'UTC', '2026-06-01T10:00:00Z', 2],
];

const cases = CASES.map(([expression, tz, start, count]) => {
  const it = CronExpressionParser.parse(expression, { tz, currentDate: new Date(start) });
  const next = [];
  for (let i = 0; i < count; i++) next.push(it.next().toDate().toISOString());
  return { expression, tz, start, next };
});
const out = path.join(__dirname, '..', 'crates', 'job-queue-core', 'tests', 'fixtures', 'cron-golden.json');
fs.writeFileSync(out, `${JSON.stringify(cases, null, 1)}\n`);
console.log(`${cases.length} cases written to ${path.relative(process.cwd(), out)}`);
