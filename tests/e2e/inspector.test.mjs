// Browser end-to-end test of the inspector panels: the default page opens the
// bundled demo model and the sample images by itself; the first convolution's
// weights are listed; kernel responses for two samples x two kernels, read
// through the test hook, equal what the native CLI (`convscope response`)
// writes for the same inputs; a real corpus model opens and predicts; a
// garbage file is refused while the app keeps working.
//
//   node --test tests/e2e/inspector.test.mjs
//   (CONVSCOPE_DIST=<dist dir>, CONVSCOPE_CLI=<convscope binary> to test other builds)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';
import { chromiumArgs, dropOnCanvas, readNpyFloat32, distDir, outputDir, repoRoot, cliPath as cli } from './support.mjs';

const corpusKeras = path.resolve(repoRoot, '../shared/corpus/Aman-21k_cnn-fashion-mnist-classifier__model.keras');
const demoModel = path.join(repoRoot, 'assets/models/fashion_small.h5');
const samplesJson = path.join(repoRoot, 'assets/images/fashion_samples.json');

let server;
let userDataDir;
let context;
let page;
let scratch;
const pageErrors = [];

async function state() {
    return page.evaluate(() => window.convscope.state());
}

// The page's Content-Security-Policy forbids eval, which a string predicate
// would need; a function built here travels as a function instead.
async function waitForState(predicateSource, timeout = 30000) {
    const predicate = new Function(`return (${predicateSource})(window.convscope.state());`);
    await page.waitForFunction(predicate, null, { timeout });
    return state();
}

async function inspect(command) {
    const problem = await page.evaluate((c) => window.convscope.inspect(c), command);
    assert.equal(problem, '', `inspect(${JSON.stringify(command)}) failed: ${problem}`);
}

before(async () => {
    assert.ok(existsSync(path.join(distDir, 'index.html')), `no built site in ${distDir}`);
    assert.ok(existsSync(cli), `no native CLI at ${cli}: build it first (scripts/test does)`);
    mkdirSync(outputDir, { recursive: true });
    scratch = mkdtempSync(path.join(tmpdir(), 'convscope-inspector-'));
    server = await startServer({ root: distDir, port: 0 });
    userDataDir = mkdtempSync(path.join(tmpdir(), 'convscope-e2e-'));
    context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: chromiumArgs,
        viewport: { width: 1400, height: 900 },
        deviceScaleFactor: 1,
        acceptDownloads: true,
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

test('the default page opens the demo model and the sample images without user action', async () => {
    await page.goto(server.url);
    const ready = await waitForState(
        '(s) => s.ready && s.model && s.inspect && s.inspect.samples && s.inspect.prediction', 60000);
    assert.equal(ready.model.file.name, path.basename(demoModel));
    assert.equal(ready.model.file.size, readFileSync(demoModel).length);
    assert.equal(ready.inspect.samples.count, JSON.parse(readFileSync(samplesJson, 'utf8')).count);
    assert.ok(ready.inspect.images.length >= 2, 'two sample images are preselected');
    assert.equal(ready.inspect.engine_error, null);
    assert.equal(ready.inspect.preprocessing.height, 28);
    assert.equal(ready.inspect.preprocessing.channels, 1);
});

test('the first convolution is selected and lists a 3x3x1x5 kernel', async () => {
    await inspect({ layer: 'conv2d' });
    const s = await waitForState("(s) => s.inspect.layer && s.inspect.layer.name === 'conv2d'");
    const kernel = s.inspect.layer.weights.find((w) => /kernel/.test(w.name));
    assert.ok(kernel, `weights: ${JSON.stringify(s.inspect.layer.weights)}`);
    assert.deepEqual(kernel.shape, [3, 3, 1, 5]);
    assert.equal(kernel.shape_text, '3x3x1x5');
    assert.equal(kernel.dtype, 'float32');
    const bias = s.inspect.layer.weights.find((w) => /bias/.test(w.name));
    assert.deepEqual(bias.shape, [5]);
    assert.equal(s.inspect.layer.kernels, 5);

    // Keyboard: Down moves to the next layer, Up back; Right to the next kernel.
    // ImGui 1.86 reads key state once per frame, so each key is held for a
    // few frames rather than tapped.
    await page.click('#canvas', { position: { x: 700, y: 885 } });  // focus the canvas (status line)
    const press = async (key) => {
        await page.keyboard.down(key);
        await page.waitForTimeout(120);
        await page.keyboard.up(key);
    };
    await press('ArrowDown');
    const down = await waitForState("(s) => s.inspect.layer.name !== 'conv2d'");
    assert.equal(down.inspect.layer.index, s.inspect.layer.index + 1);
    await press('ArrowUp');
    await waitForState("(s) => s.inspect.layer.name === 'conv2d'");
    await press('ArrowRight');
    const right = await waitForState('(s) => s.inspect.kernel === 1');
    assert.equal(right.inspect.kernel, 1);
    await inspect({ panel: 'Weights' });
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(outputDir, 'inspector-weights.png') });
});

