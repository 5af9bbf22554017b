// Loads every TFLite fixture (tests/fixtures/tflite/*.tflite) in Google's
// LiteRT runtime for the web (npm @litertjs/core, dev-only), checks the
// input/output details it reports against the facts the fixture script
// wrote (<name>.json), and runs each model without custom operators once on
// a fixed input (sin(0.37 k)): outputs must have the declared size and be
// finite, a softmax output must sum to 1, and where the facts give the
// expected output (the INT4 model, computed with numpy) it must match. Exits 1 on any mismatch, and when the
// package is missing (run scripts/bootstrap), so a missing runtime is a
// failure, not a silent pass.
//   node tests/tools/tflite_runtime_check.mjs [FILE.tflite ...]
//
// LiteRT.js is written for browsers and workers: it loads its Emscripten
// glue with importScripts(). Under Node we provide importScripts (running the
// glue with CommonJS require/__dirname, which its Node path uses) and
// `self`; its WASM then loads from node_modules, offline.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const packageDir = path.join(root, 'node_modules', '@litertjs', 'core');
if (!fs.existsSync(path.join(packageDir, 'package.json'))) {
    console.error(`tflite_runtime_check: ${packageDir} is missing; run scripts/bootstrap (npm ci)`);
    process.exit(1);
}

const require = createRequire(import.meta.url);
globalThis.self = globalThis;
globalThis.importScripts = (url) => {
    const file = String(url).startsWith('file:') ? fileURLToPath(url) : String(url);
    const code = `(function (require, __dirname, __filename) {\n${fs.readFileSync(file, 'utf8')}\n` +
                 `globalThis.ModuleFactory = ModuleFactory;\n})`;
    vm.runInThisContext(code, {filename: file})(require, path.dirname(file), file);
};
// Keep LiteRT's informational logging (and its "no WebGPU" notice) out of the report.
const quiet = console.error, quietWarn = console.warn;
console.error = () => {};
console.warn = () => {};
const {loadLiteRt, loadAndCompile, Tensor} = await import(path.join(packageDir, 'dist', 'index.js'));
await loadLiteRt(path.join(packageDir, 'wasm') + '/');
console.error = quiet;
console.warn = quietWarn;

const fixtureDir = path.join(root, 'tests', 'fixtures', 'tflite');
const files = process.argv.length > 2 ? process.argv.slice(2)
    : fs.readdirSync(fixtureDir).filter((f) => f.endsWith('.tflite')).sort().map((f) => path.join(fixtureDir, f));
let failures = 0;
const fail = (file, message) => { console.log(`FAIL ${path.basename(file)}: ${message}`); ++failures; };

function sameShape(expected, actual) {
    return expected.length === actual.length && expected.every((d, i) => d === -1 || d === actual[i]);
}

function checkDetails(file, kind, expected, actual, signatureNames) {
    if (expected.length !== actual.length) return fail(file, `${expected.length} ${kind} expected, runtime has ${actual.length}`);
    expected.forEach((value, i) => {
        const got = actual[i];
        const shape = Array.from(Object.values(got.shape));
        const names = [value.name, signatureNames[i]].filter(Boolean);
        if (!names.includes(got.name)) fail(file, `${kind}[${i}] named '${got.name}', expected ${names.join(' or ')}`);
        if (!sameShape(value.shape, shape)) fail(file, `${kind}[${i}] shape [${shape}] vs [${value.shape}]`);
        if (got.dtype !== value.dtype) fail(file, `${kind}[${i}] dtype ${got.dtype} vs ${value.dtype}`);
    });
}

for (const file of files) {
    const facts = JSON.parse(fs.readFileSync(file.replace(/\.tflite$/, '.json'), 'utf8'));
    let model;
    console.error = () => {};
    try {
        model = await loadAndCompile(new Uint8Array(fs.readFileSync(file)), {accelerator: 'wasm'});
    } catch (error) {
        console.error = quiet;
        fail(file, `LiteRT refused it: ${error.message}`);
        continue;
    }
    console.error = quiet;
    const inputs = model.getInputDetails(), outputs = model.getOutputDetails();
    const signature = facts.signature || {inputs: [], outputs: []};
    checkDetails(file, 'inputs', facts.inputs, inputs, signature.inputs);
    checkDetails(file, 'outputs', facts.outputs, outputs, signature.outputs);
    const summary = (list) => list.map((d) => `${d.name} ${d.dtype}[${Array.from(Object.values(d.shape))}]`).join(', ');
    let ran = '';
    if (!facts.layers.some((layer) => layer.custom)) {
        const feeds = inputs.map((d) => {
            const shape = Array.from(Object.values(d.shape));
            const count = shape.reduce((a, b) => a * b, 1);
            return new Tensor(Float32Array.from({length: count}, (_, k) => Math.sin(k * 0.37)), shape);
        });
        const results = await model.run(feeds);
        const first = await results[0].moveTo('wasm');
        const values = Array.from(first.toTypedArray());
        const declared = facts.outputs[0].shape.map((d) => (d < 0 ? 1 : d)).reduce((a, b) => a * b, 1);
        if (values.length !== declared) fail(file, `output has ${values.length} values, declared ${declared}`);
        if (!values.every(Number.isFinite)) fail(file, 'output has non-finite values');
        if (facts.expected_output) {
            const worst = Math.max(...facts.expected_output.map((v, k) => Math.abs(v - values[k])));
            // Float kernels (XNNPACK) reorder sums: 1e-5 of the output range.
            const range = Math.max(1, ...facts.expected_output.map(Math.abs));
            if (!(worst <= 1e-5 * range)) fail(file, `output differs from the expected values by ${worst}`);
            ran += `, max difference from numpy ${worst.toExponential(2)}`;
        }
        if (facts.layers.at(-1).type === 'SOFTMAX') {
            const sum = values.reduce((a, b) => a + b, 0);
            if (Math.abs(sum - 1) > 1e-5) fail(file, `softmax output sums to ${sum}`);
        }
        ran = `ran: ${values.length} outputs, first ${values[0].toPrecision(6)}` + ran;
        feeds.forEach((t) => t.delete());
        first.delete();
    }
    console.log(`${path.basename(file)}: inputs ${summary(inputs)}; outputs ${summary(outputs)}; ${ran || 'not run (custom operator)'}`);
}
console.log(failures ? `tflite_runtime_check: ${failures} failure(s)` : `tflite_runtime_check: ${files.length} files OK`);
process.exit(failures ? 1 : 0);
