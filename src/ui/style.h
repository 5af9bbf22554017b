// Look and scale. The platform draws in device pixels, so both the style's
// sizes and the font are scaled by the device pixel ratio: text stays crisp
// at any zoom level or on high-DPI screens.
#pragma once

#include <cstddef>
#include <cstdint>

namespace convscope::ui {

// Font size in CSS pixels before scaling.
constexpr float base_font_size = 15.0f;

enum class Theme { dark, light };

// Replaces ImGui's style with ConvScope's in the current theme, scaled by
// `scale`.
void apply_style(float scale);

// Chooses the theme (the View menu; the platform remembers the choice in
// localStorage). It takes effect when the platform calls
// apply_theme_change() between windows, not in the middle of one, where
// ImGui's style stacks would restore old colours.
void set_theme(Theme theme);
Theme theme();
void apply_theme_change();

// Rebuilds the font atlas from a TTF (not copied: the caller keeps `ttf`
// alive while the atlas exists) at base_font_size * scale; falls back to
// ImGui's built-in bitmap font when `ttf` is null. The platform must then
// re-upload the atlas texture.
void rebuild_fonts(const uint8_t* ttf, size_t ttf_size, float scale);

}  // namespace convscope::ui
