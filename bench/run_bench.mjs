// ConvScope engine speed benchmark: our WASM engine (through its JS API)
// against onnxruntime-web and tfjs-backend-wasm (XNNPACK), all on one thread,
// in one Node process, on the ONNX models bench/make_bench_models.py writes.
//
//   node --no-experimental-fetch bench/run_bench.mjs [options]     (scripts/bench does it all)
//     --models DIR     models + manifest.json (default build/bench-models)
//     --engine DIR     folder with convscope_engine.mjs (default build/bench/wasm/engine)
//     --only a,b       just these models
//     --budget-ms N    timed work per model, all three engines together (default 4000)
//     --threads 1,2    our engine at each thread count (default 1; more than one
//                      loads the threaded module convscope_engine_mt_wasm.*)
//     --json FILE      also write the results as JSON
//
// Method: each engine loads the same ONNX bytes (tfjs through a graph mapping
// written here, since tfjs has no ONNX loader); their outputs on one random
// input must agree (max |diff| / output range < 1e-3); then warm-up runs, then
// rounds of A, B, C interleaved so a change in machine load hits all three
// alike; the table shows medians. FLOPs are counted from the graph (2 x MACs
// of Conv and Gemm). The SIMD peak is a mul+add loop on sixteen f32x4
// accumulators compiled into our module (src/js_api/simd_peak.cpp).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import * as ort from 'onnxruntime-web';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---- options ------------------------------------------------------------------
function parseArguments(argv) {
    const options = {
        models: path.join(root, 'build/bench-models'),
        engine: path.join(root, 'build/bench/wasm/engine'),
        only: null,
        budgetMs: 4000,
        json: null,
        threads: [1],
    };
    for (let i = 0; i < argv.length; ++i) {
        const value = () => {
            if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
            return argv[++i];
        };
        switch (argv[i]) {
            case '--models': options.models = path.resolve(value()); break;
            case '--engine': options.engine = path.resolve(value()); break;
            case '--only': options.only = value().split(','); break;
            case '--budget-ms': options.budgetMs = Number(value()); break;
            case '--json': options.json = path.resolve(value()); break;
            case '--threads': options.threads = value().split(',').map(Number); break;
            default: throw new Error(`unknown option ${argv[i]}; see the comment at the top of bench/run_bench.mjs`);
        }
    }
    return options;
}

// ---- a minimal ONNX (protobuf) reader, enough to map the graph to tfjs ------------
// Field numbers from onnx.proto (ModelProto.graph = 7, GraphProto.node = 1, ...).
class ProtoReader {
    constructor(bytes, start = 0, end = bytes.length) {
        this.bytes = bytes;
        this.position = start;
        this.end = end;
    }
    done() { return this.position >= this.end; }
    varint() {
        let result = 0n;
        let shift = 0n;
        for (let i = 0; i < 10; ++i) {
            if (this.position >= this.end) throw new Error(`protobuf: varint runs past the end at ${this.position}`);
            const byte = this.bytes[this.position++];
            result |= BigInt(byte & 0x7f) << shift;
            if ((byte & 0x80) === 0) return BigInt.asIntN(64, result);
            shift += 7n;
        }
        throw new Error(`protobuf: varint longer than 10 bytes at ${this.position}`);
    }
    // Calls visit(field, wireType, reader) for each field; length-delimited
    // fields get a sub-reader over their bytes, the others their value.
    fields(visit) {
        while (!this.done()) {
            const key = Number(this.varint());
            const field = key >>> 3;
            const wireType = key & 7;
            if (wireType === 0) {
                visit(field, wireType, this.varint());
            } else if (wireType === 1) {
                visit(field, wireType, new DataView(this.bytes.buffer, this.bytes.byteOffset + this.position, 8));
                this.position += 8;
            } else if (wireType === 2) {
                const length = Number(this.varint());
                if (this.position + length > this.end) throw new Error(`protobuf: field ${field} runs past the end`);
                visit(field, wireType, new ProtoReader(this.bytes, this.position, this.position + length));
                this.position += length;
            } else if (wireType === 5) {
                visit(field, wireType, new DataView(this.bytes.buffer, this.bytes.byteOffset + this.position, 4));
                this.position += 4;
            } else {
                throw new Error(`protobuf: unsupported wire type ${wireType} for field ${field}`);
            }
        }
    }
    string() { return new TextDecoder().decode(this.bytes.subarray(this.position, this.end)); }
    packedVarints() {
        const values = [];
        while (!this.done()) values.push(Number(this.varint()));
        return values;
    }
}

