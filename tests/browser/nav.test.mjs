// Navigation files in a real browser: the fixture tests/fixtures/nav (one `_nav.md` in the
// heading form, one in mdBook's list form, a folder without one), built by $DOCSITE_BIN.
//
//  - axe-core finds nothing on pages whose sidebar holds groups, nested entries and a divider,
//    in light and dark;
//  - a group opens and closes from the keyboard (its chevron is the toggle), and what it holds
//    is then reached by Tab.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import axe from 'axe-core';

import { ROOT, buildSite, launchBrowser, startServer, tempDir, withPage } from './helpers.mjs';

const T = { timeout: 120_000 };

async function runAxe(page) {
  await page.addScriptTag({ content: axe.source });
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

describe('navigation files', () => {
  let tmp;
  let server;
  let browser;

  before(async () => {
    tmp = await tempDir('docsite-nav-');
    server = await startServer(tmp.dir);
    browser = await launchBrowser();
    await buildSite(path.join(ROOT, 'tests', 'fixtures', 'nav'), tmp.dir);
  }, T);

  after(async () => {
    await browser?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  const at = (p) => new URL(p, server.url).href;

  for (const colorScheme of ['light', 'dark']) {
    for (const p of ['/docs/get-started/docker/', '/book/advanced/tuning/']) {
      test(`${p} (${colorScheme}): no axe violations`, T, async () => {
        await withPage(browser, `nav-axe-${colorScheme}-${p}`, { colorScheme }, async (page) => {
          const res = await page.goto(at(p), { waitUntil: 'load' });
          assert.equal(res.status(), 200);
          assert.deepEqual(await runAxe(page), []);
        });
      });
    }
  }

  test('a group opens and closes from the keyboard', T, async () => {
    await withPage(browser, 'nav-keyboard', async (page) => {
      await page.goto(at('/docs/introduction/what-is-acme/'), { waitUntil: 'load' });
      const group = page.locator('#sidebar .nav-group', { hasText: 'Self-host' });
      const details = group.locator('> details');
      const summary = details.locator('> summary');
      assert.equal(await details.getAttribute('open'), null, 'closed: the page is not in it');
      const install = group.locator('a', { hasText: 'Install' });
      assert.equal(await install.isVisible(), false);
      // Tab from the entry before the group lands on the group's toggle.
      await page.locator('#sidebar a', { hasText: 'Why Acme' }).focus();
      await page.keyboard.press('Tab');
      assert.equal(await summary.evaluate((el) => el === document.activeElement), true);
      await page.keyboard.press('Enter');
      assert.notEqual(await details.getAttribute('open'), null, 'Enter opens it');
      assert.equal(await install.isVisible(), true);
      await page.keyboard.press('Tab');
      assert.equal(await install.evaluate((el) => el === document.activeElement), true);
      await summary.focus();
      await page.keyboard.press('Space');
      assert.equal(await details.getAttribute('open'), null, 'Space closes it');
    });
  });
});
