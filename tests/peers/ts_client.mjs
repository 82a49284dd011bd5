// A client built on the official TypeScript SDK, run against shopdesk by tests/test_peers.py.
//
//   node ts_client.mjs stdio -- COMMAND [ARG...]   spawn the server over stdio (it inherits this environment)
//   node ts_client.mjs http URL                    Streamable HTTP
//   node ts_client.mjs two-step URL                Streamable HTTP against `--confirm always`: the two-step token
//
// It lists the tools, calls read tools and write tools, and checks every structured result it receives against
// that tool's published outputSchema with its own Ajv (JSON Schema 2020-12, the MCP default dialect). The SDK's
// built-in output validation is switched off, so a mismatch is reported here rather than thrown by the SDK.
// It prints one JSON summary on stdout; the Python test asserts on it. Exit code 0 unless it could not run at all.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Ajv2020Module from 'ajv/dist/2020.js';
import AjvDraft7Module from 'ajv';
import addFormatsModule from 'ajv-formats';

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const AjvDraft7 = AjvDraft7Module.default ?? AjvDraft7Module;
const addFormats = addFormatsModule.default ?? addFormatsModule;

function newAjv(Kind) {
    const ajv = new Kind({ allErrors: true, strict: false, validateFormats: true });
    addFormats(ajv);
    return ajv;
}
const ajv2020 = newAjv(Ajv2020);
const ajvDraft7 = newAjv(AjvDraft7);

/** A validator for one outputSchema, in the dialect the schema names (2020-12 when it names none). */
export function compileOutputSchema(schema) {
    const dialect = String(schema.$schema ?? '');
    const ajv = dialect.includes('draft-07') || dialect.includes('draft-04') ? ajvDraft7 : ajv2020;
    return ajv.compile(schema);
}

// Accepts everything: the SDK must not throw before our own check sees the result.
const acceptEverything = { getValidator: () => (input) => ({ valid: true, data: input, errorMessage: undefined }) };

class Session {
    constructor(client) {
        this.client = client;
        this.validators = new Map();
        this.schemas = new Map();
        this.calls = [];
    }

    async listTools() {
        const tools = [];
        let cursor;
        do {
            const page = await this.client.listTools(cursor ? { cursor } : {});
            tools.push(...page.tools);
            cursor = page.nextCursor;
        } while (cursor);
        for (const tool of tools) {
            if (!tool.outputSchema) continue;
            this.schemas.set(tool.name, tool.outputSchema);
            this.validators.set(tool.name, compileOutputSchema(tool.outputSchema));
        }
        return tools;
    }