function readTensorProto(reader) {
    const tensor = { name: '', dims: [], dataType: 0, floats: null, ints: null };
    let raw = null;
    const floatData = [];
    const intData = [];
    reader.fields((field, wire, value) => {
        if (field === 1) wire === 2 ? tensor.dims.push(...value.packedVarints()) : tensor.dims.push(Number(value));
        else if (field === 2) tensor.dataType = Number(value);
        else if (field === 4) {
            if (wire === 2) for (let p = value.position; p + 4 <= value.end; p += 4) floatData.push(new DataView(value.bytes.buffer, value.bytes.byteOffset + p, 4).getFloat32(0, true));
            else floatData.push(value.getFloat32(0, true));
        } else if (field === 7) wire === 2 ? intData.push(...value.packedVarints()) : intData.push(Number(value));
        else if (field === 8) tensor.name = value.string();
        else if (field === 9) raw = value.bytes.slice(value.position, value.end);
    });
    const count = tensor.dims.reduce((a, b) => a * b, 1);
    if (tensor.dataType === 1) {  // FLOAT
        tensor.floats = raw ? new Float32Array(raw.buffer, raw.byteOffset, count) : Float32Array.from(floatData);
    } else if (tensor.dataType === 7) {  // INT64
        if (raw) {
            const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
            tensor.ints = Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true)));
        } else {
            tensor.ints = intData;
        }
    } else {
        throw new Error(`initializer '${tensor.name}': data type ${tensor.dataType} is not handled by the benchmark's mapping`);
    }
    return tensor;
}

function readAttribute(reader) {
    const attribute = { name: '', value: undefined };
    const ints = [];
    const floats = [];
    reader.fields((field, wire, value) => {
        if (field === 1) attribute.name = value.string();
        else if (field === 2) attribute.value = value.getFloat32(0, true);
        else if (field === 3) attribute.value = Number(value);
        else if (field === 4) attribute.value = value.string();
        else if (field === 5) attribute.value = readTensorProto(value);
        else if (field === 7) {
            if (wire === 2) for (let p = value.position; p + 4 <= value.end; p += 4) floats.push(new DataView(value.bytes.buffer, value.bytes.byteOffset + p, 4).getFloat32(0, true));
            else floats.push(value.getFloat32(0, true));
        } else if (field === 8) wire === 2 ? ints.push(...value.packedVarints()) : ints.push(Number(value));
    });
    if (ints.length) attribute.value = ints;
    if (floats.length) attribute.value = floats;
    return attribute;
}

function readOnnxGraph(fileBytes) {
    // A plain Uint8Array: its slice() copies (a Buffer's would alias), which
    // gives initializers their own aligned storage.
    const bytes = new Uint8Array(fileBytes.buffer, fileBytes.byteOffset, fileBytes.byteLength);
    const graph = { nodes: [], initializers: new Map(), inputs: [], outputs: [] };
    new ProtoReader(bytes).fields((field, wire, model) => {
        if (field !== 7) return;
        model.fields((graphField, graphWire, value) => {
            if (graphField === 1) {
                const node = { inputs: [], outputs: [], name: '', op: '', attributes: {} };
                value.fields((f, w, v) => {
                    if (f === 1) node.inputs.push(v.string());
                    else if (f === 2) node.outputs.push(v.string());
                    else if (f === 3) node.name = v.string();
                    else if (f === 4) node.op = v.string();
                    else if (f === 5) {
                        const attribute = readAttribute(v);
                        node.attributes[attribute.name] = attribute.value;
                    }
                });
                graph.nodes.push(node);
            } else if (graphField === 5) {
                const tensor = readTensorProto(value);
                graph.initializers.set(tensor.name, tensor);
            } else if (graphField === 11 || graphField === 12) {
                let name = '';
                value.fields((f, w, v) => { if (f === 1) name = v.string(); });
                (graphField === 11 ? graph.inputs : graph.outputs).push(name);
            }
        });
    });
    graph.inputs = graph.inputs.filter((name) => !graph.initializers.has(name));
    return graph;
}

