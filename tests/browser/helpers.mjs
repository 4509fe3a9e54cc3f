// Shared harness for docsite's real-browser tests.
//
// Drives Debian's /usr/bin/chromium through npm `playwright-core` (no browser
// download ever), serves a built site from a tiny node:http static server with
// pretty-URL rules, and runs the docsite binary named by $DOCSITE_BIN.
//
// Environment (tests/run.sh sets the first three):
//   DOCSITE_BIN        path of the docsite binary   (default: <root>/target/debug/docsite)
//   DOCSITE_ROOT       repository root               (default: two folders up from here)
//   DOCSITE_ARTIFACTS  screenshots/reports folder    (default: <root>/target/test-artifacts)
//   CHROMIUM           browser executable            (default: /usr/bin/chromium)

import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

export const ROOT = path.resolve(process.env.DOCSITE_ROOT || path.join(here, '..', '..'));
export const DOCSITE_BIN = path.resolve(
  process.env.DOCSITE_BIN || path.join(ROOT, 'target', 'debug', 'docsite'),
);
export const ARTIFACTS = path.resolve(
  process.env.DOCSITE_ARTIFACTS || path.join(ROOT, 'target', 'test-artifacts'),
);
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** The flags known to work for Debian chromium on these machines. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// ---------------------------------------------------------------------------
// Browser

/**
 * Launch Debian chromium. playwright's launch() gives every browser a fresh,
 * throw-away user-data-dir of its own (and refuses a --user-data-dir flag), so
 * each launch starts from a clean profile.
 */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `chromium not found at ${CHROMIUM}; install Debian's package: apt-get install -y chromium`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 390, height: 844 };

/**
 * A new context + page with a deterministic setup (light colour scheme,
 * fixed viewport, en-US), and a watcher that records console errors, page
 * errors, failed requests and 4xx/5xx responses.
 */
export async function openPage(browser, { viewport = DESKTOP, colorScheme = 'light', ...rest } = {}) {
  const context = await browser.newContext({
    viewport,
    colorScheme,
    locale: 'en-US',
    deviceScaleFactor: 1,
    ...rest,
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = await context.newPage();
  const watcher = watchPage(page);
  return { context, page, watcher };
}

/**
 * Record everything on `page` that should fail a test: console.error
 * messages, uncaught page errors, requests that failed at the network level,
 * and responses with a 4xx/5xx status.
 *
 * watcher.allow(pred) registers an expected problem (pred gets the problem
 * object {kind, url, text}); watcher.assertClean(what) throws listing the rest.
 */
export function watchPage(page) {
  const problems = [];
  // Chromium fetches /favicon.ico on its own when a page declares no icon;
  // that request is the browser's, not the page's. (A declared
  // <link rel="icon"> that 404s is still caught: it is then the page's.)
  const allowed = [(p) => /^https?:\/\/[^/]+\/favicon\.ico$/.test(p.url)];
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const loc = msg.location();
      problems.push({ kind: 'console.error', url: loc?.url || '', text: msg.text() });
    }
  });
  page.on('pageerror', (err) => {
    problems.push({ kind: 'pageerror', url: page.url(), text: String(err?.stack || err) });
  });
  page.on('requestfailed', (req) => {
    const reason = req.failure()?.errorText || 'failed';
    // A navigation superseded by another one is not a broken resource.
    if (reason === 'net::ERR_ABORTED' && req.isNavigationRequest()) return;
    problems.push({ kind: 'requestfailed', url: req.url(), text: reason });
  });
  page.on('response', (res) => {
    if (res.status() >= 400) {
      problems.push({ kind: `http ${res.status()}`, url: res.url(), text: res.statusText() });
    }
  });
  return {
    problems,
    allow(pred) {
      allowed.push(pred);
    },
    unexpected() {
      return problems.filter((p) => !allowed.some((pred) => pred(p)));
    },
    /**
     * Throw listing the unexpected problems. With {scriptsOnly: true} only
     * script errors count (uncaught exceptions and console.error other than
     * the browser's own "Failed to load resource" lines): for interaction
     * tests, so one broken image does not turn every test red.
     */
    assertClean(what = 'page', { scriptsOnly = false } = {}) {
      let bad = this.unexpected();
      if (scriptsOnly) {
        bad = bad.filter(
          (p) => p.kind === 'pageerror' || (p.kind === 'console.error' && !/^Failed to load resource/.test(p.text)),
        );
      }
      if (bad.length) {
        const lines = bad.map((p) => `  - [${p.kind}] ${p.url} ${p.text}`.trimEnd());
        const noun = scriptsOnly ? 'script error(s)' : 'console error(s) / failed request(s)';
        throw new Error(`${what}: ${bad.length} ${noun}:\n${lines.join('\n')}`);
      }
    },
  };
}

