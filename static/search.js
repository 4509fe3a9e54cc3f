// Search results. docsite.js opens the dialog (header button, "/" or Ctrl/Cmd-K) and loads this
// file the first time, so a page that is only read never downloads it. The index is static files
// written by `docsite build` (see src/search.rs): a query fetches the shard of each of its terms
// and the chunks of its best sections, nothing else. Normalization mirrors src/search.rs.
(() => {
  "use strict";
  var dialog = document.getElementById("search-dialog"),
    input = document.getElementById("search-input"),
    list = document.getElementById("search-results"),
    status = dialog && dialog.querySelector(".search-status");
  if (!dialog || !input || dialog.dataset.ready === "") return;
  dialog.dataset.ready = "";
  var base = (document.documentElement.getAttribute("data-base") || "/").replace(/\/?$/, "/"),
    root = base + "search/",
    meta = null,
    shards = new Map(),
    chunks = new Map();
  // Ranked results kept per query, and how many are shown at once: each shown result may cost
  // a chunk request, and a browser opens about six connections to a host at a time, so a page
  // of five arrives in one round of requests (Pagefind shows five at first for the same reason).
  var MAX = 50,
    PAGE = 5,
    TERMS = 8;
  // A match's quality by kind: the word, its stem, a word it starts (the last word as typed),
  // a word its light stem starts, a word one edit away (a typo).
  var TYPO = 0.3,
    max = Math.max;

  // Scripts written without spaces between words (src/search.rs, is_cjk).
  var CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]/;

  // Lowercase, accents folded for Latin letters, split at non-letters; CJK characters alone.
  function terms(text) {
    var out = [],
      word = "";
    for (var ch of text) {
      if (ch.codePointAt(0) < 0x250) ch = ch.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
      for (var c of ch) {
        if (/[\p{L}\p{N}]/u.test(c) && !CJK.test(c)) word += c.toLowerCase();
        else {
          if (word) out.push(word);
          word = "";
          if (CJK.test(c)) out.push(c);
        }
      }
    }
    if (word) out.push(word);
    return out;
  }

  var utf8 = new TextEncoder();
  function hex(text) {
    return Array.from(utf8.encode(text), b => b.toString(16).padStart(2, "0")).join("");
  }

  // The shard that holds a term: the longest prefix of it that has one (a small site has one
  // shard for everything, named for the empty prefix).
  function shardOf(term, m) {
    var chars = Array.from(term);
    for (var n = Math.min(chars.length, 8); n >= 0; n--) {
      var name = hex(chars.slice(0, n).join(""));
      if (m.shardSet.has(name)) return name;
    }
    return null;
  }

  // A light English suffix strip for query words the index does not contain, so "configured"
  // still finds "configure" and "configuring" by prefix.
  // The longest of these suffixes that leaves four letters or more.
  function lightStem(w) {
    return w.replace(/^(.{4,}?)(ations?|ings?|edly|ed|es|s|ly)$/, "$1");
  }

  function get(url, cache, key, as) {
    if (cache.has(key)) return cache.get(key);
    var p = fetch(url).then(r => {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return as === "json" ? r.json() : r.text();
    });
    cache.set(key, p);
    p.catch(() => cache.delete(key));
    return p;
  }

  function shard(name) { return get(root + "t/x" + name + ".txt", shards, name, "text"); }

  function load() {
    meta = meta || fetch(root + "meta.json").then(r => {
      if (!r.ok) throw new Error("no index");
      return r.json();
    }).then(m => {
      if (m.version !== 3) throw new Error("index format " + m.version);
      m.shardSet = new Set(m.shards);
      // Each section's page (m.page) and each page's first section (m.start), from the run of
      // sections per page (src/search.rs, page_runs): a page's title is on its first section.
      m.page = new Uint32Array(m.sections);
      m.start = [];
      var id = 0,
        n = 0;
      // A page's number is its place in m.start; "z" is 35 sections and more to come.
      for (var c of m.pages) {
        n += parseInt(c, 36);
        if (c < "z") m.page.fill(m.start.push(id) - 1, id, id += n), n = 0;
      }
      m.stopSet = new Set(m.stop || []);
      // A small site's index is one shard and one chunk: fetch them now, and every query is
      // answered without the network.
      if (m.shards.length === 1) shard(m.shards[0]).catch(() => {});
      if (m.sections <= m.chunk) get(root + "s/0.json", chunks, 0, "json").catch(() => {});
      warmUp(m);
      dialog.dataset.index = "ready";
      return m;
    });
    meta.catch(() => { meta = null; });
    return meta;
  }

  // Runs the ranking and the excerpt once on a made-up shard and section, before the reader's
  // first query: V8 compiles a function when it is first called and runs it slowly at first,
  // and in a first query pasted on the 10,000-page corpus that cost 5-10 ms between the shard's
  // arrival and the chunk's request (benches/search.mjs, paired runs). Nothing is fetched or shown.
  function warmUp(m) {
    var text = "ab  0A0T1\nabc 2 0J0\nabd  0E\nabdef  0B\n";
    excerpt("Ab, abc: abd.", combine(terms("Ab abdeg"), [text, text], m).words);
  }

  // The lines of a shard (sorted, one term each) that start with `prefix`, found without
  // splitting the whole text.
  function linesFrom(text, prefix, limit) {
    var out = [],
      at = text.startsWith(prefix) ? 0 : text.indexOf("\n" + prefix) + 1 || -1,
      end;
    while (at >= 0 && at < text.length && out.length < limit && text.startsWith(prefix, at)) {
      end = text.indexOf("\n", at);
      if (end < 0) end = text.length;
      out.push(text.slice(at, end));
      at = end + 1;
    }
    return out;
  }

  // A line is `term stem postings`: the stem empty when it is the term, a length when it is
  // the term's start, or itself.
  function parse(line) {
    var a = line.indexOf(" "),
      b = line.indexOf(" ", a + 1),
      w = line.slice(0, a),
      spec = line.slice(a + 1, b),
      stem = spec === "" ? w : /^[0-9]+$/.test(spec) ? w.slice(0, +spec) : spec;
    return { w: w, stem: stem, post: line.slice(b + 1) };
  }

  // Whether `b` is one edit (a letter changed, added, dropped, or two swapped) from `a`, which
  // it is not equal to.
  function oneEdit(a, b) {
    var i = 0;
    while (a[i] === b[i]) i++;
    var rest = (x, y) => a.slice(i + x) === b.slice(i + y);
    return a.length === b.length ? rest(1, 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && rest(2, 2)) :
      a.length > b.length ? rest(1, 0) : rest(0, 1);
  }

  // Where one query term matches, per section: [title quality, place (the page's, on its first
  // section), heading quality, place, body level x quality, body quality]; a place is 8 x the
  // word's place in the field + the field's words - 1. The quality is the kind of match: the
  // word, its stem, a prefix (the last word, as it is typed), then a word one edit away.
  function matchTerm(term, text, isLast, m) {
    var hits = new Map(), exactLine = linesFrom(text, term + " ", 1)[0], exact = exactLine && parse(exactLine),
      stem = exact && exact.stem, cut = lightStem(term), typing = (isLast || !exact) && term.length > 1,
      scan = [], matched = [], df = 0;
    // One scan covers every kind of match: words sharing a stem share its start (less its last
    // letter: "happy" and "happiness" stem to "happi").
    if (stem) scan.push(stem.slice(0, max(2, stem.length - 1)));
    if (typing) scan.push(term);
    if (!exact && cut !== term) scan.push(cut);
    if (exact) scan.push(term);
    scan.sort((a, b) => a.length - b.length);
    // Postings (src/search.rs, encode_into): a base-36 section id, then A-I (body level), J-S
    // and a place (heading, body level) or T and a place (the page's title).
    function add(post, q) {
      df = max(df, post.length / 4);
      for (var i = 0, id = 0, c, a, f; i < post.length; i++) {
        c = post.charCodeAt(i);
        if (c < 65 || c > 84) {
          id = id * 36 + (c < 58 ? c - 48 : c - 87);
          continue;
        }
        hits.set(id, a = hits.get(id) || [0, 0, 0, 0, 0, 0]);
        f = c > 83 ? 0 : 2;
        if (c > 73 && q > a[f]) a[f] = q, a[f + 1] = post.charCodeAt(i + 1) - 48;
        if (c > 73) i++;
        if (c < 84 && (c = c < 74 ? c - 64 : c - 74)) a[4] = max(a[4], q * c), a[5] = max(a[5], q);
        id = 0;
      }
    }
    var lines = scan.length ? linesFrom(text, scan[0], 4000) : [];
    for (var i = 0; i < lines.length; i++) {
      var e = parse(lines[i]),
        w = e.w,
        q = 0;
      if (w === term) q = 1;
      else if (stem && e.stem === stem) q = 0.85;
      else if (typing && w.startsWith(term)) q = 0.6;
      else if (!exact && cut !== term && w.startsWith(cut)) q = 0.5;
      if (q) {
        add(e.post, q);
        matched.push(w);
      }
    }
    // Typos: every word of the shard one edit away. Only the shard of the word's own prefix is
    // read, so on a large site a typo in its first letters finds nothing.
    for (var at = 0, sp, nl; term.length > 4 && at < text.length; at = nl + 1) {
      sp = text.indexOf(" ", at);
      nl = text.indexOf("\n", sp);
      if (nl < 0) nl = text.length;
      w = Math.abs(sp - at - term.length) < 2 && text.slice(at, sp);
      if (w && !matched.includes(w) && oneEdit(term, w)) {
        add(parse(text.slice(at, nl)).post, TYPO);
        matched.push(w);
      }
    }
    // A word's weight: how few of the sections it is in, from its postings' length (about four
    // characters each).
    return { hits: hits, words: matched, idf: Math.log(1 + (m.sections + 1) / (df + 1)) };
  }

  // The best sections for a query, and the words to mark in their excerpts.
  function rank(query) {
    return load().then(m => {
      var qs = terms(query.slice(0, 200)).filter(t => !m.stopSet.has(t)).slice(0, TERMS);
      if (!qs.length) return { ids: [], words: [], m: m, found: 0 };
      var needed = qs.map(t => {
        var name = shardOf(t, m);
        return name === null ? "" : shard(name);
      });
      return Promise.all(needed).then(loaded => combine(qs, loaded, m));
    });
  }

  // The ranking of `qs` given the text of each one's shard (formula: ARCHITECTURE.md,
  // "search"). Each section gets one number that orders, most significant first: query words
  // matched, matched without a typo, where they all are (exact title, title phrase, title,
  // heading, elsewhere), how short that field is, the page's own first section, words
  // matched as typed (not by stem or prefix), then a BM25-like sum; ties in site order.
  function combine(qs, loaded, m) {
    var n = qs.length, per = qs.map((t, i) => matchTerm(t, loaded[i], i === n - 1, m)),
      keys = new Map(), none = [0, 0, 0, 0, 0, 0], best = [], top = [], seen = new Map(), words = [];
    per.forEach(r => {
      words = words.concat(r.words.slice(0, 20));
      r.hits.forEach((_, id) => {
        if (keys.has(id)) return;
        var first = m.start[m.page[id]], got = 0, clean = 0, exact = 0, inT = 0, inH = 0, sum = 0,
          tRun = 1, tAt = -1, tLen, hLen, tier;
        per.forEach(r => {
          var a = r.hits.get(id) || none, t = r.hits.get(first) || none, q = max(t[0], a[2], a[5]);
          got += q > 0;
          clean += q > TYPO;
          exact += q === 1;
          if (t[0]) inT++, tRun &= t[1] >> 3 === tAt + 1, tAt = t[1] >> 3, tLen = (t[1] & 7) + 1;
          if (a[2]) inH++, hLen = (a[3] & 7) + 1;
          sum += r.idf * (3 * t[0] + 2 * a[2] + a[4] / 4);
        });
        tier = inT === n ? (tRun && tLen === n ? 7 : tRun ? 6 : 5) : inH === n ? 3 : 1;
        keys.set(id, (((((got * 9 + clean) * 8 + tier) * 9 + (tier > 4 ? 8 - tLen : tier > 2 ? 8 - hLen : 0)) * 2 +
          (tier > 4 && id === first)) * 9 + exact) * 1e5 + Math.min(sum, 99) * 1e3);
      });
    });
    // The keys sorted natively, then only those at or above the best MAX * 4 sorted by
    // a comparator (ties by site order): a comparator over every match took milliseconds.
    var sorted = Float64Array.from(keys.values()).sort(), floor = sorted[max(0, sorted.length - MAX * 4)];
    keys.forEach((k, id) => { if (k >= floor) best.push(id); });
    // At most two sections of a page among the first page of results; the others follow.
    best.sort((a, b) => keys.get(b) - keys.get(a) || a - b).forEach(id => {
      var p = m.page[id], k = seen.get(p) || 0;
      if (top.length < PAGE && k < 2) top.push(id);
      seen.set(p, k + 1);
    });
    return { ids: top.concat(best.filter(id => !top.includes(id))).slice(0, MAX), words: words, m: m, found: keys.size };
  }

  // A result's row, from its chunk: page title and URL, heading, anchor, excerpt text.
  function hit(id, m) {
    var c = Math.floor(id / m.chunk);
    return get(root + "s/" + c + ".json", chunks, c, "json").then(chunk => {
      var row = chunk.s[id % m.chunk],
        page = chunk.p[row[0]];
      return { title: page[0], url: page[1], heading: row[1], anchor: row[2], text: row[3] };
    });
  }

  function fold(text) {
    // Folds like terms() but one output unit per input UTF-16 unit, so positions match.
    var out = "";
    for (var i = 0; i < text.length; i++) {
      var c = text[i],
        code = c.charCodeAt(0);
      if (code < 0x80) {
        out += code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : c;
        continue;
      }
      var f = (code < 0x250 ? c.normalize("NFKD").replace(/[\u0300-\u036f]/g, "") : c).toLowerCase();
      out += f.length === 1 ? f : c;
    }
    return out;
  }

  // A window of the section's text around the first matching word, matches marked.
  function excerpt(text, words) {
    var folded = fold(text),
      first = -1;
    words.forEach(w => {
      var at = folded.indexOf(w);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    });
    var start = max(0, first - 60),
      end = Math.min(text.length, start + 180),
      frag = document.createDocumentFragment();
    if (start > 0) frag.append("…");
    var i = start;
    while (i < end) {
      var best = -1,
        len = 0;
      words.forEach(w => {
        var at = folded.indexOf(w, i);
        if (at >= 0 && at < end && (best < 0 || at < best)) { best = at; len = w.length; }
      });
      if (best < 0) {
        frag.append(text.slice(i, end));
        break;
      }
      if (best > i) frag.append(text.slice(i, best));
      frag.append(el("mark", "", text.slice(best, Math.min(best + len, end))));
      i = best + len;
    }
    if (end < text.length) frag.append("…");
    return frag;
  }

  var active = -1;
  function options() { return list.querySelectorAll("[role=option]"); }
  function pick(i) {
    var opts = options();
    if (!opts.length) { active = -1; input.removeAttribute("aria-activedescendant"); return; }
    active = (i + opts.length) % opts.length;
    opts.forEach((o, j) => { o.ariaSelected = j === active; });
    input.setAttribute("aria-activedescendant", opts[active].id);
    opts[active].scrollIntoView({ block: "nearest" });
  }

  function clear() {
    list.textContent = "";
    active = -1;
    input.removeAttribute("aria-activedescendant");
  }

  // `count` results found, `shown` of them in the list (all when not given).
  function say(count, query, shown) {
    input.ariaExpanded = !!count;
    var found = count + " result" + (count === 1 ? "" : "s");
    if (shown !== undefined && shown < count) found = "Showing " + shown + " of " + found;
    status.textContent = query.trim() === "" ? "" : count ? found : "No results for “" + query.trim().slice(0, 60) + "”";
  }

  // The button under the list that shows the next page of results; made here, so a site's own
  // base template need not carry it.
  // A new element of class `cls` holding `text`.
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  var more = el("button", "search-more", "More results");
  more.type = "button";
  more.hidden = true;
  status.after(more);

  // The query whose results are shown: its ranking, how many rows are in the list, its groups.
  var current = null;

  // Shows the first page of res sections, grouped by page.
  function show(res, query, turn) {
    clear();
    more.hidden = true;
    current = { res: res, query: query, turn: turn, shown: 0, groups: new Map(), n: 0 };
    if (!res.ids.length) return Promise.resolve(say(0, query));
    input.ariaExpanded = true;
    return showMore(current);
  }

  // Appends the next page of `cur`'s results as their rows arrive, in rank order (a row waits
  // for those above it): the best result appears before the last chunk is in.
  function showMore(cur) {
    var ids = cur.res.ids.slice(cur.shown, cur.shown + PAGE);
    cur.shown += ids.length;
    more.hidden = true;
    var live = () => cur === current && cur.turn === tick;
    function append(h) {
      var group = cur.groups.get(h.url);
      if (!group) {
        group = el("div", "search-page");
        group.role = "group";
        var title = el("p", "search-page-title", h.title);
        title.id = "search-g" + cur.groups.size;
        group.setAttribute("aria-labelledby", title.id);
        group.append(title);
        cur.groups.set(h.url, group);
        list.append(group);
      }
      var a = el("a", "search-hit");
      a.id = "search-o" + cur.n++;
      a.role = "option";
      a.ariaSelected = false;
      a.href = h.anchor ? h.url + "#" + h.anchor : h.url;
      var ex = el("span", "search-hit-excerpt");
      ex.append(excerpt(h.text, cur.res.words));
      a.append(el("span", "search-hit-heading", h.heading || h.title), ex);
      a.addEventListener("click", close);
      group.append(a);
    }
    var m = cur.res.m;
    // The best result's chunk is asked for alone, and the others once its row is shown:
    // requests sent together share the connection limit and the browser's time, and sending
    // them takes the main thread's, while the first row is what the reader waits for.
    var shown = hit(ids[0], m).then(h => {
      if (live()) append(h);
    });
    var rest = shown.then(null, () => {}).then(() => ids.slice(1).map(id => hit(id, m)));
    ids.slice(1).forEach((_, k) => {
      shown = shown.then(() => rest).then(r => r[k]).then(h => {
        if (live()) append(h);
      });
    });
    return shown.then(() => {
      if (!live()) return;
      say(cur.res.found, cur.query, cur.shown);
      more.hidden = cur.shown >= cur.res.ids.length;
    });
  }

  // The next page, with the first new result made the active option and focus in the input,
  // so arrow keys go on from there. A new result joins its page's group, which may be higher
  // in the list, so it is found by its id.
  function nextPage() {
    var cur = current;
    if (!cur || more.hidden) return;
    var firstNew = "search-o" + cur.n;
    showMore(cur).then(() => {
      if (cur !== current) return;
      input.focus();
      pick(Array.prototype.findIndex.call(options(), o => o.id === firstNew));
    });
  }
  more.addEventListener("click", nextPage);

  var tick = 0;
  function run() {
    var query = input.value,
      turn = ++tick;
    rank(query).then(res => {
      if (turn === tick) return show(res, query, turn);
    }).catch(() => {
      if (turn !== tick) return;
      clear();
      broken();
    });
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  function broken() { status.textContent = "Search is not available: the index could not be loaded."; }

  input.addEventListener("input", run);
  input.addEventListener("keydown", e => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      // Past the last result, the next page when there is one.
      if (active === options().length - 1 && !more.hidden) nextPage();
      else pick(active + 1);
    }
    else if (e.key === "ArrowUp") { e.preventDefault(); pick(active - 1); }
    else if (e.key === "Enter") {
      var opts = options(),
        target = opts[active >= 0 ? active : 0];
      if (target) { e.preventDefault(); close(); location.href = target.href; }
    }
  });
  // Opened again later: fetch the index meta early (it may have failed before).
  dialog.addEventListener("docsite:open", () => { load().catch(broken); });
  // This file loads while the dialog is open and the reader may already have typed.
  load().catch(broken);
  if (input.value) run();
})();