// ---- the ONNX graph on tfjs ops (NHWC inside) -------------------------------------
// Conv/Gemm followed by Relu or Clip(0, 6) become one fused tfjs op, as the
// tfjs converter does for its own graphs, so tfjs is measured at its best.
class TfjsGraph {
    constructor(graph) {
        this.graph = graph;
        this.macs = 0;
        this.convMacs = 0;
        this.steps = [];
        this.weights = [];
        const consumers = new Map();
        for (const node of graph.nodes) for (const input of node.inputs) consumers.set(input, (consumers.get(input) ?? 0) + 1);
        const constants = new Map();
        for (const [name, tensor] of graph.initializers) constants.set(name, tensor);
        const fusedInto = new Set();
        for (let n = 0; n < graph.nodes.length; ++n) {
            const node = graph.nodes[n];
            if (fusedInto.has(n)) continue;
            if (node.op === 'Constant') {
                constants.set(node.outputs[0], node.attributes.value);
                continue;
            }
            let activation = 'linear';
            let output = node.outputs[0];
            const next = graph.nodes[n + 1];
            if ((node.op === 'Conv' || node.op === 'Gemm') && next && next.inputs[0] === output && consumers.get(output) === 1) {
                const fused = this.#activationOf(next, constants);
                if (fused) {
                    activation = fused;
                    output = next.outputs[0];
                    fusedInto.add(n + 1);
                }
            }
            this.steps.push(this.#compile(node, constants, activation, output));
        }
    }

    #activationOf(node, constants) {
        if (node.op === 'Relu') return 'relu';
        if (node.op === 'Clip') {
            const [low, high] = this.#clipBounds(node, constants);
            if (low === 0 && high === 6) return 'relu6';
        }
        return null;
    }

