// Self-test of the browser harness (static server, chromium launch, page
// watcher). Needs no docsite binary, so a red site.test.mjs can be told
// apart from a broken harness.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, openPage, startServer, tempDir } from './helpers.mjs';

// 1x1 lossless WebP.
const WEBP_1PX = Buffer.from(
  'UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==',
  'base64',
);

async function makeFixture(dir) {
  const files = {
    'index.html': '<!doctype html><title>home</title><h1>home</h1>',
    'docs/a/index.html':
      '<!doctype html><html lang="en"><title>A</title><link rel="stylesheet" href="/style.css">' +
      '<h1>A</h1><img alt="dot" src="/dot.webp"><button id="b" onclick="console.error(\'boom\')">b</button>' +
      '<script src="/app.js"></script>',
    '404.html': '<!doctype html><title>Not found</title><h1>404</h1>',
    'style.css': 'h1{color:rgb(1,2,3)}',
    'app.js': 'document.body.dataset.ok = "1";',
    'logo.svg': '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
    'sitemap.xml': '<?xml version="1.0"?><urlset/>',
    'dot.webp': WEBP_1PX,
  };
  for (const [rel, body] of Object.entries(files)) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, body);
  }
}

describe('harness: static server', () => {
  let tmp;
  let server;
  let prefixed;
  before(async () => {
    tmp = await tempDir();
    await makeFixture(tmp.dir);
    server = await startServer(tmp.dir);
    prefixed = await startServer(tmp.dir, { prefix: '/handbook/' });
  });
  after(async () => {
    await server?.close();
    await prefixed?.close();
    await tmp?.cleanup();
  });

  const get = (base, p, init) => fetch(new URL(p, base), { redirect: 'manual', ...init });

  test('pretty URLs, redirects, 404 page', async () => {
    let r = await get(server.url, '/');
    assert.equal(r.status, 200);
    assert.match(await r.text(), /<h1>home<\/h1>/);
    r = await get(server.url, '/docs/a/');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/html/);
    r = await get(server.url, '/docs/a');
    assert.equal(r.status, 301);
    assert.equal(r.headers.get('location'), '/docs/a/');
    r = await get(server.url, '/nope/');
    assert.equal(r.status, 404);
    assert.match(await r.text(), /<h1>404<\/h1>/);
    r = await get(server.url, '/%2e%2e/%2e%2e/etc/passwd');
    assert.equal(r.status, 404);
    r = await get(server.url, '/docs/a/', { method: 'HEAD' });
    assert.equal(r.status, 200);
    r = await get(server.url, '/', { method: 'POST' });
    assert.equal(r.status, 405);
  });

  test('content types', async () => {
    const want = {
      '/style.css': 'text/css',
      '/app.js': 'text/javascript',
      '/logo.svg': 'image/svg+xml',
      '/dot.webp': 'image/webp',
      '/sitemap.xml': 'application/xml',
      '/index.html': 'text/html',
    };
    for (const [p, type] of Object.entries(want)) {
      const r = await get(server.url, p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get('content-type').split(';')[0], type, p);
      await r.arrayBuffer();
    }
  });

  test('prefix mode serves only under the prefix', async () => {
    assert.equal((await get(prefixed.origin, '/handbook/docs/a/')).status, 200);
    assert.equal((await get(prefixed.origin, '/handbook/style.css')).status, 200);
    assert.equal((await get(prefixed.origin, '/docs/a/')).status, 404);
    const r = await get(prefixed.origin, '/handbook');
    assert.equal(r.status, 301);
    assert.equal(r.headers.get('location'), '/handbook/');
  });
});

describe('harness: chromium', () => {
  let tmp;
  let server;
  let browser;
  before(async () => {
    tmp = await tempDir();
    await makeFixture(tmp.dir);
    server = await startServer(tmp.dir);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  test('loads a page with css, js and a webp image; watcher sees errors', async () => {
    const { context, page, watcher } = await openPage(browser);
    try {
      const res = await page.goto(new URL('/docs/a/', server.url).href);
      assert.equal(res.status(), 200);
      await page.waitForLoadState('load');
      assert.equal(await page.locator('body').getAttribute('data-ok'), '1', 'script ran');
      assert.equal(
        await page.locator('h1').evaluate((h) => getComputedStyle(h).color),
        'rgb(1, 2, 3)',
        'stylesheet applied',
      );
      assert.ok(
        await page.locator('img').evaluate((i) => i.complete && i.naturalWidth > 0),
        'webp image decoded',
      );
      watcher.assertClean('fixture page');

      await page.click('#b');
      await page.goto(new URL('/missing/', server.url).href);
      const kinds = watcher.problems.map((p) => p.kind).sort();
      assert.ok(kinds.includes('console.error'), `console.error recorded: ${kinds}`);
      assert.ok(kinds.includes('http 404'), `404 recorded: ${kinds}`);
      assert.throws(() => watcher.assertClean('fixture page'), /console error/);
      watcher.allow(() => true);
      watcher.assertClean('fixture page');
    } finally {
      await context.close();
    }
  });
});
