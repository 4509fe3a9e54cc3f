// The setup-verification form: posts the fields to docsite's endpoint, sends the browser to the
// provider, and shows the result in place when the provider sends it back. The secret never goes
// anywhere but that one POST; only non-secret fields are remembered across the round trip.
(() => {
  "use strict";
  var form = document.querySelector("form[data-verify]");
  if (!form) return;
  var section = form.closest(".verify"),
    result = document.getElementById("dsv-result"),
    submit = form.querySelector(".verify-submit"),
    callback = document.getElementById("dsv-callback_url"),
    KEEP = ["instance_url", "display_name", "tenant", "client_id"],
    storeKey = "docsite-verify:" + location.pathname;

  callback.value = location.origin + "/oauth/callback";
  var https = section.querySelector("[data-verify-https]");
  if (https && location.protocol === "https:") https.hidden = true;

  section.querySelector("[data-verify-copy]").addEventListener("click", e => {
    var button = e.currentTarget,
      done = () => { button.textContent = "Copied"; setTimeout(() => { button.textContent = "Copy"; }, 1500); };
    if (navigator.clipboard) navigator.clipboard.writeText(callback.value).then(done, () => { callback.select(); });
    else { callback.select(); }
  });

  // Restore what the person typed before the round trip to the provider (never the secret).
  try {
    var kept = JSON.parse(sessionStorage.getItem(storeKey) || "{}");
    KEEP.forEach(k => { if (kept[k] && form.elements[k]) form.elements[k].value = kept[k]; });
  } catch (e) { /* storage may be off; the defaults stay */ }

  function errorBox(field) { return document.getElementById("dsv-" + field + "-error") || document.getElementById("dsv-form-error"); }

  function clearErrors() {
    form.querySelectorAll(".verify-error").forEach(p => { p.hidden = true; p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(i => { i.removeAttribute("aria-invalid"); });
  }

  function showError(field, message) {
    var box = errorBox(field);
    box.textContent = message;
    box.hidden = false;
    var input = form.elements[field];
    if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    return input && input.focus ? input : box;
  }

  // Is the endpoint here? Asked when the person starts filling the form (not on load: on a
  // static host the probe's 404 would be a console error on every visit), so they learn it before
  // typing a secret.
  var offline = section.querySelector("[data-verify-offline]"),
    probed = null;
  function probe() {
    probed = probed || fetch("/api/verify", { headers: { accept: "application/json" }, credentials: "same-origin" })
      .then(r => r.ok ? r.json() : Promise.reject(r.status))
      .then(j => { if (!j || !j.ready) throw new Error("not ready"); return true; })
      .catch(() => { offline.hidden = false; submit.disabled = true; return false; });
    return probed;
  }
  form.addEventListener("focusin", probe, { once: true });

  form.addEventListener("submit", e => {
    e.preventDefault();
    probe().then(ready => { if (ready) send(); });
  });

  function send() {
    clearErrors();
    var data = {};
    new FormData(form).forEach((v, k) => { if (k !== "callback_url") data[k] = String(v); });
    var keep = {};
    KEEP.forEach(k => { if (data[k]) keep[k] = data[k]; });
    try { sessionStorage.setItem(storeKey, JSON.stringify(keep)); } catch (err) { /* optional */ }
    submit.disabled = true;
    submit.textContent = "Starting…";
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(data)
    }).then(r => {
      return r.json().then(j => { return { ok: r.ok, body: j }; });
    }).then(res => {
      if (res.ok && res.body.authorize_url) {
        submit.textContent = "Opening the provider…";
        location.assign(res.body.authorize_url);
        return;
      }
      var first = null;
      Object.keys(res.body.errors || { form: "The server did not start the check." }).forEach(f => {
        var el = showError(f, (res.body.errors || {})[f] || "The server did not start the check.");
        first = first || el;
      });
      if (first && first.focus) first.focus();
      submit.disabled = false;
      submit.textContent = "Verify setup";
    }).catch(() => {
      showError("form", "The verification server did not answer. Is docsite serve still running?");
      submit.disabled = false;
      submit.textContent = "Verify setup";
    });
  }

  var LABEL = { pass: "Passed", fail: "Failed", skip: "Not run", pending: "Waiting" };

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text) n.textContent = text;
    return n;
  }

  function render(report) {
    result.textContent = "";
    result.hidden = false;
    result.className = "verify-result verify-" + report.verdict;
    var title = report.verdict === "verified" ? "Setup verified" : report.verdict === "pending" ? "Waiting for " + report.provider_name : "Setup not verified";
    result.appendChild(el("h4", "verify-verdict", title));
    result.appendChild(el("p", "verify-summary", report.summary));
    (report.warnings || []).forEach(w => { result.appendChild(el("p", "verify-notice", w)); });
    var list = el("ol", "verify-steps");
    report.steps.forEach(s => {
      var li = el("li", "verify-step verify-" + s.status);
      li.setAttribute("data-step", s.id);
      var head = el("p", "verify-step-head");
      head.appendChild(el("span", "verify-badge", LABEL[s.status] || s.status));
      head.appendChild(document.createTextNode(" " + s.label));
      li.appendChild(head);
      li.appendChild(el("p", "verify-detail", s.detail));
      if (s.fix) li.appendChild(el("p", "verify-fix", "Fix: " + s.fix));
      list.appendChild(li);
      if (s.status === "fail" && s.field) showError(s.field, s.detail + (s.fix ? " Fix: " + s.fix : ""));
    });
    result.appendChild(list);
    result.appendChild(el("p", "verify-callback", "Callback URL sent: " + report.callback_url));
  }

  var id = new URLSearchParams(location.search).get("verify");
  if (!id) return;
  var tries = 0;
  (function poll() {
    fetch("/api/verify/" + encodeURIComponent(id), { headers: { accept: "application/json" }, credentials: "same-origin" })
      .then(r => { return r.json().then(j => { return { ok: r.ok, body: j }; }); })
      .then(res => {
        if (!res.ok) {
          result.hidden = false;
          result.textContent = res.body.error || "This result is no longer available.";
          return;
        }
        clearErrors();
        render(res.body);
        if (tries === 0) { section.scrollIntoView({ block: "start" }); result.focus({ preventScroll: true }); }
        if (res.body.verdict === "pending" && tries++ < 600) setTimeout(poll, 1000);
      })
      .catch(() => { result.hidden = false; result.textContent = "The verification server did not answer."; });
  })();
})();
