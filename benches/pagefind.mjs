// Pagefind beside our own index (issue 7): the same queries as benches/search.mjs, against a
// Pagefind index, in the same Debian chromium over loopback. Input: a built site with a
// pagefind/ folder written by the Pagefind CLI, e.g.
//
//   target/release/docsite build --root . --out /tmp/pf-site
//   npx pagefind@1.6.0 --site /tmp/pf-site
//   node benches/pagefind.mjs /tmp/pf-site
//
// Each query runs twice, each time in a fresh browser context (nothing cached):
//   cold        pagefind.js imported, then search() pays for entry, meta and wasm itself;
//   after init  init() done first, as our dialog loads its meta when it opens.
// "search" is `await search(q)` alone; "10 results" adds data() of the first ten, which is
// what a result list with titles and excerpts needs; both count from the search() call. Bytes are
// the sizes of the /pagefind/ files the server sent, split where the query starts; the server's
// log gives that split exactly, where response events (many from Pagefind's worker) arrive late.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { launchBrowser, startServer } = await import(path.join(here, '..', 'tests', 'browser', 'helpers.mjs'));

const QUERIES = ['cache', 'deploym', 'token lifetime', 'configured', 'webhook secret rotation', 'zzzz'];

const dir = process.argv[2];
if (!dir || !(await stat(path.join(dir, 'pagefind', 'pagefind.js')).catch(() => null))) {
  console.error('usage: node benches/pagefind.mjs SITE_DIR   (SITE_DIR/pagefind/ built by the Pagefind CLI)');
  process.exit(2);
}

async function servedBytes(requests) {
  let bytes = 0;
  for (const [status, url] of requests) {
    const p = new URL(url, 'http://x').pathname;
    if (status === 200 && p.startsWith('/pagefind/')) bytes += (await stat(path.join(dir, p))).size;
  }
  return bytes;
}

const server = await startServer(dir);
const browser = await launchBrowser();
const rows = [];
try {
  for (const mode of ['cold', 'after init']) {
    for (const q of QUERIES) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(server.url);
      const atStart = server.requests.length;
      const setup = await page.evaluate(async (warm) => {
        const t0 = performance.now();
        window.pagefind = await import('/pagefind/pagefind.js');
        const t1 = performance.now();
        if (warm) {
          // init() only starts loading; filters() returns once the worker holds meta and wasm.
          await window.pagefind.init();
          await window.pagefind.filters();
        }
        return { importMs: t1 - t0, initMs: performance.now() - t1 };
      }, mode === 'after init');
      const atQuery = server.requests.length;
      const t = await page.evaluate(async (query) => {
        const t0 = performance.now();
        const search = await window.pagefind.search(query);
        const t1 = performance.now();
        await Promise.all(search.results.slice(0, 10).map((r) => r.data()));
        return { searchMs: t1 - t0, tenMs: performance.now() - t0, hits: search.results.length };
      }, q);
      const before = await servedBytes(server.requests.slice(atStart, atQuery));
      const during = await servedBytes(server.requests.slice(atQuery));
      rows.push({
        mode,
        query: q,
        'import ms': setup.importMs.toFixed(1),
        'init ms': mode === 'cold' ? '' : setup.initMs.toFixed(1),
        'search ms': t.searchMs.toFixed(1),
        '10 results ms': t.tenMs.toFixed(1),
        'KB before query': (before / 1024).toFixed(1),
        'KB for query': (during / 1024).toFixed(1),
        results: t.hits,
      });
      await context.close();
    }
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(`site: ${dir}`);
console.table(rows);
