// What every view shares: connecting to the host, following its theme, building DOM nodes, formatting.
import {
  App,
  applyDocumentTheme,
  applyHostFonts,
  applyHostStyleVariables,
} from "@modelcontextprotocol/ext-apps/app-with-deps";

/** An element with attributes and children; text is always set as text, never parsed as HTML. */
export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const dollars = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export function money(amount) {
  return dollars.format(Number(amount) || 0);
}

/** "2024-05-01T10:00:00" as the person reads a date; anything else unchanged. */
export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" });
}

export function options(values) {
  return Object.entries(values || {})
    .map(([name, value]) => `${name}: ${value}`)
    .join(", ");
}

/** The words of a tool result (its text blocks), e.g. the server's refusal. */
export function resultText(result) {
  return (result?.content || [])
    .filter((block) => block.type === "text")
    .map((block) => block.text)
    .join("\n");
}

export function badge(status) {
  const kind = String(status).replace(/[^a-z]+/g, "-");
  return h("span", { class: `badge badge-${kind}` }, status);
}

export function section(title, ...children) {
  const id = `section-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

function applyContext(context) {
  if (!context) return;
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
  if (context.styles?.css?.fonts) applyHostFonts(context.styles.css.fonts);
}

/**
 * Connect to the host and draw each tool result it sends with `draw(structuredContent, app)`.
 * A result the server refused is shown as the server's own words.
 */
export async function startView(name, waiting, draw) {
  const root = document.getElementById("root");
  root.replaceChildren(h("p", { class: "muted" }, waiting));
  const app = new App({ name: `shopdesk-${name}-view`, version: "1.0.0" }, {}, { autoResize: true });
  app.ontoolresult = (result) => {
    if (result.isError || !result.structuredContent) {
      root.replaceChildren(h("p", { class: "error", role: "alert" }, resultText(result) || "No result."));
      return;
    }
    root.replaceChildren(draw(result.structuredContent, app));
  };
  app.onhostcontextchanged = applyContext;
  await app.connect();
  applyContext(app.getHostContext());
}

/** Call a server tool through the host: its structured result, or an Error carrying the server's words. */
export async function callTool(app, name, args) {
  const result = await app.callServerTool({ name, arguments: args });
  if (result.isError) throw new Error(resultText(result) || `${name} failed.`);
  return result.structuredContent;
}