    #clipBounds(node, constants) {
        const scalar = (name, fallback) => {
            if (!name) return fallback;
            const tensor = constants.get(name);
            if (!tensor) throw new Error(`Clip '${node.name}': bound '${name}' is not a constant`);
            return tensor.floats[0];
        };
        if (node.attributes.min !== undefined || node.attributes.max !== undefined) {
            return [node.attributes.min ?? -Infinity, node.attributes.max ?? Infinity];
        }
        return [scalar(node.inputs[1], -Infinity), scalar(node.inputs[2], Infinity)];
    }

    #weight(values, shape) {
        const tensor = tf.tensor(values, shape, 'float32');
        this.weights.push(tensor);
        return tensor;
    }

    #compile(node, constants, activation, output) {
        const a = node.attributes;
        const input = node.inputs[0];
        switch (node.op) {
            case 'Conv': {
                const w = constants.get(node.inputs[1]);
                const [cout, cinPerGroup, kh, kw] = w.dims;
                const group = a.group ?? 1;
                const [top, left, bottom, right] = a.pads ?? [0, 0, 0, 0];
                const strides = a.strides ?? [1, 1];
                const dilations = a.dilations ?? [1, 1];
                const pad = [[0, 0], [top, bottom], [left, right], [0, 0]];
                const biasTensor = node.inputs[2] ? this.#weight(constants.get(node.inputs[2]).floats, [cout]) : undefined;
                const cin = cinPerGroup * group;
                const depthwise = group > 1 && group === cin;
                let filter;
                if (depthwise) {  // [cout, 1, kh, kw] -> [kh, kw, cin, multiplier]
                    filter = this.#weight(tf.tidy(() => tf.transpose(tf.tensor4d(w.floats, [cin, cout / cin, kh, kw]), [2, 3, 0, 1]).dataSync()), [kh, kw, cin, cout / cin]);
                } else if (group === 1) {  // [cout, cin, kh, kw] -> [kh, kw, cin, cout]
                    filter = this.#weight(tf.tidy(() => tf.transpose(tf.tensor4d(w.floats, w.dims), [2, 3, 1, 0]).dataSync()), [kh, kw, cin, cout]);
                } else {
                    throw new Error(`Conv '${node.name}': grouped (not depthwise) convolution is not mapped`);
                }
                return {
                    output,
                    run: (env) => {
                        const x = env.get(input);
                        const y = depthwise
                            ? tf.fused.depthwiseConv2d({ x, filter, strides, pad, dilations, bias: biasTensor, activation })
                            : tf.fused.conv2d({ x, filter, strides, pad, dilations, bias: biasTensor, activation });
                        if (!this.counted) {
                            const macs = y.size * cinPerGroup * kh * kw;
                            this.macs += macs;
                            this.convMacs += macs;
                        }
                        return y;
                    },
                };
            }
            case 'Gemm': {
                const w = constants.get(node.inputs[1]);
                const transB = a.transB ?? 0;
                if ((a.transA ?? 0) !== 0 || (a.alpha ?? 1) !== 1 || (a.beta ?? 1) !== 1) throw new Error(`Gemm '${node.name}': only alpha = beta = 1, transA = 0 are mapped`);
                // Held as [K, N] like a Keras Dense kernel: tfjs-wasm's
                // matMul with transposeB gave wrong results in this process
                // (the CIFAR model's classifier; not isolated further).
                const [k, n] = transB ? [w.dims[1], w.dims[0]] : w.dims;
                let kernel = w.floats;
                if (transB) {
                    kernel = new Float32Array(k * n);
                    for (let row = 0; row < n; ++row) for (let col = 0; col < k; ++col) kernel[col * n + row] = w.floats[row * k + col];
                }
                const b = this.#weight(kernel, [k, n]);
                const bias = node.inputs[2] ? this.#weight(constants.get(node.inputs[2]).floats, [n]) : undefined;
                return {
                    output,
                    run: (env) => {
                        const x = env.get(input);
                        const y = tf.fused.matMul({ a: x, b, bias, activation });
                        if (!this.counted) this.macs += y.size * x.shape[1];
                        return y;
                    },
                };
            }
            case 'Relu':
                return { output, run: (env) => tf.relu(env.get(input)) };
            case 'Clip': {
                const [low, high] = this.#clipBounds(node, constants);
                return { output, run: (env) => (low === 0 && high === 6 ? tf.relu6(env.get(input)) : tf.clipByValue(env.get(input), low, high)) };
            }
            case 'Add':
                return { output, run: (env) => tf.add(env.get(input), env.get(node.inputs[1])) };
            case 'GlobalAveragePool':
                return { output, run: (env) => tf.mean(env.get(input), [1, 2], true) };
            case 'MaxPool':
            case 'AveragePool': {
                const [kh, kw] = a.kernel_shape;
                const strides = a.strides ?? [1, 1];
                const [top, left, bottom, right] = a.pads ?? [0, 0, 0, 0];
                if (top !== bottom || left !== right || top !== left) throw new Error(`${node.op} '${node.name}': asymmetric pads are not mapped`);
                if (node.op === 'AveragePool' && top !== 0 && !a.count_include_pad) throw new Error(`AveragePool '${node.name}': padding excluded from the average is not mapped`);
                const pool = node.op === 'MaxPool' ? tf.maxPool : tf.avgPool;
                return { output, run: (env) => pool(env.get(input), [kh, kw], strides, top) };
            }
            case 'Flatten':
            case 'Reshape': {
                // ONNX flattens NCHW; go back to channels-first unless H = W = 1.
                const shape = node.op === 'Reshape' ? constants.get(node.inputs[1]).ints : null;
                const axis = a.axis ?? 1;
                return {
                    output,
                    run: (env) => {
                        let x = env.get(input);
                        if (x.rank === 4 && (x.shape[1] !== 1 || x.shape[2] !== 1)) x = tf.transpose(x, [0, 3, 1, 2]);
                        else if (x.rank === 4) x = tf.reshape(x, [x.shape[0], x.shape[3], 1, 1]);
                        if (shape) return tf.reshape(x, shape.map((d, i) => (d === 0 ? x.shape[i] : d)));
                        const outer = x.shape.slice(0, axis).reduce((p, q) => p * q, 1);
                        return tf.reshape(x, [outer, -1]);
                    },
                };
            }
            case 'BatchNormalization': {
                const [scale, bias, mean, variance] = node.inputs.slice(1).map((name) => {
                    const t = constants.get(name);
                    return this.#weight(t.floats, t.dims);
                });
                const epsilon = a.epsilon ?? 1e-5;
                return { output, run: (env) => tf.batchNorm(env.get(input), mean, variance, bias, scale, epsilon) };
            }
            default:
                throw new Error(`ONNX op ${node.op} ('${node.name}') is not mapped to tfjs by the benchmark`);
        }
    }

    // input: NHWC tensor. Returns the model output as a tf.Tensor (the caller disposes it).
    run(input) {
        return tf.tidy(() => {
            const env = new Map([[this.graph.inputs[0], input]]);
            for (const step of this.steps) env.set(step.output, step.run(env));
            this.counted = true;
            return env.get(this.graph.outputs[0]);
        });
    }
}

