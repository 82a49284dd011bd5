// panva's oidc-provider (a certified OpenID Connect / OAuth 2.0 server) as the identity provider of the OAuth
// tests (tests/oauth_support.py). Usage: node oidc_provider.mjs CONFIG.json, where the config names:
//   port       the port to listen on (127.0.0.1 only)
//   keys       the private JWKs it signs with (the test writes them; a restart with new ones rotates the keys)
//   scopes     the scopes it knows (shopdesk's)
//   clients    its clients: {client_id, client_secret, redirect_uris?, token_format?: "jwt" | "opaque"}
//   customers  client_id -> the customer id its tokens carry in the `shop_customer` claim
// Clients may also register themselves (RFC 7591). Access tokens are for the resource the client names (RFC 8707)
// and carry the scopes it asks for. It prints
// "listening" on stdout once it accepts connections.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const formats = Object.fromEntries(config.clients.map((c) => [c.client_id, c.token_format ?? 'jwt']));
const customers = config.customers ?? {};

const provider = new Provider(issuer, {
  jwks: { keys: config.keys },
  scopes: ['openid', 'offline_access', ...config.scopes],
  clients: config.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: c.redirect_uris ? ['authorization_code', 'refresh_token', 'client_credentials'] : ['client_credentials'],
    response_types: c.redirect_uris ? ['code'] : [],
    redirect_uris: c.redirect_uris ?? [],
    scope: ['openid', 'offline_access', ...config.scopes].join(' '),
  })),
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    registration: { enabled: true }, // open dynamic client registration (RFC 7591), as MCP clients expect
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client, oneOf) => oneOf,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => ({
        audience: resource,
        scope: config.scopes.join(' '),
        accessTokenTTL: 300,
        accessTokenFormat: formats[client.clientId] ?? 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  extraTokenClaims: (ctx, token) => (customers[token.clientId] ? { shop_customer: customers[token.clientId] } : undefined),
  pkce: { required: () => true },
  ttl: { ClientCredentials: 300, AccessToken: 300, AuthorizationCode: 60, Grant: 600, Interaction: 600, Session: 600 },
});
provider.proxy = false;

const server = provider.listen(config.port, '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
