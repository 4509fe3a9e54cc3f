// Real-browser tests of the bundled site (the repo's own content/), built by
// the docsite binary ($DOCSITE_BIN) and served by a local static server.
//
// Written against the theme contract: skip link to #main; <header> with the
// site title; mobile menu button (aria-controls + aria-expanded, < 768 px);
// theme toggle <button aria-pressed> setting <html data-theme> persisted in
// localStorage "docsite-theme"; <nav aria-label="Docs"> with aria-current
// page link in an expanded section; <nav aria-label="On this page">;
// <nav aria-label="Breadcrumb">; <main id="main"> with <h1>; <h2 id> headings
// with <a class="anchor">; code blocks with a copy button.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  DESKTOP,
  MOBILE,
  ROOT,
  buildSite,
  eventually,
  launchBrowser,
  screenshot,
  startServer,
  tempDir,
  withPage,
} from './helpers.mjs';

const GUIDE = '/docs/vcs-integration/add-git-provider/azure-devops/';
const GUIDE_TITLE = 'Azure DevOps';
const GUIDE_H2 = [
  'Prerequisites',
  'Step 1 - Setting up',
  'Step 2 - OAuth application info',
  'Step 3 - Confirm and add',
];
const GUIDE_H3 = ['Step 2.1 - Register an application', 'Step 2.2 - Verify setup'];
const GUIDE_HEADINGS = [
  'Prerequisites',
  'Step 1 - Setting up',
  'Step 2 - OAuth application info',
  'Step 2.1 - Register an application',
  'Step 2.2 - Verify setup',
  'Step 3 - Confirm and add',
];
const GUIDE_IMAGES = 7;
const THEME_KEY = 'docsite-theme';

const T = { timeout: 120_000 };

/**
 * Is the element actually on screen: rendered (not display:none /
 * visibility:hidden / zero-size) and overlapping the viewport? An off-canvas
 * drawer moved out with a transform counts as not shown.
 */
const shown = (locator) =>
  locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    if (cs.visibility !== 'visible' || Number(cs.opacity) === 0) return false;
    if (r.width < 1 || r.height < 1) return false;
    return r.right > 0 && r.bottom > 0 && r.left < window.innerWidth && r.top < window.innerHeight;
  });

/** Scroll every image of `main` into view and wait until each has loaded. */
async function loadAllImages(page, scope = 'main') {
  const imgs = page.locator(`${scope} img`);
  const n = await imgs.count();
  for (let i = 0; i < n; i++) {
    const img = imgs.nth(i);
    await img.scrollIntoViewIfNeeded();
    await img
      .evaluate(
        (el) =>
          el.complete
            ? null
            : new Promise((resolve) => {
                el.addEventListener('load', resolve, { once: true });
                el.addEventListener('error', resolve, { once: true });
              }),
      )
      .catch(() => {});
  }
  return imgs.evaluateAll((els) =>
    els.map((el) => ({
      src: el.currentSrc || el.src,
      alt: el.getAttribute('alt'),
      complete: el.complete,
      naturalWidth: el.naturalWidth,
    })),
  );
}

/** The theme toggle: the one <button aria-pressed>, or the one named like a theme switch. */
async function themeToggle(page) {
  const all = page.locator('button[aria-pressed]');
  const n = await all.count();
  assert.ok(n >= 1, 'no <button aria-pressed> (theme toggle) on the page');
  if (n === 1) return all;
  for (let i = 0; i < n; i++) {
    const b = all.nth(i);
    const label = await b.evaluate((el) =>
      [el.getAttribute('aria-label'), el.title, el.textContent, el.id, el.className].join(' '),
    );
    if (/theme|dark|light|mode/i.test(label)) return b;
  }
  assert.fail(`${n} <button aria-pressed> found and none is named like a theme toggle`);
}

const dataTheme = (page) => page.evaluate(() => document.documentElement.getAttribute('data-theme'));