// ---- helpers ------------------------------------------------------------------------
function seededInput(count, seed) {
    const values = new Float32Array(count);
    let state = seed >>> 0;
    for (let i = 0; i < count; ++i) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        values[i] = state / 2 ** 32;  // [0, 1), like an image scaled to 1
    }
    return values;
}

function nhwcToNchw(data, [n, h, w, c]) {
    const out = new Float32Array(data.length);
    for (let b = 0; b < n; ++b) for (let y = 0; y < h; ++y) for (let x = 0; x < w; ++x) for (let ch = 0; ch < c; ++ch) {
        out[((b * c + ch) * h + y) * w + x] = data[((b * h + y) * w + x) * c + ch];
    }
    return out;
}

function nchwToNhwc(data, [n, c, h, w]) {
    const out = new Float32Array(data.length);
    for (let b = 0; b < n; ++b) for (let ch = 0; ch < c; ++ch) for (let y = 0; y < h; ++y) for (let x = 0; x < w; ++x) {
        out[((b * h + y) * w + x) * c + ch] = data[((b * c + ch) * h + y) * w + x];
    }
    return out;
}

function relativeDifference(actual, reference) {
    if (actual.length !== reference.length) return Infinity;
    let low = Infinity;
    let high = -Infinity;
    let worst = 0;
    for (let i = 0; i < reference.length; ++i) {
        low = Math.min(low, reference[i]);
        high = Math.max(high, reference[i]);
        const diff = Math.abs(actual[i] - reference[i]);
        if (!(diff <= worst)) worst = diff;  // NaN counts as the worst
    }
    return worst / Math.max(high - low, 1e-12);
}

const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fixed = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const pad = (text, width) => String(text).padStart(width);
// Which core was measured: the commit, and whether src/core had uncommitted
// changes when the module was built from this checkout.
function sourceVersion() {
    try {
        const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
        const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'src/core', 'src/js_api'], { encoding: 'utf8' }).trim();
        return `${head}${dirty ? ' + uncommitted changes in src/core or src/js_api' : ''}`;
    } catch {
        return 'unknown (not a git checkout)';
    }
}
const loadText = () => os.loadavg().map((v) => v.toFixed(2)).join(' ');

