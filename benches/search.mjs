// Search benchmark: what the first query downloads and how long it takes to answer, in Debian
// chromium, on a built site served over loopback by `docsite host` (the binary named by
// $DOCSITE_BIN; build it with `cargo build --release` and point there for a release's figures).
//
//   cargo bench --bench build -- --pages 10000 --runs 1 --warmup 0 --keep /dev/shm/docsite-corpus
//   DOCSITE_BIN=target/release/docsite node benches/search.mjs /dev/shm/docsite-corpus/out-10000 [ROUNDS]
//
// With no site it builds and measures the bundled site. Every query is measured ROUNDS times
// (default 5), alternating with the others, and the table shows medians and the slowest; the
// last line sums up the pasted first results of every query and round. Each query runs in a
// fresh browser context (nothing cached). "ready" is from the "/" key to the index's meta
// loaded (search.js and meta.json, fetched when the dialog opens); the query is typed then, as a
// reader's first keystroke comes later than that. "first" is from the input event to the first
// result in the DOM, "all" to the first page of results (five; more come on request) shown and
// announced; both measured in the page. The bytes are the bodies of every /search/ response of
// that query, the meta included, from the page's Resource Timing (reading them through DevTools
// instead would put that work in the browser while it is being timed). The "typed" columns time
// the same query typed a character at a time (120 ms apart) from its last keystroke: what a
// reader waits for, as shards and rows fetched for the earlier keystrokes are already there.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const helpers = await import(path.join(here, '..', 'tests', 'browser', 'helpers.mjs'));
const { ROOT, buildSite, hostSite, launchBrowser, tempDir } = helpers;

const TYPE_MS = 120;
const QUERIES = ['cache', 'deploym', 'token lifetime', 'configured', 'webhook secret rotation', 'zzzz'];

let dir = process.argv[2];
const ROUNDS = Number(process.argv[3] || 5);
let tmp;
if (!dir) {
  tmp = await tempDir('docsite-search-bench-');
  await buildSite(ROOT, tmp.dir);
  dir = tmp.dir;
}
const server = hostSite(dir);
const url = await server.ready;
const browser = await launchBrowser();
const rows = [];
// One query in a fresh browser context. `typed`: the query is typed a character at a time,
// TYPE_MS apart, as a reader does, and timed from its last keystroke; otherwise it arrives
// whole (pasted), the worst case: nothing it needs was fetched before.
async function measure(q, typed) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  const opened = Date.now();
  await page.keyboard.press('/');
  await page.locator('#search-dialog[data-index=ready]').waitFor();
  const ready = Date.now() - opened;
  const ms = await page.evaluate(async ([query, typed, pause]) => {
    const input = document.getElementById('search-input');
    const list = document.getElementById('search-results');
    const status = document.querySelector('.search-status');
    const send = (text) => {
      input.value = text;
      input.dispatchEvent(new Event('input'));
    };
    if (typed) {
      for (let n = 1; n < query.length; n++) {
        send(query.slice(0, n));
        await new Promise((r) => setTimeout(r, pause));
      }
    }
    // Rows shown for an earlier keystroke are not this query's answer.
    list.querySelectorAll('[role=option]').forEach((o) => o.setAttribute('data-earlier', ''));
    status.textContent = '';
    let first = null;
    const done = new Promise((resolve) => {
      new MutationObserver((_, obs) => {
        if (first === null && list.querySelector('[role=option]:not([data-earlier])')) first = performance.now();
        if (status.textContent) {
          obs.disconnect();
          resolve(performance.now());
        }
      }).observe(status.parentNode, { childList: true, characterData: true, subtree: true });
    });
    const t0 = performance.now();
    send(query);
    const all = await done;
    return { first: first === null ? null : first - t0, all: all - t0 };
  }, [q, typed, TYPE_MS]);
  await page.waitForTimeout(200);
  const hits = await page.locator('#search-results [role=option]').count();
  const bytes = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((e) => new URL(e.name).pathname.includes('/search/'))
      .reduce((sum, e) => sum + e.encodedBodySize, 0),
  );
  await context.close();
  return { ready, ms, bytes, hits };
}

const runs = new Map(QUERIES.map((q) => [q, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const q of QUERIES) runs.get(q).push({ pasted: await measure(q, false), typed: await measure(q, true) });
  }
} finally {
  await browser.close();
  await server.close();
  await tmp?.cleanup();
}
const median = (xs) => {
  const v = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return v.length ? v[(v.length - 1) >> 1] : null;
};
const worst = (xs) => (xs.some((x) => x !== null) ? Math.max(...xs.filter((x) => x !== null)) : null);
const fmt = (v) => (v === null ? '-' : v.toFixed(1));
const pick = (list, mode, f) => list.map((r) => f(r[mode]));
const everyFirst = [];
for (const [q, list] of runs) {
  const first = pick(list, 'pasted', (m) => m.ms.first);
  everyFirst.push(...first.filter((x) => x !== null));
  rows.push({
    query: q,
    'ready ms': median(pick(list, 'pasted', (m) => m.ready)),
    'first ms': fmt(median(first)),
    'first max': fmt(worst(first)),
    'all ms': fmt(median(pick(list, 'pasted', (m) => m.ms.all))),
    'all max': fmt(worst(pick(list, 'pasted', (m) => m.ms.all))),
    'KB downloaded': (worst(pick(list, 'pasted', (m) => m.bytes)) / 1024).toFixed(1),
    results: list[0].pasted.hits,
    'typed: first ms': fmt(median(pick(list, 'typed', (m) => m.ms.first))),
    'typed: all ms': fmt(median(pick(list, 'typed', (m) => m.ms.all))),
    'typed: KB': (worst(pick(list, 'typed', (m) => m.bytes)) / 1024).toFixed(1),
  });
}
console.log(`site: ${dir}; ${ROUNDS} rounds; medians, and the slowest (max)`);
console.table(rows);
everyFirst.sort((a, b) => a - b);
const at = (q) => (everyFirst.length ? everyFirst[Math.min(everyFirst.length - 1, Math.ceil(q * everyFirst.length) - 1)] : null);
console.log(
  `pasted, first result, all queries: median ${fmt(at(0.5))} ms, 95th percentile ${fmt(at(0.95))} ms, ` +
    `slowest ${fmt(at(1))} ms; over 50 ms: ${everyFirst.filter((x) => x > 50).length} of ${everyFirst.length}`,
);
