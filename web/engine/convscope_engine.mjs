// ConvScope's inference engine for JavaScript: open a Keras (.h5, .keras)
// or ONNX model and run it in WebAssembly, in a page or in Node.
//
//   import createConvScope from './convscope_engine.mjs';
//   const cs = await createConvScope();
//   const model = cs.load(uint8array, 'model.onnx');
//   model.layers      // [{name, type, outputShape, params}, ...]
//   model.inputShape  // e.g. [1, 3, 224, 224] (the framework's layout, batch 1)
//   const out = model.run(float32array, {capture: ['conv2d']});
//   out.output                  // {name, shape, data: Float32Array}
//   out.activations['conv2d']   // {shape, data: Float32Array}
//   model.dispose();
//
// This file is the whole public API; convscope_engine_wasm.mjs/.wasm beside
// it are the compiled core (src/js_api/engine_api.h is the C side). Errors
// are thrown as ConvScopeError with the core's message (what was expected,
// what was found, where).
//
// Options for createConvScope({...}):
//   wasmBinary   ArrayBuffer/Uint8Array of convscope_engine_wasm.wasm (skips fetching)
//   wasmUrl      where to fetch the .wasm from (default: next to this file)
import createConvScopeEngineWasm from './convscope_engine_wasm.mjs';

export class ConvScopeError extends Error {
    constructor(message) {
        super(message);
        this.name = 'ConvScopeError';
    }
}

const isNode = typeof process === 'object' && process.versions != null && process.versions.node != null;

async function readWasmInNode(url) {
    // The glue would otherwise fetch() a file:// URL, which Node's fetch cannot do.
    const { readFile } = await import('node:fs/promises');
    return readFile(url);
}

class ConvScopeModel {
    #engine;
    #handle;
    #info;

    constructor(engine, handle, info) {
        this.#engine = engine;
        this.#handle = handle;
        this.#info = info;
        this.name = info.name;
        this.format = info.format;
        this.producer = info.producer;
        this.layout = info.layout;           // 'NCHW' (ONNX) or 'NHWC' (Keras)
        this.inputShape = info.inputShape;   // null entries are unknown sizes
        this.inputs = info.inputs;
        this.outputs = info.outputs;
        this.layers = info.layers;
        this.runnable = info.runnable;
        this.runError = info.runError;       // why the engine cannot run it ('' when it can)
        this.plan = info.plan;               // one line per engine step
        this.warnings = info.warnings;
    }