// ---- the three engines ---------------------------------------------------------------
async function createEngines(options) {
    const enginePath = path.join(options.engine, 'convscope_engine.mjs');
    if (!fs.existsSync(enginePath)) throw new Error(`${enginePath} not found: build the engine module first (scripts/bench)`);
    const { default: createConvScope } = await import(pathToFileURL(enginePath).href);
    // --threads 1,2: our engine at each count, interleaved with the peers;
    // more than one thread loads the threaded module (then the one-thread
    // rows run in it too, so the speed-ups compare one binary).
    const cs = await createConvScope({ threads: Math.max(...options.threads) });
    if (cs.threads < Math.max(...options.threads)) throw new Error(`convscope: only ${cs.threads} thread(s): ${cs.threadsNote}`);

    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;

    // No SharedArrayBuffer threads: the single-thread SIMD build of XNNPACK.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setWasmPaths(path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep);
    setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not initialise');
    await tf.ready();
    if (!tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) throw new Error('tfjs: wasm SIMD is not available, the comparison would be unfair');
    return { cs };
}

async function benchModel(entry, options, { cs }) {
    const bytes = fs.readFileSync(path.join(options.models, entry.file));
    const shape = entry.input_shape;
    const count = shape.reduce((a, b) => a * b, 1);
    const inputNchw = seededInput(count, entry.seed);
    const inputNhwc = nchwToNhwc(inputNchw, shape);

    const ours = cs.load(bytes, entry.file);
    if (!ours.runnable) throw new Error(`${entry.name}: our engine cannot run it: ${ours.runError}`);
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const graph = new TfjsGraph(readOnnxGraph(bytes));
    const tfInput = tf.tensor4d(inputNhwc, [shape[0], shape[2], shape[3], shape[1]]);
    const ortInput = new ort.Tensor('float32', inputNchw, shape);

    const oursAt = (threads) => async () => {
        cs.setThreads(threads);
        return ours.run(inputNchw).output.data;
    };
    const engines = [
        { name: 'convscope', threads: options.threads[0], run: oursAt(options.threads[0]) },
        {
            name: 'onnxruntime-web',
            run: async () => {
                const results = await session.run({ [session.inputNames[0]]: ortInput });
                return results[session.outputNames[0]].data;
            },
        },
        {
            name: 'tfjs-wasm',
            run: async () => {
                const y = graph.run(tfInput);
                const data = y.dataSync();
                const outShape = y.shape;
                y.dispose();
                return outShape.length === 4 ? nhwcToNchw(data, outShape) : data;
            },
        },
    ];
    // Our other thread counts come after the peers (the summary reads engines 0-2).
    for (const threads of options.threads.slice(1)) {
        engines.push({ name: `convscope ${threads}t`, threads, run: oursAt(threads) });
    }
    // tfjs's output is NHWC; transposing it back is kept out of the timing.
    engines[2].timed = () => {
        const y = graph.run(tfInput);
        y.dataSync();
        y.dispose();
    };

    // Agreement on one input (also the first warm-up run).
    const outputs = [];
    for (const engine of engines) outputs.push(await engine.run());
    const agreement = {
        convscope: relativeDifference(outputs[0], outputs[1]),
        tfjs: relativeDifference(outputs[2], outputs[1]),
    };
    // Every thread count must give our one-thread output bit for bit.
    agreement.threadsIdentical = outputs.slice(3).every((data) =>
        data.length === outputs[0].length && data.every((value, i) => Object.is(value, outputs[0][i])));
    const agrees = agreement.convscope < 1e-3 && agreement.tfjs < 1e-3 && agreement.threadsIdentical;

    const time = async (engine) => {
        const start = performance.now();
        if (engine.timed) engine.timed();
        else await engine.run();
        return performance.now() - start;
    };
    // Warm-up: two more runs each, which also sizes the rounds to the budget.
    let warmRound = 0;
    for (let w = 0; w < 2; ++w) {
        warmRound = 0;
        for (const engine of engines) warmRound += await time(engine);
    }
    const rounds = Math.max(5, Math.min(60, Math.ceil(options.budgetMs / warmRound)));
    const samples = engines.map(() => []);
    for (let r = 0; r < rounds; ++r) {
        for (let e = 0; e < engines.length; ++e) samples[e].push(await time(engines[e]));
    }

    ours.dispose();
    await session.release();
    tfInput.dispose();
    for (const w of graph.weights) w.dispose();

    const medians = samples.map(median);
    const flops = 2 * graph.macs;
    return {
        name: entry.name,
        kind: entry.kind,
        description: entry.description,
        gflop: flops / 1e9,
        convGflop: (2 * graph.convMacs) / 1e9,
        rounds,
        agreement,
        agrees,
        engines: engines.map((engine, e) => ({
            name: engine.name,
            threads: engine.threads ?? 1,
            medianMs: medians[e],
            minMs: Math.min(...samples[e]),
            gflops: flops / (medians[e] * 1e-3) / 1e9,
        })),
    };
}

