'use strict';
// Loader of the optional native addon (built by `npm run build:native`; see src/lib.rs).
// Tries the platform-named file napi writes, then a plain kallmod.node; `native` is null when
// neither loads, with the reason in `loadError`. The env switch KALLMOD_NATIVE is read by the
// one TS caller, packages/core/src/native.ts, not here.
const { join } = require('node:path');

function platformTriple() {
  let abi = '';
  if (process.platform === 'linux') {
    const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null;
    abi = report && report.header && report.header.glibcVersionRuntime ? 'gnu' : 'musl';
  }
  return [process.platform, process.arch, abi].filter(Boolean).join('-'); // linux-x64-gnu
}

const candidates = [join(__dirname, `kallmod.${platformTriple()}.node`), join(__dirname, 'kallmod.node')];
let native = null;
let loadError = null;
let loadedFrom = null;
for (const file of candidates) {
  try {
    native = require(file);
    loadedFrom = file;
    loadError = null;
    break;
  } catch (e) {
    // keep the most useful reason: a file that exists but fails beats "not found"
    if (!loadError || e.code !== 'MODULE_NOT_FOUND') loadError = e;
  }
}
if (!native && loadError && loadError.code === 'MODULE_NOT_FOUND') {
  loadError = new Error(`native addon not built (no ${candidates.map((c) => c.slice(__dirname.length + 1)).join(' or ')} in ${__dirname}; npm run build:native)`);
}

module.exports = { native, loadError, loadedFrom };
