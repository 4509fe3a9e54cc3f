// Search on the built bundled site, served statically: opened with "/" and Ctrl-K, results as
// you type grouped by page with a deep link and a marked excerpt, keyboard navigation, stemming
// and prefixes, hostile queries, and what the first query downloads.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ROOT, buildSite, launchBrowser, screenshot, startServer, tempDir, withPage } from './helpers.mjs';

/** Types `q` into the open search dialog and waits for the status line's answer. */
async function typeQuery(page, q) {
  await page.locator('#search-input').fill(q);
  await page.waitForFunction(
    () => document.querySelector('.search-status').textContent !== '',
    null,
    { timeout: 5000 },
  );
}

describe('search', () => {
  let browser;
  let out;
  let server;

  before(async () => {
    out = await tempDir('docsite-search-');
    await buildSite(ROOT, out.dir);
    server = await startServer(out.dir);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await out?.cleanup();
  });

  const results = (page) =>
    page.locator('#search-results [role=option]').evaluateAll((els) =>
      els.map((a) => ({ href: a.getAttribute('href'), heading: a.querySelector('.search-hit-heading').textContent, marked: [...a.querySelectorAll('mark')].map((m) => m.textContent) })),
    );


  test('"/" opens search; a prefix finds the founding guide with a deep link; Enter follows it', async () => {
    await withPage(browser, 'search-prefix', async (page, watcher) => {
      const searchBytes = [];
      page.on('response', async (r) => {
        if (new URL(r.url()).pathname.startsWith('/search/')) {
          searchBytes.push((await r.body().catch(() => Buffer.alloc(0))).length);
        }
      });
      await page.goto(new URL('docs/guide/getting-started/', server.url).href);
      await page.keyboard.press('/');
      await page.locator('#search-dialog[open]').waitFor();
      assert.equal(await page.evaluate(() => document.activeElement.id), 'search-input');
      await typeQuery(page, 'azure verif');
      const hits = await results(page);
      assert.ok(hits.length > 0, 'results for a prefix');
      assert.ok(hits.some((h) => h.href.includes('/add-git-provider/azure-devops/#')), JSON.stringify(hits, null, 1));
      assert.ok(hits.every((h) => h.marked.length === 0 || h.marked.some((m) => /^verif/i.test(m))), 'marks are the matched words');
      assert.ok(await page.locator('#search-results [role=group]').count() >= 1, 'grouped by page');
      const total = searchBytes.reduce((a, b) => a + b, 0);
      // The bundled guide's whole text is one chunk: the budget grows with the guide (51 KB once
      // the components and navigation pages joined it); a 10,000-page site's first query is
      // bounded by benches/search.mjs instead.
      assert.ok(total <= 60_000, `the first query downloaded ${total} bytes`);
      await screenshot(page, 'search-results', { fullPage: false });

      await page.keyboard.press('ArrowDown');
      const active = await page.locator('#search-input').getAttribute('aria-activedescendant');
      assert.equal(await page.locator(`#${active}`).getAttribute('aria-selected'), 'true');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowUp');
      const href = await page.locator(`#${active}`).getAttribute('href');
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.pathname + u.hash === href || u.href.endsWith(href));
      const hash = new URL(page.url()).hash;
      if (hash) assert.equal(await page.locator(decodeURIComponent(hash)).count(), 1, 'the deep link names a heading');
      watcher.assertClean('search');
    });
  });

  test('Ctrl-K opens, Escape closes and gives focus back; ranking, case and stemming', async () => {
    await withPage(browser, 'search-keys', async (page, watcher) => {
      await page.goto(server.url);
      await page.locator('.search-btn').focus();
      await page.keyboard.press('Control+k');
      await page.locator('#search-dialog[open]').waitFor();
      await typeQuery(page, 'CONFIGURATION');
      let hits = await results(page);
      assert.match(hits[0].href, /\/docs\/guide\/configuration\//, 'a title match ranks first');
      await typeQuery(page, 'configured');
      hits = await results(page);
      assert.ok(hits.some((h) => /configuration/.test(h.href)), 'an inflection finds its stem');
      await page.keyboard.press('Escape');
      await page.locator('#search-dialog[open]').waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.activeElement.className), 'search-btn');
      watcher.assertClean('search keys');
    });
  });

  test('results come five at a time; the button and ArrowDown past the last show more', async () => {
    await withPage(browser, 'search-more', async (page, watcher) => {
      await page.goto(server.url);
      await page.keyboard.press('/');
      await typeQuery(page, 'provider');
      const more = page.locator('.search-more');
      assert.equal((await results(page)).length, 5, 'the first page');
      const status = await page.locator('.search-status').innerText();
      const m = /^Showing 5 of (\d+) results$/.exec(status);
      assert.ok(m && +m[1] > 10, status);
      assert.ok(await more.isVisible(), 'a button for the rest');
      assert.equal(await more.innerText(), "More results");

      await more.click();
      await page.waitForFunction(() => document.querySelectorAll('#search-results [role=option]').length === 10);
      assert.equal(await page.evaluate(() => document.activeElement.id), 'search-input', 'focus back in the input');
      const active = await page.locator('#search-input').getAttribute('aria-activedescendant');
      assert.equal(active, 'search-o5', 'the first new result is the active option');
      assert.match(await page.locator('.search-status').innerText(), /^Showing 10 of \d+ results$/);

      // Keyboard only: ArrowDown from the last option loads the next page and moves into it
      // (a new result joins its page's group, so the list's last option need not be o9).
      const lastId = () => page.evaluate(() => [...document.querySelectorAll('#search-results [role=option]')].at(-1).id);
      const last = await lastId();
      for (let i = 0; i < 10 && (await page.locator('#search-input').getAttribute('aria-activedescendant')) !== last; i++) {
        await page.keyboard.press('ArrowDown');
      }
      assert.equal(await page.locator('#search-input').getAttribute('aria-activedescendant'), last);
      await page.keyboard.press('ArrowDown');
      await page.waitForFunction(() => document.getElementById('search-input').getAttribute('aria-activedescendant') === 'search-o10');
      assert.equal(await page.locator('.search-hit[aria-selected=true]').getAttribute('id'), 'search-o10');
      const hrefs = (await results(page)).map((h) => h.href);
      assert.equal(new Set(hrefs).size, hrefs.length, 'no result twice');

      // A new query starts again from its first page.
      await typeQuery(page, 'zzzzqqq');
      assert.equal((await results(page)).length, 0);
      assert.ok(!(await more.isVisible()), 'no button without results');
      watcher.assertClean('search more');
    });
  });

  test('hostile and foreign queries answer sensibly and never error', async () => {
    await withPage(browser, 'search-hostile', async (page, watcher) => {
      await page.goto(server.url);
      await page.keyboard.press('/');
      for (const q of ['(.*[', '\\\\d+$^', 'x'.repeat(1000), '検索エンジン', '🎉🎉', 'עברית', '   ', 'the and of']) {
        await page.locator('#search-input').fill(q);
        await page.waitForTimeout(100);
        const status = await page.locator('.search-status').innerText();
        assert.ok(status === '' || /result/.test(status), `${q.slice(0, 20)}: ${status}`);
      }
      watcher.assertClean('hostile queries');
    });
  });
});