function printModel(result, peak) {
    const [ours, ortResult, tfjsResult] = result.engines;
    const fastest = Math.min(ortResult.medianMs, tfjsResult.medianMs);
    console.log(`\n${result.name}: ${result.description}`);
    console.log(`  ${fixed(result.gflop, 3)} GFLOP per run, ${result.rounds} interleaved rounds`);
    console.log(`  ${'engine'.padEnd(16)} ${pad('median ms', 10)} ${pad('min ms', 9)} ${pad('GFLOP/s', 8)} ${pad('ours/this', 10)}`);
    for (const engine of result.engines) {
        const ratio = engine === ours ? '' : `${fixed(ours.medianMs / engine.medianMs)}x`;
        console.log(`  ${engine.name.padEnd(16)} ${pad(fixed(engine.medianMs), 10)} ${pad(fixed(engine.minMs), 9)} ${pad(fixed(engine.gflops), 8)} ${pad(ratio, 10)}`);
    }
    const ratio = ours.medianMs / fastest;
    console.log(`  ours / faster of ORT,tfjs: ${fixed(ratio)}x (target <= 0.90x: ${ratio <= 0.9 ? 'met' : 'NOT met'})`);
    if (result.kind === 'dense3x3') {
        const percent = (100 * ours.gflops) / peak;
        const percentMin = (100 * result.gflop) / (ours.minMs * 1e-3) / peak;
        console.log(`  our conv GFLOP/s = ${fixed(percent, 0)}% of the WASM SIMD peak ${fixed(peak)} (target >= 60%: ${percent >= 60 ? 'met' : 'NOT met'}); ` +
            `fastest run: ${fixed(percentMin, 0)}%`);
    }
    console.log(`  agreement with ORT, max|diff|/range: convscope ${result.agreement.convscope.toExponential(1)}, tfjs ${result.agreement.tfjs.toExponential(1)}${result.agrees ? '' : '  DISAGREE (> 1e-3)'}`);
}

// Our speed-up at each extra thread count over our first (same rounds, interleaved).
function printThreadSummary(results) {
    const extra = results[0] ? results[0].engines.slice(3) : [];
    if (extra.length === 0) return;
    console.log(`\nthreads (our engine; median ms; speed-up over ${results[0].engines[0].threads} thread; outputs bit-identical)`);
    console.log(`  ${'model'.padEnd(20)} ${pad(results[0].engines[0].threads + 't ms', 9)} ` +
        extra.map((e) => `${pad(e.threads + 't ms', 9)} ${pad('speed-up', 9)}`).join(' ') + `  ${pad('identical', 9)}`);
    for (const r of results) {
        const ours = r.engines[0];
        const cells = r.engines.slice(3).map((e) => `${pad(fixed(e.medianMs), 9)} ${pad(fixed(ours.medianMs / e.medianMs) + 'x', 9)}`);
        console.log(`  ${r.name.padEnd(20)} ${pad(fixed(ours.medianMs), 9)} ${cells.join(' ')}  ${pad(r.agreement.threadsIdentical ? 'yes' : 'NO', 9)}`);
    }
    console.log('');
}

