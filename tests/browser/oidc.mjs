// A real OAuth 2.0 / OpenID Connect server on loopback for the verifier's tests: npm
// `oidc-provider` (pinned in package-lock.json), with minimal login and consent pages of our own
// (the built-in ones fetch web fonts) on which a test can deny consent or untick a scope.
// Everything it issues (codes, access tokens) is recorded so the leak check can search for it.

import http from 'node:http';

import Provider from 'oidc-provider';

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

/**
 * Starts the server on 127.0.0.1 with the given clients
 * (`{ client_id, client_secret, redirect_uris, scope }`). Resolves with
 * `{ issuer, issued, close }`; `issued` lists every code and token value handed out.
 */
export async function startOidc({ clients }) {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const issued = [];
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...c,
    })),
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    scopes: ['openid', 'profile', 'email'],
    cookies: { keys: ['docsite-test-cookie-key'] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, name: 'Test Person', email: 'person@example.test' }),
    }),
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', `<p id="error">${esc(out.error)}: ${esc(out.error_description)}</p>`);
    },
  });
  provider.on('authorization_code.saved', (code) => issued.push(code.jti));
  provider.on('access_token.saved', (token) => issued.push(token.jti));
  provider.on('access_token.issued', (token) => issued.push(token.jti));
  const app = provider.callback();

  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    const m = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/);
    if (!m) return app(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      const uid = m[1];
      if (req.method === 'GET') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        if (details.prompt.name === 'login') {
          return res.end(page('Sign in to the test provider', `
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="user">User</label> <input id="user" name="user" value="person">
<button type="submit" id="sign-in">Sign in</button></form>`));
        }
        const scopes = String(details.params.scope || '').split(' ').filter(Boolean);
        const boxes = scopes
          .map((s) => `<li><label><input type="checkbox" name="scope" value="${esc(s)}" checked${s === 'openid' ? ' disabled' : ''}> ${esc(s)}</label></li>`)
          .join('');
        return res.end(page('Authorize the application', `
<p>Client <code>${esc(details.params.client_id)}</code> asks for:</p>
<form method="post" action="/interaction/${esc(uid)}/confirm"><ul>${boxes}</ul>
<button type="submit" id="allow">Allow</button></form>
<form method="post" action="/interaction/${esc(uid)}/abort"><button type="submit" id="deny">Deny</button></form>`));
      }
      const form = await readForm(req);
      if (m[2] === 'login') {
        return provider.interactionFinished(req, res, { login: { accountId: form.get('user') || 'person' } }, { mergeWithLastSubmission: false });
      }
      if (m[2] === 'abort') {
        return provider.interactionFinished(req, res, {
          error: 'access_denied',
          error_description: 'End-User denied the authorization request',
        }, { mergeWithLastSubmission: false });
      }
      const { prompt, params, session } = details;
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) {
        const chosen = new Set(['openid', ...form.getAll('scope')]);
        const missing = prompt.details.missingOIDCScope;
        grant.addOIDCScope(missing.filter((s) => chosen.has(s)).join(' '));
        // An unticked scope is rejected, so the token is issued without it (not asked again).
        const rejected = missing.filter((s) => !chosen.has(s));
        if (rejected.length) grant.rejectOIDCScope(rejected.join(' '));
      }
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (err) {
      res.statusCode = 400;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(page('Interaction error', `<p>${esc(err.message)}</p>`));
    }
  });

  return {
    issuer,
    issued,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** A minimal cookie jar for fetch, per host (paths ignored: the tests talk to two servers). */
export class CookieJar {
  constructor() {
    this.jars = new Map();
  }
  store(url, response) {
    const host = new URL(url).host;
    const jar = this.jars.get(host) || new Map();
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (!value || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    this.jars.set(host, jar);
  }
  header(url) {
    const jar = this.jars.get(new URL(url).host);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }
}
