// Relevance benchmark (issue 20): does search put the page a reader means first? Queries are
// made from a built site's own index by fixed rules (below), never picked by hand, and answered
// by the real search.js in Debian chromium on the site served by `docsite host`, as a reader
// types them. Optionally the same queries run on other builds of the same site (an older
// docsite, say) and on a Pagefind index of it.
//
//   target/release/docsite build --root . --out /tmp/site          # or the 10,000-page corpus
//   DOCSITE_BIN=target/release/docsite node benches/relevance.mjs /tmp/site \
//     [--sample N] [--also LABEL=BUILT_SITE]... [--pagefind SITE_WITH_PAGEFIND] [--misses K]
//
// --pagefind takes a copy of the site on which `npx pagefind@1.6.0 --site DIR` has run.
//
// The rules, over the rows of search/s/*.json (page title and URL, heading) and the term lines
// of search/t/*.txt (index format 3), with words split and lowercased as search.js does:
//   title    each page whose title (as words) no other page has; the query is the title.
//   heading  each heading that no other page has (as words) and no page has as its title, of two
//            words or more besides stop words; the query is the heading.
//   body     each word of 5+ letters that the index holds only in body text (no title or heading
//            posting), all in one page, in under 300 sections, and that search cannot take for
//            another word: no other word of the index shares its stem or starts with it.
//   typo     each title query with its longest word of 5+ letters edited once at its middle
//            letter: dropped, swapped with the one before, or replaced by the next letter of
//            the alphabet, in turn.
//   multi    each page with a heading: the title's longest word and the longest word of the
//            page's first heading that is not that word, as two words, when no other page has
//            the one in its title and the other in a heading (else no one page is meant).
// The page each should find is the page they came from. Every class is cut to at most N queries
// (default 300), evenly spaced in site order. "first": the first result is on that page;
// "top 3": the page is among the first three pages in the results.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { hostSite, launchBrowser } = await import(path.join(here, '..', 'tests', 'browser', 'helpers.mjs'));

const args = process.argv.slice(2);
const site = args.find((a, i) => !a.startsWith('--') && !(args[i - 1] || '').startsWith('--'));
const opt = (name) => args.flatMap((a, i) => (a === name ? [args[i + 1]] : []));
const SAMPLE = Number(opt('--sample')[0] || 300);
const MISSES = Number(opt('--misses')[0] || 0);
if (!site) {
  console.error('usage: node benches/relevance.mjs BUILT_SITE [--sample N] [--also LABEL=DIR]... [--pagefind DIR] [--misses K]');
  process.exit(2);
}

const meta = JSON.parse(await readFile(path.join(site, 'search', 'meta.json'), 'utf8'));
if (meta.version !== 3) throw new Error(`index format ${meta.version}: queries are made from format 3`);
const stop = new Set(meta.stop);
const words = (text) =>
  text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w && !stop.has(w));

// Every row in id order: [title, url, heading].
const rows = [];
for (let c = 0; c * meta.chunk < meta.sections; c++) {
  const chunk = JSON.parse(await readFile(path.join(site, 'search', 's', `${c}.json`), 'utf8'));
  for (const r of chunk.s) rows.push([chunk.p[r[0]][0], chunk.p[r[0]][1], r[1]]);
}
const pageOf = [];
for (let i = 0, id = 0, n = 0; i < meta.pages.length; i++) {
  n += parseInt(meta.pages[i], 36);
  if (meta.pages[i] !== 'z') {
    for (let k = 0; k < n; k++) pageOf.push(rows[id + k][1]);
    id += n;
    n = 0;
  }
}

const pages = new Map();
for (const [title, url, heading] of rows) {
  if (!pages.has(url)) pages.set(url, { title, url, headings: [] });
  if (heading) pages.get(url).headings.push(heading);
}
const countBy = (items, key) => {
  const n = new Map();
  for (const it of items) n.set(key(it), (n.get(key(it)) || 0) + 1);
  return n;
};
const titleKey = (p) => words(p.title).join(' ');
const titles = countBy(pages.values(), titleKey);
const headingPages = new Map();
for (const p of pages.values()) {
  for (const h of new Set(p.headings.map((h) => words(h).join(' ')))) headingPages.set(h, (headingPages.get(h) || 0) + 1);
}
const longest = (ws) => ws.filter((w) => /^\p{L}{5,}$/u.test(w)).reduce((a, w) => (w.length > a.length ? w : a), '');