// A site too large for one chunk of rows: a query fetches its shard and the chunks of the rows
// it shows, nothing more, and each chunk once.
describe('search on a site of many chunks', () => {
  let browser;
  let site;
  let out;
  let server;

  before(async () => {
    site = await tempDir('docsite-search-chunks-');
    out = await tempDir('docsite-search-chunks-out-');
    await mkdir(path.join(site.dir, 'content'), { recursive: true });
    await writeFile(path.join(site.dir, 'content', '_index.md'), '---\ntitle: Home\n---\nWelcome.\n');
    for (let p = 0; p < 50; p++) {
      let text = `---\ntitle: Page ${p}\n---\nThe opening of page ${p} about gardens.\n`;
      for (let k = 0; k < 6; k++) {
        text += `\n## Part ${k}\n\nGardens and ponds, part ${k} of page ${p}.`;
        if (p === 37 && k === 2) text += ' A quokka lives here.';
        if (k === 2) text += ' Herons visit.';
        text += '\n';
      }
      await writeFile(path.join(site.dir, 'content', `page-${String(p).padStart(2, '0')}.md`), text);
    }
    await buildSite(site.dir, out.dir);
    server = await startServer(out.dir);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await out?.cleanup();
    await site?.cleanup();
  });

  async function query(page, q) {
    const asked = [];
    page.on('request', (r) => {
      const m = /\/search\/(s\/\d+\.json|t\/[^/]+)$/.exec(new URL(r.url()).pathname);
      if (m) asked.push(m[1]);
    });
    await page.goto(server.url);
    await page.keyboard.press('/');
    await page.locator('#search-dialog[data-index=ready]').waitFor();
    await typeQuery(page, q);
    const hrefs = await page.locator('#search-results [role=option]').evaluateAll((els) => els.map((a) => a.getAttribute('href')));
    return { hrefs, chunks: asked.filter((a) => a.startsWith('s/')), shards: asked.filter((a) => a.startsWith('t/')) };
  }

  test('one rare word: its shard and the one chunk of its row', async () => {
    await withPage(browser, 'search-chunks-rare', async (page, watcher) => {
      const { hrefs, chunks, shards } = await query(page, 'quokka');
      assert.deepEqual(hrefs, ['/page-37/#part-2']);
      assert.equal(shards.length, 1, shards.join());
      assert.equal(chunks.length, 1, `chunks asked for: ${chunks.join()}`);
      watcher.assertClean('rare word');
    });
  });

  test('two words: both first, ties in site order; the chunks of the rows shown, each once', async () => {
    await withPage(browser, 'search-chunks-two', async (page, watcher) => {
      const { hrefs, chunks } = await query(page, 'herons quokka');
      assert.equal(hrefs[0], '/page-37/#part-2', hrefs.join());
      // The others match one word equally well: they keep the site's order.
      assert.deepEqual(hrefs.slice(1), ['/page-00/#part-2', '/page-01/#part-2', '/page-02/#part-2', '/page-03/#part-2']);
      const shown = new Set(chunks);
      assert.equal(shown.size, chunks.length, `a chunk asked for twice: ${chunks.join()}`);
      assert.ok(chunks.length <= 5, chunks.join());
      watcher.assertClean('two words');
    });
  });
});