function printSummary(results, peak) {
    printThreadSummary(results);
    // The min columns: under a shared machine's load the fastest of the
    // interleaved runs is the one least disturbed, so its ratio is a second opinion.
    console.log('\nsummary (median ms, one thread; "min" = ratio of the fastest runs)');
    console.log(`  ${'model'.padEnd(20)} ${pad('convscope', 10)} ${pad('ORT-web', 9)} ${pad('tfjs-wasm', 10)} ${pad('ours/ORT', 9)} ${pad('ours/tfjs', 10)} ` +
        `${pad('ours/best', 10)} ${pad('min', 6)} ${pad('GFLOP/s', 8)} ${pad('%peak', 6)} ${pad('<=0.9x', 7)}`);
    for (const r of results) {
        const [ours, ortResult, tfjsResult] = r.engines;
        const ratio = ours.medianMs / Math.min(ortResult.medianMs, tfjsResult.medianMs);
        const minRatio = ours.minMs / Math.min(ortResult.minMs, tfjsResult.minMs);
        console.log(`  ${r.name.padEnd(20)} ${pad(fixed(ours.medianMs), 10)} ${pad(fixed(ortResult.medianMs), 9)} ${pad(fixed(tfjsResult.medianMs), 10)} ` +
            `${pad(fixed(ours.medianMs / ortResult.medianMs), 9)} ${pad(fixed(ours.medianMs / tfjsResult.medianMs), 10)} ${pad(fixed(ratio), 10)} ${pad(fixed(minRatio), 6)} ` +
            `${pad(fixed(ours.gflops), 8)} ${pad(fixed((100 * ours.gflops) / peak, 0), 6)} ${pad(ratio <= 0.9 ? 'yes' : 'no', 7)}`);
    }
}

async function main() {
    const options = parseArguments(process.argv.slice(2));
    const manifestPath = path.join(options.models, 'manifest.json');
    if (!fs.existsSync(manifestPath)) throw new Error(`${manifestPath} not found: run /usr/bin/python3 bench/make_bench_models.py`);
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    const entries = manifest.models.filter((m) => !options.only || options.only.includes(m.name));
    if (entries.length === 0) throw new Error(`no model matches --only ${options.only}`);

    const engines = await createEngines(options);
    const loadBefore = loadText();
    console.log(`ConvScope engine benchmark: node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical CPUs`);
    console.log(`onnxruntime-web ${ort.env.versions.web} (wasm, 1 thread), tfjs-backend-wasm ${tf.version_core} (XNNPACK, SIMD, 1 thread), models: torch ${manifest.torch}, opset ${manifest.opset}, seed ${manifest.seed}`);
    console.log(`source: ${sourceVersion()}; load average before: ${loadBefore}`);
    console.log(`convscope threads: ${options.threads.join(', ')} (${engines.cs.maxThreads > 1 ? 'threaded module, max ' + engines.cs.maxThreads : 'single-threaded module'})`);
    const peak = engines.cs.measureSimdPeak();
    console.log(`WASM SIMD128 peak (mul+add, 16 f32x4 accumulators): ${fixed(peak)} GFLOP/s`);

    // The peak is measured again before every model and the highest value
    // seen is used: load on a shared machine can only lower a measurement,
    // and a too-low peak would flatter our percentage.
    const peaks = [peak];
    const results = [];
    for (const entry of entries) {
        peaks.push(engines.cs.measureSimdPeak());
        const result = await benchModel(entry, options, engines);
        printModel(result, Math.max(...peaks));
        results.push(result);
    }
    peaks.push(engines.cs.measureSimdPeak());
    printSummary(results, Math.max(...peaks));
    console.log(`\nWASM SIMD peak: highest ${fixed(Math.max(...peaks))}, lowest ${fixed(Math.min(...peaks))} GFLOP/s over ${peaks.length} measurements; load average after: ${loadText()}`);
    if (options.json) {
        fs.writeFileSync(options.json, JSON.stringify({ date: new Date().toISOString(), loadBefore, loadAfter: loadText(), peaks, results }, null, 1));
    }
    const disagreeing = results.filter((r) => !r.agrees).map((r) => r.name);
    if (disagreeing.length) {
        console.log(`outputs disagree on: ${disagreeing.join(', ')}`);
        process.exitCode = 1;
    }
}

main().catch((error) => {
    console.error(`run_bench: ${error.stack ?? error}`);
    process.exitCode = 2;
});