/** Save a full-page screenshot into the artifacts dir; returns its path. */
export async function screenshot(page, name, { fullPage = true } = {}) {
  const file = path.join(artifactsDir('screenshots'), `${safeName(name)}.png`);
  await page.screenshot({ path: file, fullPage, animations: 'disabled' });
  return file;
}

/**
 * Run `fn(page, watcher)` on a fresh page; on failure save a screenshot
 * named after the test (best effort) and rethrow. Always closes the context.
 */
export async function withPage(browser, name, opts, fn) {
  if (typeof opts === 'function') [opts, fn] = [{}, opts];
  const { context, page, watcher } = await openPage(browser, opts);
  try {
    await fn(page, watcher);
  } catch (err) {
    try {
      const shot = await screenshot(page, `FAILED-${name}`);
      err.message += `\n  (screenshot: ${path.relative(ROOT, shot)}; page: ${page.url()})`;
    } catch {
      /* the page may be gone */
    }
    throw err;
  } finally {
    await context.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------
// Artifacts and temp dirs

/** `target/test-artifacts[/sub...]`, created if missing. */
export function artifactsDir(...sub) {
  const dir = path.join(ARTIFACTS, ...sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function safeName(name) {
  return String(name).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 120);
}

/** A fresh temp dir; returns { dir, cleanup }. */
export async function tempDir(prefix = 'docsite-test-') {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------
// Building a site with the docsite binary

/**
 * `$DOCSITE_BIN build --root ROOT --out OUT ...extraArgs`. Resolves with
 * {stdout, stderr}; throws with the binary's stderr when it exits non-zero.
 */
export async function buildSite(root, outDir, extraArgs = []) {
  if (!existsSync(DOCSITE_BIN)) {
    throw new Error(
      `docsite binary not found at ${DOCSITE_BIN} (set DOCSITE_BIN, or run \`cargo build\` / tests/run.sh)`,
    );
  }
  const args = ['build', '--root', root, '--out', outDir, ...extraArgs];
  const { code, signal, stdout, stderr } = await run(DOCSITE_BIN, args, { cwd: root, timeoutMs: 120_000 });
  if (code !== 0) {
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    throw new Error(
      `\`docsite ${args.join(' ')}\` failed (${how}):\n${stderr.trim() || '(no stderr)'}` +
        (stdout.trim() ? `\n--- stdout ---\n${stdout.trim()}` : ''),
    );
  }
  return { stdout, stderr };
}

function run(cmd, args, { cwd, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------
// Static file server

export const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
};

export function contentType(file) {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
}

/** A free loopback port, for a site built for its URL before its server takes the port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * `docsite host DIR [--root ROOT] --port PORT` (port 0: any free one), docsite's own server for
 * a built site. `ready` resolves with its URL once it is listening; `close()` stops it.
 */
export function hostSite(dir, { root, port = 0 } = {}) {
  const args = ['host', dir, '--port', String(port)];
  if (root) args.push('--root', root);
  const child = spawn(DOCSITE_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const ready = new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d) => {
      log += d;
      // stderr is unbuffered, so the line may come in pieces: wait for the space after the URL.
      const m = log.match(/hosting on (http:\/\/\S+)\s/);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`docsite host exited (${code}) before listening:\n${log}`)));
    child.once('error', reject);
  });
  ready.catch(() => {});
  async function close() {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
  return { child, ready, log: () => log, close };
}

/**
 * Serve `dir` on 127.0.0.1 (port 0 = any free port) under `prefix` (default
 * "/"), the way a static host serves a pretty-URL site:
 *   PREFIX/x/        -> dir/x/index.html
 *   PREFIX/x         -> dir/x if a file, else 301 to PREFIX/x/ if dir/x/ has an index.html
 *   anything else    -> dir/404.html with status 404 (plain text if there is none)
 * Files are read per request, so the server may start before the site is built
 * (needed to know the port for --base-url). GET and HEAD only.
 *
 * Resolves with { url, origin, port, prefix, requests, close() }; `url` is
 * origin + prefix. `requests` logs [status, path] of every request served.
 */
export async function startServer(dir, { prefix = '/', port = 0 } = {}) {
  const root = path.resolve(dir);
  if (!prefix.startsWith('/')) prefix = `/${prefix}`;
  if (!prefix.endsWith('/')) prefix = `${prefix}/`;
  const requests = [];

  const server = http.createServer(async (req, res) => {
    const log = (status) => requests.push([status, req.url]);
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('method not allowed\n');
        return log(405);
      }
      const url = new URL(req.url, 'http://localhost');
      let pathname;
      try {
        pathname = decodeURIComponent(url.pathname);
      } catch {
        return notFound(req, res, root, log);
      }
      if (pathname.includes('\0')) return notFound(req, res, root, log);
      // The bare prefix without its slash: redirect like a real host would.
      if (prefix !== '/' && pathname === prefix.slice(0, -1)) {
        return redirect(res, prefix + url.search, log);
      }
      if (!pathname.startsWith(prefix)) return notFound(req, res, root, log);

      const rel = pathname.slice(prefix.length);
      const target = path.resolve(root, `.${path.posix.sep}${rel}`);
      if (target !== root && !target.startsWith(root + path.sep)) return notFound(req, res, root, log);

      let file = null;
      if (pathname.endsWith('/')) {
        file = path.join(target, 'index.html');
      } else {
        const st = await statOrNull(target);
        if (st?.isFile()) file = target;
        else if (st?.isDirectory() && (await statOrNull(path.join(target, 'index.html')))?.isFile()) {
          return redirect(res, `${url.pathname}/${url.search}`, log);
        }
      }
      const st = file && (await statOrNull(file));
      if (!st?.isFile()) return notFound(req, res, root, log);
      sendFile(req, res, file, st.size, 200);
      log(200);
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`server error: ${err}\n`);
      log(500);
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  server.keepAliveTimeout = 1000;
  const actualPort = server.address().port;
  const origin = `http://127.0.0.1:${actualPort}`;
  return {
    origin,
    port: actualPort,
    prefix,
    url: origin + prefix,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

async function statOrNull(p) {
  try {
    return await stat(p);
  } catch {
    return null;
  }
}

function sendFile(req, res, file, size, status) {
  res.writeHead(status, {
    'Content-Type': contentType(file),
    'Content-Length': size,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') return res.end();
  createReadStream(file).pipe(res);
}

function redirect(res, location, log) {
  res.writeHead(301, { Location: location, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`moved to ${location}\n`);
  log(301);
}

async function notFound(req, res, root, log) {
  const page = path.join(root, '404.html');
  const st = await statOrNull(page);
  if (st?.isFile()) {
    sendFile(req, res, page, st.size, 404);
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : 'not found (and no 404.html)\n');
  }
  log(404);
}

// ---------------------------------------------------------------------------
// Small polling helper for conditions that are not DOM-observable.

export async function eventually(fn, { timeout = 5000, interval = 50, message = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
