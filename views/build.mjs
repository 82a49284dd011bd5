// Bundles each view (and the test host page) into one self-contained HTML file: the script and the styles
// inline, nothing fetched. The output depends only on the sources and the pinned packages, so a rebuild
// reproduces the committed files byte for byte (tests/test_views.py checks it).
//   node build.mjs            write server/surface/views/*.html and tests/views_host/host.html
//   node build.mjs --out DIR  write them under DIR instead (same relative paths)
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outFlag = process.argv.indexOf("--out");
const root = outFlag > 0 ? resolve(process.argv[outFlag + 1]) : resolve(here, "..");

// What a view may do, whatever the host allows: inline script and styles, data: images, no network.
const VIEW_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

const targets = [
  { entry: "src/order.js", css: "src/style.css", out: "server/surface/views/order.html", title: "Order", csp: VIEW_CSP },
  { entry: "src/customer.js", css: "src/style.css", out: "server/surface/views/customer.html", title: "Customer", csp: VIEW_CSP },
  { entry: "src/ticket.js", css: "src/style.css", out: "server/surface/views/ticket.html", title: "Support ticket", csp: VIEW_CSP },
  { entry: "test-host/host.js", css: "test-host/host.css", out: "tests/views_host/host.html", title: "shopdesk test host" },
];

async function script(entry) {
  const result = await esbuild.build({
    entryPoints: [join(here, entry)],
    bundle: true,
    format: "iife",
    minify: true,
    target: "es2022",
    legalComments: "none",
    charset: "utf8",
    write: false,
    logLevel: "warning",
  });
  return result.outputFiles[0].text.replaceAll("</script", "<\\/script");
}

async function style(path) {
  const result = await esbuild.transform(readFileSync(join(here, path), "utf8"), { loader: "css", minify: true });
  return result.code;
}

for (const target of targets) {
  const csp = target.csp ? `<meta http-equiv="Content-Security-Policy" content="${target.csp}">\n` : "";
  const html =
    "<!doctype html>\n" +
    '<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    csp +
    `<title>${target.title}</title>\n<style>${await style(target.css)}</style>\n</head>\n` +
    '<body>\n<main id="root"></main>\n' +
    `<script>${await script(target.entry)}</script>\n</body>\n</html>\n`;
  const out = join(root, target.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, html);
  console.log(`${target.out}: ${html.length} bytes`);
}