test('kernel responses for shoe and t-shirt x kernels 0 and 1 equal the CLI output', async () => {
    const description = JSON.parse(readFileSync(samplesJson, 'utf8'));
    const shoe = description.labels.indexOf(9);     // first "Ankle boot"
    const tshirt = description.labels.indexOf(0);   // first "T-shirt/top"
    assert.ok(shoe >= 0 && tshirt >= 0);
    await inspect({ layer: 'conv2d', channel: -1, layer_output: false, samples: [shoe, tshirt] });
    let s = await state();
    const positions = [shoe, tshirt].map((n) => s.inspect.images.findIndex((image) => image.sample_index === n));
    assert.ok(positions.every((p) => p >= 0));
    await inspect({ compare: true, compare_images: positions, compare_kernels: [0, 1], image: positions[0] });
    s = await waitForState(`(s) => s.inspect.responses.filter((r) => !r.layer_output && r.channel === -1 &&
        [${shoe}, ${tshirt}].includes(r.sample_index) && [0, 1].includes(r.kernel)).length === 4`);
    for (const sample of [shoe, tshirt]) {
        for (const kernel of [0, 1]) {
            const shown = s.inspect.responses.find((r) => r.sample_index === sample && r.kernel === kernel &&
                                                          r.channel === -1 && !r.layer_output);
            const out = path.join(scratch, `r_${sample}_${kernel}.npy`);
            execFileSync(cli, ['response', demoModel, '--sample', String(sample), '--samples', samplesJson,
                               '--layer', 'conv2d', '--kernel', String(kernel), '--out', out]);
            const expected = readNpyFloat32(out);
            assert.deepEqual(shown.shape, expected.shape, `sample ${sample} kernel ${kernel}`);
            assert.deepEqual(shown.shape, [26, 26]);
            assert.equal(shown.values.length, expected.values.length);
            let worst = 0;
            let energy = 0;
            for (let i = 0; i < expected.values.length; ++i) {
                worst = Math.max(worst, Math.abs(shown.values[i] - expected.values[i]));
                energy += Math.abs(expected.values[i]);
            }
            assert.ok(worst < 1e-5, `sample ${sample} kernel ${kernel}: largest difference ${worst}`);
            assert.ok(energy > 0, 'the response is not all zeros');
        }
    }
    // The toggle: the layer's real output channel (bias + ReLU) differs from the bare response.
    await inspect({ layer_output: true });
    const withOutput = await waitForState(`(s) => s.inspect.responses.some((r) => r.layer_output && r.sample_index === ${shoe})`);
    const real = withOutput.inspect.responses.find((r) => r.layer_output && r.sample_index === shoe && r.kernel === 1);
    assert.ok(real && real.min >= 0, 'ReLU output is never negative');
    await inspect({ layer_output: false, panel: 'Kernel response' });
    await page.waitForTimeout(300);
    const shot = await page.screenshot({ path: path.join(outputDir, 'inspector-compare.png') });
    assert.ok(shot.length > 10000);
});

