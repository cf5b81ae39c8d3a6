// Build the trading page (and, with --tests, the node test bundles).
//
//   node build.mjs          web/src → src/otc_bridge/api/static/app/ (what the bridge serves)
//   node build.mjs --tests  web/test/*.test.ts → web/build/test/*.test.mjs (node --test)
//
// The page is plain ES modules with content-hashed names (cached for good by the bridge)
// and an index.html naming them; no inline script or style, so the bridge can serve it
// under a strict Content-Security-Policy.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const appDir = join(here, "..", "src", "otc_bridge", "api", "static", "app");
const testDir = join(here, "build", "test");
const browsers = ["chrome113", "firefox129", "safari17"]; // WebCrypto Ed25519 and ES2022

async function buildPage() {
  rmSync(appDir, { recursive: true, force: true });
  mkdirSync(appDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { main: join(here, "src", "main.ts") },
    outdir: appDir,
    bundle: true,
    // One file, no code splitting: with splitting, esbuild keeps every module behind one
    // of viem's dynamic imports reachable (80 kB more); @noble/ed25519 costs 8 kB inline
    // and only runs where WebCrypto lacks Ed25519.
    splitting: false,
    format: "esm",
    target: browsers,
    minify: true,
    sourcemap: "linked",
    entryNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    metafile: true,
    legalComments: "linked",
    logLevel: "warning",
  });
  const outputs = Object.entries(result.metafile.outputs);
  const entry = (suffix) => {
    const found =
      outputs.find(([file, meta]) => meta.entryPoint !== undefined && file.endsWith(suffix)) ??
      outputs.find(([file]) => file.endsWith(suffix) && file.includes("main-"));
    if (!found) throw new Error(`no ${suffix} output for main`);
    return relative(appDir, join(process.cwd(), found[0]));
  };
  const script = entry(".js");
  const style = entry(".css");
  const html = readFileSync(join(here, "src", "index.html"), "utf8")
    .replaceAll("{{script}}", `/app/${script}`)
    .replaceAll("{{style}}", `/app/${style}`);
  writeFileSync(join(appDir, "index.html"), html);
  const files = readdirSync(appDir).sort();
  const digest = createHash("sha256");
  for (const file of files) digest.update(file).update(readFileSync(join(appDir, file)));
  const manifest = { script, style, files, sha256: digest.digest("hex") };
  writeFileSync(join(appDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  const sizes = files.map((f) => `${f} ${readFileSync(join(appDir, f)).length} B`);
  console.log(`built the page into ${relative(process.cwd(), appDir)}:\n  ${sizes.join("\n  ")}`);
}

async function buildTests() {
  rmSync(testDir, { recursive: true, force: true });
  const tests = readdirSync(join(here, "test")).filter((f) => f.endsWith(".test.ts"));
  await esbuild.build({
    entryPoints: tests.map((f) => join(here, "test", f)),
    outdir: testDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "inline",
    logLevel: "warning",
  });
}

if (process.argv.includes("--tests")) await buildTests();
else await buildPage();
