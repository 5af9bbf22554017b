// `convscope run` with several named inputs and several outputs, against
// onnxruntime-web in Node on the same model and inputs
// (tests/fixtures/onnx/multi_io/, scripts/make_multi_io_fixtures.py).
//
// Run: node --test tests/js_api/
//   CONVSCOPE_CLI  the native convscope (default: build/native/convscope)
// A missing CLI is a failure, not a skip.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, before, after } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(root, 'tests/fixtures/onnx/multi_io');
const modelPath = path.join(fixtures, 'two_in_two_out.onnx');
const manifest = JSON.parse(fs.readFileSync(path.join(fixtures, 'multi_io.json'), 'utf8'));
let cli;
let work;

// float32 .npy, version 1.0, C order (what `convscope run` writes for this model).
function readNpy(file) {
    const bytes = fs.readFileSync(file);
    assert.equal(bytes.toString('latin1', 0, 6), '\x93NUMPY', `${file}: not an npy file`);
    const headerLength = bytes[6] === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
    const headerStart = bytes[6] === 1 ? 10 : 12;
    const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
    assert.match(header, /'descr': '<f4'/, `${file}: expected float32, header ${header}`);
    const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
    const start = headerStart + headerLength;
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
    return { shape, data };
}

function runCli(args) {
    const result = spawnSync(cli, ['run', ...args], { encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Within 1e-4 of the output's range, the project's yardstick for float models.
function assertClose(actual, expected, what) {
    assert.deepEqual(actual.shape, expected.dims.map(Number), `${what}: shape`);
    assert.equal(actual.data.length, expected.data.length, `${what}: element count`);
    let low = Infinity, high = -Infinity;
    for (const v of expected.data) { low = Math.min(low, v); high = Math.max(high, v); }
    const tolerance = 1e-4 * Math.max(high - low, 1e-6);
    for (let i = 0; i < expected.data.length; ++i) {
        assert.ok(Math.abs(actual.data[i] - expected.data[i]) <= tolerance,
            `${what}[${i}]: convscope ${actual.data[i]}, onnxruntime ${expected.data[i]} (tolerance ${tolerance})`);
    }
}

async function onnxruntimeOutputs() {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    const session = await ort.InferenceSession.create(fs.readFileSync(modelPath), { executionProviders: ['wasm'] });
    const feeds = {};
    for (const name of Object.keys(manifest.inputs)) {
        const { shape, data } = readNpy(path.join(fixtures, `${name}.npy`));
        feeds[name] = new ort.Tensor('float32', data, shape);
    }
    return session.run(feeds);
}

before(() => {
    cli = process.env.CONVSCOPE_CLI || path.join(root, 'build/native/convscope');
    if (!fs.existsSync(cli)) throw new Error(`${cli} does not exist; build the native CLI first (or set CONVSCOPE_CLI)`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'convscope-cli-run-'));
});

after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('run with two named inputs writes every output as DIR/<name>.npy, matching onnxruntime-web', async () => {
    const out = path.join(work, 'outputs');
    const result = runCli([modelPath, '--input', `image=${path.join(fixtures, 'image.npy')}`,
        '--input', `gain=${path.join(fixtures, 'gain.npy')}`, '--out', out]);
    assert.equal(result.status, 0, result.stderr);
    const expected = await onnxruntimeOutputs();
    assert.deepEqual(Object.keys(expected).sort(), Object.keys(manifest.output_files).sort());
    for (const [name, file] of Object.entries(manifest.output_files)) {
        assert.match(result.stdout, new RegExp(`${file}: wrote float32`), `stdout names ${file}`);
        assertClose(readNpy(path.join(out, file)), expected[name], name);
    }
    // The second input matters: a gain of zero would flatten both outputs to 0.
    assert.ok(expected.features.data.some((v) => v !== 0), 'the fixture exercises gain');
});

test('the inputs may come in any order; --layer writes that one tensor to FILE.npy', async () => {
    const file = path.join(work, 'relu.npy');
    const result = runCli([modelPath, '--input', `gain=${path.join(fixtures, 'gain.npy')}`,
        '--input', `image=${path.join(fixtures, 'image.npy')}`, '--layer', 'relu', '--out', file]);
    assert.equal(result.status, 0, result.stderr);
    const expected = await onnxruntimeOutputs();
    assertClose(readNpy(file), expected.features, 'relu');
});

test('run refuses what it cannot map, saying which input or output and how to fix it', () => {
    const image = path.join(fixtures, 'image.npy');
    const gain = path.join(fixtures, 'gain.npy');
    const cases = [
        { args: ['--input', image, '--out', path.join(work, 'x')], message: /2 inputs \(image, gain\); give each as --input NAME=FILE.npy/ },
        { args: ['--input', `image=${image}`, '--out', path.join(work, 'x')], message: /no --input for model input 'gain'/ },
        { args: ['--input', `imag=${image}`, '--input', `gain=${gain}`, '--out', path.join(work, 'x')], message: /no input 'imag' \(its inputs: image, gain\)/ },
        { args: ['--input', `image=${image}`, '--input', `image=${image}`, '--input', `gain=${gain}`, '--out', path.join(work, 'x')], message: /input 'image' is given twice/ },
        { args: ['--input', `image=${image}`, '--input', `gain=${gain}`, '--out', path.join(work, 'one.npy')], message: /2 outputs \(features, head\/scores\); give --out DIR/ },
    ];
    for (const { args, message } of cases) {
        const result = runCli([modelPath, ...args]);
        assert.equal(result.status, 2, `${args.join(' ')}: exit status (stderr: ${result.stderr})`);
        assert.match(result.stderr, message, args.join(' '));
    }
    assert.ok(!fs.existsSync(path.join(work, 'one.npy')), 'nothing is written when the command is refused');
});

test('a one-input, one-output model still takes a plain --input FILE.npy and --out FILE.npy', () => {
    const lenet = path.join(root, 'tests/fixtures/onnx/lenet_opset13.onnx');
    const input = path.join(work, 'lenet_in.npy');
    const declared = JSON.parse(fs.readFileSync(path.join(root, 'tests/fixtures/onnx/lenet_opset13.json'), 'utf8'));
    const [, channels, height, width] = declared.inputs[0].shape;
    // Zeros are enough to check the plumbing; the numbers are checked in engine_api.test.mjs.
    const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (1, ${channels}, ${height}, ${width}), }`;
    const padded = header + ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
    const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length & 0xff, padded.length >> 8]);
    fs.writeFileSync(input, Buffer.concat([prefix, Buffer.from(padded, 'latin1'), Buffer.alloc(channels * height * width * 4)]));
    const file = path.join(work, 'lenet_out.npy');
    const result = runCli([lenet, '--input', input, '--out', file]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(readNpy(file).shape, [1, declared.outputs[0].shape[1]]);
    assert.match(result.stdout, /lenet_out\.npy: wrote float32 \(1, 10\) \(output\)/);
});
