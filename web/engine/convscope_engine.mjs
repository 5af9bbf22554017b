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
//   wasmBinary   ArrayBuffer/Uint8Array of convscope_engine_wasm.wasm (skips fetching;
//                implies the single-threaded module)
//   wasmUrl      where to fetch the .wasm from (default: next to this file)
//   threads      worker threads for the kernels (default: the machine's cores,
//                navigator.hardwareConcurrency or os.availableParallelism(),
//                capped at 8). Results are bit-identical for any count.
//                More than one needs the threaded module beside this file
//                (convscope_engine_mt_wasm.mjs/.wasm/.worker.js) and
//                SharedArrayBuffer: Node has it; a page must be cross-origin
//                isolated (COOP/COEP headers, see docs/hosting.md). Without
//                them the engine runs on one thread and says why in
//                cs.threadsNote; it never fails for want of threads.
// cs.threads is the count in effect, cs.maxThreads the module's limit,
// cs.setThreads(n) changes it.

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

// A view of the module's whole memory as it is now. In the threaded module
// a worker thread may grow the memory, which the glue's HEAP* views on this
// thread do not see, so views are made from the memory itself.
function heapView(wasm, Type) {
    const buffer = wasm.wasmMemory ? wasm.wasmMemory.buffer : wasm.HEAPU8.buffer;
    return new Type(buffer);
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
        heapView(wasm, Uint8Array).set(view, buffer);
        const handle = this.#withString(name, (namePointer) => wasm._cs_model_load(namePointer));
        if (handle === 0) this.#fail('');  // the core's message names the file
        const info = JSON.parse(this.#string(wasm._cs_model_info_json(handle)));
        return new ConvScopeModel(this, handle, info);
    }

    // Changes the kernels' thread count (1..maxThreads; a single-threaded
    // module stays at 1) and returns the count in effect.
    setThreads(threads) {
        const wasm = this.#wasm;
        this.threads = wasm._cs_set_threads ? wasm._cs_set_threads(Math.max(1, Math.floor(threads))) : 1;
        // In Node the pool's worker threads would keep the process alive
        // after the program's last line; unref() lets it exit as usual.
        const pthreads = wasm.PThread;
        if (isNode && pthreads) {
            for (const worker of [...(pthreads.runningWorkers || []), ...(pthreads.unusedWorkers || [])]) {
                if (worker && typeof worker.unref === 'function') worker.unref();
            }
        }
        return this.threads;
    }

    // Bytes of WebAssembly memory the engine holds (it grows, never shrinks).
    get memoryBytes() { return heapView(this.#wasm, Uint8Array).length; }
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
            heapView(wasm, Float32Array).set(data, inputPointer >> 2);
            heapView(wasm, Int32Array).set(Int32Array.from(shape), shapePointer >> 2);
            count = this.#withString(JSON.stringify(runOptions),
                (optionsPointer) => wasm._cs_model_run(handle, inputPointer, shapePointer, shape.length, optionsPointer));
        } finally {
            wasm._free(inputPointer);
            wasm._free(shapePointer);
        }
        if (count < 0) this.#fail('');
        const infos = JSON.parse(this.#string(wasm._cs_result_info_json(handle)));
        const result = { output: null, outputs: {}, activations: {} };
        const heap = heapView(wasm, Float32Array);
        infos.forEach((info, index) => {
            const pointer = wasm._cs_result_data(handle, index);
            // slice(): a copy that stays valid when WASM memory grows or the
            // next run replaces these results.
            const data = heap.slice(pointer >> 2, (pointer >> 2) + info.size);
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

export const maxDefaultThreads = 8;

async function machineThreads() {
    if (isNode) {
        const os = await import('node:os');
        return os.availableParallelism ? os.availableParallelism() : os.cpus().length;
    }
    return (typeof navigator === 'object' && navigator.hardwareConcurrency) || 1;
}

// Why this environment cannot run the threaded module ('' when it can).
function threadsUnavailableReason() {
    if (typeof SharedArrayBuffer !== 'function') {
        return 'SharedArrayBuffer is not available (the page is not cross-origin isolated; see docs/hosting.md)';
    }
    if (!isNode && globalThis.crossOriginIsolated !== true) {
        return 'the page is not cross-origin isolated (no COOP/COEP headers; see docs/hosting.md)';
    }
    return '';
}

async function loadModule(threaded, options) {
    const stem = threaded ? 'convscope_engine_mt_wasm' : 'convscope_engine_wasm';
    const wasmUrl = (!threaded && options.wasmUrl) || new URL(`./${stem}.wasm`, import.meta.url);
    const localUrl = (file) => {
        if (file.endsWith('.wasm')) return String(wasmUrl);
        const url = new URL(`./${file}`, import.meta.url);
        // Node's Worker takes a path, not a file: URL string.
        return isNode && url.protocol === 'file:' ? decodeURIComponent(url.pathname) : String(url);
    };
    const moduleArgs = {
        locateFile: localUrl,
        print: options.print ?? (() => {}),
        printErr: options.printErr ?? ((text) => console.warn(`convscope: ${text}`)),
    };
    if (!threaded && options.wasmBinary) {
        moduleArgs.wasmBinary = options.wasmBinary;
    } else if (isNode && String(wasmUrl).startsWith('file:')) {
        moduleArgs.wasmBinary = await readWasmInNode(new URL(String(wasmUrl)));
    }
    if (threaded) moduleArgs.mainScriptUrlOrBlob = localUrl(`${stem}.mjs`);
    const factory = (await import(`./${stem}.mjs`)).default;
    return factory(moduleArgs);
}

export default async function createConvScope(options = {}) {
    const wanted = Math.max(1, Math.floor(options.threads ?? Math.min(await machineThreads(), maxDefaultThreads)));
    let note = '';
    let wasm = null;
    if (wanted > 1 && !options.wasmBinary) {
        note = threadsUnavailableReason();
        if (!note) {
            try {
                wasm = await loadModule(true, options);
            } catch (error) {
                note = `the threaded module did not load (${error && error.message ? error.message : error})`;
            }
        }
    } else if (wanted > 1) {
        note = 'wasmBinary was given: the single-threaded module runs';
    }
    if (!wasm) wasm = await loadModule(false, options);
    const engine = new ConvScope(wasm);
    engine.setThreads(wanted);
    engine.maxThreads = wasm._cs_max_threads ? wasm._cs_max_threads() : 1;
    engine.threadsNote = engine.threads < wanted && !note
        ? `the module allows at most ${engine.maxThreads} threads` : note;
    return engine;
}
