// Heatmaps: float images coloured on the GPU.
//
// Panels hand float32 maps (kernels, responses, feature maps, explanations)
// to the renderer, which keeps them as float textures and draws them through
// a colour-map shader with nearest-neighbour magnification. The interface
// lives in ui/ (panels depend on it); the WebGL2 implementation lives in
// platform/ and is installed at start-up with set_heatmap_renderer(). Until
// one is installed, a null renderer draws grey boxes, so panels never need
// to check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "imgui.h"
#include "ui/value_range.h"

namespace convscope::ui {

enum class ColorMap : uint8_t {
    diverging,  // blue - white - red, centred on zero: kernels, signed responses
    viridis,    // activations, saliency
    grayscale,  // images
};

// How values map to colours. For `diverging`, the range used is symmetric:
// [-max(|low|,|high|), +max(|low|,|high|)] so zero is always white.
struct HeatmapStyle {
    ColorMap color_map = ColorMap::viridis;
    float low = 0.0f;
    float high = 1.0f;
    float opacity = 1.0f;  // for overlays on an image
};

// A handle to an uploaded map. Cheap to copy; valid until the renderer
// evicts it (a texture not drawn for a few frames).
struct HeatmapTexture {
    uint64_t id = 0;
    int width = 0;
    int height = 0;
    bool valid() const { return id != 0; }
};

class HeatmapRenderer {
public:
    virtual ~HeatmapRenderer() = default;

    // Uploads a row-major height x width float map, or reuses the texture
    // already uploaded under `key` when `version` is unchanged (so panels
    // can call this every frame at no cost). Change `version` when the data
    // changes.
    virtual HeatmapTexture upload(const std::string& key, uint64_t version, const float* values, int width,
                                  int height) = 0;

    // Draws the map at the ImGui cursor as an item of `size` pixels (so
    // IsItemHovered() works after it), coloured with `style`.
    virtual void draw(const HeatmapTexture& texture, ImVec2 size, const HeatmapStyle& style) = 0;

    // A horizontal colour bar for `style` with the value range labelled.
    virtual void draw_color_bar(const HeatmapStyle& style, ImVec2 size) = 0;

    // Called by the platform after each frame: frees textures not drawn recently.
    virtual void end_frame() = 0;
};

// `style` with low/high set from `range` (0..1 when the range is empty).
HeatmapStyle with_range(HeatmapStyle style, const ValueRange& range);

HeatmapRenderer& heatmap_renderer();
void set_heatmap_renderer(HeatmapRenderer* renderer);

}  // namespace convscope::ui
