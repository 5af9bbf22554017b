// Measures opening large models in the web app in headless Chromium: for
// each file and each way a file reaches the app, the wall time from the
// start to "model loaded" (the hook's state names the model), split into
// getting the bytes into WASM memory (the browser reading the file or the
// download) and the app's open call (convscope_open_file_buffer: CRC,
// the model reader, and the engine build that packs the weights), the WASM
// memory before and after (Module.HEAPU8.buffer.byteLength; WASM memory
// never shrinks, so "after" is the high-water mark of the open), and the JS
// heap (performance.memory, peak sampled every 10 ms, and after a GC; V8
// does not count ArrayBuffer contents there), and the page's renderer
// process's resident memory from /proc (VmHWM, its peak, which does count
// every copy of the file the tab made: JS, WASM, the browser's own).
// It prints figures; it is not a test (docs/reliability.md section 4).
//
//   /usr/bin/python3 scripts/make_large_model.py        # build/large-models/
//   NODE_PATH=/usr/share/nodejs node scripts/measure_large_open.mjs \
//       [--dist build/wasm/dist] [--repeat 2] [FILE...]
//
// Ways a file arrives (each in a fresh page, ?demo=none):
//   drop      the file chooser with the file on disk (a real File, which
//             the page streams into WASM memory in 8 MB slices)
//   url       window.convscope.openUrl(URL), the ?model=URL path (the
//             fetch body streams into WASM memory)
//   bytes     fetch + arrayBuffer() + window.convscope.openBytes: the whole
//             file in JS first, as the page did before streaming (for
//             comparison; embedders may still call openBytes)
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../tests/e2e/serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');

let distDir = path.join(repoRoot, 'build/wasm/dist');
let repeat = 2;
const files = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--dist') distDir = path.resolve(argv[++i]);
    else if (argv[i] === '--repeat') repeat = Math.max(1, Number(argv[++i]) || 1);
    else files.push(path.resolve(argv[i]));
}
if (!files.length) {
    for (const name of ['large_vgg.onnx', 'large_vgg.h5']) files.push(path.join(repoRoot, 'build/large-models', name));
}
for (const file of files) statSync(file);  // fails loudly when a file is missing
statSync(path.join(distDir, 'convscope.wasm'));

// One origin for the app and the models: a temporary root of symlinks.
const root = mkdtempSync(path.join(tmpdir(), 'convscope-large-'));
for (const entry of readdirSync(distDir)) symlinkSync(path.join(distDir, entry), path.join(root, entry));
const modelNames = files.map((file, index) => {
    const name = `model${index}-${path.basename(file)}`;
    symlinkSync(file, path.join(root, name));
    return name;
});
const server = await startServer({ root, port: 0 });

const chromiumArgs = [
    '--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
    '--enable-precise-memory-info', '--js-flags=--expose-gc',
];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs });

const megabytes = (bytes) => (bytes / 1e6).toFixed(1);

