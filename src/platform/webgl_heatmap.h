// The WebGL2 heatmap renderer: convscope::ui::HeatmapRenderer on the GPU.
//
// Implemented features:
//  [X] Maps as R32F float textures with NEAREST filtering (exact values,
//      crisp pixels), uploaded once per key/version.
//  [X] Colouring in a fragment shader through a 256 x 3 colour-map lookup
//      texture (diverging, viridis, grayscale; ui/color_maps.h); NaN shows
//      as magenta; opacity for overlays.
//  [X] Drawn inside ImGui's draw lists (clipping, scrolling and z-order as
//      any image): ImDrawList::AddCallback switches to our program, an
//      AddImage quad carries the texture, ImDrawCallback_ResetRenderState
//      hands back to ImGui's GL3 backend. Our vertex attributes are bound to
//      the backend's locations, so its vertex array feeds our shader.
//      Consecutive maps share one switch (one reset per run of maps).
//  [X] Eviction of textures not drawn for a few frames, and a cap on total
//      texture memory (least recently used go first).
//  [X] Maps larger than GL_MAX_TEXTURE_SIZE are reduced by nearest sampling.
//  [X] Debug windows for the page's test hook (webgl_heatmap_debug.cpp): a
//      stress grid of n 28x28 maps and a test card of known maps at a known place.
// Missing features:
//  [ ] Rebuilding textures after a lost WebGL context (the page asks for a
//      reload instead).
//
// Emscripten only (whole file); call install_webgl_heatmap_renderer() once
// the GL context and ImGui's GL3 backend exist.
#pragma once

#ifdef __EMSCRIPTEN__

#include <cstddef>
#include <cstdint>
#include <string>

namespace convscope::platform {

// What the renderer holds, for the test hook and the stress measurement.
struct HeatmapRendererStats {
    size_t textures = 0;
    size_t texture_bytes = 0;
    size_t texture_byte_cap = 0;
    uint64_t uploads = 0;          // since start
    uint64_t evictions = 0;        // since start
    uint64_t refused_uploads = 0;  // over the cap even after evicting
    size_t draws_last_frame = 0;
    size_t program_switches_last_frame = 0;  // one per run of consecutive maps
    // From the frame's first map callback to end_frame(): GL submission of
    // the maps and whatever ImGui draws after them (CPU time, not GPU time).
    double render_ms_last_frame = 0.0;
};

// Creates the renderer and makes it the one ui::heatmap_renderer() returns.
// Also adds its functions to the page's window.convscope hook
// (debugHeatmapStress(n), debugHeatmapTestCard(on), debugHeatmapCap(bytes),
// heatmapStats()).
void install_webgl_heatmap_renderer();

// Called by the platform once per frame after ImGui_ImplOpenGL3_RenderDrawData:
// forwards to the renderer's end_frame().
void end_heatmap_frame();

// Called by the platform between the app's windows and ImGui::Render(): the
// debug windows the test hook asked for (none by default). In
// webgl_heatmap_debug.cpp.
void draw_heatmap_debug_windows();

HeatmapRendererStats heatmap_renderer_stats();

// Bytes of float textures the renderer may hold; 0 restores the default.
void set_heatmap_texture_byte_cap(size_t bytes);

}  // namespace convscope::platform

#endif  // __EMSCRIPTEN__
