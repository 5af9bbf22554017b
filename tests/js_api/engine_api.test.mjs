// The engine's JS API (web/engine/convscope_engine.mjs over the WASM core)
// against the native CLI (`convscope run`) on the checked-in fixtures: the
// same models must give the same outputs and the same captured activations,
// and the layer list must match what the fixture scripts recorded with the
// onnx package / h5py.
//
// Run: node --test tests/js_api/
// Needs the engine module (cmake/engine_module.cmake; scripts/bench builds
// it) and the native CLI. Where to find them:
//   CONVSCOPE_ENGINE_DIR  folder with convscope_engine.mjs (default: the first
//                         of build/wasm/engine, build/bench/wasm/engine)
//   CONVSCOPE_CLI         the native convscope (default: build/native/convscope,
//                         then build/bench/native/convscope)
// A missing module or CLI is a failure, not a skip.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, before, after } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function findFirst(envName, candidates) {
    if (process.env[envName]) return process.env[envName];
    const found = candidates.map((c) => path.join(root, c)).find((c) => fs.existsSync(c));
    if (!found) {
        throw new Error(`${envName} is not set and none of ${candidates.join(', ')} exists; build the engine module and the CLI first (scripts/bench does both)`);
    }
    return found;
}

// ---- npy (version 1.0, little-endian float32, C order) ----------------------
function writeNpy(file, shape, data) {
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
    const unpadded = 10 + header.length + 1;
    header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
    const prefix = Buffer.alloc(10);
    prefix.write('\x93NUMPY', 0, 'latin1');
    prefix[6] = 1;
    prefix[7] = 0;
    prefix.writeUInt16LE(header.length, 8);
    fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

function readNpy(file) {
    const bytes = fs.readFileSync(file);
    assert.equal(bytes.toString('latin1', 0, 6), '\x93NUMPY', `${file}: not an npy file`);
    const major = bytes[6];
    const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
    const headerStart = major === 1 ? 10 : 12;
    const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
    assert.match(header, /'descr': '<f4'/, `${file}: expected float32, header ${header}`);
    assert.match(header, /'fortran_order': False/);
    const shapeText = header.match(/'shape': \(([^)]*)\)/)[1];
    const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
    const start = headerStart + headerLength;
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
    return { shape, data };
}

// Deterministic inputs in [-1, 1) (a 32-bit LCG; the seed is part of each test).
function randomInput(count, seed) {
    const values = new Float32Array(count);
    let state = seed >>> 0;
    for (let i = 0; i < count; ++i) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        values[i] = state / 2 ** 31 - 1;
    }
    return values;
}

function assertClose(actual, expected, what) {
    assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
    assert.equal(actual.data.length, expected.data.length, `${what}: element count`);
    let scale = 0;
    for (const v of expected.data) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    let worstIndex = -1;
    for (let i = 0; i < actual.data.length; ++i) {
        const diff = Math.abs(actual.data[i] - expected.data[i]);
        if (!(diff <= worst)) { worst = diff; worstIndex = i; }
    }
    // The same kernels run in both (SIMDe natively, SIMD128 in WASM), so only
    // rounding of transcendental functions may differ.
    assert.ok(worst <= 1e-5 * Math.max(1, scale),
        `${what}: max |js - cli| = ${worst} at ${worstIndex} (js ${actual.data[worstIndex]}, cli ${expected.data[worstIndex]}), output scale ${scale}`);
    assert.ok(scale > 0, `${what}: the CLI output is all zeros, which cannot tell engines apart`);
}

let cs;
let cli;
let work;
let engineDir;

before(async () => {
    engineDir = process.env.CONVSCOPE_ENGINE_DIR ??
        path.dirname(findFirst('CONVSCOPE_ENGINE_DIR', ['build/wasm/engine/convscope_engine.mjs', 'build/bench/wasm/engine/convscope_engine.mjs']));
    cli = findFirst('CONVSCOPE_CLI', ['build/native/convscope', 'build/bench/native/convscope']);
    const { default: createConvScope } = await import(pathToFileURL(path.join(engineDir, 'convscope_engine.mjs')).href);
    cs = await createConvScope();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'convscope-js-api-'));
});

after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
});

