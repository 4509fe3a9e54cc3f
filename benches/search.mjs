// Search benchmark: what the first query downloads and how long it takes to answer, in Debian
// chromium, on a built site served over loopback.
//
//   cargo bench --bench build -- --pages 10000 --runs 1 --warmup 0 --keep /dev/shm/docsite-corpus
//   node benches/search.mjs /dev/shm/docsite-corpus/out-10000
//
// With no argument it builds and measures the bundled site. Each query runs in a fresh browser
// context (nothing cached). "ready" is from the "/" key to the index's meta loaded (search.js
// and meta.json, fetched when the dialog opens); the query is typed then, as a reader's first
// keystroke comes later than that. "first" is from the input event to the first result in the
// DOM, "all" to the first page of results (five; more come on request) shown and announced;
// both measured in the page. The bytes are the bodies
// of every /search/ response of that query, the meta included. The "typed" columns time the
// same query typed a character at a time (120 ms apart) from its last keystroke: what a reader
// waits for, as shards and rows fetched for the earlier keystrokes are already there.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const helpers = await import(path.join(here, '..', 'tests', 'browser', 'helpers.mjs'));
const { ROOT, buildSite, launchBrowser, startServer, tempDir } = helpers;

const TYPE_MS = 120;
const QUERIES = ['cache', 'deploym', 'token lifetime', 'configured', 'webhook secret rotation', 'zzzz'];

let dir = process.argv[2];
let tmp;
if (!dir) {
  tmp = await tempDir('docsite-search-bench-');
  await buildSite(ROOT, tmp.dir);
  dir = tmp.dir;
}
const server = await startServer(dir);
const browser = await launchBrowser();
const rows = [];
// One query in a fresh browser context. `typed`: the query is typed a character at a time,
// TYPE_MS apart, as a reader does, and timed from its last keystroke; otherwise it arrives
// whole (pasted), the worst case: nothing it needs was fetched before.
async function measure(q, typed) {
  const context = await browser.newContext();
  const page = await context.newPage();
  let bytes = 0;
  page.on('response', async (r) => {
    if (new URL(r.url()).pathname.includes('/search/')) bytes += (await r.body().catch(() => Buffer.alloc(0))).length;
  });
  await page.goto(server.url);
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
  await context.close();
  return { ready, ms, bytes, hits };
}

try {
  for (const q of QUERIES) {
    const pasted = await measure(q, false);
    const typed = await measure(q, true);
    const fmt = (v) => (v === null ? '-' : v.toFixed(1));
    rows.push({
      query: q,
      'ready ms': pasted.ready,
      'first ms': fmt(pasted.ms.first),
      'all ms': fmt(pasted.ms.all),
      'KB downloaded': (pasted.bytes / 1024).toFixed(1),
      results: pasted.hits,
      'typed: first ms': fmt(typed.ms.first),
      'typed: all ms': fmt(typed.ms.all),
      'typed: KB': (typed.bytes / 1024).toFixed(1),
    });
  }
} finally {
  await browser.close();
  await server.close();
  await tmp?.cleanup();
}
console.log(`site: ${dir}`);
console.table(rows);
