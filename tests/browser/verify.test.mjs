// Setup verification against a real OAuth/OIDC server (npm oidc-provider) on loopback, through the
// real `docsite serve` binary: the HTTP flow for every case the issue names, the guide's form in
// Debian chromium, and a leak check over everything written or answered during the suite.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { DOCSITE_BIN, launchBrowser, openPage, screenshot, startServer, tempDir, buildSite } from './helpers.mjs';
import { CookieJar, startOidc } from './oidc.mjs';

const SECRET = 's3cr3t-OIDC-good-7f1e9a';
const WRONG = 's3cr3t-OIDC-wrong-55c0d2';
const OTHER_SECRET = 's3cr3t-OIDC-other-a81b3c';

/** Everything docsite said or answered, for the leak check. */
const seen = [];

function startServe(root, port = 0) {
  return new Promise((resolve, reject) => {
    const proc = spawn(DOCSITE_BIN, ['serve', '--root', root, '--port', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const collect = (chunk) => {
      log += chunk;
      const m = log.match(/serving on (http:\/\/[^ ]+\/)/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], origin: new URL(m[1]).origin, proc, log: () => log });
      }
    };
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${log}`)), 30_000);
    proc.stderr.on('data', collect);
    proc.stdout.on('data', collect);
    proc.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${log}`)));
  });
}

async function writeSite(dir, { flowSeconds = 600 } = {}) {
  const files = {
    'docsite.toml': `title = "Verify test"\n\n[verify]\nallow_insecure_loopback = true\nflow_seconds = ${flowSeconds}\n`,
    'content/_index.md': '---\ntitle: Home\n---\n\nSee [the setup guide](./setup.md).\n',
    'content/setup.md': [
      '---',
      'title: Set up sign-in',
      'verify:',
      '  provider: oidc',
      '  scopes: [openid, profile, email]',
      '  section: verify-it',
      '---',
      '',
      '## Register the client',
      '',
      'Register a client with the provider.',
      '',
      '## Verify it',
      '',
      'Enter the values below.',
      '',
      '## Afterwards',
      '',
      'Done.',
      '',
    ].join('\n'),
  };
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), body);
  }
}

/** fetch that records what docsite answered (bodies and headers) for the leak check. */
async function docsiteFetch(url, init = {}) {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const body = await res.text();
  seen.push(`${res.status} ${JSON.stringify([...res.headers])} ${body}`);
  return { res, body, json: () => JSON.parse(body) };
}

/** Starts a flow as the guide's form does; returns { started, status, jar }. */
async function start(server, fields, jar = new CookieJar()) {
  const url = server.origin + '/api/verify';
  const { res, json } = await docsiteFetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      origin: server.origin,
      cookie: jar.header(url),
    },
    body: JSON.stringify({ display_name: 'Test', page: '/setup/', ...fields }),
  });
  jar.store(url, res);
  return { status: res.status, started: json(), jar };
}

/**
 * Plays the person at the provider: follows redirects, signs in, and allows (optionally
 * unticking scopes) or denies. Returns the callback URL the provider sent the browser to, or
 * { stuck } with the provider's page when it never redirects back.
 */
async function atProvider(oidc, authorizeUrl, jar, { consent = 'allow', untick = [] } = {}) {
  let url = authorizeUrl;
  let method = 'GET';
  let body;
  for (let hop = 0; hop < 20; hop += 1) {
    if (!url.startsWith(oidc.issuer)) return { callback: url };
    const headers = { cookie: jar.header(url) };
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    jar.store(url, res);
    body = undefined;
    method = 'GET';
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location'), url).href;
      continue;
    }
    const html = await res.text();
    if (html.includes('id="sign-in"')) {
      url = new URL(html.match(/action="([^"]+\/login)"/)[1], url).href;
      method = 'POST';
      body = 'user=person';
    } else if (html.includes('id="allow"')) {
      if (consent === 'deny') {
        url = new URL(html.match(/action="([^"]+\/abort)"/)[1], url).href;
        body = '';
      } else {
        url = new URL(html.match(/action="([^"]+\/confirm)"/)[1], url).href;
        const scopes = [...html.matchAll(/name="scope" value="([^"]+)" checked>/g)].map((m) => m[1]);
        body = scopes.filter((s) => !untick.includes(s)).map((s) => `scope=${encodeURIComponent(s)}`).join('&');
      }
      method = 'POST';
    } else {
      return { stuck: html, status: res.status };
    }
  }
  throw new Error('too many hops at the provider');
}

