// Drawing helpers the inspector panels share: a heatmap with its value under
// the mouse, ranges, a kernel's numbers, export buttons, and the keyboard
// navigation between layers and kernels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <imgui.h>

#include "ui/app_state.h"
#include "ui/heatmap.h"

namespace convscope::ui {

// Symmetric [-m, m] (diverging) or [min, max] range of a map's finite values;
// a constant map gets a range of width 1.
HeatmapStyle style_for(ColorMap map, const float* values, size_t count);

// Draws a height x width map through the heatmap renderer at `cell` pixels
// per value; when hovered, a tooltip shows "title (y, x) = value" (none when
// title is null: the caller draws its own). Returns true when clicked.
bool draw_map(const std::string& key, uint64_t version, const float* values, int64_t width, int64_t height,
              float cell, const HeatmapStyle& style, const char* title);

// A small table of a 2-D map's numbers (kernels), coloured by sign.
void draw_numbers(const float* values, int64_t width, int64_t height);

// Shows `text` as a tooltip when the last item is hovered.
void tooltip(const char* text);

// "Save .npy" / "Save .png" buttons: encode and hand to AppState::request_download.
void save_npy_button(AppState& app, const char* label, const std::string& file_name, const Tensor& tensor);
void save_png_button(AppState& app, const char* label, const std::string& file_name, const float* values, int64_t width,
                     int64_t height, ColorMap map);

// Up/Down move between layers, Left/Right between kernels, unless a text
// field has the keyboard. Called once per frame by the app.
void handle_inspector_keys(AppState& app);

// File-name-safe version of a layer or weight name ("conv2d/kernel:0" -> "conv2d_kernel_0").
std::string file_safe(const std::string& name);

}  // namespace convscope::ui
