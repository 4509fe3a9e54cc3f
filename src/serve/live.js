/* docsite live preview: injected by `docsite serve` only, never by `docsite build`. */
(() => {
  "use strict";
  const KEY = "docsite-scroll:" + location.pathname;
  const saved = sessionStorage.getItem(KEY);
  if (saved !== null) {
    sessionStorage.removeItem(KEY);
    addEventListener("load", () => scrollTo(0, +saved));
  }
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
  let box = null;
  function ui() {
    if (!box) {
      box = document.createElement("div");
      box.id = "docsite-live";
      box.setAttribute("role", "status");
      box.style.cssText = "position:fixed;z-index:2147483647;right:12px;bottom:12px;max-width:min(560px,calc(100vw - 24px));max-height:60vh;overflow:auto;font:13px/1.45 system-ui,sans-serif;background:#fff;color:#1f2328;border:1px solid #d0d7de;border-radius:8px;box-shadow:0 8px 24px rgba(0,0,0,.2)";
      document.body.appendChild(box);
    }
    return box;
  }
  function render(s) {
    if (s.failed && s.errors.length) {
      const items = s.errors.map((e) =>
        `<li><strong>${esc(e.code)}</strong> ${esc(e.message)}<br><code>${esc(e.file)}:${e.line}:${e.column}</code>` +
        (e.source ? `<pre style="margin:4px 0;padding:6px;background:#f6f8fa;white-space:pre-wrap">${esc(e.source)}</pre>` : "") +
        (e.hint ? `<em>${esc(e.hint)}</em>` : "") + "</li>").join("");
      ui().innerHTML = `<div data-docsite-overlay style="padding:10px 14px;border-left:4px solid #cf222e"><p style="margin:0 0 6px"><strong>Build failed</strong>: showing the last good version.</p><ul style="margin:0;padding-left:18px">${items}</ul></div>`;
      return;
    }
    if (!s.findings.length) {
      if (box) { box.remove(); box = null; }
      if (s.total) {
        ui().innerHTML = `<p data-docsite-panel style="margin:0;padding:6px 10px">${s.total} problem(s) elsewhere in the site</p>`;
      }
      return;
    }
    const items = s.findings.map((f) =>
      `<li data-code="${esc(f.code)}"><strong>${esc(f.code)}</strong> ${esc(f.message)} <code>${esc(f.file)}:${f.line}</code></li>`).join("");
    ui().innerHTML = `<div data-docsite-panel style="padding:8px 12px"><p style="margin:0 0 4px"><strong>${s.findings.length} problem(s) on this page</strong> · ${s.total} in the site</p><ul style="margin:0;padding-left:18px">${items}</ul></div>`;
  }
  async function status() {
    try {
      const r = await fetch("/__docsite/status?page=" + encodeURIComponent(location.pathname), { cache: "no-store" });
      if (r.ok) render(await r.json());
    } catch (_) { /* the server is restarting; the event stream reconnects */ }
  }
  function connect() {
    const es = new EventSource("/__docsite/events");
    es.onmessage = (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch (_) { return; }
      if (m.type === "css") {
        for (const l of document.querySelectorAll('link[rel="stylesheet"]')) {
          const u = new URL(l.href);
          u.searchParams.set("live", m.generation);
          l.href = u.href;
        }
        status();
      } else if (m.type === "reload") {
        if (!m.pages || m.pages.includes(location.pathname)) {
          sessionStorage.setItem(KEY, String(scrollY));
          location.reload();
        } else {
          status();
        }
      } else {
        status();
      }
    };
    es.onerror = () => { es.close(); setTimeout(connect, 1000); };
  }
  if (document.readyState === "loading") addEventListener("DOMContentLoaded", status); else status();
  connect();
})();
