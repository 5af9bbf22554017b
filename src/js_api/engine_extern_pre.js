// Placed by emcc (--extern-pre-js) at the top of convscope_engine_wasm.mjs,
// outside the module factory.
//
// Emscripten 3.1.6 emits Node code that uses `require` and `__dirname`,
// which do not exist in an ES module (EXPORT_ES6), so the factory fails under
// Node with "__dirname is not defined in ES module scope". Newer Emscripten
// defines both this way itself. In a browser they stay undefined and the
// Node branch of the glue never runs; the dynamic imports are never reached.
const convscopeIsNode = typeof process === 'object' && typeof process.versions === 'object' &&
    typeof process.versions.node === 'string';
const require = convscopeIsNode ? (await import('node:module')).createRequire(import.meta.url) : undefined;
const __dirname = convscopeIsNode ? require('node:path').dirname(require('node:url').fileURLToPath(import.meta.url)) : '';