// Ranking by where the words are (issue 20), on tests/fixtures/search-ranking: a long CI/CD
// tutorial repeats the titles of short pages in its headings and text, as a real tutorial does.
describe('search ranking: titles, several pages, typos', () => {
  let browser;
  let out;
  let server;

  before(async () => {
    out = await tempDir('docsite-search-ranking-');
    await buildSite(path.join(ROOT, 'tests', 'fixtures', 'search-ranking'), out.dir);
    server = await startServer(out.dir);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await out?.cleanup();
  });

  /** The hrefs of the first page of results for each query, in order. */
  async function ranked(name, queries) {
    const answers = {};
    await withPage(browser, name, async (page, watcher) => {
      await page.goto(server.url);
      await page.keyboard.press('/');
      await page.locator('#search-dialog[data-index=ready]').waitFor();
      for (const q of queries) {
        await typeQuery(page, q);
        answers[q] = await page.locator('#search-results [role=option]').evaluateAll((els) => els.map((a) => a.getAttribute('href')));
      }
      watcher.assertClean(name);
    });
    return answers;
  }

  test('the page named for the words comes first, above a tutorial that repeats them', async () => {
    const want = { 'azure devops': '/azure-devops/', 'Deploy with Docker': '/deploy-with-docker/', 'drift detection': '/drift-detection/', kubernetes: '/kubernetes/' };
    const got = await ranked('search-rank-titles', Object.keys(want));
    for (const [q, href] of Object.entries(want)) assert.equal(got[q][0], href, `${q}: ${got[q].join(' ')}`);
  });

  test('at most two sections of one page among the first five results', async () => {
    const got = await ranked('search-rank-pages', ['azure devops', 'docker deploy', 'drift']);
    // Only two pages have "drift": then the first five are theirs, the tutorial's beyond two.
    const drift = got.drift.slice(0, 5).map((h) => h.split('#')[0]);
    assert.deepEqual([drift.length, new Set(drift).size], [5, 2], got.drift.join(' '));
    delete got.drift;
    for (const [q, hrefs] of Object.entries(got)) {
      const first = hrefs.slice(0, 5).map((h) => h.split('#')[0]);
      const perPage = new Map();
      for (const p of first) perPage.set(p, (perPage.get(p) || 0) + 1);
      assert.ok(Math.max(...perPage.values()) <= 2, `${q}: ${hrefs.join(' ')}`);
      // Enough pages match each of these, so the first five show at least three of them.
      assert.ok(perPage.size >= 3, `${q}: ${hrefs.join(' ')}`);
    }
  });

  test('a one-edit typo finds its page, below a page with the word as typed', async () => {
    const got = await ranked('search-rank-typos', ['kuberntes', 'dokcer', 'drift detectoin', 'deploy with dockr']);
    assert.equal(got.kuberntes[0], '/kubernetes/', got.kuberntes.join(' '));
    // "dokcer" is written on the glossary page: that exact match first, the typo's pages after.
    assert.equal(got.dokcer[0], '/glossary/', got.dokcer.join(' '));
    assert.ok(got.dokcer.includes('/deploy-with-docker/'), got.dokcer.join(' '));
    assert.equal(got['drift detectoin'][0], '/drift-detection/', got['drift detectoin'].join(' '));
    assert.equal(got['deploy with dockr'][0], '/deploy-with-docker/', got['deploy with dockr'].join(' '));
  });

  test('the last word matches as a prefix while it is typed', async () => {
    const got = await ranked('search-rank-prefix', ['drift detec', 'deploy with dock', 'azure dev', 'kube']);
    assert.equal(got['drift detec'][0], '/drift-detection/', got['drift detec'].join(' '));
    assert.equal(got['deploy with dock'][0], '/deploy-with-docker/', got['deploy with dock'].join(' '));
    assert.equal(got['azure dev'][0], '/azure-devops/', got['azure dev'].join(' '));
    assert.equal(got.kube[0], '/kubernetes/', got.kube.join(' '));
  });
});
