/* docsite theme behaviour: theme toggle, mobile menu, search dialog, copy buttons, "On this page" highlight. */
(() => {
  "use strict";
  var d = document, root = d.documentElement, KEY = "docsite-theme",
    mq = matchMedia("(prefers-color-scheme: dark)");
  if (root.className.indexOf("js") < 0) root.classList.add("js");

  var listen = (q, fn) => q.addEventListener("change", fn);

  /* Theme toggle */
  var themeBtn = d.querySelector(".theme-btn");
  function theme() {
    var t = root.getAttribute("data-theme");
    return t === "dark" || t === "light" ? t : (mq.matches ? "dark" : "light");
  }
  function syncTheme() {
    var dark = theme() === "dark";
    if (themeBtn) themeBtn.setAttribute("aria-pressed", dark ? "true" : "false");
    if (root.hasAttribute("data-theme")) {
      d.querySelectorAll('meta[name="theme-color"]').forEach(m => {
        m.setAttribute("content", dark ? "#0d1117" : "#ffffff");
      });
    }
  }
  if (themeBtn) {
    themeBtn.addEventListener("click", () => {
      var next = theme() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem(KEY, next); } catch (e) { /* storage unavailable */ }
      syncTheme();
    });
  }
  listen(mq, syncTheme);
  syncTheme();

  /* Mobile menu: below 768px the sidebar is a drawer behind the menu button. */
  var menuBtn = d.querySelector(".menu-btn"), side = d.getElementById("sidebar");
  if (menuBtn && side) {
    var small = matchMedia("(max-width: 767.98px)"),
      isOpen = () => root.classList.contains("nav-open"),
      visible = el => el.getClientRects().length > 0,
      focusables = () => {
      var els = side.querySelectorAll('a[href], summary, button, input, [tabindex]:not([tabindex="-1"])');
      return [menuBtn, ...[...els].filter(visible)];
    };
    var setOpen = (open, restore) => {
      root.classList.toggle("nav-open", open);
      menuBtn.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {
        var cur = side.querySelector('[aria-current="page"]'), f = focusables(),
          target = cur && visible(cur) ? cur : (f[1] || menuBtn);
        target.focus();
      } else if (restore) {
        menuBtn.focus();
      }
    };
    menuBtn.addEventListener("click", () => { setOpen(!isOpen(), true); });
    d.addEventListener("keydown", e => {
      if (!isOpen()) return;
      if (e.key === "Escape") {
        e.preventDefault();
        setOpen(false, true);
      } else if (e.key === "Tab") {
        var f = focusables(), i = f.indexOf(d.activeElement), n = f.length;
        e.preventDefault();
        f[i < 0 ? (e.shiftKey ? n - 1 : 0) : (i + (e.shiftKey ? n - 1 : 1)) % n].focus();
      }
    });
    d.addEventListener("click", e => {
      if (!isOpen()) return;
      var inside = side.contains(e.target) || menuBtn.contains(e.target);
      if (!inside || e.target.closest("#sidebar a")) setOpen(false, false);
    });
    listen(small, () => { if (!small.matches && isOpen()) setOpen(false, false); });
  }

  /* Search: the dialog opens at once, so typing is never lost; the code that answers queries
     (search.js, its URL in data-script) loads on first use, so reading a page never costs it. */
  var dialog = d.getElementById("search-dialog"), sInput = d.getElementById("search-input");
  if (dialog && sInput) {
    var opener = null, loaded = false,
      openSearch = () => {
      if (dialog.open) return;
      opener = d.activeElement;
      dialog.showModal();
      sInput.focus();
      sInput.select();
      if (!loaded) {
        loaded = true;
        var s = d.createElement("script");
        s.src = dialog.getAttribute("data-script");
        s.onerror = () => {
          loaded = false;
          dialog.querySelector(".search-status").textContent = "Search is not available: it could not be loaded.";
        };
        d.head.appendChild(s);
      } else {
        dialog.dispatchEvent(new Event("docsite:open"));
      }
    };
    var closeSearch = () => { if (dialog.open) dialog.close(); };
    dialog.addEventListener("close", () => { if (opener && opener.focus) opener.focus(); });
    dialog.addEventListener("click", e => { if (e.target === dialog) closeSearch(); });
    dialog.querySelector("[data-search-close]").addEventListener("click", closeSearch);
    d.querySelectorAll("[data-search-open]").forEach(b => { b.addEventListener("click", openSearch); });
    d.addEventListener("keydown", e => {
      var t = e.target, typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
      // The search field would eat Escape (it clears itself); close the dialog instead.
      if (e.key === "Escape" && dialog.open) { e.preventDefault(); closeSearch(); }
      else if ((e.key === "k" || e.key === "K") && (e.ctrlKey || e.metaKey)) { e.preventDefault(); openSearch(); }
      else if (e.key === "/" && !typing && !e.altKey && !e.ctrlKey && !e.metaKey) { e.preventDefault(); openSearch(); }
    });
  }

  /* Copy buttons on code blocks */
  if (navigator.clipboard && navigator.clipboard.writeText) {
    root.classList.add("can-copy");
    var live = d.createElement("div");
    live.className = "vh";
    live.setAttribute("role", "status");
    live.setAttribute("aria-live", "polite");
    d.body.appendChild(live);
    d.addEventListener("click", e => {
      var btn = e.target.closest(".code-block .copy");
      if (!btn) return;
      var block = btn.closest(".code-block"), code = block && (block.querySelector("pre code") || block.querySelector("pre"));
      if (!code) return;
      navigator.clipboard.writeText(code.textContent).then(() => {
        btn.textContent = "Copied";
        btn.classList.add("done");
        live.textContent = "Copied";
        clearTimeout(btn._docsiteTimer);
        btn._docsiteTimer = setTimeout(() => {
          btn.textContent = "Copy";
          btn.classList.remove("done");
          live.textContent = "";
        }, 2000);
      }, () => {
        live.textContent = "Copy failed";
      });
    });
  }

  /* Tabs: their script and styles (tabs.js, its URL in data-tabs) load only on a page with tabs. */
  if (d.querySelector("[role=tablist]")) {
    var tabs = d.createElement("script");
    tabs.src = root.getAttribute("data-tabs");
    d.head.appendChild(tabs);
  }

  /* Task-list checkboxes get the task text as their accessible name. */
  d.querySelectorAll('.prose li > input[type="checkbox"]').forEach(box => {
    if (box.hasAttribute("aria-label") || box.hasAttribute("aria-labelledby") || box.closest("label")) return;
    var text = "", n = box.nextSibling;
    for (; n && !(n.nodeType === 1 && /^(UL|OL)$/.test(n.nodeName)); n = n.nextSibling) text += n.textContent;
    box.setAttribute("aria-label", text.trim() || "Task");
  });

  /* Scrollable code blocks and tables must be reachable by keyboard. */
  function markScrollable() {
    d.querySelectorAll(".prose pre, .prose table").forEach(el => {
      var scrolls = el.scrollWidth > el.clientWidth + 1;
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-docsite-tab", "");
      } else if (!scrolls && el.hasAttribute("data-docsite-tab")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-docsite-tab");
      }
    });
  }
  markScrollable();
  var resizeTimer;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(markScrollable, 150);
  });

  /* Highlight the current "On this page" entry while scrolling. */
  var tocLinks = d.querySelectorAll('.toc a[href^="#"]');
  if (tocLinks.length && "IntersectionObserver" in window) {
    var heads = [], byId = {}, seen = {}, active = null;
    tocLinks.forEach(a => {
      var id;
      try { id = decodeURIComponent(a.getAttribute("href").slice(1)); } catch (e) { return; }
      var h = d.getElementById(id);
      if (h) { heads.push(h); byId[id] = a; }
    });
    var setActive = a => {
      if (a === active) return;
      if (active) active.classList.remove("active");
      active = a;
      if (a) a.classList.add("active");
    };
    var io = new IntersectionObserver(entries => {
      entries.forEach(en => { seen[en.target.id] = en.isIntersecting; });
      var i, pick = null;
      for (i = 0; i < heads.length; i++) if (seen[heads[i].id]) { pick = heads[i]; break; }
      if (!pick) {
        for (i = 0; i < heads.length; i++) if (heads[i].getBoundingClientRect().top < 90) pick = heads[i];
      }
      setActive(pick ? byId[pick.id] : null);
    }, { rootMargin: "-64px 0px -65% 0px" });
    heads.forEach(h => { io.observe(h); });
  }
})();