describe('bundled site', () => {
  let tmp;
  let server;
  let browser;
  let built = false;

  before(async () => {
    tmp = await tempDir('docsite-site-');
    server = await startServer(tmp.dir);
    browser = await launchBrowser();
    await buildSite(ROOT, tmp.dir);
    built = true;
  }, T);

  after(async () => {
    await browser?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  const at = (p) => new URL(p, server.url).href;

  test('founding guide: status, title, h1, landmarks, breadcrumb', T, async () => {
    assert.ok(built);
    await withPage(browser, 'guide-basics', async (page, watcher) => {
      const res = await page.goto(at(GUIDE), { waitUntil: 'load' });
      assert.equal(res.status(), 200, `GET ${GUIDE}`);
      assert.match(res.headers()['content-type'] || '', /^text\/html/);

      const title = await page.title();
      assert.ok(title.includes(GUIDE_TITLE), `<title> ${JSON.stringify(title)} should contain "${GUIDE_TITLE}"`);
      assert.ok(
        (await page.getAttribute('html', 'lang'))?.trim(),
        '<html> should have a lang attribute',
      );

      const main = page.locator('main#main');
      assert.equal(await main.count(), 1, 'exactly one <main id="main">');
      const h1 = main.locator('h1');
      assert.equal(await h1.count(), 1, 'exactly one <h1> inside <main>');
      assert.equal((await h1.innerText()).trim(), GUIDE_TITLE);

      const header = page.locator('header').first();
      assert.ok(await header.isVisible(), '<header> visible');
      assert.ok((await header.innerText()).trim().length > 0, '<header> shows the site title');

      for (const label of ['Docs', 'On this page', 'Breadcrumb']) {
        assert.equal(
          await page.locator(`nav[aria-label="${label}"]`).count(),
          1,
          `exactly one <nav aria-label="${label}">`,
        );
      }
      const crumbs = page.locator('nav[aria-label="Breadcrumb"]');
      assert.ok(await crumbs.isVisible(), 'breadcrumb visible');
      const crumbCurrent = crumbs.locator('[aria-current="page"]');
      if ((await crumbCurrent.count()) > 0) {
        assert.match(await crumbCurrent.first().innerText(), /Azure DevOps/);
      }

      // Every h2 carries an id and a self-link anchor.
      const anchors = await main.locator('h2').evaluateAll((hs) =>
        hs.map((h) => ({ id: h.id, anchor: h.querySelector('a.anchor')?.getAttribute('href') })),
      );
      for (const { id, anchor } of anchors) {
        assert.ok(id, 'every <h2> has an id');
        assert.equal(anchor, `#${id}`, `<h2 id="${id}"> has <a class="anchor" href="#${id}">`);
      }
      watcher.assertClean(GUIDE, { scriptsOnly: true });
    });
  });

  test('sidebar: guide is current page and its section is expanded', T, async () => {
    await withPage(browser, 'sidebar', async (page, watcher) => {
      await page.goto(at(GUIDE));
      const nav = page.locator('nav[aria-label="Docs"]');
      assert.ok(await shown(nav), 'Docs sidebar shown at desktop width');
      const current = nav.locator('a[aria-current="page"]');
      assert.equal(await current.count(), 1, 'exactly one aria-current="page" link in the sidebar');
      const href = await current.evaluate((a) => new URL(a.href).pathname);
      assert.equal(href, GUIDE, 'current sidebar link points to the guide');
      assert.match(await current.innerText(), /Azure DevOps/);
      assert.ok(await current.isVisible(), 'current link visible (its section is expanded)');

      const collapsed = await current.evaluate((a) => {
        const navEl = a.closest('nav');
        const bad = [];
        for (let el = a.parentElement; el && el !== navEl; el = el.parentElement) {
          if (el.tagName === 'DETAILS' && !el.open) bad.push('<details> not open');
          if (el.hidden) bad.push(`<${el.tagName.toLowerCase()} hidden>`);
          // A disclosure button belonging to an ancestor item must say expanded.
          for (const b of el.querySelectorAll(':scope > button[aria-expanded], :scope > * > button[aria-expanded]')) {
            if (!b.contains(a) && b.getAttribute('aria-expanded') !== 'true') {
              bad.push(`button "${b.textContent.trim()}" aria-expanded=${b.getAttribute('aria-expanded')}`);
            }
          }
        }
        return bad;
      });
      assert.deepEqual(collapsed, [], 'ancestors of the current link are all expanded');
      watcher.assertClean(GUIDE, { scriptsOnly: true });
    });
  });

  test('on-this-page nav lists h2/h3 and jumps to the heading', T, async () => {
    await withPage(browser, 'toc', async (page, watcher) => {
      await page.goto(at(GUIDE), { waitUntil: 'load' });
      const headings = await page.locator('main h2, main h3').evaluateAll((hs) =>
        hs.map((h) => {
          const c = h.cloneNode(true); // heading text without its anchor link's text
          c.querySelectorAll('a.anchor').forEach((a) => a.remove());
          return { level: h.tagName, id: h.id, text: c.textContent.replace(/\s+/g, ' ').trim() };
        }),
      );
      assert.deepEqual(
        headings.filter((h) => !h.id).map((h) => h.text),
        [],
        'h2/h3 headings without an id',
      );
      assert.deepEqual(
        headings.map((h) => h.text),
        GUIDE_HEADINGS,
        'the guide has its h2/h3 headings, with ids, in order',
      );
      assert.deepEqual(
        headings.filter((h) => h.level === 'H2').map((h) => h.text),
        GUIDE_H2,
      );
      assert.deepEqual(
        headings.filter((h) => h.level === 'H3').map((h) => h.text),
        GUIDE_H3,
      );
      assert.ok(headings.some((h) => h.id === 'step-1---setting-up'), 'id "step-1---setting-up"');
      assert.equal(new Set(headings.map((h) => h.id)).size, headings.length, 'heading ids are unique');

      const toc = page.locator('nav[aria-label="On this page"]');
      const tocHrefs = await toc.locator('a[href^="#"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert.deepEqual(
        tocHrefs,
        headings.map((h) => `#${h.id}`),
        '"On this page" lists exactly the h2/h3 ids in document order',
      );

      // Jump to a heading in the middle of the page.
      const target = headings.find((h) => h.text === 'Step 2 - OAuth application info');
      await loadAllImages(page); // settle layout first (images may be lazy)
      await page.evaluate(() => window.scrollTo(0, 0));
      await toc.locator(`a[href="#${target.id}"]`).click();
      await eventually(async () => (await page.evaluate(() => location.hash)) === `#${target.id}`, {
        message: `location.hash to become #${target.id}`,
      });
      const h = page.locator(`[id="${target.id}"]`);
      assert.ok(await h.evaluate((el) => el.matches(':target')), 'heading is the :target');
      // Scrolled so the heading is at (or near, under a sticky header) the top,
      // unless the page cannot scroll that far.
      await eventually(
        () =>
          h.evaluate((el) => {
            const top = el.getBoundingClientRect().top;
            const atBottom = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
            return window.scrollY > 0 && top >= -1 && (top <= 200 || (atBottom && top < window.innerHeight));
          }),
        { message: `#${target.id} scrolled into view near the top` },
      );
      watcher.assertClean(GUIDE, { scriptsOnly: true });
    });
  });

  test(`all ${GUIDE_IMAGES} guide images load and have alt text`, T, async () => {
    await withPage(browser, 'images', async (page, watcher) => {
      await page.goto(at(GUIDE), { waitUntil: 'load' });
      const imgs = await loadAllImages(page);
      assert.equal(imgs.length, GUIDE_IMAGES, `<main> has ${GUIDE_IMAGES} images`);
      const broken = imgs.filter((i) => !(i.complete && i.naturalWidth > 0));
      assert.deepEqual(broken.map((i) => i.src), [], 'images that did not load (naturalWidth 0)');
      const noAlt = imgs.filter((i) => !i.alt || !i.alt.trim());
      assert.deepEqual(noAlt.map((i) => i.src), [], 'images without alt text');
      watcher.assertClean(GUIDE, { scriptsOnly: true });
    });
  });

  test('no console errors or failed requests on guide and home page', T, async () => {
    for (const p of [GUIDE, '/']) {
      await withPage(browser, `clean-${p}`, async (page, watcher) => {
        const res = await page.goto(at(p), { waitUntil: 'load' });
        assert.equal(res.status(), 200, `GET ${p}`);
        await loadAllImages(page, 'body');
        await page.waitForLoadState('networkidle').catch(() => {});
        watcher.assertClean(p);
      });
    }
  });

  test('theme toggle flips data-theme, aria-pressed, and persists across reload', T, async () => {
    await withPage(browser, 'theme', { viewport: DESKTOP, colorScheme: 'light' }, async (page, watcher) => {
      await page.goto(at(GUIDE), { waitUntil: 'load' });
      await loadAllImages(page);
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, 'desktop-light');

      const initial = (await dataTheme(page)) || 'light';
      assert.equal(initial, 'light', 'with a light OS preference and nothing stored, the theme is light');
      const toggle = await themeToggle(page);
      const pressedBefore = await toggle.getAttribute('aria-pressed');
      assert.ok(['true', 'false'].includes(pressedBefore), `aria-pressed is "${pressedBefore}"`);

      await toggle.click();
      assert.equal(await dataTheme(page), 'dark', 'clicking the toggle sets data-theme="dark"');
      assert.equal(await toggle.getAttribute('aria-pressed'), 'true', 'aria-pressed="true" in dark mode');
      assert.equal(await page.evaluate((k) => localStorage.getItem(k), THEME_KEY), 'dark');

      await page.reload({ waitUntil: 'load' });
      assert.equal(await dataTheme(page), 'dark', 'dark theme persists across reload');
      assert.equal(
        await (await themeToggle(page)).getAttribute('aria-pressed'),
        'true',
        'aria-pressed restored after reload',
      );
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await loadAllImages(page);
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, 'desktop-dark');

      await (await themeToggle(page)).click();
      assert.equal(await dataTheme(page), 'light', 'clicking again sets data-theme="light"');
      assert.equal(await (await themeToggle(page)).getAttribute('aria-pressed'), 'false');
      assert.equal(await page.evaluate((k) => localStorage.getItem(k), THEME_KEY), 'light');
      const bgLight = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.notEqual(bg, bgLight, 'the page background actually changes between dark and light');
      await page.reload({ waitUntil: 'load' });
      assert.equal(await dataTheme(page), 'light', 'light theme persists across reload');
      watcher.assertClean(GUIDE, { scriptsOnly: true });
    });
  });

  test('mobile (390x844): menu button opens sidebar, traps focus, Escape closes', T, async () => {
    await withPage(browser, 'mobile-menu', { viewport: MOBILE }, async (page, watcher) => {
      await page.goto(at(GUIDE), { waitUntil: 'load' });
      const sidebar = page.locator('nav[aria-label="Docs"]');
      assert.equal(await sidebar.count(), 1, 'one <nav aria-label="Docs">');
      assert.equal(await shown(sidebar), false, 'Docs sidebar hidden at 390 px before opening the menu');

      const button = page.locator('button[aria-controls][aria-expanded]').filter({ visible: true });
      assert.equal(await button.count(), 1, 'exactly one visible menu button with aria-controls + aria-expanded');
      assert.equal(await button.getAttribute('aria-expanded'), 'false');
      const controls = await button.getAttribute('aria-controls');
      const panel = page.locator(`[id="${controls}"]`);
      assert.equal(await panel.count(), 1, `aria-controls="${controls}" names an element`);
      assert.ok(
        await panel.evaluate((el) => !!(el.matches('nav[aria-label="Docs"]') || el.querySelector('nav[aria-label="Docs"]'))),
        'the menu button controls the Docs sidebar',
      );

      await button.click();
      assert.equal(await button.getAttribute('aria-expanded'), 'true', 'aria-expanded="true" when open');
      await eventually(() => shown(sidebar), { message: 'the sidebar to be shown after opening the menu' });
      const inPanel = (id) =>
        page.evaluate((ctl) => {
          const p = document.getElementById(ctl);
          const a = document.activeElement;
          return !!(p && a && a !== document.body && p.contains(a));
        }, id);
      await eventually(() => inPanel(controls), { message: 'focus to move into the opened menu' });
      await page.waitForTimeout(400); // let any open transition finish before the screenshot
      await screenshot(page, 'mobile-menu-open');
      await screenshot(page, 'mobile-menu-open-viewport', { fullPage: false });

      // Tab (and Shift+Tab) cycle inside the menu (the menu button itself,
      // which closes it, may take part in the cycle).
      const focusables = await panel.evaluate(
        (el) => el.querySelectorAll('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])').length,
      );
      const presses = Math.min(focusables + 3, 60);
      for (const key of ['Tab', 'Shift+Tab']) {
        for (let i = 0; i < presses; i++) {
          await page.keyboard.press(key);
          const where = await page.evaluate((ctl) => {
            const a = document.activeElement;
            const p = document.getElementById(ctl);
            const btn = document.querySelector(`[aria-controls="${ctl}"][aria-expanded]`);
            if (a && p?.contains(a) && a !== document.body) return 'in';
            if (a && a === btn) return 'in';
            return a ? a.outerHTML.slice(0, 120) : 'null';
          }, controls);
          assert.equal(where, 'in', `after ${i + 1}x ${key} focus left the open menu: ${where}`);
        }
      }

      // Put focus back inside before closing, then Escape.
      if (!(await inPanel(controls))) await panel.locator('a[href]').first().focus();
      await page.keyboard.press('Escape');
      assert.equal(await button.getAttribute('aria-expanded'), 'false', 'Escape closes the menu');
      await eventually(async () => !(await shown(sidebar)), { message: 'the sidebar to be hidden after Escape' });
      assert.ok(await button.evaluate((b) => b === document.activeElement), 'focus returns to the menu button');
      watcher.assertClean(`${GUIDE} (mobile)`, { scriptsOnly: true });
    });
  });

  test('keyboard: first Tab reaches a visible skip link to #main', T, async () => {
    await withPage(browser, 'skip-link', async (page, watcher) => {
      await page.goto(at(GUIDE), { waitUntil: 'load' });
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const a = document.activeElement;
        if (!a || a === document.body) return null;
        const r = a.getBoundingClientRect();
        const cs = getComputedStyle(a);
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return {
          tag: a.tagName,
          href: a.getAttribute('href'),
          text: a.textContent.trim(),
          rect: { x: r.x, y: r.y, w: r.width, h: r.height },
          onTop: !!hit && (hit === a || a.contains(hit)),
          visibility: cs.visibility,
          opacity: Number(cs.opacity),
        };
      });
      assert.ok(focused, 'Tab from the page start focuses something');
      assert.equal(focused.tag, 'A', `first focus is a link, got ${JSON.stringify(focused)}`);
      assert.equal(focused.href, '#main', 'the first focusable element is the skip link to #main');
      assert.ok(focused.text.length > 0, 'skip link has text');
      const { rect } = focused;
      assert.ok(
        rect.w > 1 && rect.h > 1 && rect.x >= 0 && rect.y >= 0 && rect.x + rect.w <= DESKTOP.width && rect.y + rect.h <= DESKTOP.height,
        `focused skip link is on screen and not 1px-clipped: ${JSON.stringify(rect)}`,
      );
      assert.ok(focused.visibility === 'visible' && focused.opacity > 0, 'skip link not transparent/hidden');
      assert.ok(focused.onTop, 'skip link is not covered by another element when focused');

      await page.keyboard.press('Enter');
      await eventually(async () => (await page.evaluate(() => location.hash)) === '#main', {
        message: 'Enter on the skip link to go to #main',
      });
      watcher.assertClean(GUIDE, { scriptsOnly: true });
    });
  });

  test('components page: tabs work by keyboard, details by keyboard, include shown', T, async () => {
    const PAGE = '/docs/guide/components/';
    await withPage(browser, 'components', async (page, watcher) => {
      const res = await page.goto(at(PAGE), { waitUntil: 'load' });
      assert.equal(res.status(), 200);
      const tabs = page.locator('[role=tablist] [role=tab]');
      assert.equal(await tabs.count(), 2);
      const panel = (i) => page.locator(`#${'tab-1-' + i}-panel`);
      // tabs.js arrives after the page: wait until it styles the list.
      await eventually(
        async () => (await page.evaluate(() => [...document.querySelectorAll('style')].some((s) => s.textContent.includes('.tab-list')))),
        { message: 'tabs.js loaded' },
      );
      // Tab into the tab list: the selected tab takes focus, then ArrowRight selects the next.
      await tabs.nth(0).focus();
      await page.keyboard.press('ArrowRight');
      assert.equal(await tabs.nth(1).getAttribute('aria-selected'), 'true');
      assert.equal(await tabs.nth(0).getAttribute('aria-selected'), 'false');
      assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Prebuilt');
      assert.ok(await panel(1).isVisible(), 'second panel shown');
      assert.ok(!(await panel(0).isVisible()), 'first panel hidden');
      assert.equal(await tabs.nth(0).getAttribute('tabindex'), '-1');
      // Wraps around, Home and End.
      await page.keyboard.press('ArrowRight');
      assert.equal(await tabs.nth(0).getAttribute('aria-selected'), 'true');
      await page.keyboard.press('End');
      assert.equal(await tabs.nth(1).getAttribute('aria-selected'), 'true');
      await page.keyboard.press('Home');
      assert.equal(await tabs.nth(0).getAttribute('aria-selected'), 'true');
      // Tab leaves the list for the open panel.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-1-0-panel');
      // Details open with Enter on their summary.
      const details = page.locator('details.details').first();
      assert.equal(await details.getAttribute('open'), null);
      await details.locator('summary').focus();
      await page.keyboard.press('Enter');
      assert.equal(await details.getAttribute('open'), '');
      // The included snippet is in the page, its frontmatter not.
      const text = await page.locator('main').innerText();
      assert.match(text, /Run the live preview/);
      assert.doesNotMatch(text, /never shown/);
      watcher.assertClean(PAGE);
    });
  });

  test('an unknown URL gets the 404 page with status 404', T, async () => {
    await withPage(browser, 'not-found', async (page, watcher) => {
      const missing = '/docs/no-such-page-for-sure/';
      watcher.allow((p) => p.url === at(missing)); // the 404 document itself (+ its console line)
      const res = await page.goto(at(missing), { waitUntil: 'load' });
      assert.equal(res.status(), 404);
      assert.ok(await page.locator('main#main h1').count(), '404 page uses the theme (main#main h1)');
      const text = await page.locator('body').innerText();
      assert.match(text, /404|not found/i, '404 page says so');
      watcher.assertClean(missing);
    });
  });
});

