// A small MCP Apps host for the browser tests: it embeds a view in a sandboxed iframe and speaks the host side
// of the protocol with the official AppBridge. Its MCP client is the test itself: the page reaches the real
// shopdesk server through functions the test exposes (window.shopdeskListTools, shopdeskRead, shopdeskCall).
import { AppBridge, PostMessageTransport, getToolUiResourceUri } from "@modelcontextprotocol/ext-apps/app-bridge";

const PALETTES = {
  light: {
    "--color-background-primary": "#ffffff",
    "--color-background-secondary": "#f3f4f6",
    "--color-text-primary": "#111827",
    "--color-text-secondary": "#4b5563",
    "--color-border-primary": "#d1d5db",
  },
  dark: {
    "--color-background-primary": "#111827",
    "--color-background-secondary": "#1f2937",
    "--color-text-primary": "#f9fafb",
    "--color-text-secondary": "#9ca3af",
    "--color-border-primary": "#374151",
  },
};

/** The Content-Security-Policy the host enforces on a view: what its resource's `_meta.ui.csp` allows, no more. */
function policy(csp = {}) {
  const list = (domains, otherwise) => (domains && domains.length ? domains.join(" ") : otherwise);
  return [
    "default-src 'none'",
    `script-src 'unsafe-inline' ${list(csp.resourceDomains, "")}`.trim(),
    `style-src 'unsafe-inline' ${list(csp.resourceDomains, "")}`.trim(),
    `img-src data: ${list(csp.resourceDomains, "")}`.trim(),
    `font-src ${list(csp.resourceDomains, "'none'")}`,
    `connect-src ${list(csp.connectDomains, "'none'")}`,
    `frame-src ${list(csp.frameDomains, "'none'")}`,
    `base-uri ${list(csp.baseUriDomains, "'none'")}`,
  ].join("; ");
}

function withPolicy(html, csp) {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${policy(csp)}">`;
  return html.replace(/<head>/i, `<head>${meta}`);
}

const state = { bridge: null, calls: [], theme: "light", events: [] };
window.host = state;

function context(tool) {
  return {
    theme: state.theme,
    styles: { variables: PALETTES[state.theme] },
    displayMode: "inline",
    availableDisplayModes: ["inline"],
    platform: "web",
    locale: "en-US",
    toolInfo: tool ? { tool } : undefined,
  };
}

/** Show `toolName`'s view for a call with `args`; resolves once the view has drawn the result. */
state.open = async (toolName, args, theme = "light") => {
  state.theme = theme;
  document.documentElement.dataset.theme = theme;
  const tools = await window.shopdeskListTools();
  const tool = tools.find((t) => t.name === toolName);
  const uri = tool && getToolUiResourceUri(tool);
  if (!uri) throw new Error(`${toolName} has no view`);
  const read = await window.shopdeskRead(uri);
  const content = read.contents[0];
  if (content.mimeType !== "text/html;profile=mcp-app") throw new Error(`unexpected mime type ${content.mimeType}`);
  state.resource = { uri, meta: content._meta || null };

  const slot = document.getElementById("root");
  slot.replaceChildren();
  const iframe = document.createElement("iframe");
  iframe.setAttribute("sandbox", "allow-scripts allow-forms");
  iframe.setAttribute("title", `${toolName} view`);
  iframe.srcdoc = withPolicy(content.text, content._meta?.ui?.csp);
  slot.append(iframe);

  const bridge = new AppBridge(
    null,
    { name: "shopdesk-test-host", version: "1.0.0" },
    { serverTools: {}, logging: {} },
    { hostContext: context(tool) },
  );
  state.bridge = bridge;
  bridge.oncalltool = async (params) => {
    state.calls.push({ name: params.name, arguments: params.arguments });
    return await window.shopdeskCall(params.name, params.arguments || {});
  };
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${Math.ceil(height)}px`;
  };
  bridge.onloggingmessage = (params) => state.events.push(params);
  const initialized = new Promise((resolve) => {
    bridge.oninitialized = resolve;
  });
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  await initialized;
  await bridge.sendToolInput({ arguments: args });
  const result = await window.shopdeskCall(toolName, args);
  await bridge.sendToolResult(result);
  return result;
};

/** Switch the theme as a host does when the person changes it. */
state.setTheme = async (theme) => {
  state.theme = theme;
  document.documentElement.dataset.theme = theme;
  await state.bridge.sendHostContextChange({ theme, styles: { variables: PALETTES[theme] } });
};
