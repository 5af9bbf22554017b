// ConvScope page glue: feature checks, loading convscope.js, the font, file
// drop and the file chooser, the WebGL context-lost message, and the start of
// the test hook (window.convscope; src/platform/browser_library.js completes
// it once the app runs).
//
// Files never leave the page: a dropped or chosen File is read into an
// ArrayBuffer and copied into WASM memory.
'use strict';

(function () {
    const hook = window.convscope = window.convscope || {};
    const pageState = hook._page = hook._page || {};
    const page = window.convscopePage = {};

    const canvas = document.getElementById('canvas');
    const loading = document.getElementById('loading');
    const loadingText = document.getElementById('loading-text');
    const dropTarget = document.getElementById('drop-target');
    const fileInput = document.getElementById('file-input');
    const toast = document.getElementById('toast');

    // Until the app runs, the hook reports only what the page knows.
    hook.state = function () {
        return {
            ready: false,
            frame: 0,
            file: null,
            model: null,
            error: pageState.problem || null,
            status: pageState.problem || 'loading',
            first_frame_ms: null,
            context_lost: !!pageState.contextLost,
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
        // Only the constructor is checked here: creating a throwaway context
        // costs hundreds of milliseconds on software GL. Whether a context can
        // really be made is known when the app creates its own (onNoWebGL2).
        if (typeof WebGL2RenderingContext === 'undefined') return noWebGL2;
        return null;
    }

    const problem = missingFeature();
    if (problem) {
        showProblem(problem[0], problem[1], false);
        return;
    }

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

    // ---- files -----------------------------------------------------------

    let pendingFile = null;  // a file dropped before the app was ready

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
        file.arrayBuffer().then(
            (buffer) => hook.openBytes(file.name, new Uint8Array(buffer)),
            (failure) => {
                const message = file.name + ': the browser could not read the file (' + failure + ')';
                hook.reportError(message);
                showToast(message);
            });
    }
    page.openFile = openFile;

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
        if (files.length > 1) showToast('Opening ' + files[0].name + '; ConvScope opens one file at a time.');
        openFile(files[0]);
    });

    // ---- start -----------------------------------------------------------

    page.onFirstFrame = function () {
        loading.classList.add('hidden');
        if (pendingFile) {
            const file = pendingFile;
            pendingFile = null;
            openFile(file);
        }
    };

    // Fetched alongside the app; main() picks it up (convscope_browser_take_font).
    const fontReady = fetch('assets/fonts/DejaVuSans.ttf')
        .then((response) => (response.ok ? response.arrayBuffer() : null))
        .catch(() => null)
        .then((buffer) => { pageState.font = buffer; });

    window.Module = {
        canvas: canvas,
        preRun: [function () {
            Module.addRunDependency('convscope-font');
            fontReady.then(() => Module.removeRunDependency('convscope-font'));
        }],
        print: (text) => console.log(text),
        printErr: (text) => console.warn(text),
        onAbort: (what) => {
            showProblem('ConvScope stopped', 'The app hit an internal error and stopped (' + what + '). ' +
                        'Reload the page to start again.', true);
        },
        setStatus: (text) => { if (text) loadingText.textContent = text; },
    };

    const script = document.createElement('script');
    script.src = 'convscope.js';
    script.async = true;
    script.onerror = () => showProblem('ConvScope could not load',
                                       'convscope.js did not load. Check the connection and reload.', true);
    document.body.appendChild(script);
})();
