#!/usr/bin/env node
// Native-solc-compatible front end for the official solc-js (wasm) build.
//
// py-solc-x and brownie only speak to a solc *executable*: they read
// `solc --version` and pipe standard JSON through `solc --standard-json`.
// This script answers exactly that subset, so the compiler from the npm
// `solc` package can be registered where py-solc-x looks for installed
// versions. Import resolution follows native solc: relative to --base-path,
// then each --include-path, and only inside the base, include or allowed paths.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

function fail(message) {
  process.stderr.write(`solc-js-cli: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { standardJson: false, version: false, basePath: null, includePaths: [], allowPaths: [] };
  const takesValue = { '--base-path': 'basePath', '--include-path': 'includePaths', '--allow-paths': 'allowPaths' };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '--version') opts.version = true;
    else if (arg === '--standard-json') opts.standardJson = true;
    else if (arg in takesValue) {
      if (value === undefined) value = argv[++i];
      if (value === undefined) fail(`${arg} needs a value`);
      const key = takesValue[arg];
      if (key === 'basePath') opts.basePath = value;
      else if (key === 'allowPaths') opts.allowPaths.push(...value.split(',').filter(Boolean));
      else opts.includePaths.push(value);
    } else fail(`unsupported option ${arg} (this wrapper implements --version and --standard-json)`);
  }
  return opts;
}

function makeImportCallback(opts) {
  const base = path.resolve(opts.basePath || '.');
  const roots = [base, ...opts.includePaths.map((p) => path.resolve(p))];
  const allowed = [...roots, ...opts.allowPaths.map((p) => path.resolve(p))];
  const isAllowed = (file) => allowed.some((dir) => file === dir || file.startsWith(dir + path.sep));
  return (importPath) => {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.join(r, importPath));
    for (const file of candidates) {
      if (!fs.existsSync(file)) continue;
      const real = fs.realpathSync(file);
      if (!isAllowed(file) && !isAllowed(real)) {
        return { error: `${importPath} is outside the allowed paths (${allowed.join(', ')})` };
      }
      return { contents: fs.readFileSync(file, 'utf8') };
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
  };
}

const opts = parseArgs(process.argv.slice(2));
if (opts.version) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
} else if (opts.standardJson) {
  const input = fs.readFileSync(0, 'utf8');
  process.stdout.write(solc.compile(input, { import: makeImportCallback(opts) }) + '\n');
} else {
  fail('nothing to do: pass --version or --standard-json');
}