    get disposed() { return this.#handle === 0; }

    // input: Float32Array (or array-like) in the model's input layout.
    // options.shape: the input's shape when inputShape has unknown sizes.
    // options.capture: layer or value names whose outputs to return.
    // options.captureAll: return every layer's output.
    // options.stopAfter: run only up to this layer (then no model output).
    run(input, options = {}) {
        if (this.#handle === 0) throw new ConvScopeError('this model was disposed');
        const data = input instanceof Float32Array ? input : Float32Array.from(input);
        const shape = options.shape ?? this.inputShape;
        if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
            throw new ConvScopeError(`input shape ${JSON.stringify(shape)} has unknown sizes; pass options.shape`);
        }
        const expected = shape.reduce((a, b) => a * b, 1);
        if (data.length !== expected) {
            throw new ConvScopeError(`input has ${data.length} values, expected ${expected} for shape [${shape.join(', ')}]`);
        }
        const runOptions = {};
        if (options.capture) runOptions.capture = Array.from(options.capture);
        if (options.captureAll) runOptions.captureAll = true;
        if (options.stopAfter) runOptions.stopAfter = String(options.stopAfter);
        return this.#engine.run(this.#handle, data, shape, runOptions);
    }

    dispose() {
        if (this.#handle !== 0) this.#engine.free(this.#handle);
        this.#handle = 0;
    }
}

class ConvScope {
    #wasm;

    constructor(wasm) {
        this.#wasm = wasm;
    }

    // bytes: Uint8Array / ArrayBuffer of a model file; name is for messages.
    load(bytes, name = 'model') {
        const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
        const wasm = this.#wasm;
        const buffer = wasm._cs_file_buffer(view.length);
        if (buffer === 0) this.#fail(`${name}: `);
        wasm.HEAPU8.set(view, buffer);
        const handle = this.#withString(name, (namePointer) => wasm._cs_model_load(namePointer));
        if (handle === 0) this.#fail('');  // the core's message names the file
        const info = JSON.parse(this.#string(wasm._cs_model_info_json(handle)));
        return new ConvScopeModel(this, handle, info);
    }

    // Bytes of WebAssembly memory the engine holds (it grows, never shrinks).
    get memoryBytes() { return this.#wasm.HEAPU8.length; }
    // Bytes malloc'd inside it right now (for leak checks).
    get heapBytesInUse() { return this.#wasm._cs_heap_bytes_in_use() >>> 0; }

    // The WASM SIMD128 mul+add peak in GFLOP/s (benchmark reference, not
    // needed to use the engine): the best of `repeats` timed loops. Short
    // loops (about 6 ms each) and many repeats, so that on a shared machine
    // some run whole time slices undisturbed.
    measureSimdPeak({ iterations = 2_000_000, repeats = 100 } = {}) {
        const wasm = this.#wasm;
        const flops = iterations * wasm._cs_simd_peak_flops_per_iteration();
        wasm._cs_simd_peak_loop(iterations / 10);  // tier-up / warm-up
        let best = Infinity;
        let sink = 0;
        for (let r = 0; r < repeats; ++r) {
            const start = performance.now();
            sink += wasm._cs_simd_peak_loop(iterations);
            best = Math.min(best, performance.now() - start);
        }
        if (!Number.isFinite(sink)) throw new ConvScopeError('SIMD peak loop diverged');
        return flops / (best * 1e-3) / 1e9;
    }

    // Internal: used by ConvScopeModel.
    run(handle, data, shape, runOptions) {
        const wasm = this.#wasm;
        const inputPointer = wasm._malloc(Math.max(4, data.length * 4));
        const shapePointer = wasm._malloc(Math.max(4, shape.length * 4));
        if (inputPointer === 0 || shapePointer === 0) {
            wasm._free(inputPointer);
            wasm._free(shapePointer);
            throw new ConvScopeError(`out of memory for an input of ${data.length} floats`);
        }
        let count;
        try {
            wasm.HEAPF32.set(data, inputPointer >> 2);
            wasm.HEAP32.set(Int32Array.from(shape), shapePointer >> 2);
            count = this.#withString(JSON.stringify(runOptions),
                (optionsPointer) => wasm._cs_model_run(handle, inputPointer, shapePointer, shape.length, optionsPointer));
        } finally {
            wasm._free(inputPointer);
            wasm._free(shapePointer);
        }
        if (count < 0) this.#fail('');
        const infos = JSON.parse(this.#string(wasm._cs_result_info_json(handle)));
        const result = { output: null, outputs: {}, activations: {} };
        infos.forEach((info, index) => {
            const pointer = wasm._cs_result_data(handle, index);
            // slice(): a copy that stays valid when WASM memory grows or the
            // next run replaces these results.
            const data = wasm.HEAPF32.slice(pointer >> 2, (pointer >> 2) + info.size);
            const tensor = { shape: info.shape, data };
            if (info.kind === 'output') {
                result.outputs[info.name] = tensor;
                if (result.output === null) result.output = { name: info.name, ...tensor };
            } else {
                result.activations[info.name] = tensor;
            }
        });
        wasm._cs_result_clear(handle);
        return result;
    }

    free(handle) {
        this.#wasm._cs_model_free(handle);
    }

    #string(pointer) {
        if (pointer === 0) this.#fail('');
        return this.#wasm.UTF8ToString(pointer);
    }

    #withString(text, body) {
        const wasm = this.#wasm;
        const size = wasm.lengthBytesUTF8(text) + 1;
        const pointer = wasm._malloc(size);
        try {
            wasm.stringToUTF8(text, pointer, size);
            return body(pointer);
        } finally {
            wasm._free(pointer);
        }
    }

    #fail(prefix) {
        throw new ConvScopeError(prefix + this.#wasm.UTF8ToString(this.#wasm._cs_last_error()));
    }
}

export default async function createConvScope(options = {}) {
    const wasmUrl = options.wasmUrl ?? new URL('./convscope_engine_wasm.wasm', import.meta.url);
    const moduleArgs = {
        locateFile: (file) => (file.endsWith('.wasm') ? String(wasmUrl) : file),
        print: options.print ?? (() => {}),
        printErr: options.printErr ?? ((text) => console.warn(`convscope: ${text}`)),
    };
    if (options.wasmBinary) {
        moduleArgs.wasmBinary = options.wasmBinary;
    } else if (isNode && String(wasmUrl).startsWith('file:')) {
        moduleArgs.wasmBinary = await readWasmInNode(new URL(String(wasmUrl)));
    }
    const wasm = await createConvScopeEngineWasm(moduleArgs);
    return new ConvScope(wasm);
}
