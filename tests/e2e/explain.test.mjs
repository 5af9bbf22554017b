// Browser end-to-end test of the Explanations panel: fashion_deep.h5 (fetched
// from the built site's assets) explains one Fashion-MNIST sample with all six
// methods; the maps are 28x28, Grad-CAM's is not constant, saliency and
// Grad-CAM equal what the native CLI (`convscope explain`) writes for the
// same PNG; the timings the hook reports are printed (goals: saliency and
// Grad-CAM < 50 ms, 4x4 occlusion < 1 s); a filter visualisation forms over
// frames while the page keeps drawing.
//
//   node --test tests/e2e/explain.test.mjs
//   (CONVSCOPE_DIST=<dist dir>, CONVSCOPE_CLI=<convscope binary> to test other builds)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';
import { chromiumArgs, dropOnCanvas, readNpyFloat32, distDir, outputDir, repoRoot, cliPath as cli } from './support.mjs';

const deepModel = path.join(repoRoot, 'assets/models/fashion_deep.h5');
const samplesJson = path.join(repoRoot, 'assets/images/fashion_samples.json');
const methods = ['saliency', 'smoothgrad', 'ig', 'gradcam', 'gradcam++', 'occlusion'];

let server;
let userDataDir;
let context;
let page;
let scratch;
let samplePng;
const pageErrors = [];

async function state() {
    return page.evaluate(() => window.convscope.state());
}

