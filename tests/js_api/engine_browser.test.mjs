// The engine's JS API in a real page: Debian's Chromium (via playwright-core)
// imports convscope_engine.mjs over HTTP, as the app's page or an embedding
// page would, loads a fixture and runs it. The result must equal what the
// same module computes under Node (which engine_api.test.mjs checks against
// the native CLI), and errors must arrive as ConvScopeError.
//
// Run: node --test tests/js_api/   (CONVSCOPE_ENGINE_DIR as in engine_api.test.mjs)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, before, after } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

import { startServer } from '../e2e/serve.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function engineDirectory() {
    if (process.env.CONVSCOPE_ENGINE_DIR) return path.resolve(process.env.CONVSCOPE_ENGINE_DIR);
    const found = ['build/wasm/engine', 'build/bench/wasm/engine'].map((c) => path.join(root, c))
        .find((c) => fs.existsSync(path.join(c, 'convscope_engine.mjs')));
    if (!found) throw new Error('no engine module in build/wasm/engine or build/bench/wasm/engine; set CONVSCOPE_ENGINE_DIR or run scripts/bench');
    return found;
}

let server;
let context;
let userDataDir;

before(async () => {
    server = await startServer({ root, port: 0 });
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'convscope-js-api-browser-'));
    context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking',
               '--disable-component-update', '--disable-sync'],
    });
});

after(async () => {
    if (context) await context.close();
    if (server) await server.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

test('the page imports the engine, loads an ONNX fixture and matches Node', async () => {
    const engineDir = engineDirectory();
    const relativeEngine = path.relative(root, engineDir).split(path.sep).join('/');
    assert.ok(!relativeEngine.startsWith('..'), `the engine module must be inside the checkout to be served: ${engineDir}`);
    const fixture = 'tests/fixtures/onnx/residual_opset13.onnx';

    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    // Any same-origin document will do; the test drives the page from evaluate().
    await page.goto(`${server.url}/tests/js_api/`);
    const fromBrowser = await page.evaluate(async ({ moduleUrl, modelUrl }) => {
        const { default: createConvScope } = await import(moduleUrl);
        const cs = await createConvScope();
        const bytes = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
        const model = cs.load(bytes, 'residual.onnx');
        const count = model.inputShape.reduce((a, b) => a * b, 1);
        const input = Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.1));
        const out = model.run(input, { capture: [model.layers[0].name] });
        let error = null;
        try {
            cs.load(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 'junk.bin');
        } catch (e) {
            error = { name: e.name, message: e.message };
        }
        model.dispose();
        return {
            layers: model.layers.map((l) => l.name),
            inputShape: model.inputShape,
            output: { shape: out.output.shape, data: Array.from(out.output.data) },
            activationShape: out.activations[model.layers[0].name].shape,
            error,
            simd: typeof WebAssembly.validate === 'function',
        };
    }, { moduleUrl: `${server.url}/${relativeEngine}/convscope_engine.mjs`, modelUrl: `${server.url}/${fixture}` });
    assert.deepEqual(pageErrors, []);

    const { default: createConvScope } = await import(pathToFileURL(path.join(engineDir, 'convscope_engine.mjs')).href);
    const cs = await createConvScope();
    const model = cs.load(fs.readFileSync(path.join(root, fixture)), 'residual.onnx');
    const count = model.inputShape.reduce((a, b) => a * b, 1);
    const input = Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.1));
    const out = model.run(input, { capture: [model.layers[0].name] });

    assert.deepEqual(fromBrowser.layers, model.layers.map((l) => l.name));
    assert.deepEqual(fromBrowser.inputShape, model.inputShape);
    assert.deepEqual(fromBrowser.output.shape, out.output.shape);
    assert.deepEqual(fromBrowser.activationShape, out.activations[model.layers[0].name].shape);
    // Same WASM binary, same input: bit-identical results.
    assert.deepEqual(fromBrowser.output.data, Array.from(out.output.data));
    assert.equal(fromBrowser.error?.name, 'ConvScopeError');
    assert.match(fromBrowser.error.message, /junk\.bin/);
    model.dispose();
});

// Threads in a page: an isolated page (serve.mjs sends COOP/COEP) runs the
// threaded module when it is there; a page without the headers runs one
// thread and says why. Both give the Node output bit for bit.
test('threads: an isolated page uses worker threads, a plain page one thread, same output', async () => {
    const engineDir = engineDirectory();
    const relativeEngine = path.relative(root, engineDir).split(path.sep).join('/');
    const fixture = 'tests/fixtures/onnx/residual_opset13.onnx';
    const hasThreaded = fs.existsSync(path.join(engineDir, 'convscope_engine_mt_wasm.mjs'));
    const plainServer = await startServer({ root, port: 0, isolation: false });
    try {
        const results = {};
        for (const [kind, base] of [['isolated', server.url], ['plain', plainServer.url]]) {
            const page = await context.newPage();
            const pageErrors = [];
            page.on('pageerror', (error) => pageErrors.push(String(error)));
            await page.goto(`${base}/tests/js_api/`);
            results[kind] = await page.evaluate(async ({ moduleUrl, modelUrl }) => {
                const { default: createConvScope } = await import(moduleUrl);
                const cs = await createConvScope({ threads: 2 });
                const model = cs.load(new Uint8Array(await (await fetch(modelUrl)).arrayBuffer()), 'residual.onnx');
                const count = model.inputShape.reduce((a, b) => a * b, 1);
                const input = Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.1));
                const output = Array.from(model.run(input).output.data);
                model.dispose();
                return { isolated: self.crossOriginIsolated, threads: cs.threads, note: cs.threadsNote, output };
            }, { moduleUrl: `${base}/${relativeEngine}/convscope_engine.mjs`, modelUrl: `${base}/${fixture}` });
            assert.deepEqual(pageErrors, [], kind);
            await page.close();
        }
        assert.equal(results.isolated.isolated, true, 'serve.mjs makes the page cross-origin isolated');
        assert.equal(results.plain.isolated, false);
        assert.equal(results.plain.threads, 1);
        assert.match(results.plain.note, /isolated|SharedArrayBuffer/);
        if (hasThreaded) assert.equal(results.isolated.threads, 2, results.isolated.note);
        else assert.match(results.isolated.note, /threaded module/);
        assert.deepEqual(results.isolated.output, results.plain.output);
    } finally {
        await plainServer.close();
    }
});
