// The C API the WebAssembly engine module exports to JavaScript
// (web/engine/convscope_engine.mjs wraps it; nobody else should need to).
//
// Plain C functions over the core: open a model file, describe it as JSON,
// run it with optional activation capture, hand the results back as float32
// arrays living in the module's memory. Models are referred to by an integer
// handle (> 0) so JS never holds a C++ pointer it could misuse.
//
// Calling sequence for one model:
//   uint8_t* buffer = cs_file_buffer(size);     // JS copies the file in
//   int model = cs_model_load("name.onnx");      // 0 on failure: cs_last_error()
//   const char* info = cs_model_info_json(model);
//   int count = cs_model_run(model, input, shape, rank, "{\"capture\":[\"conv1\"]}");
//   cs_result_info_json(model); cs_result_data(model, i);   // i < count
//   cs_model_free(model);
//
// Errors: every function that can fail returns 0 / -1 / null and leaves a
// message (what was expected, what was found, where) in cs_last_error().
// Strings returned stay valid until the next call into the API.
#pragma once

#include <cstdint>

extern "C" {

// The message of the last failure, "" when the last call succeeded.
const char* cs_last_error();

// Reserves the buffer the next cs_model_load() reads the file from, so the
// file is copied into WASM memory once. Null when size exceeds the core's
// file limit (limits::max_file_bytes) or is 0.
uint8_t* cs_file_buffer(uint32_t size);

// Opens the file in the pending buffer (the format is picked by its magic
// bytes; file_name is only used in messages). Returns a model handle, or 0
// when the file cannot be read. A model the engine cannot run still loads:
// its info says why ("runError") and cs_model_run() fails with that reason.
int cs_model_load(const char* file_name);

// {"name","format","producer","layout":"NCHW"|"NHWC","runnable","runError",
//  "inputShape":[..] (batch 1, null for unknown), "inputs":[{name,shape}],
//  "outputs":[..], "layers":[{name,type,outputShape,params,inputs,outputs,
//  unsupported}], "plan":["step description", ...], "warnings":[..]}
const char* cs_model_info_json(int model);

// Runs the model on `input` (float32, `rank` dimensions in `shape`, the
// framework's layout; batch may be left out). options_json is null or
// {"capture":["layer or value name", ...], "captureAll":false,
//  "stopAfter":"name"}. Returns the number of result tensors (outputs first,
// then activations), or -1 on failure.
int cs_model_run(int model, const float* input, const int32_t* shape, int rank, const char* options_json);

// [{"kind":"output"|"activation","name":..,"shape":[..],"size":n}, ...]
// in the order cs_result_data() indexes them.
const char* cs_result_info_json(int model);
// float32 data of result `index` of the last run (null when out of range).
const float* cs_result_data(int model, int index);
// Drops the last run's results (they are also dropped by the next run).
void cs_result_clear(int model);

void cs_model_free(int model);

// Bytes currently allocated on the module's heap (malloc's in-use count),
// for leak checks; 0 where the C library cannot tell.
uint32_t cs_heap_bytes_in_use();

// Sets the kernels' worker threads (clamped to [1, cs_max_threads()]) and
// returns the count in effect. Results are bit-identical for any count.
int cs_set_threads(int threads);
// 1 in a module built without pthreads; the pool's limit in a threaded one.
int cs_max_threads();

// Benchmark probe: `iterations` rounds of mul+add on sixteen independent
// f32x4 accumulators (128 FLOP per round), the most a WASM SIMD128 core can
// issue without FMA. Returns a value derived from the accumulators so the
// loop cannot be optimised away. Not part of the model API.
float cs_simd_peak_loop(int iterations);
// FLOPs one round of cs_simd_peak_loop() performs.
int cs_simd_peak_flops_per_iteration();

}  // extern "C"