    /** Call a tool; record whether its structured result matches the tool's outputSchema. */
    async call(name, args) {
        const result = await this.client.callTool({ name, arguments: args });
        const text = (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
        const record = {
            tool: name,
            isError: result.isError === true,
            structured: result.structuredContent !== undefined,
            valid: null,
            errors: [],
        };
        const validate = this.validators.get(name);
        if (record.structured && !record.isError) {
            if (!validate) {
                record.valid = false;
                record.errors = ['structuredContent from a tool without an outputSchema'];
            } else {
                record.valid = validate(result.structuredContent) === true;
                record.errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
            }
        } else if (!record.isError && validate) {
            record.valid = false;
            record.errors = ['no structuredContent although the tool publishes an outputSchema'];
        }
        this.calls.push(record);
        return { result, text, structured: result.structuredContent };
    }
}

/** The validators really reject: a broken copy of a result that passed must fail. */
function selfCheck(session, tool, goodValue) {
    const validate = session.validators.get(tool);
    const broken = structuredClone(goodValue);
    const required = (session.schemas.get(tool).required ?? [])[0];
    delete broken[required];
    const wrongType = { ...structuredClone(goodValue), order_id: 12345 };
    return {
        tool,
        acceptsGood: validate(goodValue) === true,
        rejectsMissingRequired: validate(broken) === false,
        removed: required,
        rejectsWrongType: validate(wrongType) === false,
    };
}

async function connect(mode, target) {
    const client = new Client({ name: 'shopdesk-peer-ts', version: '1.0.0' }, { jsonSchemaValidator: acceptEverything });
    let transport;
    if (mode === 'stdio') {
        const [command, ...args] = target;
        transport = new StdioClientTransport({ command, args, env: { ...process.env }, stderr: 'pipe' });
        transport.stderr?.on('data', () => {}); // drained; the server's logs are not our output
    } else {
        transport = new StreamableHTTPClientTransport(new URL(target[0]));
    }
    // The protocol version the server answered in `initialize`, seen on the way in (stdio keeps no record of it).
    let handler;
    let negotiated = null;
    Object.defineProperty(transport, 'onmessage', {
        configurable: true,
        get: () => handler,
        set: (fn) => {
            handler = (message, extra) => {
                if (negotiated === null && typeof message?.result?.protocolVersion === 'string') {
                    negotiated = message.result.protocolVersion;
                }
                return fn?.(message, extra);
            };
        },
    });
    await client.connect(transport);
    const session = new Session(client);
    session.protocolVersion = negotiated;
    return session;
}

async function readsAndWrites(session, summary) {
    const tools = await session.listTools();
    summary.tools = tools.map((t) => t.name);
    summary.toolsWithoutOutputSchema = tools.filter((t) => !t.outputSchema).map((t) => t.name);

    const pending = (await session.call('search_orders', { status: 'pending', limit: 3 })).structured;
    const orderId = pending.orders[0].order_id;
    const userId = pending.orders[0].user_id;
    const before = (await session.call('get_order_details', { order_id: orderId })).structured;
    summary.selfCheck = selfCheck(session, 'get_order_details', before);
    const user = (await session.call('get_user_details', { user_id: userId })).structured;
    const found = (await session.call('find_user_id_by_email', { email: user.email })).structured;
    await session.call('list_all_product_types', {});
    await session.call('calculate', { expression: '(54.04 - 49.99) * 2' });

    const cancelled = await session.call('cancel_pending_order', { order_id: orderId, reason: 'ordered by mistake' });
    const after = (await session.call('get_order_details', { order_id: orderId })).structured;
    summary.order = {
        id: orderId,
        user: userId,
        userFoundByEmail: found,
        statusBefore: before.status,
        cancelIsError: cancelled.result.isError === true,
        statusAfter: after.status,
        cancelReason: after.cancel_reason,
    };

    const subject = `Peer check ${process.pid}`;
    const created = (
        await session.call('create_ticket', {
            user_id: userId,
            subject,
            message: 'Where is my refund?',
            order_id: orderId,
        })
    ).structured;
    const ticket = (await session.call('get_ticket', { ticket_id: created.ticket_id })).structured;
    const listed = (await session.call('list_tickets', { user_id: userId })).structured;
    summary.ticket = {
        id: created.ticket_id,
        subject: ticket.subject,
        expectedSubject: subject,
        messages: ticket.messages.map((m) => m.body),
        listed: JSON.stringify(listed).includes(created.ticket_id),
    };
}

async function twoStep(session, summary) {
    const tools = await session.listTools();
    const cancel = tools.find((t) => t.name === 'cancel_pending_order');
    summary.tokenInInputSchema = Object.hasOwn(cancel.inputSchema.properties ?? {}, 'confirmation_token');
    const pending = (await session.call('search_orders', { status: 'pending', limit: 1 })).structured;
    const orderId = pending.orders[0].order_id;
    const args = { order_id: orderId, reason: 'no longer needed' };

    const first = await session.call('cancel_pending_order', args);
    const token = /confirmation_token='(ct_[^']+)'/.exec(first.text)?.[1] ?? null;
    const afterFirst = (await session.call('get_order_details', { order_id: orderId })).structured;
    const forged = await session.call('cancel_pending_order', { ...args, confirmation_token: 'ct_forged' });
    const afterForged = (await session.call('get_order_details', { order_id: orderId })).structured;
    const second = token ? await session.call('cancel_pending_order', { ...args, confirmation_token: token }) : null;
    const afterSecond = (await session.call('get_order_details', { order_id: orderId })).structured;
    summary.twoStep = {
        order: orderId,
        first: { isError: first.result.isError === true, text: first.text, token: token !== null },
        statusAfterFirst: afterFirst.status,
        forged: { isError: forged.result.isError === true, text: forged.text },
        statusAfterForged: afterForged.status,
        second: second && { isError: second.result.isError === true, text: second.text },
        statusAfterSecond: afterSecond.status,
    };
}

async function main() {
    const [mode, ...rest] = process.argv.slice(2);
    const target = mode === 'stdio' ? rest.slice(rest.indexOf('--') + 1) : rest;
    if (!['stdio', 'http', 'two-step'].includes(mode) || target.length === 0) {
        console.error('usage: ts_client.mjs stdio -- COMMAND [ARG...] | http URL | two-step URL');
        process.exit(2);
    }
    const summary = { mode, sdk: 'typescript', started: new Date().toISOString() };
    const session = await connect(mode, target);
    summary.server = session.client.getServerVersion();
    summary.protocolVersion = session.protocolVersion;
    try {
        if (mode === 'two-step') await twoStep(session, summary);
        else await readsAndWrites(session, summary);
    } finally {
        summary.calls = session.calls;
        await session.client.close();
    }
    process.stdout.write(`${JSON.stringify(summary)}\n`);
}

await main();
