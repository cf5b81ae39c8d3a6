#!/usr/bin/env node
// Compiles contracts/ with the pinned npm `solc` (standard JSON) and writes one artifact
// (ABI + bytecode + compiler settings) per deployable contract:
//
//   shipped:   src/otc_bridge/adapters/evm/artifacts/{HTLC,DevUSDC}.json
//   test-only: tests/contracts/artifacts/<Name>.json   (contracts/test/*.sol)
//
//   node scripts/build_contracts.mjs                  # rewrite the committed artifacts
//   node scripts/build_contracts.mjs --out-root DIR   # same layout under DIR (the
//                                                     # freshness test compares the two)
//
// The output is byte-for-byte deterministic: sources are keyed by repository-relative
// paths (never absolute ones, which would leak into the metadata hash), files are read
// in sorted order, and JSON is written with a fixed layout. Any compiler warning fails
// the build, so a committed artifact always comes from a clean compile.

import { readFileSync, readdirSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SHIPPED = "src/otc_bridge/adapters/evm/artifacts";
const TEST_ONLY = "tests/contracts/artifacts";

// cancun: the newest fork that every place this bytecode runs supports today. The pinned
// anvil (1.7.1) runs its default hardfork ("latest", a superset of cancun) so no
// --hardfork flag is needed; py-evm 0.12 under eth-tester runs Prague, also a superset;
// and Base mainnet has run cancun opcodes (MCOPY, TSTORE) since its Ecotone upgrade.
// solc 0.8.37 would otherwise default to a newer fork that the test EVM may not know.
const EVM_VERSION = "cancun";
const OPTIMIZER = { enabled: true, runs: 200 };

function solidityFiles(folder) {
  return readdirSync(join(ROOT, folder))
    .filter((name) => name.endsWith(".sol"))
    .sort()
    .map((name) => `${folder}/${name}`);
}

function findImport(path) {
  // Only @openzeppelin/... from the pinned node_modules; everything else is in contracts/.
  const candidates = [join(ROOT, "node_modules", path), join(ROOT, path)];
  for (const file of candidates) {
    try {
      return { contents: readFileSync(file, "utf8") };
    } catch {
      // try the next location
    }
  }
  return { error: `import not found: ${path}` };
}

function compile(sourcePaths) {
  const sources = Object.fromEntries(
    sourcePaths.map((path) => [path, { content: readFileSync(join(ROOT, path), "utf8") }]),
  );
  const input = {
    language: "Solidity",
    sources,
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: OPTIMIZER,
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const problems = (output.errors ?? []).filter((e) => e.severity !== "info");
  if (problems.length > 0) {
    for (const problem of problems) console.error(problem.formattedMessage ?? problem.message);
    throw new Error(`solc reported ${problems.length} error(s) or warning(s); nothing written`);
  }
  return output.contracts;
}

function artifact(sourceName, contractName, compiled) {
  return {
    contractName,
    sourceName,
    compiler: {
      solc: solc.version(),
      evmVersion: EVM_VERSION,
      optimizer: OPTIMIZER,
    },
    abi: compiled.abi,
    bytecode: `0x${compiled.evm.bytecode.object}`,
    deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
  };
}

function writeArtifacts(contracts, sourcePaths, folder) {
  mkdirSync(folder, { recursive: true });
  const written = [];
  for (const sourceName of sourcePaths) {
    for (const [contractName, compiled] of Object.entries(contracts[sourceName] ?? {})) {
      if (compiled.evm.bytecode.object === "") continue; // interfaces and abstract contracts
      const file = join(folder, `${contractName}.json`);
      writeFileSync(file, `${JSON.stringify(artifact(sourceName, contractName, compiled), null, 2)}\n`);
      written.push(file);
    }
  }
  return written;
}

function main(argv) {
  let outRoot = ROOT;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === "--out-root" && argv[i + 1]) {
      outRoot = resolve(argv[i + 1]);
      i += 1;
    } else {
      throw new Error(`usage: node scripts/build_contracts.mjs [--out-root DIR] (got ${argv[i]})`);
    }
  }
  const shipped = solidityFiles("contracts");
  const testOnly = solidityFiles("contracts/test");
  const contracts = compile([...shipped, ...testOnly]);
  const written = [
    ...writeArtifacts(contracts, shipped, join(outRoot, SHIPPED)),
    ...writeArtifacts(contracts, testOnly, join(outRoot, TEST_ONLY)),
  ];
  for (const file of written) console.log(`wrote ${relative(outRoot, file)}`);
  console.log(`solc ${solc.version()}, evmVersion ${EVM_VERSION}, optimizer runs ${OPTIMIZER.runs}`);
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error(`build_contracts: ${error.message}`);
  process.exit(1);
}
