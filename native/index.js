'use strict';
// Loader of the optional native addon (built by `npm run build:native`; see src/lib.rs).
// Tries the platform-named files napi writes (glibc first, then musl: a wrong one fails to
// load and the next is tried), then a plain kallmod.node. `native` is null when none loads,
// with the reason in `loadError`. The KALLMOD_NATIVE switch is read by the one TS caller,
// packages/core/src/native.ts, not here.
const { join } = require('node:path');

const base = `kallmod.${process.platform}-${process.arch}`;
const names = process.platform === 'linux' ? [`${base}-gnu.node`, `${base}-musl.node`] : [`${base}.node`];
names.push('kallmod.node');

let native = null;
let loadError = null;
let loadedFrom = null;
for (const name of names) {
  const file = join(__dirname, name);
  try {
    native = require(file);
    loadedFrom = file;
    loadError = null;
    break;
  } catch (e) {
    // keep the most useful reason: a file that exists but fails to load beats "not found"
    if (!loadError || e.code !== 'MODULE_NOT_FOUND') loadError = e;
  }
}
if (!native && loadError && loadError.code === 'MODULE_NOT_FOUND') {
  loadError = new Error(`native addon not built (no ${names.join(' or ')} in ${__dirname}; npm run build:native)`);
}

module.exports = { native, loadError, loadedFrom };
