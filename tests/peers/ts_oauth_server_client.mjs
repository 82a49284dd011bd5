// The official TypeScript SDK's OAuth client against `shopdesk serve --oauth-server`, run by
// tests/test_oauth_server_peers.py:
//
//   OAUTH_EMAIL=... OAUTH_PASSWORD=... node ts_oauth_client.mjs URL
//
// The SDK does everything a desktop client does: the first request gets 401, it reads the protected resource
// metadata and the authorization server's metadata, registers itself, and asks to open the authorization URL.
// Here, instead of a person in a browser, this script follows that URL to the consent page and sends the form
// (an operator's email and password, the scopes ticked), as a browser would, cookie included; the SDK then
// exchanges the code (PKCE), lists and calls tools, refreshes its tokens, and the revoked token is refused.
// It prints one JSON summary on stdout; the Python test asserts on it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const serverUrl = new URL(process.argv[2]);
const REDIRECT = 'http://127.0.0.1:33418/callback';
const steps = [];

class MemoryProvider {
    constructor() {
        this.saved = {};
        this.authorizationUrl = undefined;
    }
    get redirectUrl() { return REDIRECT; }
    get clientMetadata() {
        return {
            client_name: 'TypeScript SDK client',
            redirect_uris: [REDIRECT],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
            scope: 'orders:read catalog:read',
        };
    }
    state() { return 'ts-state-1'; }
    clientInformation() { return this.saved.client; }
    saveClientInformation(info) { this.saved.client = info; steps.push('registered'); }
    tokens() { return this.saved.tokens; }
    saveTokens(tokens) { this.saved.tokens = tokens; steps.push('tokens'); }
    redirectToAuthorization(url) { this.authorizationUrl = url; steps.push('redirect to authorize'); }
    saveCodeVerifier(verifier) { this.saved.verifier = verifier; }
    codeVerifier() { return this.saved.verifier; }
}

// A browser's part: /authorize -> the consent page -> the form, signed in -> the redirect carrying the code.
async function consent(authorizationUrl) {
    const toPage = await fetch(authorizationUrl, { redirect: 'manual' });
    const pageUrl = toPage.headers.get('location');
    const page = await fetch(pageUrl, { redirect: 'manual' });
    const cookie = page.headers.get('set-cookie').split(';')[0];
    const html = await page.text();
    const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))[1];
    const form = new URLSearchParams({
        request: field('request'), csrf: field('csrf'), action: 'allow',
        email: process.env.OAUTH_EMAIL, password: process.env.OAUTH_PASSWORD,
    });
    for (const scope of new URL(authorizationUrl).searchParams.get('scope').split(' ')) form.append('scope', scope);
    const sent = await fetch(new URL('/oauth/consent', pageUrl), {
        method: 'POST', body: form, redirect: 'manual', headers: { cookie },
    });
    const back = new URL(sent.headers.get('location'));
    steps.push('consented');
    return { code: back.searchParams.get('code'), state: back.searchParams.get('state') };
}

async function connected(provider) {
    const client = new Client({ name: 'ts-oauth', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider }));
    return client;
}

const summary = { steps };
const provider = new MemoryProvider();
try {
    try {
        await connected(provider);
        summary.firstConnect = 'connected without signing in';
    } catch (error) {
        summary.firstConnect = error instanceof UnauthorizedError ? 'unauthorized' : String(error);
    }
    const url = provider.authorizationUrl;
    summary.authorize = {
        resource: url.searchParams.get('resource'),
        method: url.searchParams.get('code_challenge_method'),
        scope: url.searchParams.get('scope'),
    };
    const { code, state } = await consent(url);
    summary.stateBack = state;
    const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
    await transport.finishAuth(code);
    summary.grantedScope = provider.saved.tokens.scope;

    let client = await connected(provider);
    summary.tools = (await client.listTools()).tools.map((t) => t.name).sort();
    const call = await client.callTool({ name: 'list_all_product_types', arguments: {} });
    summary.callIsError = Boolean(call.isError);
    await client.close();

    const before = provider.saved.tokens;
    summary.refresh = await auth(provider, { serverUrl });
    summary.refreshRotated = provider.saved.tokens.refresh_token !== before.refresh_token;
    client = await connected(provider);
    summary.callAfterRefresh = Boolean((await client.callTool({ name: 'list_all_product_types', arguments: {} })).isError) ? 'error' : 'ok';
    await client.close();

    const revoke = await fetch(new URL('/revoke', serverUrl), {
        method: 'POST',
        body: new URLSearchParams({
            client_id: provider.saved.client.client_id, token: provider.saved.tokens.access_token,
        }),
    });
    summary.revokeStatus = revoke.status;
    const after = await fetch(serverUrl, {
        method: 'POST',
        headers: {
            authorization: `Bearer ${provider.saved.tokens.access_token}`,
            'content-type': 'application/json', accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    summary.afterRevokeStatus = after.status;
} catch (error) {
    summary.error = String(error?.stack ?? error);
}
process.stdout.write(JSON.stringify(summary) + '\n');