// Polls the hook from Node: the page's Content-Security-Policy forbids the
// string evaluation page.waitForFunction would need.
async function waitForState(predicateSource, timeout = 30000) {
    const predicate = (0, eval)(`(${predicateSource})`);
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
        last = await state();
        if (last && predicate(last)) return last;
        if (Date.now() > deadline) {
            const { inspect, ...rest } = last || {};
            throw new Error(`timed out waiting for ${predicateSource}; explain state: ${JSON.stringify(rest.explain || rest).slice(0, 1500)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

async function inspect(command) {
    const problem = await page.evaluate((c) => window.convscope.inspect(c), command);
    assert.equal(problem, '', `inspect(${JSON.stringify(command)}) failed: ${problem}`);
}

// Largest difference relative to the expected map's largest magnitude.
function relativeDifference(shown, expected) {
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < expected.length; ++i) {
        worst = Math.max(worst, Math.abs(shown[i] - expected[i]));
        scale = Math.max(scale, Math.abs(expected[i]));
    }
    assert.ok(scale > 0, 'the expected map is all zeros');
    return worst / scale;
}

before(async () => {
    assert.ok(existsSync(path.join(distDir, 'index.html')), `no built site in ${distDir}`);
    assert.ok(existsSync(cli), `no native CLI at ${cli}: build it first (scripts/test does)`);
    mkdirSync(outputDir, { recursive: true });
    scratch = mkdtempSync(path.join(tmpdir(), 'convscope-explain-'));
    server = await startServer({ root: distDir, port: 0 });
    userDataDir = mkdtempSync(path.join(tmpdir(), 'convscope-e2e-'));
    context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: chromiumArgs,
        viewport: { width: 1400, height: 900 },
        deviceScaleFactor: 1,
    });
    page = context.pages()[0] || await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('console', (message) => {
        if (message.type() === 'error') pageErrors.push(`${message.type()}: ${message.text()}`);
    });
});

after(async () => {
    if (context) await context.close();
    if (server) await server.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('fashion_deep.h5 from the site and a sample picture as PNG open in the app', async () => {
    await page.goto(server.url);
    await waitForState('(s) => s.ready && s.model && s.inspect && s.inspect.samples', 60000);
    // The model through the page's own hook, fetched from the site's assets.
    const size = await page.evaluate(async () => {
        const response = await fetch('assets/models/fashion_deep.h5');
        if (!response.ok) throw new Error(`fetch: HTTP ${response.status}`);
        const bytes = new Uint8Array(await response.arrayBuffer());
        window.convscope.openBytes('fashion_deep.h5', bytes);
        return bytes.length;
    });
    assert.equal(size, readFileSync(deepModel).length);
    await waitForState("(s) => s.model && s.model.file.name === 'fashion_deep.h5' && s.inspect.engine_error === null");

    // The first ankle boot of the sample sprite, cut out by the browser into a
    // PNG; the same PNG goes to the app (dropped) and to the CLI.
    const description = JSON.parse(readFileSync(samplesJson, 'utf8'));
    const boot = description.labels.indexOf(9);
    assert.ok(boot >= 0);
    const base64 = await page.evaluate(async ({ tile, columns, width, height }) => {
        const response = await fetch('assets/images/fashion_samples.png');
        const bitmap = await createImageBitmap(await response.blob());
        const canvas = document.createElement('canvas');
        canvas.width = width;
        canvas.height = height;
        canvas.getContext('2d').drawImage(bitmap, (tile % columns) * width, Math.floor(tile / columns) * height, width, height, 0, 0, width, height);
        return canvas.toDataURL('image/png').split(',')[1];
    }, { tile: boot, columns: description.columns, width: description.tile_width, height: description.tile_height });
    samplePng = path.join(scratch, 'boot.png');
    writeFileSync(samplePng, Buffer.from(base64, 'base64'));
    await dropOnCanvas(page, 'boot.png', readFileSync(samplePng));
    const s = await waitForState(`(s) => s.inspect.current_image >= 0 &&
        s.inspect.images[s.inspect.current_image].name === 'boot.png' && s.inspect.prediction`);
    assert.equal(s.inspect.preprocessing.height, 28);
    assert.equal(s.inspect.preprocessing.width, 28);
});

test('all six methods are computed over frames, 28x28, and match the CLI', async () => {
    const before = await state();
    await inspect({ panel: 'Explanations', explain: { class: -1 } });
    const s = await waitForState('(s) => s.explain && s.explain.completed === 6', 120000);
    const predicted = before.inspect.prediction.top[0].class;
    assert.equal(s.explain.class, predicted, 'the default class is the prediction');
    assert.equal(s.explain.error, null);
    for (const id of methods) {
        const m = s.explain.methods[id];
        assert.ok(m.done && !m.error, `${id}: ${JSON.stringify(m.error)}`);
        assert.deepEqual(m.shape, [28, 28], id);
        assert.equal(m.values.length, 28 * 28, id);
        assert.ok(Number.isFinite(m.sum) && m.frames >= 1, id);
    }
    const gradcam = s.explain.methods.gradcam;
    assert.ok(gradcam.max > gradcam.min, `Grad-CAM map is constant (${gradcam.min})`);
    assert.equal(s.explain.gradcam_layer.length > 0, true);
    // Long methods were spread over several frames (progress shown between).
    assert.ok(s.explain.methods.occlusion.frames > 1, 'occlusion ran in one frame');
    assert.ok(s.explain.methods.ig.frames > 1, 'IG ran in one frame');

    // The same picture through the native CLI.
    const prep = s.inspect.preprocessing;
    const flags = ['--class', String(predicted)];
    if (prep.invert) flags.push('--invert');
    for (const [id, extra] of [['saliency', []], ['gradcam', ['--layer', s.explain.gradcam_layer]],
                               ['gradcam++', ['--layer', s.explain.gradcam_layer]], ['ig', ['--steps', '32']],
                               ['occlusion', ['--window', '4', '--stride', '4', '--fill', '0']]]) {
        const out = path.join(scratch, `${id.replace('+', 'p')}.npy`);
        execFileSync(cli, ['explain', deepModel, samplePng, '--method', id, ...flags, ...extra, '--out', out]);
        const expected = readNpyFloat32(out);
        assert.deepEqual(expected.shape, [28, 28], id);
        const difference = relativeDifference(s.explain.methods[id].values, expected.values);
        console.log(`# ${id}: browser vs CLI largest relative difference ${difference.toExponential(2)}`);
        assert.ok(difference < 1e-3, `${id}: relative difference ${difference}`);
    }

    const ms = (id) => s.explain.methods[id].ms.toFixed(1);
    console.log(`# browser timings on fashion_deep.h5 (ms): gradient engine build ${s.explain.gradient_build_ms.toFixed(1)}, ` +
                `saliency ${ms('saliency')}, Grad-CAM ${ms('gradcam')}, Grad-CAM++ ${ms('gradcam++')}, ` +
                `SmoothGrad(16) ${ms('smoothgrad')}, IG(32) ${ms('ig')}, occlusion 4x4 ${ms('occlusion')} ` +
                `(over ${s.explain.methods.occlusion.frames} frames)`);
    // Generous bounds (5x the goals) so a slow shared machine does not fail the test, a pathology does.
    assert.ok(s.explain.methods.saliency.ms < 250 && s.explain.methods.gradcam.ms < 250);
    assert.ok(s.explain.methods.occlusion.ms < 5000);

    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(outputDir, 'explain.png') });
});

