// Computes the expected outputs of the opset-versioned ONNX fixtures with
// onnxruntime-web (wasm, one thread): the reference the engine test compares
// against. Run after scripts/make_onnx_opset_fixtures.py:
//     node scripts/onnx_opset_expected.mjs
// Reads tests/fixtures/onnx_opset/cases.json, NAME.onnx and NAME_in.npy, and
// writes NAME_out<i>.npy (float32, C order) per output, and records the
// onnxruntime-web version in cases.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as ort from 'onnxruntime-web';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'tests', 'fixtures', 'onnx_opset');

// .npy version 1.0, little-endian float32 only (what the Python script writes).
function readNpy(file) {
    const bytes = fs.readFileSync(file);
    if (bytes.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
    const headerLength = bytes.readUInt16LE(8);
    const header = bytes.toString('latin1', 10, 10 + headerLength);
    if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True")) {
        throw new Error(`${file}: expected little-endian float32 in C order, header ${header}`);
    }
    const shapeText = header.match(/'shape': \(([^)]*)\)/)[1];
    const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s).map(Number);
    const start = 10 + headerLength;
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
    return { shape, data };
}

function writeNpy(file, shape, data) {
    const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
    // The magic, version and length (10 bytes) plus the header end on a 64-byte boundary, newline last.
    const padded = Math.ceil((10 + header.length + 1) / 64) * 64 - 10;
    header = header.padEnd(padded - 1, ' ') + '\n';
    const prefix = Buffer.alloc(10);
    prefix.write('\x93NUMPY', 0, 'latin1');
    prefix[6] = 1;
    prefix[7] = 0;
    prefix.writeUInt16LE(header.length, 8);
    const body = Buffer.from(new Float32Array(data).buffer);
    fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]));
}

ort.env.wasm.numThreads = 1;
const listing = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'));
for (const testCase of listing.cases) {
    const bytes = fs.readFileSync(path.join(dir, `${testCase.name}.onnx`));
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled' });
    const input = readNpy(path.join(dir, `${testCase.name}_in.npy`));
    const results = await session.run({ x: new ort.Tensor('float32', input.data, input.shape) });
    testCase.outputs.forEach((name, index) => {
        const output = results[name];
        writeNpy(path.join(dir, `${testCase.name}_out${index}.npy`), Array.from(output.dims), output.data);
    });
    console.log(`${testCase.name}: ${testCase.outputs.map((n) => `${n} [${results[n].dims}]`).join(', ')}`);
}
listing.onnxruntime_web = ort.env.versions.web;
fs.writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(listing, null, 1) + '\n');
