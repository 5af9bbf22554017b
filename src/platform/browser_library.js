// ConvScope's browser glue, linked with --js-library. These functions run
// inside the Emscripten module's scope, so they see the current HEAPU8 even
// after memory growth, and Browser/GLFW internals. The page (web/app.js)
// owns the DOM; this side only talks to it through window.convscopePage and
// window.convscope.
//
// C side: src/platform/browser_app.cpp declares each function extern "C".
// Pointers are read with >>> 0 / >>> 2: memory may grow past 2 GB, where a
// wasm32 pointer arrives in JS as a negative number.

mergeInto(LibraryManager.library, {
    // Sets up window.convscope (the test hook and embedder API) once the
    // runtime is up: state(), openBytes(name, Uint8Array) and
    // openStream(name, size, ReadableStream).
    convscope_browser_install_hook__deps: ['malloc', 'free', 'emscripten_set_main_loop_timing'],
    convscope_browser_install_hook: function() {
        var hook = window.convscope = window.convscope || {};
        var pageState = hook._page || (hook._page = {});

        hook.maxFileBytes = function() {
            return Module['_convscope_max_file_bytes']();
        };
        // Files reach C++ through numbered buffers in WASM memory
        // (convscope_file_buffer in browser_app.cpp): the page writes the
        // bytes straight into the buffer that becomes the app's file, so the
        // tab never holds a second whole copy inside WASM memory.
        function refuseOverLimit(name, size) {
            var limit = hook.maxFileBytes();
            if (size <= limit) return false;
            hook.reportError(name + ' is ' + size + ' bytes; ConvScope opens files up to ' +
                             limit + ' bytes (Help > Limits).');
            return true;
        }
        function openBuffer(number, name) {
            var nameLength = lengthBytesUTF8(name) + 1;
            var namePointer = _malloc(nameLength);
            if (!namePointer) {
                Module['_convscope_discard_file_buffer'](number);
                hook.reportError(name + ': not enough memory for the file name.');
                return false;
            }
            try {
                stringToUTF8(name, namePointer, nameLength);
                Module['_convscope_open_file_buffer'](number, namePointer);
            } finally {
                _free(namePointer);
            }
            return true;
        }
        // Copies a whole Uint8Array (or ArrayBuffer) into WASM memory and
        // opens it. Files over the limit are refused before anything is copied.
        hook.openBytes = function(name, bytes) {
            if (!(bytes instanceof Uint8Array)) bytes = new Uint8Array(bytes);
            name = String(name);
            if (refuseOverLimit(name, bytes.length)) return false;
            var number = Module['_convscope_file_buffer'](bytes.length);
            if (!number) return false;  // C++ has reported why
            if (bytes.length) HEAPU8.set(bytes, Module['_convscope_file_buffer_data'](number) >>> 0);
            return openBuffer(number, name);
        };
        // While a file streams in, frames are drawn 10 times a second instead
        // of at the display's rate: each frame takes the main thread (tens of
        // ms with software GL), and the read resumes only between frames, so
        // at full rate a 100 MB file took about 3x longer to arrive. The UI
        // keeps drawing, so it never looks frozen.
        var streamsInFlight = 0;
        function slowFramesWhileStreaming(change) {
            var before = streamsInFlight;
            streamsInFlight += change;
            if (before === 0 && streamsInFlight > 0) {
                _emscripten_set_main_loop_timing(0 /* EM_TIMING_SETTIMEOUT */, 100);
            } else if (before > 0 && streamsInFlight === 0) {
                _emscripten_set_main_loop_timing(1 /* EM_TIMING_RAF */, 1);
            }
        }
        // Streams a file of `size` bytes into WASM memory chunk by chunk
        // (`stream`: a ReadableStream of Uint8Array, from File.stream() or a
        // fetch body) and opens it; no whole-file copy exists in JS. Resolves
        // true once opened; false when refused (the status line says why);
        // or, when the stream's length differs from `size` (a fetch with
        // Content-Encoding, a file changed on disk), the number of bytes it
        // delivered before that showed, with nothing opened. Rejects when the
        // stream fails.
        hook.openStream = async function(name, size, stream) {
            name = String(name);
            size = Number(size);
            if (refuseOverLimit(name, size)) {
                stream.cancel().catch(function() {});
                return false;
            }
            var number = Module['_convscope_file_buffer'](size);
            if (!number) {
                stream.cancel().catch(function() {});
                return false;
            }
            var reader = stream.getReader();
            var written = 0;
            slowFramesWhileStreaming(+1);
            try {
                for (;;) {
                    var chunk = await reader.read();
                    if (chunk.done) break;
                    var bytes = chunk.value;
                    if (!bytes.length) continue;
                    if (bytes.length > size - written) {
                        reader.cancel().catch(function() {});
                        written += bytes.length;
                        break;
                    }
                    // Looked up after every await: memory may have grown (and
                    // HEAPU8 been replaced) while this stream waited.
                    var base = Module['_convscope_file_buffer_data'](number) >>> 0;
                    if (!base) throw new Error('the file buffer is gone');
                    HEAPU8.set(bytes, base + written);
                    written += bytes.length;
                }
            } catch (failure) {
                Module['_convscope_discard_file_buffer'](number);
                throw failure;
            } finally {
                slowFramesWhileStreaming(-1);
            }
            if (written !== size) {
                Module['_convscope_discard_file_buffer'](number);
                return written;
            }
            return openBuffer(number, name);
        };
        hook.reportError = function(message) {
            message = String(message);
            var length = lengthBytesUTF8(message) + 1;
            var pointer = _malloc(length);
            if (!pointer) return;
            stringToUTF8(message, pointer, length);
            Module['_convscope_report_error'](pointer);
            _free(pointer);
        };
        hook.state = function() {
            var state = JSON.parse(UTF8ToString(Module['_convscope_state_json']()));
            state.ready = !!pageState.firstFrameMs;
            state.first_frame_ms = pageState.firstFrameMs || null;
            state.context_lost = !!pageState.contextLost;
            var canvas = Module['canvas'];
            state.canvas = {
                width: canvas.width,
                height: canvas.height,
                css_width: canvas.getBoundingClientRect().width,
                css_height: canvas.getBoundingClientRect().height,
                device_pixel_ratio: window.devicePixelRatio || 1,
            };
            return state;
        };
        if (window.convscopePage && window.convscopePage.onHookInstalled) window.convscopePage.onHookInstalled();
    },

    // Called at the end of the first frame drawn: the app is interactive.
    convscope_browser_first_frame: function() {
        var pageState = window.convscope._page;
        pageState.firstFrameMs = performance.now();
        if (window.convscopePage && window.convscopePage.onFirstFrame) window.convscopePage.onFirstFrame();
    },

    // The canvas's on-screen size in device pixels and the device pixel ratio.
    convscope_browser_measure_canvas: function(widthOut, heightOut, ratioOut) {
        var canvas = Module['canvas'];
        var rect = canvas.getBoundingClientRect();
        var ratio = window.devicePixelRatio || 1;
        HEAP32[widthOut >>> 2] = Math.max(1, Math.round(rect.width * ratio));
        HEAP32[heightOut >>> 2] = Math.max(1, Math.round(rect.height * ratio));
        HEAPF32[ratioOut >>> 2] = ratio;
    },

    // Resizes the canvas's backing store through Browser (not glfwSetWindowSize:
    // that one switches to fullscreen when the size equals the screen's).
    // GLFW's resize listener then updates its window and framebuffer size.
    convscope_browser_resize_canvas__deps: ['$Browser'],
    convscope_browser_resize_canvas: function(width, height) {
        Browser.setCanvasSize(width, height);
    },

    // Hands over the TTF the page fetched at start (window.convscope._page.font,
    // an ArrayBuffer) as malloc'd bytes the caller frees; 0 when there is none.
    convscope_browser_take_font__deps: ['malloc'],
    convscope_browser_take_font: function(sizeOut) {
        var pageState = window.convscope._page;
        var font = pageState.font;
        pageState.font = null;
        if (!font || font.byteLength === 0) {
            HEAPU32[sizeOut >>> 2] = 0;
            return 0;
        }
        var bytes = new Uint8Array(font);
        var pointer = _malloc(bytes.length) >>> 0;
        if (!pointer) {
            HEAPU32[sizeOut >>> 2] = 0;
            return 0;
        }
        HEAPU8.set(bytes, pointer);
        HEAPU32[sizeOut >>> 2] = bytes.length;
        return pointer;
    },

    // The app could not create its WebGL 2 context: say so in the page.
    convscope_browser_no_webgl2: function() {
        if (window.convscopePage && window.convscopePage.onNoWebGL2) window.convscopePage.onNoWebGL2();
    },

    convscope_browser_open_file_dialog: function() {
        if (window.convscopePage && window.convscopePage.openFileDialog) window.convscopePage.openFileDialog();
    },

    // GLFW under Emscripten ignores cursor shapes; set the CSS cursor instead.
    convscope_browser_set_cursor: function(cssName) {
        Module['canvas'].style.cursor = UTF8ToString(cssName);
    },
});