test('another class recomputes the maps', async () => {
    const s0 = await state();
    const other = (s0.explain.class + 1) % 10;
    await inspect({ explain: { class: other } });
    const s = await waitForState(`(s) => s.explain.class === ${other} && s.explain.completed === 6`, 120000);
    assert.notEqual(s.explain.methods.saliency.fnv1a, s0.explain.methods.saliency.fnv1a);
    // The first run above also paid the gradient engine's one-off operator
    // probes (cached per input shape); these are the steady-state times.
    const ms = (id) => s.explain.methods[id].ms.toFixed(1);
    console.log(`# browser timings, second class (ms): saliency ${ms('saliency')}, Grad-CAM ${ms('gradcam')}, ` +
                `Grad-CAM++ ${ms('gradcam++')}, SmoothGrad(16) ${ms('smoothgrad')}, IG(32) ${ms('ig')}, occlusion 4x4 ${ms('occlusion')}`);
    assert.ok(s.explain.methods.saliency.ms < 250 && s.explain.methods.gradcam.ms < 250);
});

test('a filter visualisation forms over frames while the page keeps drawing', async () => {
    const idle = await state();
    await page.waitForTimeout(1000);
    const s0 = await state();
    const idleFrames = s0.frame - idle.frame;
    const layer = s0.explain.conv_layers[s0.explain.conv_layers.length - 1];
    await inspect({ panel: 'Explanations', explain: { filter: { layer, channel: 3, steps: 100000 } } });
    const first = await waitForState('(s) => s.explain.filter.step >= 4');
    await page.waitForTimeout(1000);
    const second = await state();
    assert.ok(second.explain.filter.running, JSON.stringify(second.explain.filter));
    assert.ok(second.explain.filter.step > first.explain.filter.step, 'the step count grows');
    const frames = second.frame - first.frame;
    const steps = second.explain.filter.step - first.explain.filter.step;
    console.log(`# filter visualisation ${layer}/3: ${steps} steps in ${frames} frames over 1 s (${idleFrames} frames in 1 s before it); ` +
                `target ${first.explain.filter.initial_objective.toFixed(3)} -> ${second.explain.filter.objective.toFixed(3)}`);
    assert.ok(frames >= Math.min(5, idleFrames), `only ${frames} frames in a second while visualising (${idleFrames} before)`);
    assert.ok(second.explain.filter.objective > second.explain.filter.initial_objective, 'the target activation grows');
    assert.deepEqual(second.explain.filter.picture_shape, [28, 28]);
    await page.screenshot({ path: path.join(outputDir, 'explain-filter.png') });
    await inspect({ explain: { stop_filter: true } });
    const stopped = await waitForState('(s) => !s.explain.filter.running');
    await page.waitForTimeout(200);
    assert.equal((await state()).explain.filter.step, stopped.explain.filter.step);
    assert.deepEqual(pageErrors, []);
});