function cliRun(modelPath, input, shape, layer) {
    const inputFile = path.join(work, 'input.npy');
    const outputFile = path.join(work, 'output.npy');
    writeNpy(inputFile, shape, input);
    const args = ['run', modelPath, '--input', inputFile, '--out', outputFile];
    if (layer) args.push('--layer', layer);
    execFileSync(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return readNpy(outputFile);
}

function loadFixture(relative) {
    const file = path.join(root, relative);
    return { file, model: cs.load(fs.readFileSync(file), path.basename(file)) };
}

// Model output and one captured activation, JS API vs CLI.
function checkAgainstCli(relative, { seed, capture }) {
    const { file, model } = loadFixture(relative);
    try {
        assert.ok(model.runnable, `${relative}: ${model.runError}`);
        const shape = model.inputShape;
        const input = randomInput(shape.reduce((a, b) => a * b, 1), seed);
        const out = model.run(input, { capture: [capture] });
        assertClose(out.output, cliRun(file, input, shape), `${relative} output`);
        assert.ok(out.activations[capture], `${relative}: no activation '${capture}' in ${Object.keys(out.activations)}`);
        assertClose(out.activations[capture], cliRun(file, input, shape, capture), `${relative} activation ${capture}`);
        // A second run reuses the model and must not depend on the first.
        const again = model.run(input);
        assert.deepEqual(Array.from(again.output.data), Array.from(out.output.data), `${relative}: second run differs`);
        assert.deepEqual(Object.keys(again.activations), [], 'no capture asked, none returned');
    } finally {
        model.dispose();
    }
}

test('ONNX LeNet: layers as the onnx package listed them', () => {
    const expected = JSON.parse(fs.readFileSync(path.join(root, 'tests/fixtures/onnx/lenet_opset13.json'), 'utf8'));
    const { model } = loadFixture('tests/fixtures/onnx/lenet_opset13.onnx');
    try {
        assert.equal(model.format, 'onnx');
        assert.equal(model.layout, 'NCHW');
        assert.deepEqual(model.layers.map((l) => l.name), expected.node_names);
        assert.deepEqual(model.layers.map((l) => l.type), expected.op_types);
        const declared = expected.inputs[0].shape.map((d, i) => (i === 0 ? 1 : d));
        assert.deepEqual(model.inputShape, declared);
        assert.equal(model.layers.reduce((sum, l) => sum + l.params, 0), expected.parameter_total);
    } finally {
        model.dispose();
    }
});

test('ONNX LeNet: output and conv2 activation match the CLI', () => {
    checkAgainstCli('tests/fixtures/onnx/lenet_opset13.onnx', { seed: 11, capture: '/conv2/Conv' });
});

test('ONNX residual block: output and Add activation match the CLI', () => {
    const { model } = loadFixture('tests/fixtures/onnx/residual_opset13.onnx');
    const add = model.layers.find((l) => l.type === 'Add');
    model.dispose();
    assert.ok(add, 'the residual fixture has an Add node');
    checkAgainstCli('tests/fixtures/onnx/residual_opset13.onnx', { seed: 12, capture: add.name });
});

test('ONNX depthwise conv: output and first conv activation match the CLI', () => {
    const { model } = loadFixture('tests/fixtures/onnx/depthwise_opset13.onnx');
    const conv = model.layers.find((l) => l.type === 'Conv');
    model.dispose();
    checkAgainstCli('tests/fixtures/onnx/depthwise_opset13.onnx', { seed: 13, capture: conv.name });
});

test('Keras .h5 Sequential: layers as h5py recorded them; output and conv activation match the CLI', () => {
    const expected = JSON.parse(fs.readFileSync(path.join(root, 'tests/fixtures/keras/sequential_k2.h5.expected.json'), 'utf8'));
    const { model } = loadFixture('tests/fixtures/keras/sequential_k2.h5');
    try {
        assert.equal(model.layout, 'NHWC');
        const ours = model.layers.map((l) => [l.name, l.type, l.params, l.outputShape]);
        const theirs = expected.layers.map((l) => [l.name, l.type, l.params, l.output_shape]);
        // The reader may or may not list the implicit InputLayer.
        const comparable = ours.length === theirs.length ? theirs : theirs.filter((_, i) => !expected.layers[i].implicit);
        assert.deepEqual(ours, comparable);
    } finally {
        model.dispose();
    }
    checkAgainstCli('tests/fixtures/keras/sequential_k2.h5', { seed: 14, capture: 'conv2d_7' });
});

test('captureAll returns every layer; stopAfter ends early without an output', () => {
    const { model } = loadFixture('tests/fixtures/onnx/lenet_opset13.onnx');
    try {
        const input = randomInput(model.inputShape.reduce((a, b) => a * b, 1), 15);
        const all = model.run(input, { captureAll: true });
        for (const layer of model.layers) assert.ok(all.activations[layer.name], `captureAll lacks ${layer.name}`);
        const early = model.run(input, { stopAfter: '/pool1/MaxPool' });
        assert.equal(early.output, null);
        assert.deepEqual(early.activations['/pool1/MaxPool'].shape, [1, 4, 6, 6]);
        assert.deepEqual(Array.from(early.activations['/pool1/MaxPool'].data), Array.from(all.activations['/pool1/MaxPool'].data));
    } finally {
        model.dispose();
    }
});

test('errors carry the core message and leave the engine usable', () => {
    assert.throws(() => cs.load(new Uint8Array([0x13, 0x37, 0, 1, 2, 3, 4, 5]), 'junk.bin'),
        (e) => e.name === 'ConvScopeError' && /junk\.bin/.test(e.message) && /not a model file/.test(e.message));
    assert.throws(() => cs.load(new Uint8Array(0), 'empty.onnx'), /empty/);
    // A truncated ONNX file: the reader's message names an offset.
    const bytes = fs.readFileSync(path.join(root, 'tests/fixtures/onnx/lenet_opset13.onnx'));
    assert.throws(() => cs.load(bytes.subarray(0, bytes.length >> 1), 'half.onnx'), /half\.onnx|offset|0x/);

    const { model } = loadFixture('tests/fixtures/onnx/lenet_opset13.onnx');
    assert.throws(() => model.run(new Float32Array(5)), /5 values, expected 289/);
    assert.throws(() => model.run(new Float32Array(289), { capture: ['no_such_layer'] }), /no_such_layer/);
    assert.throws(() => model.run(new Float32Array(289), { shape: [1, 1, 289] }), /expected shape/);
    const ok = model.run(new Float32Array(289).fill(0.25));
    assert.deepEqual(ok.output.shape, [1, 10]);
    model.dispose();
    assert.equal(model.disposed, true);
    assert.throws(() => model.run(new Float32Array(289)), /disposed/);
});

test('loading, running and disposing a model frees everything it allocated', () => {
    const bytes = fs.readFileSync(path.join(root, 'tests/fixtures/onnx/residual_opset13.onnx'));
    const first = cs.load(bytes, 'r.onnx');
    const input = randomInput(first.inputShape.reduce((a, b) => a * b, 1), 16);
    const reference = first.run(input).output.data;
    first.dispose();
    // Warm-up rounds let the allocator reach its working set first.
    for (let i = 0; i < 5; ++i) cs.load(bytes, 'r.onnx').dispose();
    const before = cs.heapBytesInUse;
    assert.ok(before > 0, 'the heap in-use count is available');
    for (let i = 0; i < 200; ++i) {
        const model = cs.load(bytes, 'r.onnx');
        const out = model.run(input).output.data;
        if (i % 50 === 0) assert.deepEqual(Array.from(out), Array.from(reference));
        model.dispose();
    }
    // One leaked copy of the file per round would be 200 x its size.
    const leaked = cs.heapBytesInUse - before;
    assert.ok(leaked < bytes.length, `${leaked} bytes still allocated after 200 load/run/dispose rounds`);
});

test('threads: any thread count gives the one-thread output bit for bit, or one thread runs and says why', async () => {
    const { default: createConvScope } = await import(pathToFileURL(path.join(engineDir, 'convscope_engine.mjs')).href);
    const threaded = await createConvScope({ threads: 3 });
    if (threaded.maxThreads === 1) {
        // A folder without the threaded module: the engine still runs, on one thread, and says why.
        assert.equal(threaded.threads, 1);
        assert.match(threaded.threadsNote, /threaded module|SharedArrayBuffer|isolated/);
        return;
    }
    assert.equal(threaded.threads, 3, threaded.threadsNote);
    const bytes = fs.readFileSync(path.join(root, 'tests/fixtures/onnx/residual_opset13.onnx'));
    const model = threaded.load(bytes, 'r.onnx');
    try {
        const input = randomInput(model.inputShape.reduce((a, b) => a * b, 1), 17);
        const outputs = [1, 2, 3].map((count) => {
            assert.equal(threaded.setThreads(count), count);
            return model.run(input, { captureAll: true });
        });
        for (const out of outputs.slice(1)) {
            assert.deepEqual(Array.from(out.output.data), Array.from(outputs[0].output.data));
            for (const [name, tensor] of Object.entries(outputs[0].activations)) {
                assert.deepEqual(Array.from(out.activations[name].data), Array.from(tensor.data), `activation ${name}`);
            }
        }
        assertClose(outputs[0].output, cliRun(path.join(root, 'tests/fixtures/onnx/residual_opset13.onnx'), input, model.inputShape), 'threaded output vs CLI');
    } finally {
        model.dispose();
    }
});