test('an exported response and kernel arrive as browser downloads', async () => {
    await inspect({ compare: false, kernel: 1, channel: -1, layer_output: false });
    const s = await waitForState(`(s) => s.inspect.responses.some((r) => r.kernel === 1 && !r.layer_output &&
        r.sample_index === s.inspect.images[s.inspect.current_image].sample_index)`);
    const current = s.inspect.images[s.inspect.current_image];
    const shown = s.inspect.responses.find((r) => r.kernel === 1 && !r.layer_output && r.sample_index === current.sample_index);

    let download = page.waitForEvent('download', { timeout: 10000 });
    await inspect({ save: 'response.npy' });
    let file = await download;
    assert.match(file.suggestedFilename(), /^conv2d_k1_.*\.npy$/);
    const saved = readNpyFloat32(await file.path());
    assert.deepEqual(saved.shape, shown.shape);
    assert.deepEqual(Array.from(saved.values), shown.values.map((v) => Math.fround(v)));

    download = page.waitForEvent('download', { timeout: 10000 });
    await inspect({ save: 'kernel.png' });
    file = await download;
    assert.match(file.suggestedFilename(), /\.png$/);
    const png = readFileSync(await file.path());
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    const after = await state();
    assert.ok(after.downloads.count >= 2);
});

test('a real corpus model opens, lists its layers and predicts', async () => {
    const bytes = readFileSync(corpusKeras);
    await dropOnCanvas(page, path.basename(corpusKeras), bytes);
    const s = await waitForState(`(s) => s.model && s.model.file.name === ${JSON.stringify(path.basename(corpusKeras))} &&
        s.inspect.prediction`, 60000);
    const summary = JSON.parse(execFileSync(cli, ['summary', corpusKeras, '--json']).toString());
    assert.equal(s.model.layers, summary.layers.length);
    assert.equal(s.inspect.layer.name, 'conv2d');
    assert.deepEqual(s.inspect.layer.weights.find((w) => /kernel/.test(w.name)).shape, [3, 3, 1, 32]);
    const top = s.inspect.prediction.top;
    assert.equal(top.length, 5);
    const total = top.reduce((sum, entry) => sum + entry.probability, 0);
    assert.ok(top[0].probability > 0 && total <= 1.0001, JSON.stringify(top));
    // A Fashion-MNIST model: the labels are the data set's names.
    assert.ok(description_has(top[0].label), `label ${top[0].label}`);
    await inspect({ panel: 'Feature maps', layer: 'conv2d_1' });
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(outputDir, 'inspector-corpus.png') });
    await inspect({ layer: 'conv2d' });
});

function description_has(label) {
    return JSON.parse(readFileSync(samplesJson, 'utf8')).class_names.includes(label);
}

test('a garbage file shows an error and the inspector keeps working', async () => {
    const before = await state();
    const garbage = Buffer.from('this is not a model, just forty-odd bytes of text\n');
    await dropOnCanvas(page, 'garbage.onnx', garbage);
    const after = await waitForState("(s) => s.file && s.file.name === 'garbage.onnx'");
    assert.ok(after.error && after.error.length > 10, `error: ${after.error}`);
    assert.equal(after.model.file.name, before.model.file.name, 'the previous model stays');
    await inspect({ kernel: 2 });
    const later = await waitForState(`(s) => s.frame > ${after.frame + 5} && s.inspect.kernel === 2`);
    assert.equal(later.inspect.layer.name, 'conv2d');
    await page.screenshot({ path: path.join(outputDir, 'inspector-garbage.png') });
});

test('a picture dropped on the page joins the images instead of replacing the model', async () => {
    const png = readFileSync(path.join(repoRoot, 'assets/images/rgb_shoe.png'));
    const before = await state();
    await dropOnCanvas(page, 'rgb_shoe.png', png);
    const after = await waitForState(`(s) => s.inspect.images.length === ${before.inspect.images.length + 1}`);
    const added = after.inspect.images[after.inspect.current_image];
    assert.equal(added.name, 'rgb_shoe.png');
    assert.equal(added.sample_index, -1);
    assert.equal(added.shape[2], 3);
    assert.equal(after.model.file.name, before.model.file.name);
    await waitForState('(s) => s.inspect.prediction && s.inspect.prediction.image === "rgb_shoe.png"');
    await inspect({ panel: 'Images' });
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(outputDir, 'inspector-images.png') });
});

test('a labels .txt dropped on the page names the prediction classes', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `label-${i}-x`);
    await dropOnCanvas(page, 'my_labels.txt', Buffer.from(names.join('\r\n') + '\n'));
    const s = await waitForState("(s) => s.inspect.labels_source === 'my_labels.txt' && s.inspect.prediction");
    for (const entry of s.inspect.prediction.top) assert.equal(entry.label, names[entry.class]);
    assert.notEqual(s.model, null, 'the labels did not replace the model');
});

test('no script errors on the page', () => {
    assert.deepEqual(pageErrors, []);
});