/** Delivers the callback to docsite in the browser that started it; returns the report. */
async function finish(server, callback, jar) {
  const cb = await docsiteFetch(callback, { headers: { cookie: jar.header(callback) } });
  assert.equal(cb.res.status, 303, cb.body);
  const back = new URL(cb.res.headers.get('location'), server.origin);
  assert.equal(back.pathname, '/setup/');
  assert.equal(cb.res.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(cb.res.headers.get('cache-control'), 'no-store');
  return report(server, back.searchParams.get('verify'), jar);
}

async function report(server, id, jar) {
  const url = `${server.origin}/api/verify/${id}`;
  const r = await docsiteFetch(url, { headers: { cookie: jar.header(url), accept: 'application/json' } });
  assert.equal(r.res.status, 200, r.body);
  return r.json();
}

const step = (rep, id) => rep.steps.find((s) => s.id === id);

describe('setup verification against a real OAuth server', () => {
  let site;
  let quick;
  let server;
  let expiring;
  let oidc;
  let cliPort;
  const cliLogs = [];

  before(async () => {
    cliPort = await new Promise((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address();
        probe.close(() => resolve(port));
      });
    });
    site = await tempDir('docsite-verify-');
    quick = await tempDir('docsite-verify-expiry-');
    await writeSite(site.dir);
    await writeSite(quick.dir, { flowSeconds: 2 });
    server = await startServe(site.dir);
    expiring = await startServe(quick.dir);
    const cb = (s) => `${s.origin}/oauth/callback`;
    oidc = await startOidc({
      clients: [
        { client_id: 'docsite-good', client_secret: SECRET, redirect_uris: [cb(server), cb(expiring), `http://localhost:${cliPort}/oauth/callback`], scope: 'openid profile email' },
        { client_id: 'docsite-elsewhere', client_secret: OTHER_SECRET, redirect_uris: ['http://127.0.0.1:9/elsewhere/callback'], scope: 'openid profile email' },
      ],
    });
  });

  after(async () => {
    server?.proc.kill();
    expiring?.proc.kill();
    await oidc?.close();
    await site?.cleanup();
    await quick?.cleanup();
  });

  const fields = (extra = {}) => ({
    provider: 'oidc',
    instance_url: oidc.issuer,
    client_id: 'docsite-good',
    client_secret: SECRET,
    scopes: 'openid profile email',
    ...extra,
  });

  test('verified: every step passes', async () => {
    const { status, started, jar } = await start(server, fields());
    assert.equal(status, 200, JSON.stringify(started));
    const authorize = new URL(started.authorize_url);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorize.searchParams.get('redirect_uri'), `${server.origin}/oauth/callback`);
    assert.equal(authorize.searchParams.get('state').length >= 22, true, 'state carries 128 bits');
    const { callback } = await atProvider(oidc, started.authorize_url, jar);
    const rep = await finish(server, callback, jar);
    assert.equal(rep.verdict, 'verified', JSON.stringify(rep, null, 2));
    for (const id of ['consent', 'callback', 'token', 'probe:userinfo', 'scope:openid', 'scope:profile', 'scope:email']) {
      assert.equal(step(rep, id)?.status, 'pass', `${id}: ${JSON.stringify(step(rep, id))}`);
    }
  });

  test('wrong secret: the token step fails and blames the secret field', async () => {
    const { started, jar } = await start(server, fields({ client_secret: WRONG }));
    const { callback } = await atProvider(oidc, started.authorize_url, jar);
    const rep = await finish(server, callback, jar);
    assert.equal(rep.verdict, 'failed');
    const token = step(rep, 'token');
    assert.equal(token.status, 'fail');
    assert.equal(token.field, 'client_secret');
    assert.match(token.detail, /invalid_client/);
    assert.match(token.fix, /secret/i);
    assert.equal(step(rep, 'probe:userinfo'), undefined, 'no API call without a token');
  });

  test('consent denied: the callback step shows the provider error', async () => {
    const { started, jar } = await start(server, fields());
    const { callback } = await atProvider(oidc, started.authorize_url, jar, { consent: 'deny' });
    const rep = await finish(server, callback, jar);
    assert.equal(rep.verdict, 'failed');
    assert.equal(step(rep, 'callback').status, 'fail');
    assert.match(step(rep, 'callback').detail, /access_denied/);
    assert.match(step(rep, 'callback').detail, /denied/i);
    assert.equal(step(rep, 'token').status, 'skip');
  });

  test('a scope not granted is named by its API name and blamed on scopes', async () => {
    const { started, jar } = await start(server, fields());
    const { callback } = await atProvider(oidc, started.authorize_url, jar, { untick: ['email'] });
    const rep = await finish(server, callback, jar);
    assert.equal(rep.verdict, 'failed', JSON.stringify(rep, null, 2));
    assert.equal(step(rep, 'scope:profile').status, 'pass');
    const email = step(rep, 'scope:email');
    assert.equal(email.status, 'fail');
    assert.equal(email.field, 'scopes');
    assert.match(email.detail, /email/);
  });

  test('unknown client ID and unregistered callback: the provider never calls back, the flow expires naming both causes', async () => {
    const unknown = await start(expiring, fields({ client_id: 'no-such-client' }));
    const stuck = await atProvider(oidc, unknown.started.authorize_url, unknown.jar);
    assert.ok(stuck.stuck, 'the provider shows its own error page');
    assert.match(stuck.stuck, /invalid_client|client/i);

    const elsewhere = await start(expiring, fields({ client_id: 'docsite-elsewhere', client_secret: OTHER_SECRET }));
    const stuck2 = await atProvider(oidc, elsewhere.started.authorize_url, elsewhere.jar);
    assert.match(stuck2.stuck, /redirect_uri/i);

    let rep = await report(expiring, unknown.started.id, unknown.jar);
    assert.equal(rep.verdict, 'pending');
    await new Promise((r) => setTimeout(r, 2500));
    for (const [flow, id] of [[unknown, 'no-such-client'], [elsewhere, 'docsite-elsewhere']]) {
      rep = await report(expiring, flow.started.id, flow.jar);
      assert.equal(rep.verdict, 'expired');
      const consent = step(rep, 'consent');
      assert.equal(consent.status, 'fail');
      assert.match(consent.detail, /never arrived/);
      assert.match(consent.fix, new RegExp(id));
      assert.ok(consent.fix.includes(`${expiring.origin}/oauth/callback`), consent.fix);
    }
  });

  test('state is single use, bound to the browser, and unforgeable; a replayed code is refused by the provider', async () => {
    const forged = await docsiteFetch(`${server.origin}/oauth/callback?code=abc&state=forged-state-value`);
    assert.equal(forged.res.status, 400);
    assert.match(forged.body, /Unknown or used verification/);

    const empty = await docsiteFetch(`${server.origin}/oauth/callback`);
    assert.equal(empty.res.status, 400);
    assert.match(empty.body, /Nothing to verify/);

    const { started, jar } = await start(server, fields());
    const { callback } = await atProvider(oidc, started.authorize_url, jar);
    // Another browser (no cookie) is refused and does not use the state up.
    const other = await docsiteFetch(callback);
    assert.equal(other.res.status, 403);
    assert.match(other.body, /another browser/);
    const rep = await finish(server, callback, jar);
    assert.equal(rep.verdict, 'verified');
    // The same callback again: the state is spent.
    const replay = await docsiteFetch(callback, { headers: { cookie: jar.header(callback) } });
    assert.equal(replay.res.status, 400);

    // The spent code under a fresh flow's state: docsite exchanges it, the provider refuses it.
    const code = new URL(callback).searchParams.get('code');
    const second = await start(server, fields(), jar);
    const state = new URL(second.started.authorize_url).searchParams.get('state');
    const replayed = `${server.origin}/oauth/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`;
    const rep2 = await finish(server, replayed, jar);
    assert.equal(rep2.verdict, 'failed');
    assert.equal(step(rep2, 'token').status, 'fail');
    assert.match(step(rep2, 'token').detail, /invalid_grant/);
  });

  test('bad form input gets a message per field and starts nothing', async () => {
    const cases = [
      [{ client_id: '' }, 'client_id', /Enter/],
      [{ client_secret: '' }, 'client_secret', /Enter/],
      [{ client_id: 'a\u0007b' }, 'client_id', /control/],
      [{ client_secret: 'x'.repeat(5000) }, 'client_secret', /longer/],
      [{ instance_url: 'not a url' }, 'instance_url', /not a URL/],
      [{ instance_url: 'https://user:pw@example.com' }, 'instance_url', /password/],
      [{ instance_url: 'https://169.254.169.254' }, 'instance_url', /metadata/],
      [{ instance_url: 'https://10.0.0.7' }, 'instance_url', /private/],
      [{ provider: 'gitlub' }, 'provider', /Unknown provider/],
    ];
    for (const [extra, field, message] of cases) {
      const { status, started } = await start(server, fields(extra));
      assert.equal(status, 400, JSON.stringify(extra));
      assert.match(started.errors[field], message, JSON.stringify(started));
    }
    // A cross-site post is refused.
    const url = server.origin + '/api/verify';
    const cross = await docsiteFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify(fields()),
    });
    assert.equal(cross.res.status, 403);
    // Oversized bodies are refused before parsing.
    const huge = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.origin },
      body: JSON.stringify(fields({ client_secret: 'y'.repeat(100_000) })),
    });
    assert.equal(huge.status, 413);
  });

  describe('in the browser', () => {
    let browser;
    before(async () => {
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
    });

    async function fillAndSubmit(page, secret) {
      await page.goto(`${server.origin}/setup/`);
      const form = page.locator('form[data-verify]');
      await form.waitFor();
      assert.equal(await page.locator('#dsv-callback_url').inputValue(), `${server.origin}/oauth/callback`);
      await page.getByLabel('Instance URL').fill(oidc.issuer);
      await page.getByLabel('Client ID').fill('docsite-good');
      await page.getByLabel('Client secret').fill(secret);
      await page.getByRole('button', { name: 'Verify setup' }).click();
      await page.locator('#sign-in').click();
      await page.locator('#allow').click();
      await page.waitForURL(/\/setup\/\?verify=/);
      await page.locator('#dsv-result .verify-verdict').waitFor();
    }

    test('a support engineer verifies a good setup and sees every step', async () => {
      const { context, page } = await openPage(browser);
      try {
        await fillAndSubmit(page, SECRET);
        assert.equal(await page.locator('#dsv-result .verify-verdict').innerText(), 'Setup verified');
        const steps = await page.locator('#dsv-result [data-step]').count();
        assert.ok(steps >= 7, `${steps} steps shown`);
        assert.equal(await page.locator('#dsv-result .verify-fail').count(), 0);
        // Non-secret fields survive the round trip; the secret does not.
        assert.equal(await page.getByLabel('Client ID').inputValue(), 'docsite-good');
        assert.equal(await page.getByLabel('Client secret').inputValue(), '');
        await screenshot(page, 'verify-verified');
        seen.push(await page.content());
      } finally {
        await context.close();
      }
    });

    test('a wrong secret shows its diagnosis next to the Secret field', async () => {
      const { context, page } = await openPage(browser);
      try {
        await fillAndSubmit(page, WRONG);
        assert.equal(await page.locator('#dsv-result .verify-verdict').innerText(), 'Setup not verified');
        const error = page.locator('#dsv-client_secret-error');
        await error.waitFor();
        assert.match(await error.innerText(), /invalid_client/);
        assert.equal(await page.getByLabel('Client secret').getAttribute('aria-invalid'), 'true');
        await screenshot(page, 'verify-wrong-secret');
        seen.push(await page.content());
      } finally {
        await context.close();
      }
    });

    test('a static copy of the guide says how to run the verifier instead of failing', async () => {
      const out = await tempDir('docsite-verify-static-');
      const served = await (async () => {
        await buildSite(site.dir, out.dir);
        return startServer(out.dir);
      })();
      const { context, page } = await openPage(browser);
      try {
        await page.goto(new URL('setup/', served.url).href);
        const note = page.locator('[data-verify-offline]');
        assert.equal(await note.isVisible(), false, 'no probe before the person starts');
        await page.getByLabel('Client ID').focus();
        await note.waitFor({ state: 'visible' });
        assert.match(await note.innerText(), /docsite serve/);
        assert.equal(await page.getByRole('button', { name: 'Verify setup' }).isDisabled(), true);
      } finally {
        await context.close();
        await served.close();
        await out.cleanup();
      }
    });
  });

  test('the verify command: secret from the environment, callback on loopback, exit code from the verdict', async () => {
    const run = (secret) => new Promise((resolve, reject) => {
      const proc = spawn(DOCSITE_BIN, [
        'verify', '--provider', 'oidc', '--instance-url', oidc.issuer, '--client-id', 'docsite-good',
        '--scopes', 'openid profile', '--port', String(cliPort), '--root', site.dir, '--no-open',
      ], { env: { ...process.env, DOCSITE_CLIENT_SECRET: secret }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      let driven = false;
      proc.stdout.on('data', (d) => { out += d; });
      proc.stderr.on('data', async (d) => {
        err += d;
        const m = err.match(/open this link to sign in at the provider: (\S+)/);
        if (!m || driven) return;
        driven = true;
        try {
          const jar = new CookieJar();
          const first = await fetch(m[1], { redirect: 'manual' });
          jar.store(m[1], first);
          assert.equal(first.status, 303);
          const { callback } = await atProvider(oidc, first.headers.get('location'), jar);
          const page = await fetch(callback, { headers: { cookie: jar.header(callback) } });
          cliLogs.push(await page.text());
        } catch (e) {
          reject(e);
        }
      });
      proc.on('exit', (code) => {
        cliLogs.push(out, err);
        resolve({ code, out, err });
      });
    });
    const good = await run(SECRET);
    assert.equal(good.code, 0, good.out + good.err);
    assert.match(good.out, /Setup verified/);
    assert.match(good.err, new RegExp(`callback URL \\(register exactly this\\): http://localhost:${cliPort}/oauth/callback`));
    const bad = await run(WRONG);
    assert.equal(bad.code, 1, bad.out + bad.err);
    assert.match(bad.out, /FAIL Token issued for the secret: .*invalid_client/);
    assert.match(bad.out, /fix: /);
  });

  test('serve --tls: https on localhost with a certificate kept in the cache, usable by the form', async () => {
    const proc = spawn(DOCSITE_BIN, ['serve', '--tls', '--root', site.dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise((resolve, reject) => {
        let log = '';
        const timer = setTimeout(() => reject(new Error(`serve --tls did not start:\n${log}`)), 30_000);
        proc.stderr.on('data', (d) => {
          log += d;
          const m = log.match(/serving on (https:\/\/localhost:\d+\/)/);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
      });
      const tls = path.join(site.dir, '.docsite-cache', 'tls');
      const ca = await readFile(path.join(tls, 'localhost.pem'));
      assert.equal((await stat(path.join(tls, 'localhost-key.pem'))).mode & 0o777, 0o600, 'the key is private');
      const origin = new URL(url).origin;
      const request = (method, p, body, headers = {}) => new Promise((resolve, reject) => {
        const req = https.request(new URL(p, origin), { method, ca, headers }, (res) => {
          let text = '';
          res.on('data', (d) => { text += d; });
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
        });
        req.on('error', reject);
        req.end(body);
      });
      const ready = await request('GET', '/api/verify');
      assert.equal(ready.status, 200);
      assert.equal(JSON.parse(ready.text).ready, true);
      // Legacy Azure DevOps needs an https callback: over https the flow starts.
      const started = await request('POST', '/api/verify', JSON.stringify({
        provider: 'azure-devops', instance_url: 'https://dev.azure.com', display_name: 'Azure DevOps',
        client_id: '1b4f3e2a-0c9d-4e8f-a7b6-5d4c3b2a1f0e', client_secret: SECRET, page: '/setup/',
      }), { 'content-type': 'application/json', accept: 'application/json', origin });
      assert.equal(started.status, 200, started.text);
      const body = JSON.parse(started.text);
      assert.equal(body.callback_url, `${origin}/oauth/callback`);
      const authorize = new URL(body.authorize_url);
      assert.equal(authorize.host, 'app.vssps.visualstudio.com');
      assert.equal(authorize.searchParams.get('response_type'), 'Assertion');
      assert.match(started.headers['set-cookie'][0], /; Secure/);
      seen.push(started.text);

      // A provider whose certificate this machine does not trust is a TLS problem, named as such...
      const untrusted = await start(server, fields({ instance_url: origin }));
      assert.equal(untrusted.status, 502, JSON.stringify(untrusted.started));
      assert.match(untrusted.started.errors.instance_url, /TLS/);
      assert.match(untrusted.started.errors.instance_url, /ca_bundle/);
      // ...and trusting its CA with `[verify] ca_bundle` gets past TLS (to the next problem: this
      // server is no OpenID provider).
      const trusting = await tempDir('docsite-verify-ca-');
      await writeSite(trusting.dir);
      await writeFile(path.join(trusting.dir, 'ca.pem'), ca);
      await writeFile(path.join(trusting.dir, 'docsite.toml'), 'title = "CA"\n\n[verify]\nallow_insecure_loopback = true\nca_bundle = "ca.pem"\n');
      const withCa = await startServe(trusting.dir);
      try {
        const past = await start(withCa, fields({ instance_url: origin }));
        assert.equal(past.status, 502);
        assert.doesNotMatch(past.started.errors.instance_url, /TLS/);
        assert.match(past.started.errors.instance_url, /discovery document/);
      } finally {
        withCa.proc.kill();
        await trusting.cleanup();
      }
    } finally {
      proc.kill();
    }
  });

  test('leak check: no secret, code or token in any log, answer, page or file', async () => {
    const needles = [SECRET, WRONG, OTHER_SECRET, ...oidc.issued].filter((n) => n && n.length >= 8);
    assert.ok(oidc.issued.length >= 4, 'the provider issued codes and tokens during the suite');
    const haystacks = [
      ['serve log', server.log()],
      ['expiring serve log', expiring.log()],
      ...cliLogs.map((l, i) => [`verify command output ${i}`, l]),
      ...seen.map((s, i) => [`answer ${i}`, s]),
    ];
    async function walk(dir) {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(p);
        else haystacks.push([p, (await readFile(p)).toString('latin1')]);
      }
    }
    await walk(site.dir);
    await walk(quick.dir);
    for (const [where, text] of haystacks) {
      for (const needle of needles) {
        assert.ok(!text.includes(needle), `${needle.slice(0, 12)}… leaked into ${where}`);
      }
    }
  });
});
