// Threads in the app's page (issue 16): with the COOP/COEP headers
// (serve.mjs) and the threaded build in the site (builds.json says so), the
// app runs convscope_mt.js on the asked number of threads; without the
// headers it runs convscope.js on one thread and says why; on a host without
// headers the service worker (isolation.js / isolation-sw.js) makes the page
// isolated after one reload. The demo model must open in every case.
//
// Run: node --test tests/e2e/threads.test.mjs   (CONVSCOPE_DIST: the built site,
// default build/wasm/dist; scripts/serve builds both app variants)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';
import { chromiumArgs, distDir } from './support.mjs';

let threadedBuilt;
let context;
let userDataDir;

before(async () => {
    const builds = JSON.parse(readFileSync(path.join(distDir, 'builds.json'), 'utf8'));
    threadedBuilt = builds.threaded === true;
    userDataDir = mkdtempSync(path.join(tmpdir(), 'convscope-threads-'));
    context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs,
    });
});

after(async () => {
    if (context) await context.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

// Opens `url`, waits until the demo model is open, returns what the page reports.
async function openApp(url) {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(url);
    await page.waitForFunction(() => window.convscope && window.convscope.state && window.convscope.state().ready &&
        window.convscope.state().model, null, { timeout: 90000 });
    const report = await page.evaluate(() => ({
        isolated: window.crossOriginIsolated,
        threads: window.convscope.threads(),
        model: window.convscope.state().model.name,
        controlled: !!(navigator.serviceWorker && navigator.serviceWorker.controller),
    }));
    await page.close();
    return { ...report, errors };
}

test('isolated page: the threaded build runs on ?threads=2', async () => {
    const server = await startServer({ root: distDir, port: 0 });
    try {
        const report = await openApp(`${server.url}?threads=2`);
        assert.deepEqual(report.errors, []);
        assert.equal(report.isolated, true);
        assert.equal(report.model, 'sequential');
        if (threadedBuilt) {
            assert.equal(report.threads.used, 2, report.threads.note);
            assert.equal(report.threads.note, '');
        } else {
            assert.equal(report.threads.used, 1);
            assert.match(report.threads.note, /no threaded build/);
        }
        console.log(`# isolated page, ?threads=2: ${report.threads.used} thread(s) ${report.threads.note}`);
    } finally {
        await server.close();
    }
});

test('no headers, ?isolation=off: one thread, and the page says why', async () => {
    const server = await startServer({ root: distDir, port: 0, isolation: false });
    try {
        const report = await openApp(`${server.url}?threads=2&isolation=off`);
        assert.deepEqual(report.errors, []);
        assert.equal(report.isolated, false);
        assert.equal(report.threads.used, 1);
        assert.match(report.threads.note, /not cross-origin isolated/);
        assert.equal(report.model, 'sequential');
    } finally {
        await server.close();
    }
});

test('no headers: the service worker isolates the page after one reload', async () => {
    const server = await startServer({ root: distDir, port: 0, isolation: false });
    try {
        const page = await context.newPage();
        await page.goto(`${server.url}?threads=2`);
        await page.waitForFunction(() => window.crossOriginIsolated === true, null, { timeout: 30000 });
        await page.close();
        const report = await openApp(`${server.url}?threads=2`);
        assert.equal(report.isolated, true);
        assert.equal(report.controlled, true, 'the page is served through isolation-sw.js');
        assert.equal(report.threads.used, threadedBuilt ? 2 : 1, report.threads.note);
        assert.equal(report.model, 'sequential');
    } finally {
        await server.close();
    }
});
