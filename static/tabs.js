/* docsite tabs (WAI-ARIA tabs pattern): a click, or the arrow keys, Home and End in the tab
   list, select a tab. Loaded by docsite.js only on pages with tabs, with the tabs' styles. */
(() => {
  "use strict";
  var d = document, css = d.createElement("style");
  css.textContent = ".tab-list{display:flex;flex-wrap:wrap;border-bottom:var(--line)}.tab-list button{padding:.5rem 1rem;border:0;border-bottom:2px solid #0000;background:none;color:var(--muted);font:inherit;cursor:pointer}.tab-list [aria-selected=true]{border-color:var(--link);color:var(--fg)}.tab-panel{padding-top:.75rem}";
  d.head.appendChild(css);
  var pick = t => {
    t.parentNode.querySelectorAll("[role=tab]").forEach(b => {
      var on = b === t;
      b.setAttribute("aria-selected", on);
      b.tabIndex = on ? 0 : -1;
      d.getElementById(b.getAttribute("aria-controls")).hidden = !on;
    });
  };
  d.addEventListener("click", e => {
    var t = e.target.closest("[role=tab]");
    if (t) pick(t);
  });
  d.addEventListener("keydown", e => {
    var t = e.target;
    if (t.getAttribute("role") != "tab") return;
    var all = [...t.parentNode.children], n = all.length, i = all.indexOf(t),
      j = { ArrowRight: i + 1, ArrowLeft: i + n - 1, Home: 0, End: n - 1 }[e.key];
    if (j == null) return;
    e.preventDefault();
    pick(t = all[j % n]);
    t.focus();
  });
})();
