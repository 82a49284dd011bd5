// Preloaded with `node --import ./pin-protocol.mjs` in front of the conformance CLI.
//
// The conformance suite's client (the TypeScript SDK) always offers the newest protocol version it knows in
// `initialize`; `--spec-version` only chooses which scenarios run. To run the scenarios *speaking* an older
// version, this module rewrites the version the client offers to SHOPDESK_PIN_PROTOCOL, and appends every version
// the server answered with (one a line) to SHOPDESK_PIN_PROTOCOL_LOG, so the caller can check that the pinned
// version was really negotiated, not silently upgraded.
//
// With SHOPDESK_PIN_PROTOCOL unset it changes nothing (only the log is kept).
import { appendFileSync } from 'node:fs';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const pinned = process.env.SHOPDESK_PIN_PROTOCOL;
const log = process.env.SHOPDESK_PIN_PROTOCOL_LOG;

const send = StreamableHTTPClientTransport.prototype.send;
StreamableHTTPClientTransport.prototype.send = function (message, options) {
    if (pinned && message && message.method === 'initialize' && message.params) {
        message = { ...message, params: { ...message.params, protocolVersion: pinned } };
    }
    return send.call(this, message, options);
};

const setProtocolVersion = StreamableHTTPClientTransport.prototype.setProtocolVersion;
StreamableHTTPClientTransport.prototype.setProtocolVersion = function (version) {
    if (log) appendFileSync(log, `${version}\n`);
    return setProtocolVersion.call(this, version);
};
