// Bundles the workbench page script into dist/workbench.js.
//
// The output is committed, and CI rebuilds it and requires the same bytes, so
// this build must be deterministic: no timestamps, no source maps, no absolute
// paths, no metafile written, inputs resolved relative to this folder whatever
// the current directory is.
//
// Usage:
//   node build.mjs            build dist/workbench.js
//   node build.mjs --check    build in memory and fail if dist/workbench.js differs
//
// WORKBENCH_ENTRY=src/other.ts and WORKBENCH_OUT=elsewhere.js override the entry
// point and the output file (for local experiments only; the committed bundle
// is always built from src/main.ts into dist/workbench.js).
//
// Bundled packages ship no legal comments of their own, so the licence texts
// of every package that ends up in the bundle are appended as one /*! ... */
// comment at the end of the file (found from esbuild's in-memory metafile).

import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const entry = process.env.WORKBENCH_ENTRY || "src/main.ts";
const outFile = resolve(root, process.env.WORKBENCH_OUT || "dist/workbench.js");
const outRel = relative(root, outFile).split(sep).join("/");
const check = process.argv.includes("--check");

function fail(message) {
  console.error(`workbench build: ${message}`);
  process.exit(1);
}

for (const arg of process.argv.slice(2)) {
  if (arg !== "--check") fail(`unknown argument ${JSON.stringify(arg)}`);
}
if (!existsSync(join(root, entry))) {
  fail(`entry point ${entry} is missing (expected at ${join(root, entry)})`);
}

// Find the package (folder under node_modules holding package.json) an input file belongs to.
function packageOf(input) {
  const parts = input.split(/[\\/]/);
  const i = parts.lastIndexOf("node_modules");
  if (i < 0) return null;
  const n = parts[i + 1]?.startsWith("@") ? 2 : 1;
  return parts.slice(0, i + 1 + n).join("/");
}

function licenceFooter(metafile) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const dir = packageOf(input);
    if (dir) dirs.add(dir);
  }
  // Group packages by identical licence text, in a stable order.
  const byText = new Map();
  for (const dir of [...dirs].sort()) {
    const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
    const names = ["LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "license", "license.md"];
    const file = names.map((n) => join(root, dir, n)).find((p) => existsSync(p));
    if (!file) fail(`bundled package ${pkg.name} has no LICENSE file; add its notice by hand`);
    const text = readFileSync(file, "utf8").replace(/\r\n?/g, "\n").trim().replace(/\*\//g, "* /");
    const label = `${pkg.name}@${pkg.version} (${pkg.license ?? "see text"})`;
    if (!byText.has(text)) byText.set(text, []);
    byText.get(text).push(label);
  }
  if (byText.size === 0) return "";
  const blocks = [...byText].map(([text, labels]) => `${labels.join("\n")}\n\n${text}`);
  return `/*! Third-party software bundled in this file:\n\n${blocks.join("\n\n----\n\n")}\n*/\n`;
}

let result;
try {
  result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    minify: true,
    format: "iife",
    platform: "browser",
    target: "es2020",
    charset: "utf8",
    legalComments: "eof",
    sourcemap: false,
    metafile: true, // kept in memory only, to list bundled packages' licences
    write: false,
    logLevel: "warning",
  });
} catch {
  // esbuild has already printed the errors.
  fail("esbuild failed");
}
if (result.errors.length > 0) fail("esbuild reported errors");

const out = result.outputFiles.find((f) => f.path === outFile);
if (!out || result.outputFiles.length !== 1) {
  fail(`unexpected outputs: ${result.outputFiles.map((f) => relative(root, f.path)).join(", ")}`);
}
const bytes = Buffer.concat([Buffer.from(out.contents), Buffer.from(licenceFooter(result.metafile), "utf8")]);

if (check) {
  const old = existsSync(outFile) ? readFileSync(outFile) : null;
  if (!old || !old.equals(bytes)) {
    fail(`${outRel} is not up to date with the sources; run \`npm run build\` in api/workbench and commit it`);
  }
  console.log(`${outRel} is up to date (${bytes.length} bytes)`);
} else {
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, bytes);
  console.log(`wrote ${outRel} (${bytes.length} bytes)`);
}