const classes = { title: [], heading: [], body: [], typo: [], multi: [] };
let n = 0;
for (const p of pages.values()) {
  const key = titleKey(p);
  if (key && titles.get(key) === 1) {
    classes.title.push({ q: p.title, url: p.url });
    const w = longest(p.title.split(/\s+/).map((x) => x.replace(/[^\p{L}]/gu, '')));
    if (w) {
      const m = w.length >> 1;
      const kind = n++ % 3;
      const edited =
        kind === 0 ? w.slice(0, m) + w.slice(m + 1)
        : kind === 1 && w[m - 1] !== w[m] ? w.slice(0, m - 1) + w[m] + w[m - 1] + w.slice(m + 1)
        : w.slice(0, m) + (w[m].toLowerCase() === 'z' ? 'a' : String.fromCharCode(w[m].toLowerCase().charCodeAt(0) + 1)) + w.slice(m + 1);
      classes.typo.push({ q: p.title.replace(w, edited), url: p.url });
    }
  }
  for (const h of p.headings) {
    const hw = words(h);
    if (hw.length >= 2 && headingPages.get(hw.join(' ')) === 1 && !titles.has(hw.join(' '))) classes.heading.push({ q: h, url: p.url });
  }
  const tw = longest(words(p.title));
  const first = p.headings.map((h) => longest(words(h).filter((w) => w !== tw))).find((w) => w);
  if (tw && first) classes.multi.push({ q: `${tw} ${first}`, url: p.url, tw, hw: first });
}
const pairs = new Map();
for (const p of pages.values()) {
  const hws = new Set(p.headings.flatMap(words));
  for (const tw of new Set(words(p.title))) for (const hw of hws) pairs.set(`${tw} ${hw}`, (pairs.get(`${tw} ${hw}`) || 0) + 1);
}
classes.multi = classes.multi.filter((c) => pairs.get(`${c.tw} ${c.hw}`) === 1);
const lines = new Map();
for (const f of await readdir(path.join(site, 'search', 't'))) {
  const text = await readFile(path.join(site, 'search', 't', f), 'utf8');
  for (const line of text.split('\n')) {
    const [term, spec, postings] = line.split(' ');
    // A split shard's summary repeats a line with fewer postings: keep the longest.
    if (term && (lines.get(term)?.postings.length || -1) < postings.length) {
      lines.set(term, { stem: spec === '' ? term : /^[0-9]+$/.test(spec) ? term.slice(0, +spec) : spec, postings });
    }
  }
}
const sorted = [...lines.keys()].sort();
const stems = countBy(lines.values(), (l) => l.stem);
{
  for (const [i, term] of sorted.entries()) {
    const { stem, postings } = lines.get(term);
    if (!/^\p{L}{5,}$/u.test(term) || stems.get(stem) > 1 || (sorted[i + 1] || '').startsWith(term)) continue;
    if (/[J-T]/.test(postings.replace(/[0-9a-z]/g, ''))) continue;
    const ids = postings.split(/[A-I]/).filter(Boolean).map((x) => parseInt(x, 36));
    if (ids.length >= 300 || new Set(ids.map((id) => pageOf[id])).size !== 1) continue;
    classes.body.push({ q: term, url: pageOf[ids[0]], id: ids[0] });
  }
}
classes.body.sort((a, b) => a.id - b.id);
const sample = (list) => (list.length <= SAMPLE ? list : Array.from({ length: SAMPLE }, (_, i) => list[Math.floor((i * list.length) / SAMPLE)]));
for (const k of Object.keys(classes)) classes[k] = sample(classes[k]);

const norm = (u) => new URL(u, 'http://x').pathname.replace(/index\.html$/, '');

// The pages of the first results, in order, for every query, from docsite's own search UI.
async function docsite(browser, dir, queries) {
  const server = hostSite(dir);
  const url = await server.ready;
  const page = await browser.newPage();
  await page.goto(url);
  await page.keyboard.press('/');
  await page.locator('#search-dialog[data-index=ready]').waitFor();
  const out = [];
  for (const { q } of queries) {
    const hrefs = await page.evaluate(async (query) => {
      const input = document.getElementById('search-input');
      const status = document.querySelector('.search-status');
      status.textContent = '';
      input.value = query;
      input.dispatchEvent(new Event('input'));
      const t0 = performance.now();
      while (!status.textContent && performance.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 2));
      return [...document.querySelectorAll('#search-results [role=option]')].map((a) => a.getAttribute('href'));
    }, q);
    out.push([...new Set(hrefs.map((h) => norm(h)))]);
  }
  await page.close();
  await server.close();
  return out;
}

async function pagefind(browser, dir, queries) {
  const server = hostSite(dir);
  const url = await server.ready;
  const page = await browser.newPage();
  await page.goto(url);
  await page.evaluate(async () => {
    window.pf = await import('/pagefind/pagefind.js');
    await window.pf.init();
  });
  const out = [];
  for (const { q } of queries) {
    const urls = await page.evaluate(async (query) => {
      const r = await window.pf.search(query);
      return Promise.all(r.results.slice(0, 3).map((x) => x.data().then((d) => d.url)));
    }, q);
    out.push(urls.map(norm));
  }
  await page.close();
  await server.close();
  return out;
}

const engines = [['docsite', (b, qs) => docsite(b, site, qs)]];
for (const a of opt('--also')) {
  const [label, dir] = a.split('=');
  engines.push([label, (b, qs) => docsite(b, dir, qs)]);
}
for (const dir of opt('--pagefind')) engines.push(['pagefind', (b, qs) => pagefind(b, dir, qs)]);

const browser = await launchBrowser();
const table = [];
const misses = [];
try {
  for (const [cls, queries] of Object.entries(classes)) {
    const row = { class: cls, queries: queries.length };
    for (const [label, run] of engines) {
      const got = queries.length ? await run(browser, queries) : [];
      const first = got.filter((g, i) => g[0] === norm(queries[i].url)).length;
      const top3 = got.filter((g, i) => g.slice(0, 3).includes(norm(queries[i].url))).length;
      const pct = (k) => (queries.length ? `${((100 * k) / queries.length).toFixed(1)}%` : '-');
      row[`${label} first`] = pct(first);
      row[`${label} top 3`] = pct(top3);
      if (label === 'docsite') {
        got.forEach((g, i) => {
          if (g[0] !== norm(queries[i].url) && misses.filter((m) => m.class === cls).length < MISSES) {
            misses.push({ class: cls, query: queries[i].q, want: queries[i].url, got: g.slice(0, 3).join(' ') });
          }
        });
      }
    }
    table.push(row);
  }
} finally {
  await browser.close();
}
console.log(`site: ${site}; ${pages.size} pages; at most ${SAMPLE} queries per class`);
console.table(table);
if (misses.length) console.table(misses);
