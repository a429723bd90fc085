// A real OpenID provider for the national-window e2e tests: panva's oidc-provider (installed by
// `make oidc-provider` into var/oidc-provider/) with its development interactions (any login,
// any password; the login is the account id, which the tests make the national code).
//
//   node tests/e2e/oidc/provider.js '<json>'   with json = {
//     "modules": ".../var/oidc-provider/node_modules", "port": 18123,
//     "clients": [oidc-provider client metadata, ...],
//     "accounts": {"<national code>": {"phone_number": "...", "given_name": "...", ...}}}
//
// The national code is released under the provider's own scope "national_id" (claim
// "national_code"), as a government provider may do; "phone" and "profile" are the standard ones.
//
// GET /__test/mode?<knobs> sets how the provider misbehaves (no knobs: behave again); it answers
// {"ok": true}. Knobs: token_status=<n> (the token endpoint answers that status),
// token_delay_ms=<n> (it answers that late), require_token_auth=client_secret_basic|
// client_secret_post (a strict provider: the other method gets 401 invalid_client; oidc-provider
// itself takes either from a client registered with one of them), userinfo_status=<n>, id_token=unpublished|
// wrong_issuer|wrong_audience (the issued ID token is re-signed with a key the JWKS does not
// publish, or with the real key but another iss / aud). Prints "ready <issuer>" once listening.

import { createHash, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2]);
const { default: Provider } = await import(pathToFileURL(join(config.modules, 'oidc-provider', 'lib', 'index.js')).href);

const issuer = `http://127.0.0.1:${config.port}`;
const newKey = (kid) => ({ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid, alg: 'RS256', use: 'sig' });
const published = newKey('published-1');
const unpublished = newKey('unpublished-1'); // never in the provider's keystore nor its JWKS
let mode = {};

const b64url = (data) => Buffer.from(data).toString('base64url');
function resign(idToken, changes, jwk) {
  const payload = { ...JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url')), ...changes };
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: jwk.kid }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${sign('sha256', Buffer.from(input), createPrivateKey({ key: jwk, format: 'jwk' })).toString('base64url')}`;
}

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [published] },
  cookies: { keys: [createHash('sha256').update(`ramis-test-${config.port}`).digest('hex')] },
  scopes: ['openid', 'national_id', 'phone', 'profile'],
  claims: {
    openid: ['sub'],
    national_id: ['national_code'],
    phone: ['phone_number', 'phone_number_verified'],
    profile: ['given_name', 'family_name'],
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, id) {
    const account = config.accounts[id] || {};
    return {
      accountId: id,
      async claims() {
        return { sub: id, national_code: id, phone_number_verified: Boolean(account.phone_number), ...account };
      },
    };
  },
});
provider.proxy = false;

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/mode') {
    mode = Object.fromEntries(new URLSearchParams(ctx.querystring));
    ctx.body = { ok: true };
    return;
  }
  if (ctx.path === '/token' && ctx.method === 'POST') {
    if (mode.token_delay_ms) await sleep(Number(mode.token_delay_ms));
    const used = ctx.headers.authorization ? 'client_secret_basic' : 'client_secret_post';
    if (mode.require_token_auth && mode.require_token_auth !== used) {
      ctx.status = 401;
      ctx.body = { error: 'invalid_client', error_description: `test mode: ${mode.require_token_auth} only` };
      return;
    }
    if (mode.token_status) {
      ctx.status = Number(mode.token_status);
      ctx.body = { error: 'server_error', error_description: 'test mode' };
      return;
    }
  }
  if (ctx.path === '/me' && mode.userinfo_status) {
    ctx.status = Number(mode.userinfo_status);
    ctx.body = { error: 'server_error', error_description: 'test mode' };
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && ctx.body && ctx.body.id_token && mode.id_token) {
    const rewrite = {
      unpublished: [{}, unpublished],
      wrong_issuer: [{ iss: `${issuer}/another-provider` }, published],
      wrong_audience: [{ aud: 'another-portal' }, published],
    }[mode.id_token];
    ctx.body = { ...ctx.body, id_token: resign(ctx.body.id_token, ...rewrite) };
  }
});

provider.listen(config.port, '127.0.0.1', () => console.log(`ready ${issuer}`));
