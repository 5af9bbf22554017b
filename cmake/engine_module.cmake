# ConvScope: the inference engine as a standalone WebAssembly ES module for
# JavaScript (web/engine/convscope_engine.mjs wraps it), used by the app's
# page, by Node (tests/js_api, bench/run_bench.mjs) and by anyone embedding
# the engine in their own page.
#
# Include it from the top-level CMakeLists.txt after the core target:
#     include(cmake/engine_module.cmake)
# Output, a folder that can be published as is:
#     ${CMAKE_BINARY_DIR}/engine/convscope_engine.mjs        the JS API (copied from web/engine/)
#     ${CMAKE_BINARY_DIR}/engine/convscope_engine_wasm.mjs   Emscripten glue (ES6 factory)
#     ${CMAKE_BINARY_DIR}/engine/convscope_engine_wasm.wasm
#     ${CMAKE_BINARY_DIR}/engine/convscope_engine_mt_wasm.mjs/.wasm/.worker.js
#                                                           the same with pthreads
#                                                           (target convscope_engine_mt)
# Built for speed, not size: -O3 for the glue and the link, SIMD128 on.
if(EMSCRIPTEN AND NOT TARGET convscope_engine)
    set(CONVSCOPE_ENGINE_ROOT "${CMAKE_CURRENT_LIST_DIR}/..")
    file(GLOB CONVSCOPE_JS_API_SOURCES CONFIGURE_DEPENDS "${CONVSCOPE_ENGINE_ROOT}/src/js_api/*.cpp")
    add_executable(convscope_engine ${CONVSCOPE_JS_API_SOURCES})
    target_link_libraries(convscope_engine PRIVATE convscope_core)
    target_include_directories(convscope_engine PRIVATE "${CONVSCOPE_ENGINE_ROOT}/src")
    target_compile_options(convscope_engine PRIVATE -msimd128 -O3)
    convscope_warnings(convscope_engine)
    set(CONVSCOPE_ENGINE_EXPORTS
        _malloc _free _cs_last_error _cs_file_buffer _cs_model_load _cs_model_info_json _cs_model_run
        _cs_result_info_json _cs_result_data _cs_result_clear _cs_model_free _cs_heap_bytes_in_use
        _cs_simd_peak_loop _cs_simd_peak_flops_per_iteration _cs_set_threads _cs_max_threads)
    string(REPLACE ";" "," CONVSCOPE_ENGINE_EXPORTS "${CONVSCOPE_ENGINE_EXPORTS}")
    set_target_properties(convscope_engine PROPERTIES
        OUTPUT_NAME convscope_engine_wasm SUFFIX ".mjs"
        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/engine
        LINK_DEPENDS "${CONVSCOPE_ENGINE_ROOT}/web/engine/convscope_engine.mjs;${CONVSCOPE_ENGINE_ROOT}/src/js_api/engine_extern_pre.js")
    target_link_options(convscope_engine PRIVATE
        -O3 -msimd128 -sASSERTIONS=0
        -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createConvScopeEngineWasm
        -sENVIRONMENT=web,node -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sTOTAL_STACK=1MB
        -sEXPORTED_FUNCTIONS=${CONVSCOPE_ENGINE_EXPORTS}
        -sEXPORTED_RUNTIME_METHODS=UTF8ToString,stringToUTF8,lengthBytesUTF8
        # An embedding Node program keeps its own handlers for uncaught errors.
        -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0
        --extern-pre-js "${CONVSCOPE_ENGINE_ROOT}/src/js_api/engine_extern_pre.js")
    add_custom_command(TARGET convscope_engine POST_BUILD
        COMMAND ${CMAKE_COMMAND} -E copy_if_different "${CONVSCOPE_ENGINE_ROOT}/web/engine/convscope_engine.mjs"
                ${CMAKE_BINARY_DIR}/engine/convscope_engine.mjs
        # The static site publishes the engine too, for people who embed it.
        COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/dist/engine
        COMMAND ${CMAKE_COMMAND} -E copy_if_different "${CONVSCOPE_ENGINE_ROOT}/web/engine/convscope_engine.mjs"
                ${CMAKE_BINARY_DIR}/engine/convscope_engine_wasm.mjs ${CMAKE_BINARY_DIR}/engine/convscope_engine_wasm.wasm
                ${CMAKE_BINARY_DIR}/dist/engine/
        COMMENT "Copying the engine's JS API next to convscope_engine_wasm.mjs and into dist/engine")

    # ---- the threaded variant --------------------------------------------
    # The core again, compiled with -pthread (shared memory needs every object
    # built with atomics), and the engine linked with a fixed pool of
    # CONVSCOPE_WASM_MAX_THREADS - 1 workers started with the module (a
    # browser's main thread cannot wait for a worker to start, so the pool
    # must exist before the first parallel_for). It needs SharedArrayBuffer:
    # Node has it; a page must be cross-origin isolated (COOP/COEP headers,
    # docs/hosting.md). convscope_engine.mjs loads it only then.
    #
    # Exceptions: Emscripten 3.1.6 with -pthread and -fwasm-exceptions links a
    # libc++abi whose typed catch never matches (catch (const std::exception&)
    # aborts with an uncaught WebAssembly.Exception; catch (...) works), so
    # this variant uses Emscripten's JS-based -fexceptions instead.
    set(CONVSCOPE_WASM_MAX_THREADS 8 CACHE STRING "ConvScope: threads of the pthread WebAssembly engine (pool size + 1)")
    math(EXPR convscope_pthread_pool "${CONVSCOPE_WASM_MAX_THREADS} - 1")
    get_target_property(convscope_core_mt_sources convscope_core SOURCES)
    add_library(convscope_core_mt STATIC ${convscope_core_mt_sources})
    # The core's include folders, system ones (Eigen, stb, nlohmann) as SYSTEM
    # as in the core, so their warnings stay out.
    target_include_directories(convscope_core_mt PUBLIC "${CONVSCOPE_ENGINE_ROOT}/src")
    target_include_directories(convscope_core_mt SYSTEM PUBLIC
        ${CONVSCOPE_EIGEN_DIR} ${CONVSCOPE_STB_DIR} ${CONVSCOPE_JSON_DIR})
    foreach(property COMPILE_DEFINITIONS COMPILE_OPTIONS INTERFACE_COMPILE_OPTIONS)
        get_target_property(value convscope_core ${property})
        if(value)
            set_property(TARGET convscope_core_mt PROPERTY ${property} "${value}")
        endif()
    endforeach()
    function(convscope_use_js_exceptions target)
        foreach(property COMPILE_OPTIONS LINK_OPTIONS)
            get_target_property(options ${target} ${property})
            if(options)
                list(REMOVE_ITEM options -fwasm-exceptions)
                set_property(TARGET ${target} PROPERTY ${property} "${options}")
            endif()
        endforeach()
        target_compile_options(${target} PRIVATE -fexceptions -pthread)
        target_link_options(${target} PRIVATE -fexceptions -pthread)
    endfunction()
    convscope_use_js_exceptions(convscope_core_mt)
    target_compile_definitions(convscope_core_mt PRIVATE CONVSCOPE_MAX_THREADS=${CONVSCOPE_WASM_MAX_THREADS})
    convscope_warnings(convscope_core_mt)

    add_executable(convscope_engine_mt ${CONVSCOPE_JS_API_SOURCES})
    target_link_libraries(convscope_engine_mt PRIVATE convscope_core_mt)
    target_include_directories(convscope_engine_mt PRIVATE "${CONVSCOPE_ENGINE_ROOT}/src")
    target_compile_options(convscope_engine_mt PRIVATE -msimd128 -O3)
    convscope_use_js_exceptions(convscope_engine_mt)
    convscope_warnings(convscope_engine_mt)
    set_target_properties(convscope_engine_mt PROPERTIES
        OUTPUT_NAME convscope_engine_mt_wasm SUFFIX ".mjs"
        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/engine
        LINK_DEPENDS "${CONVSCOPE_ENGINE_ROOT}/src/js_api/engine_extern_pre.js")
    target_link_options(convscope_engine_mt PRIVATE
        -O3 -msimd128 -sASSERTIONS=0
        -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createConvScopeEngineWasm
        -sENVIRONMENT=web,worker,node -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sTOTAL_STACK=1MB
        -sPTHREAD_POOL_SIZE=${convscope_pthread_pool}
        -sEXPORTED_FUNCTIONS=${CONVSCOPE_ENGINE_EXPORTS}
        -sEXPORTED_RUNTIME_METHODS=UTF8ToString,stringToUTF8,lengthBytesUTF8
        -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0
        --extern-pre-js "${CONVSCOPE_ENGINE_ROOT}/src/js_api/engine_extern_pre.js")
    add_custom_command(TARGET convscope_engine_mt POST_BUILD
        COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/dist/engine
        COMMAND ${CMAKE_COMMAND} -E copy_if_different ${CMAKE_BINARY_DIR}/engine/convscope_engine_mt_wasm.mjs
                ${CMAKE_BINARY_DIR}/engine/convscope_engine_mt_wasm.wasm ${CMAKE_BINARY_DIR}/engine/convscope_engine_mt_wasm.worker.js
                ${CMAKE_BINARY_DIR}/dist/engine/
        COMMENT "Copying the threaded engine into dist/engine")
endif()
