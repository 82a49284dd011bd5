// The official TypeScript SDK's OAuth client against an OAuth-protected shopdesk, run by
// tests/test_oauth_typescript_client.py:
//
//   node ts_oauth_client.mjs MCP_URL REDIRECT_URL SCOPE TOOL ARGUMENTS_JSON
//
// It connects, meets the 401, and lets the SDK do the rest: protected resource metadata (RFC 9728), the
// authorization server's metadata, dynamic client registration, then an authorization URL with PKCE, which
// it prints as {"authorize": URL} on stdout. The test signs in there in a browser and writes the
// redirect's code on stdin; the SDK exchanges it for a token, reconnects, lists the tools and calls TOOL.
// Its last line on stdout is a JSON summary: the requests it made, the tools, the call's result.
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, redirectUrl, scope, tool, argumentsJson] = process.argv.slice(2);
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

const kept = {};
const authProvider = {
  get redirectUrl() { return redirectUrl; },
  get clientMetadata() {
    return {
      client_name: 'shopdesk test (TypeScript SDK)',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope,
    };
  },
  clientInformation: () => kept.client,
  saveClientInformation: (client) => { kept.client = client; },
  tokens: () => kept.tokens,
  saveTokens: (tokens) => { kept.tokens = tokens; },
  redirectToAuthorization: (authorizationUrl) => say({ authorize: authorizationUrl.href }),
  saveCodeVerifier: (verifier) => { kept.verifier = verifier; },
  codeVerifier: () => kept.verifier,
};

const requests = [];
async function logged(input, init) {
  const response = await fetch(input, init);
  const target = new URL(String(input instanceof Request ? input.url : input));
  requests.push(`${init?.method ?? 'GET'} ${target.origin === new URL(url).origin ? 'shopdesk' : 'provider'} ${target.pathname} ${response.status}`);
  return response;
}

const connect = () => new StreamableHTTPClientTransport(new URL(url), { authProvider, fetch: logged });
let transport = connect();
try {
  await new Client({ name: 'ts-oauth', version: '0' }).connect(transport);
  throw new Error('connected without signing in');
} catch (error) {
  if (!(error instanceof UnauthorizedError)) throw error;
}
const { value: code } = await lines.next();
await transport.finishAuth(code.trim());
transport = connect();
const client = new Client({ name: 'ts-oauth', version: '0' });
await client.connect(transport);
const tools = (await client.listTools()).tools.map((t) => t.name);
const result = await client.callTool({ name: tool, arguments: JSON.parse(argumentsJson) });
say({ requests, tools, result: result.structuredContent ?? null, isError: result.isError ?? false, registered: kept.client.client_id });
await client.close();
process.exit(0);