describe('site built with --base-url under a sub-path', () => {
  const PREFIX = '/handbook/';
  let tmp;
  let server;
  let browser;

  before(async () => {
    tmp = await tempDir('docsite-base-');
    server = await startServer(tmp.dir, { prefix: PREFIX }); // port first: it goes into --base-url
    browser = await launchBrowser();
    await buildSite(ROOT, tmp.dir, ['--base-url', `http://127.0.0.1:${server.port}${PREFIX}`]);
  }, T);

  after(async () => {
    await browser?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  for (const p of [GUIDE, '/']) {
    test(`every internal link and image on ${p} resolves under ${PREFIX}`, T, async () => {
      const url = new URL(`.${p}`, server.url).href;
      await withPage(browser, `base-url-${p}`, async (page, watcher) => {
        const res = await page.goto(url, { waitUntil: 'load' });
        assert.equal(res.status(), 200, `GET ${url}`);
        const imgs = await loadAllImages(page, 'body');
        const refs = await page.evaluate(() => {
          const out = [];
          const add = (kind, el, attr, abs) => out.push({ kind, raw: el.getAttribute(attr), abs });
          document.querySelectorAll('a[href]').forEach((a) => add('link', a, 'href', a.href));
          document.querySelectorAll('img[src]').forEach((i) => add('img', i, 'src', i.src));
          document.querySelectorAll('img[srcset], source[srcset]').forEach((el) =>
            el.srcset.split(',').forEach((c) => {
              const u = c.trim().split(/\s+/)[0];
              if (u) out.push({ kind: 'srcset', raw: u, abs: new URL(u, document.baseURI).href });
            }),
          );
          document.querySelectorAll('link[href]').forEach((l) => add(`link[rel=${l.rel}]`, l, 'href', l.href));
          document.querySelectorAll('script[src]').forEach((s) => add('script', s, 'src', s.src));
          return out;
        });
        const origin = new URL(url).origin;
        const internal = refs.filter((r) => {
          try {
            return new URL(r.abs).origin === origin;
          } catch {
            return false;
          }
        });
        assert.ok(internal.filter((r) => r.kind === 'link').length > 0, 'page has internal links');

        // In-page fragments must name an element of this page.
        const here = new URL(url);
        const fragments = internal
          .map((r) => new URL(r.abs))
          .filter((u) => u.hash.length > 1 && u.pathname === here.pathname)
          .map((u) => decodeURIComponent(u.hash.slice(1)));
        const missingIds = await page.evaluate(
          (ids) => [...new Set(ids)].filter((id) => !document.getElementById(id)),
          fragments,
        );
        assert.deepEqual(missingIds, [], 'in-page #fragments without a matching id');

        const bad = [];
        const seen = new Set();
        for (const r of internal) {
          const u = new URL(r.abs);
          u.hash = '';
          const key = u.href;
          if (seen.has(key)) continue;
          seen.add(key);
          if (!u.pathname.startsWith(PREFIX)) {
            bad.push(`${r.kind} ${JSON.stringify(r.raw)} -> ${u.pathname} is outside ${PREFIX}`);
            continue;
          }
          const resp = await fetch(key, { redirect: 'manual' });
          await resp.arrayBuffer();
          if (resp.status !== 200) bad.push(`${r.kind} ${JSON.stringify(r.raw)} -> ${u.pathname}: HTTP ${resp.status}`);
        }
        assert.deepEqual(bad, [], `internal references that do not resolve (${seen.size} checked)`);

        const broken = imgs.filter((i) => !(i.complete && i.naturalWidth > 0));
        assert.deepEqual(broken.map((i) => i.src), [], 'images that did not load under the base URL');
        if (p === GUIDE) assert.equal(imgs.filter((i) => new URL(i.src).pathname.startsWith(PREFIX)).length >= GUIDE_IMAGES, true);
        watcher.assertClean(url);
      });
    });
  }
});