// Renderer process ids, from the browser's own list (CDP SystemInfo).
const browserSession = await browser.newBrowserCDPSession();
async function rendererPids() {
    const info = await browserSession.send('SystemInfo.getProcessInfo');
    return info.processInfo.filter((process) => process.type === 'renderer').map((process) => process.id);
}
// Resident and peak resident bytes of a process (Linux /proc).
function residentBytes(pid) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key) => Number((status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm')) || [0, 0])[1]) * 1024;
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

async function measure(file, modelName, way) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`${server.url}?demo=none`);
    await page.waitForFunction(() => window.convscope && window.convscope.state().ready, null, { timeout: 60000 });
    const before = await page.evaluate(() => {
        if (window.gc) window.gc();
        window.__measure = { peakJs: performance.memory.usedJSHeapSize };
        window.__measure.sampler = setInterval(() => {
            window.__measure.peakJs = Math.max(window.__measure.peakJs, performance.memory.usedJSHeapSize);
        }, 10);
        // The page looks this export up on every call, so a wrapper sees it.
        const open = Module['_convscope_open_file_buffer'];
        Module['_convscope_open_file_buffer'] = function(...args) {
            window.__measure.handover = performance.now();
            try {
                return open.apply(this, args);
            } finally {
                window.__measure.opened = performance.now();
            }
        };
        return { wasm: Module.HEAPU8.buffer.byteLength, js: performance.memory.usedJSHeapSize };
    });
    // Chromium runs several renderers (spares, reused ones); the page's is
    // the one that grows by about the model's size, picked after the open.
    const renderersBefore = new Map();
    for (const pid of await rendererPids()) {
        try {
            renderersBefore.set(pid, residentBytes(pid));
        } catch {
            // exited meanwhile
        }
    }
    const fileName = way === 'drop' ? path.basename(file) : modelName;
    if (way === 'drop') {
        // Time starts when the chooser's change event fires (capture phase,
        // before the page's own listener).
        await page.evaluate(() => {
            window.addEventListener('change', () => {
                window.__measure.start = performance.now();
            }, { capture: true, once: true });
        });
        await page.setInputFiles('#file-input', file);
    } else {
        await page.evaluate(async ({ url, way, name }) => {
            window.__measure.start = performance.now();
            if (way === 'url') {
                window.convscope.openUrl(url);
            } else {
                const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
                window.convscope.openBytes(name, bytes);
            }
        }, { url: `${server.url}${modelName}`, way, name: modelName });
    }
    const result = await page.waitForFunction((name) => {
        const state = window.convscope.state();
        if (state.error) return { error: state.error };
        if (!state.model || !state.file || state.file.name !== name) return null;
        const loaded = performance.now();
        clearInterval(window.__measure.sampler);
        const m = window.__measure;
        return { ms: loaded - m.start, transferMs: m.handover - m.start, openMs: m.opened - m.handover,
                 status: state.status };
    }, fileName, { timeout: 120000, polling: 10 });
    const outcome = await result.jsonValue();
    const after = await page.evaluate(async () => {
        const peakJs = Math.max(window.__measure.peakJs, performance.memory.usedJSHeapSize);
        // Twice, with a pause: V8 frees ArrayBuffer contents after the sweep.
        for (let i = 0; i < 2 && window.gc; ++i) {
            window.gc();
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
        return { wasm: Module.HEAPU8.buffer.byteLength, js: performance.memory.usedJSHeapSize, peakJs };
    });
    let grownMost = -Infinity;
    for (const pid of await rendererPids()) {
        if (!renderersBefore.has(pid)) continue;
        let now;
        try {
            now = residentBytes(pid);
        } catch {
            continue;
        }
        const grown = now.rss - renderersBefore.get(pid).rss;
        if (grown > grownMost) {
            grownMost = grown;
            before.process = renderersBefore.get(pid);
            after.process = now;
        }
    }
    if (!after.process) throw new Error('the page\'s renderer process was not found');
    await context.close();
    if (outcome.error) throw new Error(`${fileName} (${way}): ${outcome.error}`);
    if (errors.length) throw new Error(`${fileName} (${way}): page errors: ${errors.join('; ')}`);
    return { ...outcome, before, after };
}

// The split is only shown when the hand-over was seen inside the measured span.
function split(m) {
    const consistent = m.transferMs >= 0 && m.openMs >= 0 && m.transferMs + m.openMs <= m.ms + 1;
    return consistent ? `(bytes into WASM ${m.transferMs.toFixed(0)} ms, open call ${m.openMs.toFixed(0)} ms); `
                      : '(split not measured); ';
}

const ways = ['drop', 'url', 'bytes'];
console.log(`Chromium ${browser.version()}, app from ${distDir}`);
try {
    for (let f = 0; f < files.length; ++f) {
        const size = statSync(files[f]).size;
        console.log(`\n${path.basename(files[f])}: ${megabytes(size)} MB`);
        for (const way of ways) {
            for (let run = 0; run < repeat; ++run) {
                const m = await measure(files[f], modelNames[f], way);
                const grown = m.after.wasm - m.before.wasm;
                console.log(
                    `  ${way.padEnd(5)} run ${run + 1}: ${m.ms.toFixed(0).padStart(5)} ms to "model loaded" ` +
                    split(m) +
                    `WASM memory ${megabytes(m.before.wasm)} -> ${megabytes(m.after.wasm)} MB ` +
                    `(${(m.after.wasm / size).toFixed(2)}x the file, grew ${megabytes(grown)} MB); ` +
                    `JS heap ${megabytes(m.before.js)} MB before, peak ${megabytes(m.after.peakJs)} MB, ` +
                    `${megabytes(m.after.js)} MB after GC; renderer peak RSS ${megabytes(m.before.process.peak)} -> ` +
                    `${megabytes(m.after.process.peak)} MB (+${megabytes(m.after.process.peak - m.before.process.peak)} MB, ` +
                    `${((m.after.process.peak - m.before.process.peak) / size).toFixed(2)}x the file), ` +
                    `RSS after ${megabytes(m.after.process.rss)} MB`);
                if (run === 0 && way === 'drop') console.log(`        status: ${m.status}`);
            }
        }
    }
} finally {
    await browser.close();
    await server.close();
    rmSync(root, { recursive: true, force: true });
}
