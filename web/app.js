// ConvScope page glue: feature checks, loading convscope.js, the font, file
// drop and the file chooser, ?model=URL, the WebGL context-lost message,
// restarting the module in place after a WASM trap or abort, and the start
// of the test hook (window.convscope; src/platform/browser_library.js and
// src/platform/browser_session.cpp complete it once the app runs).
//
// Files never leave the page: a dropped or chosen File (or a ?model=URL
// download) is streamed chunk by chunk into a buffer in WASM memory that
// becomes the app's file bytes (hook.openStream), so the tab does not hold
// the file twice.
'use strict';

(function () {
    const hook = window.convscope = window.convscope || {};
    const pageState = hook._page = hook._page || {};
    const page = window.convscopePage = {};

    // Replaced by a fresh element when the module restarts after a fault.
    let canvas = document.getElementById('canvas');
    const loading = document.getElementById('loading');
    const loadingText = document.getElementById('loading-text');
    const dropTarget = document.getElementById('drop-target');
    const fileInput = document.getElementById('file-input');
    const toast = document.getElementById('toast');

    // Until the app runs (and while it restarts), the hook reports only what
    // the page knows.
    const pageOnlyState = hook.state = function () {
        return {
            ready: false,
            frame: 0,
            file: null,
            model: null,
            error: pageState.problem || null,
            status: pageState.problem || 'loading',
            first_frame_ms: null,
            context_lost: !!pageState.contextLost,
            faults: pageState.faults || 0,
        };
    };

    function showProblem(title, text, offerReload) {
        pageState.problem = title + ': ' + text;
        document.getElementById('problem-title').textContent = title;
        document.getElementById('problem-text').textContent = text;
        document.getElementById('problem-reload').classList.toggle('hidden', !offerReload);
        document.getElementById('problem').classList.remove('hidden');
        loading.classList.add('hidden');
    }
    document.getElementById('problem-reload').addEventListener('click', () => location.reload());

    let toastTimer = 0;
    function showToast(text) {
        toast.textContent = text;
        toast.classList.remove('hidden');
        clearTimeout(toastTimer);
        toastTimer = setTimeout(() => toast.classList.add('hidden'), 6000);
    }

    // ---- feature checks --------------------------------------------------

    // The smallest module using a fixed-width SIMD instruction:
    //   (module (func (result v128) (i8x16.splat (i32.const 0))))
    const simdProbe = new Uint8Array([
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // "\0asm", version 1
        0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,        // type section: () -> v128
        0x03, 0x02, 0x01, 0x00,                          // function section: one function of type 0
        0x0a, 0x08, 0x01, 0x06, 0x00,                    // code section: one body, no locals
        0x41, 0x00, 0xfd, 0x0f, 0x0b,                    // i32.const 0; i8x16.splat; end
    ]);

    // The smallest module using native exception handling (the build's
    // -fwasm-exceptions):  (module (func (try (do) (catch_all))))
    const exceptionsProbe = new Uint8Array([
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // "\0asm", version 1
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00,              // type section: () -> ()
        0x03, 0x02, 0x01, 0x00,                          // function section: one function of type 0
        0x0a, 0x08, 0x01, 0x06, 0x00,                    // code section: one body, no locals
        0x06, 0x40, 0x19, 0x0b, 0x0b,                    // try; catch_all; end; end
    ]);

    const noWebGL2 = ['WebGL 2 is not available',
                      'ConvScope draws with WebGL 2. Your browser or graphics driver does not offer it here: ' +
                      'check that hardware acceleration is on in the browser settings, or try another browser.'];

    function missingFeature() {
        if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') {
            return ['WebAssembly is not available',
                    'ConvScope runs as WebAssembly. Use a current version of Chrome, Edge, Firefox or Safari, ' +
                    'and check that WebAssembly is not disabled by a policy or an extension.'];
        }
        if (!WebAssembly.validate(simdProbe)) {
            return ['WebAssembly SIMD is not supported',
                    'ConvScope needs WebAssembly SIMD (Chrome/Edge 91+, Firefox 89+, Safari 16.4+). ' +
                    'Please update your browser.'];
        }
        if (!WebAssembly.validate(exceptionsProbe)) {
            return ['WebAssembly exception handling is not supported',
                    'ConvScope needs WebAssembly exception handling (Chrome/Edge 95+, Firefox 100+, ' +
                    'Safari 15.2+). Please update your browser.'];
        }
        // Only the constructor is checked here: creating a throwaway context
        // costs hundreds of milliseconds on software GL. Whether a context can
        // really be made is known when the app creates its own (onNoWebGL2).
        if (typeof WebGL2RenderingContext === 'undefined') return noWebGL2;
        return null;
    }

    // Content-Security-Policy violations (index.html's meta tag), for the
    // e2e test: the page must work entirely within its policy.
    pageState.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
        pageState.cspViolations.push(event.violatedDirective + ' ' + (event.blockedURI || ''));
    });

    const problem = missingFeature();
    if (problem) {
        showProblem(problem[0], problem[1], false);
        return;
    }

    function attachCanvasListeners() {
    canvas.addEventListener('webglcontextlost', (event) => {
        // Without preventDefault the browser would never try to restore it;
        // the app does not rebuild its GL objects, so a reload is the way back.
        event.preventDefault();
        pageState.contextLost = true;
        showProblem('The graphics context was lost',
                    'The browser took the WebGL context away (a GPU reset, too many tabs using WebGL, or a driver ' +
                    'update). Reload the page to continue; open files will need to be opened again.', true);
    });
    let contextCreationError = '';
    canvas.addEventListener('webglcontextcreationerror', (event) => {
        contextCreationError = event.statusMessage || '';
    });
    // Called by the app when it cannot create its WebGL 2 context.
    page.onNoWebGL2 = function () {
        showProblem(noWebGL2[0], noWebGL2[1] + (contextCreationError ? ' (' + contextCreationError + ')' : ''), false);
    };
    canvas.addEventListener('contextmenu', (event) => event.preventDefault());
    }
    attachCanvasListeners();

    // ---- files -----------------------------------------------------------

    let pendingFile = null;  // a file dropped before the app was ready

    // A File as a stream of 8 MB slices. File.stream() hands out chunks of
    // 64 KB, and the await per chunk made reading a 100 MB model take seconds;
    // slices keep the JS copy small (one slice at a time, no read-ahead) and
    // the number of awaits low.
    const fileSliceBytes = 8 * 1024 * 1024;
    function fileSliceStream(file) {
        let offset = 0;
        return new ReadableStream({
            async pull(controller) {
                if (offset >= file.size) {
                    controller.close();
                    return;
                }
                const end = Math.min(file.size, offset + fileSliceBytes);
                const bytes = new Uint8Array(await file.slice(offset, end).arrayBuffer());
                offset = end;
                controller.enqueue(bytes);
            },
        }, { highWaterMark: 0 });
    }

    function openFile(file) {
        if (!file) return;
        if (!pageState.firstFrameMs) {
            pendingFile = file;
            return;
        }
        const limit = hook.maxFileBytes();
        if (file.size > limit) {
            const message = file.name + ' is ' + file.size + ' bytes; ConvScope opens files up to ' + limit +
                            ' bytes (Help > Limits). The file was not read.';
            hook.reportError(message);
            showToast(message);
            return;
        }
        const opened = typeof ReadableStream === 'function' && hook.openStream
            ? callAppAsync(() => hook.openStream(file.name, file.size, fileSliceStream(file)))
            : file.arrayBuffer().then((buffer) => callApp(() => hook.openBytes(file.name, new Uint8Array(buffer))));
        opened.then(
            (done) => {
                // A File's stream has exactly file.size bytes unless the file
                // changed on disk after it was chosen.
                if (typeof done === 'number') {
                    reportOpenFailure(file.name + ': the browser delivered ' + done + ' bytes of ' + file.size +
                                      ' (did the file change on disk?); drop it again');
                }
            },
            (failure) => {
                const message = file.name + ': the browser could not read the file (' + failure + ')';
                hook.reportError(message);
                showToast(message);
            });
    }
    page.openFile = openFile;

    // ?model=URL: the page fetches the model itself (the server must allow
    // cross-origin requests unless it is this site), then opens the bytes as
    // if dropped. The app remembers the URL so the address names the model.
    function reportOpenFailure(message) {
        hook.reportError(message);
        showToast(message);
    }
    async function openUrl(address) {
        let url;
        try {
            url = new URL(address, window.location.href);
        } catch (failure) {
            reportOpenFailure('could not fetch ' + address + ': not a valid URL');
            return false;
        }
        if (url.protocol !== 'https:' && url.protocol !== 'http:') {
            reportOpenFailure('could not fetch ' + address + ': only http and https addresses can be opened');
            return false;
        }
        const limit = hook.maxFileBytes();
        const name = decodeURIComponent(url.pathname.split('/').pop() || '') || url.hostname;
        let bytes;
        try {
            const response = await fetch(url.href, { mode: 'cors', credentials: 'omit' });
            if (!response.ok) {
                reportOpenFailure('could not fetch ' + address + ': the server answered HTTP ' + response.status +
                                  (response.statusText ? ' ' + response.statusText : ''));
                return false;
            }
            const declared = Number(response.headers.get('content-length'));
            if (declared > limit) {
                reportOpenFailure(address + ' is ' + declared + ' bytes; ConvScope opens files up to ' + limit +
                                  ' bytes (Help > Limits). The file was not downloaded.');
                return false;
            }
            // With a known length the body streams straight into WASM memory.
            // A compressed transfer delivers more bytes than Content-Length
            // says; openStream then opens nothing and the file is fetched
            // again whole (usually from the cache).
            if (declared > 0 && response.body && hook.openStream) {
                const streamed = await callAppAsync(() => {
                    hook.noteModelSource(address);
                    return hook.openStream(name, declared, response.body);
                });
                if (typeof streamed !== 'number') return streamed;
                const again = await fetch(url.href, { mode: 'cors', credentials: 'omit' });
                if (!again.ok) throw new Error('HTTP ' + again.status);
                bytes = new Uint8Array(await again.arrayBuffer());
            } else {
                bytes = new Uint8Array(await response.arrayBuffer());
            }
        } catch (failure) {
            // fetch() rejects with a bare TypeError for both CORS refusals and
            // network failures; the browser does not say which, on purpose.
            reportOpenFailure('could not fetch ' + address + ': the server does not allow cross-origin requests ' +
                              'or is unreachable');
            return false;
        }
        return callApp(() => {
            hook.noteModelSource(address);
            return hook.openBytes(name, bytes);
        });
    }
    hook.openUrl = openUrl;

    // ---- the bundled demo ------------------------------------------------
    // Fetched after the first frame (so they never delay it) and opened
    // through the same paths as a dropped file: the sample sprite through
    // window.convscope.loadSamples, the model through openBytes.
    const demoModel = 'assets/models/fashion_small.h5';
    const demoSamples = 'assets/images/fashion_samples';
    function fetchBytes(url) {
        return fetch(url).then((response) => {
            if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
            return response.arrayBuffer();
        }).then((buffer) => new Uint8Array(buffer));
    }
    function loadBundledDemo(openModel) {
        Promise.all([fetchBytes(demoSamples + '.json'), fetchBytes(demoSamples + '.png')]).then(
            ([json, png]) => callApp(() => hook.loadSamples(json, png)),
            (failure) => hook.reportError('The sample images could not be loaded (' + failure.message + ')'));
        if (!openModel) return;
        fetchBytes(demoModel).then(
            (bytes) => {
                // A file the user dropped in the meantime wins.
                if (!hook.state().file) callApp(() => hook.openBytes(demoModel.split('/').pop(), bytes));
            },
            (failure) => hook.reportError('The demo model could not be loaded (' + failure.message + ')'));
    }

    page.openFileDialog = function () {
        fileInput.click();
    };
    fileInput.addEventListener('change', () => {
        const file = fileInput.files && fileInput.files[0];
        fileInput.value = '';  // so choosing the same file again fires change
        openFile(file);
    });

    // Drops are accepted anywhere on the page. dragenter/dragleave fire for
    // every element crossed, so count them to know when the drag left.
    let dragDepth = 0;
    function carriesFiles(event) {
        return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], 'Files') >= 0;
    }
    document.addEventListener('dragenter', (event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        dragDepth += 1;
        dropTarget.classList.remove('hidden');
    });
    document.addEventListener('dragover', (event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
    });
    document.addEventListener('dragleave', () => {
        dragDepth = Math.max(0, dragDepth - 1);
        if (dragDepth === 0) dropTarget.classList.add('hidden');
    });
    document.addEventListener('drop', (event) => {
        event.preventDefault();
        dragDepth = 0;
        dropTarget.classList.add('hidden');
        const files = event.dataTransfer ? event.dataTransfer.files : null;
        if (!files || files.length === 0) return;
        // Several pictures (or a model, pictures and a labels .txt) may come
        // together; C++ sorts them by content. They open in the order given.
        Array.prototype.forEach.call(files, (file) => openFile(file));
    });

    // ---- start -----------------------------------------------------------

    // Read now: once the module runs, it writes its view state into the
    // address bar (history.replaceState), which drops ?demo= before the
    // first frame on a slow machine.
    const startQuery = new URLSearchParams(window.location.search);

    page.onFirstFrame = function () {
        loading.classList.add('hidden');
        // The demo: the sample images always (a restarted module needs them
        // again); the small model unless the address names one (?model=URL),
        // the user already gave a file, the module restarted after a fault,
        // or ?demo=none asks for an empty start.
        loadBundledDemo(!pendingFile && !restarted && !startQuery.has('model') && startQuery.get('demo') !== 'none');
        if (restartMessage) {
            hook.reportError(restartMessage);
            restartMessage = '';
        }
        if (pendingFile) {
            const file = pendingFile;
            pendingFile = null;
            openFile(file);
        } else if (!restarted) {
            const modelUrl = startQuery.get('model');
            if (modelUrl) openUrl(modelUrl);
        }
    };

    // ---- faults ----------------------------------------------------------
    // A C++ exception is caught in C++ (the frame guard and the exported
    // functions). A WASM trap (unreachable, out-of-bounds access) or abort()
    // cannot be: it leaves the module's memory in an unknown state. The page
    // then starts a fresh module in place (same page, fresh canvas), says
    // what happened, and gives up after three faults in a minute.
    let restarted = false;
    let restarting = false;
    let restartMessage = '';
    const recentFaults = [];

    function isModuleFault(error) {
        return (typeof WebAssembly === 'object' && error instanceof WebAssembly.RuntimeError) ||
               /^Aborted\(/.test(String(error && error.message || error));
    }
    // Runs a call into the module; a fault restarts it instead of escaping.
    function callApp(call) {
        try {
            return call();
        } catch (error) {
            if (!isModuleFault(error)) throw error;
            restartAfterFault(error);
            return false;
        }
    }
    // callApp for a call that returns a promise (hook.openStream).
    function callAppAsync(call) {
        return Promise.resolve().then(call).catch((error) => {
            if (!isModuleFault(error)) throw error;
            restartAfterFault(error);
            return false;
        });
    }
    function restartAfterFault(error) {
        if (restarting) return;
        const reason = String(error && error.message || error);
        const now = performance.now();
        while (recentFaults.length && now - recentFaults[0] > 60000) recentFaults.shift();
        recentFaults.push(now);
        pageState.faults = (pageState.faults || 0) + 1;
        pageState.lastFault = reason;
        if (recentFaults.length > 3) {
            showProblem('ConvScope stopped', 'The app hit internal errors repeatedly (' + reason + '). ' +
                        'Reload the page to start again.', true);
            return;
        }
        restarting = true;
        // Detach the stopped runtime: GLFW's window-level listeners would
        // otherwise feed keys to the new one twice; its canvas listeners go
        // with the canvas.
        try {
            const glfw = window.GLFW;
            if (glfw) {
                window.removeEventListener('keydown', glfw.onKeydown, true);
                window.removeEventListener('keypress', glfw.onKeyPress, true);
                window.removeEventListener('keyup', glfw.onKeyup, true);
                window.removeEventListener('blur', glfw.onBlur, true);
            }
        } catch (ignored) { /* nothing to detach */ }
        const fresh = canvas.cloneNode(false);
        canvas.replaceWith(fresh);
        canvas = fresh;
        attachCanvasListeners();
        pageState.firstFrameMs = null;
        hook.state = pageOnlyState;
        restarted = true;
        restartMessage = 'ConvScope restarted after an internal error (' + reason + '). ' +
                         'Open the model again; this page and its address were kept.';
        showToast(restartMessage);
        // convscope.js is not modularised: running it again redeclares its
        // globals, but a `var` without a value keeps the old one, and the
        // old run's calledRun would stop the new module from running main().
        window.calledRun = undefined;
        window.EXITSTATUS = undefined;
        // Let the failing call unwind before the new module starts.
        setTimeout(() => {
            restarting = false;
            startApp();
        }, 0);
    }
    window.addEventListener('error', (event) => {
        if (isModuleFault(event.error)) {
            event.preventDefault();
            restartAfterFault(event.error);
        }
    });
    window.addEventListener('unhandledrejection', (event) => {
        if (isModuleFault(event.reason)) {
            event.preventDefault();
            restartAfterFault(event.reason);
        }
    });

    // Fetched alongside the app; main() picks it up (convscope_browser_take_font).
    // Kept for a restart: the module takes pageState.font and drops it.
    let fontBuffer = null;
    const fontReady = fetch('assets/fonts/DejaVuSans.ttf')
        .then((response) => (response.ok ? response.arrayBuffer() : null))
        .catch(() => null)
        .then((buffer) => { fontBuffer = buffer; });

    // ---- threads -----------------------------------------------------------
    // ?threads=N, else the machine's cores capped at 8. More than one needs a
    // cross-origin isolated page (SharedArrayBuffer; scripts/serve sends the
    // headers, isolation.js adds them on static hosts) and the threaded build
    // convscope_mt.js; otherwise the app runs on one thread and says why in
    // window.convscope.threads() and the console.
    const maxDefaultThreads = 8;
    const askedThreads = parseInt(startQuery.get('threads') || '', 10);
    const wantedThreads = askedThreads >= 1 ? askedThreads
        : Math.max(1, Math.min(navigator.hardwareConcurrency || 1, maxDefaultThreads));
    pageState.threads = { wanted: wantedThreads, used: 1, note: '' };
    hook.threads = () => Object.assign({}, pageState.threads);
    function threadedBuildAvailable() {
        if (wantedThreads <= 1 || !window.crossOriginIsolated || typeof SharedArrayBuffer !== 'function') {
            return Promise.resolve(false);
        }
        // builds.json (written by the build) says whether convscope_mt.* is
        // there, so the page never requests a missing file.
        return fetch('builds.json', { cache: 'no-cache' })
            .then((response) => (response.ok ? response.json() : {}))
            .then((builds) => builds.threaded === true)
            .catch(() => false);
    }
    function whyOneThread(threaded) {
        if (wantedThreads <= 1) return '';
        if (!window.crossOriginIsolated) return 'one thread: this page is not cross-origin isolated (see docs/hosting.md)';
        if (!threaded) return 'one thread: this site has no threaded build (convscope_mt.js)';
        return '';
    }

    function startApp() {
    // After a fault the app restarts on one thread (the threaded build
    // itself may be what failed, e.g. a browser without shared WASM memory).
    if (restarted) startModule(false);
    else threadedBuildAvailable().then((threaded) => startModule(threaded));
    }
    function startModule(threaded) {
    pageState.threads.note = whyOneThread(threaded);
    if (pageState.threads.note) console.info('ConvScope: ' + pageState.threads.note);
    window.Module = {
        // The threaded build starts this many workers before main().
        convscopePoolSize: threaded ? wantedThreads - 1 : 0,
        onRuntimeInitialized: () => {
            // Before main(): the kernels' pool is sized once.
            const set = Module._convscope_set_threads;
            pageState.threads.used = set ? set(threaded ? wantedThreads : 1) : 1;
        },
        canvas: canvas,
        preRun: [function () {
            Module.addRunDependency('convscope-font');
            fontReady.then(() => {
                pageState.font = fontBuffer;
                Module.removeRunDependency('convscope-font');
            });
        }],
        print: (text) => console.log(text),
        printErr: (text) => console.warn(text),
        // abort() then throws a RuntimeError, which restartAfterFault handles.
        onAbort: (what) => { pageState.lastAbort = String(what); },
        setStatus: (text) => { if (text) loadingText.textContent = text; },
    };

    const script = document.createElement('script');
    const scriptName = threaded ? 'convscope_mt.js' : 'convscope.js';
    script.src = scriptName;
    script.async = true;
    script.onerror = () => showProblem('ConvScope could not load',
                                       scriptName + ' did not load. Check the connection and reload.', true);
    document.body.appendChild(script);
    }
    startApp();
})();
