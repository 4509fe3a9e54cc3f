// Real-browser tests of `docsite serve`: the page follows edits on disk with no navigation by the
// test, shows each page's problems, overlays build errors over the last good content, and swaps
// the stylesheet without a reload when only CSS changed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { DOCSITE_BIN, ROOT, eventually, launchBrowser, openPage, screenshot, tempDir } from './helpers.mjs';

/** Starts `docsite serve` on a free port; resolves with { url, proc, log }. */
function startServe(root) {
  return new Promise((resolve, reject) => {
    const proc = spawn(DOCSITE_BIN, ['serve', '--root', root, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${log}`)), 30_000);
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const m = log.match(/serving on (http:\/\/[^ ]+\/)/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], proc, log: () => log });
      }
    });
    proc.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${log}`)));
  });
}

describe('docsite serve', () => {
  let browser;
  let server;
  let site;
  let root;
  const guide = () => path.join(root, 'content/guides/first.md');
  let original;

  before(async () => {
    site = await tempDir('docsite-serve-');
    root = site.dir;
    await cp(path.join(ROOT, 'tests/fixtures/basic'), root, { recursive: true });
    original = await readFile(guide(), 'utf8');
    server = await startServe(root);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    server?.proc.kill();
    await site?.cleanup();
  });

  test('edits, findings, build errors and CSS changes show up live', async () => {
    const { context, page } = await openPage(browser);
    try {
      await page.goto(server.url + 'guides/first/');
      assert.equal(await page.locator('main h1').innerText(), 'First guide');
      await page.evaluate(() => {
        window.__docsiteMarker = 'same document';
      });

      // 1. New text appears without the test navigating.
      await writeFile(guide(), original + '\nLive edit marker 4711.\n');
      await page.waitForFunction(() => document.body.innerText.includes('Live edit marker 4711.'), null, {
        timeout: 10_000,
      });

      // 2. A broken link is listed in the page's panel with file:line.
      await writeFile(guide(), original + '\nLive edit marker 4711 with a [broken link](./nope.md).\n');
      const panel = page.locator('[data-docsite-panel]');
      await panel.waitFor({ timeout: 10_000 });
      const text = await panel.innerText();
      assert.match(text, /broken-link/);
      assert.match(text, /content\/guides\/first\.md:\d+/);
      await screenshot(page, 'serve-panel', { fullPage: false });

      // 3. Fixed: the panel clears itself.
      await writeFile(guide(), original + '\nLive edit marker 4711.\n');
      await panel.waitFor({ state: 'detached', timeout: 10_000 });

      // 4. Broken frontmatter: an overlay with the message; the last good content stays.
      await writeFile(guide(), '---\ntitle: [unclosed\n---\nGone.\n');
      const overlay = page.locator('[data-docsite-overlay]');
      await overlay.waitFor({ timeout: 10_000 });
      assert.match(await overlay.innerText(), /frontmatter/);
      assert.match(await overlay.innerText(), /content\/guides\/first\.md:\d+/);
      assert.ok((await page.locator('main').innerText()).includes('Live edit marker 4711.'));
      await screenshot(page, 'serve-overlay', { fullPage: false });

      // 5. Fixed again: the overlay clears and the page shows the new text.
      await writeFile(guide(), original + '\nFixed marker 815.\n');
      await page.waitForFunction(() => document.body.innerText.includes('Fixed marker 815.'), null, {
        timeout: 10_000,
      });
      await overlay.waitFor({ state: 'detached', timeout: 10_000 });

      // 6. A CSS-only change swaps the stylesheet without reloading the page.
      await page.evaluate(() => {
        window.__docsiteMarker = 'after reload';
      });
      await mkdir(path.join(root, 'static'), { recursive: true });
      const css = await readFile(path.join(ROOT, 'static/docsite.css'), 'utf8');
      await writeFile(path.join(root, 'static/docsite.css'), css + '\nmain h1 { letter-spacing: 3px; }\n');
      await eventually(
        () => page.evaluate(() => getComputedStyle(document.querySelector('main h1')).letterSpacing === '3px'),
        { timeout: 10_000, message: 'the new stylesheet' },
      );
      assert.equal(await page.evaluate(() => window.__docsiteMarker), 'after reload', 'no full reload for CSS');
    } finally {
      await context.close();
    }
  });
});
