// [SECTION] WebGL2 heatmap renderer (see webgl_heatmap.h for the feature list)
// [SECTION] - shaders and the colour-map lookup texture
// [SECTION] - texture cache: upload, eviction, memory cap
// [SECTION] - drawing through ImGui draw-list callbacks
// [SECTION] - the test hook (its debug windows are in webgl_heatmap_debug.cpp)
#ifdef __EMSCRIPTEN__

#include "platform/webgl_heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <GLES3/gl3.h>
#include <emscripten.h>
#include <imgui.h>

#include "ui/color_maps.h"
#include "ui/heatmap.h"
#include "ui/style.h"

namespace convscope::platform {
namespace {

// Textures not drawn (nor uploaded) for this many frames are freed: a map
// scrolled out of view or on a hidden tab costs nothing after a moment, and
// coming back costs one upload.
constexpr uint64_t frames_kept_unused = 3;

// Float textures cost 4 bytes a value. 256 MB is far more than any screen of
// maps needs, and small enough for a browser tab on a modest laptop.
constexpr size_t default_texture_byte_cap = size_t(256) << 20;

// ---- shaders -----------------------------------------------------------------

// Same vertex layout and projection as ImGui's GL3 backend (ImDrawVert:
// pos, uv, col), so the backend's vertex array feeds this program as is.
// The attribute locations are bound to the backend's before linking.
constexpr const char* vertex_shader_source = R"(#version 300 es
precision highp float;
in vec2 Position;
in vec2 UV;
in vec4 Color;
uniform mat4 ProjMtx;
out vec2 Frag_UV;
out vec4 Frag_Color;
void main() {
    Frag_UV = UV;
    Frag_Color = Color;
    gl_Position = ProjMtx * vec4(Position.xy, 0.0, 1.0);
}
)";

// Values are sampled at highp: a mediump sampler would round float maps to
// half precision before the colour mapping. t = value * Scale + Offset maps
// the style's range to [0, 1]; Scale 0 means a flat range (t = Offset).
constexpr const char* fragment_shader_source = R"(#version 300 es
precision highp float;
uniform highp sampler2D Values;
uniform mediump sampler2D ColorMaps;
uniform float Scale;
uniform float Offset;
uniform float MapRow;
uniform float Opacity;
in vec2 Frag_UV;
in vec4 Frag_Color;
layout (location = 0) out vec4 Out_Color;
void main() {
    float value = texture(Values, Frag_UV).r;
    float alpha = Opacity * Frag_Color.a;
    if (isnan(value)) {
        Out_Color = vec4(1.0, 0.0, 1.0, alpha);
        return;
    }
    float t = Scale == 0.0 ? Offset : clamp(value * Scale + Offset, 0.0, 1.0);
    vec3 rgb = texture(ColorMaps, vec2((t * 255.0 + 0.5) / 256.0, MapRow)).rgb;
    Out_Color = vec4(rgb, alpha);
}
)";

GLuint compile_shader(GLenum kind, const char* source) {
    GLuint shader = glCreateShader(kind);
    glShaderSource(shader, 1, &source, nullptr);
    glCompileShader(shader);
    GLint ok = GL_FALSE;
    glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[1024] = {};
        glGetShaderInfoLog(shader, sizeof log, nullptr, log);
        std::fprintf(stderr, "convscope: heatmap %s shader did not compile: %s\n",
                     kind == GL_VERTEX_SHADER ? "vertex" : "fragment", log);
        glDeleteShader(shader);
        return 0;
    }
    return shader;
}

// ---- renderer ----------------------------------------------------------------

struct TextureEntry {
    uint64_t id = 0;
    std::string key;
    uint64_t version = 0;
    GLuint texture = 0;
    int width = 0;   // of the texture (may be reduced from the map's)
    int height = 0;
    uint64_t last_used_frame = 0;
    size_t bytes() const { return size_t(width) * size_t(height) * sizeof(float); }
};

// The per-map state a draw callback applies. Callbacks receive an index
// into the frame's list (the list may grow while the frame is built).
struct MapDraw {
    float scale = 1.0f;
    float offset = 0.0f;
    float map_row = 0.0f;
    float opacity = 1.0f;
    bool starts_run = true;  // first of consecutive maps: switch program
};

// The value -> [0, 1] mapping of a style: diverging maps use the symmetric
// range around zero so zero is white.
void style_mapping(const ui::HeatmapStyle& style, float* low, float* high) {
    *low = style.low;
    *high = style.high;
    if (style.color_map == ui::ColorMap::diverging) {
        const float extent = std::max(std::fabs(style.low), std::fabs(style.high));
        *low = -extent;
        *high = extent;
    }
}

MapDraw map_draw_for(const ui::HeatmapStyle& style) {
    float low = 0.0f;
    float high = 0.0f;
    style_mapping(style, &low, &high);
    MapDraw draw;
    if (std::isfinite(low) && std::isfinite(high) && high > low) {
        draw.scale = 1.0f / (high - low);
        draw.offset = -low * draw.scale;
    } else {
        draw.scale = 0.0f;  // flat or broken range: everything mid-map
        draw.offset = 0.5f;
    }
    draw.map_row = (static_cast<float>(style.color_map) + 0.5f) / ui::color_map_count;
    draw.opacity = std::clamp(style.opacity, 0.0f, 1.0f);
    return draw;
}

class WebGLHeatmapRenderer;
WebGLHeatmapRenderer* the_renderer = nullptr;
void apply_map_draw_callback(const ImDrawList* list, const ImDrawCmd* command);

class WebGLHeatmapRenderer : public ui::HeatmapRenderer {
public:
    ui::HeatmapTexture upload(const std::string& key, uint64_t version, const float* values, int width,
                              int height) override {
        if (!values || width <= 0 || height <= 0) return {};
        auto found = ids_by_key_.find(key);
        if (found != ids_by_key_.end()) {
            TextureEntry& entry = entries_.at(found->second);
            if (entry.version == version) {
                entry.last_used_frame = frame_;
                return ui::HeatmapTexture{entry.id, width, height};
            }
        }
        ensure_limits();
        // Too large for one texture: sample it down (nearest) to fit.
        int texture_width = width;
        int texture_height = height;
        std::vector<float> reduced;
        const float* data = values;
        if (width > max_texture_size_ || height > max_texture_size_) {
            const double shrink = std::max(double(width), double(height)) / max_texture_size_;
            texture_width = std::max(1, std::min(max_texture_size_, int(width / shrink)));
            texture_height = std::max(1, std::min(max_texture_size_, int(height / shrink)));
            reduced.resize(size_t(texture_width) * size_t(texture_height));
            for (int y = 0; y < texture_height; ++y) {
                const size_t source_y = size_t(y) * size_t(height) / size_t(texture_height);
                for (int x = 0; x < texture_width; ++x) {
                    const size_t source_x = size_t(x) * size_t(width) / size_t(texture_width);
                    reduced[size_t(y) * texture_width + x] = values[source_y * size_t(width) + source_x];
                }
            }
            data = reduced.data();
        }
        const size_t new_bytes = size_t(texture_width) * size_t(texture_height) * sizeof(float);

        TextureEntry* entry = nullptr;
        if (found != ids_by_key_.end()) {
            entry = &entries_.at(found->second);
            entry->last_used_frame = frame_;  // so eviction below cannot pick it
            if (entry->width != texture_width || entry->height != texture_height) {
                texture_bytes_ -= entry->bytes();
                entry->width = 0;
                entry->height = 0;
            }
        }
        const size_t growth = entry && entry->width ? 0 : new_bytes;
        if (texture_bytes_ + growth > texture_byte_cap_) evict_least_recent(texture_bytes_ + growth - texture_byte_cap_);
        if (texture_bytes_ + growth > texture_byte_cap_) {
            ++refused_uploads_;
            if (entry) forget(entry->id);
            return {};
        }

        GLint previous_binding = 0;
        glGetIntegerv(GL_TEXTURE_BINDING_2D, &previous_binding);
        if (!entry) {
            TextureEntry created;
            created.id = next_id_++;
            created.key = key;
            glGenTextures(1, &created.texture);
            ids_by_key_[key] = created.id;
            entry = &entries_.emplace(created.id, std::move(created)).first->second;
        }
        glBindTexture(GL_TEXTURE_2D, entry->texture);
        if (entry->width == texture_width && entry->height == texture_height) {
            glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, texture_width, texture_height, GL_RED, GL_FLOAT, data);
        } else {
            // R32F is not filterable in WebGL2: NEAREST is both what the
            // texture allows and what a map wants (one value, one cell).
            glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
            glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
            glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
            glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
            glTexImage2D(GL_TEXTURE_2D, 0, GL_R32F, texture_width, texture_height, 0, GL_RED, GL_FLOAT, data);
            entry->width = texture_width;
            entry->height = texture_height;
            texture_bytes_ += new_bytes;
        }
        glBindTexture(GL_TEXTURE_2D, GLuint(previous_binding));
        entry->version = version;
        entry->last_used_frame = frame_;
        ++uploads_;
        return ui::HeatmapTexture{entry->id, width, height};
    }

    void draw(const ui::HeatmapTexture& texture, ImVec2 size, const ui::HeatmapStyle& style) override {
        const ImVec2 at = ImGui::GetCursorScreenPos();
        auto found = entries_.find(texture.id);
        if (found == entries_.end() || !ImGui::IsRectVisible(size)) {
            if (found == entries_.end()) draw_placeholder(at, size);
            else found->second.last_used_frame = frame_;
            ImGui::Dummy(size);
            return;
        }
        TextureEntry& entry = found->second;
        entry.last_used_frame = frame_;
        add_map(ImGui::GetWindowDrawList(), entry.texture, at, ImVec2(at.x + size.x, at.y + size.y),
                map_draw_for(style));
        ImGui::Dummy(size);
    }

    void draw_color_bar(const ui::HeatmapStyle& style, ImVec2 size) override {
        ensure_limits();
        const ImVec2 at = ImGui::GetCursorScreenPos();
        ui::HeatmapStyle ramp_style = style;
        // The ramp holds t itself: draw it with the identity mapping.
        MapDraw ramp = map_draw_for(ramp_style);
        ramp.scale = 1.0f;
        ramp.offset = 0.0f;
        if (ramp_texture_ && ImGui::IsRectVisible(size)) {
            add_map(ImGui::GetWindowDrawList(), ramp_texture_, at, ImVec2(at.x + size.x, at.y + size.y), ramp);
        }
        ImGui::Dummy(size);
        float low = 0.0f;
        float high = 0.0f;
        style_mapping(style, &low, &high);
        char low_text[32];
        char high_text[32];
        std::snprintf(low_text, sizeof low_text, "%.4g", low);
        std::snprintf(high_text, sizeof high_text, "%.4g", high);
        // Labels placed in screen space under the bar's ends (and its
        // middle, zero, for diverging maps): cursor-relative placement would
        // be off inside groups and columns.
        ImDrawList* list = ImGui::GetWindowDrawList();
        const ImVec2 line = ImGui::GetCursorScreenPos();
        const ImU32 colour = ImGui::GetColorU32(ImGuiCol_Text);
        const float high_width = ImGui::CalcTextSize(high_text).x;
        const float low_end = at.x + ImGui::CalcTextSize(low_text).x;
        list->AddText(ImVec2(at.x, line.y), colour, low_text);
        if (style.color_map == ui::ColorMap::diverging) {
            const float zero_x = at.x + size.x * 0.5f - ImGui::CalcTextSize("0").x * 0.5f;
            if (zero_x > low_end + 4.0f && zero_x + 12.0f < at.x + size.x - high_width) {
                list->AddText(ImVec2(zero_x, line.y), colour, "0");
            }
        }
        list->AddText(ImVec2(std::max(at.x + size.x - high_width, low_end + 8.0f), line.y), colour, high_text);
        ImGui::Dummy(ImVec2(size.x, ImGui::GetTextLineHeight()));
    }

    void end_frame() override {
        render_ms_last_frame_ = render_started_ > 0.0 ? emscripten_get_now() - render_started_ : 0.0;
        render_started_ = 0.0;
        draws_last_frame_ = draws_.size();
        program_switches_last_frame_ = program_switches_;
        draws_.clear();
        program_switches_ = 0;
        last_reset_list_ = nullptr;
        std::vector<uint64_t> stale;
        for (const auto& [id, entry] : entries_) {
            if (frame_ - entry.last_used_frame >= frames_kept_unused) stale.push_back(id);
        }
        for (uint64_t id : stale) forget(id);
        ++frame_;
    }

    // Runs inside ImGui_ImplOpenGL3_RenderDrawData, right after the backend
    // set up its render state (program, vertex array, blending, scissor).
    void apply(const ImDrawCmd& command) {
        const size_t index = size_t(reinterpret_cast<intptr_t>(command.UserCallbackData));
        if (index >= draws_.size()) return;
        const MapDraw& draw = draws_[index];
        if (render_started_ == 0.0) render_started_ = emscripten_get_now();
        if (draw.starts_run) {
            if (!program_ && !program_failed_) create_program();
            if (!program_) return;  // the backend's shader then draws the raw red channel
            glUseProgram(program_);
            glActiveTexture(GL_TEXTURE1);
            glBindTexture(GL_TEXTURE_2D, color_map_texture_);
            glActiveTexture(GL_TEXTURE0);
            const ImDrawData* data = ImGui::GetDrawData();
            set_projection(data->DisplayPos, data->DisplaySize);
            ++program_switches_;
        }
        if (!program_) return;
        set_uniform(scale_location_, &uniforms_.scale, draw.scale);
        set_uniform(offset_location_, &uniforms_.offset, draw.offset);
        set_uniform(map_row_location_, &uniforms_.map_row, draw.map_row);
        set_uniform(opacity_location_, &uniforms_.opacity, draw.opacity);
    }

    HeatmapRendererStats stats() const {
        HeatmapRendererStats stats;
        stats.textures = entries_.size();
        stats.texture_bytes = texture_bytes_;
        stats.texture_byte_cap = texture_byte_cap_;
        stats.uploads = uploads_;
        stats.evictions = evictions_;
        stats.refused_uploads = refused_uploads_;
        stats.draws_last_frame = draws_last_frame_;
        stats.program_switches_last_frame = program_switches_last_frame_;
        stats.render_ms_last_frame = render_ms_last_frame_;
        return stats;
    }

    // For the test hook: a smaller cap shows eviction and refusal at work.
    void set_texture_byte_cap(size_t bytes) { texture_byte_cap_ = bytes ? bytes : default_texture_byte_cap; }

private:
    // A map quad between a switch to our program and a reset to ImGui's.
    // When the previous map in this draw list was the last thing added, its
    // reset is turned into this map's switch, so a grid of maps costs one
    // program change, not one per map.
    void add_map(ImDrawList* list, GLuint texture, ImVec2 min, ImVec2 max, MapDraw draw) {
        const int count = list->CmdBuffer.Size;
        const bool continues_run = list == last_reset_list_ && count == last_reset_count_ && count >= 2 &&
                                   list->CmdBuffer[count - 2].UserCallback == ImDrawCallback_ResetRenderState &&
                                   list->CmdBuffer[count - 1].UserCallback == nullptr &&
                                   list->CmdBuffer[count - 1].ElemCount == 0;
        draw.starts_run = !continues_run;
        void* index = reinterpret_cast<void*>(intptr_t(draws_.size()));
        draws_.push_back(draw);
        if (continues_run) {
            list->CmdBuffer[count - 2].UserCallback = apply_map_draw_callback;
            list->CmdBuffer[count - 2].UserCallbackData = index;
        } else {
            list->AddCallback(apply_map_draw_callback, index);
        }
        list->AddImage(reinterpret_cast<ImTextureID>(intptr_t(texture)), min, max);
        list->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
        last_reset_list_ = list;
        last_reset_count_ = list->CmdBuffer.Size;
    }

    void draw_placeholder(ImVec2 at, ImVec2 size) {
        ImDrawList* list = ImGui::GetWindowDrawList();
        const ImVec2 end(at.x + size.x, at.y + size.y);
        list->AddRectFilled(at, end, IM_COL32(90, 90, 90, 255));
        list->AddLine(at, end, IM_COL32(140, 140, 140, 255));
    }

    // GL objects that need no program: the colour-map lookup texture, the
    // colour-bar ramp, and the context's texture size limit.
    void ensure_limits() {
        if (color_map_texture_) return;
        glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_texture_size_);
        if (max_texture_size_ < 64) max_texture_size_ = 2048;  // WebGL2 guarantees 2048

        std::vector<ui::Rgba8> table;
        table.reserve(size_t(ui::color_map_entries) * ui::color_map_count);
        for (int map = 0; map < ui::color_map_count; ++map) {
            const ui::ColorMapTable& entries = ui::color_map_table(static_cast<ui::ColorMap>(map));
            table.insert(table.end(), entries.begin(), entries.end());
        }
        GLint previous_binding = 0;
        glGetIntegerv(GL_TEXTURE_BINDING_2D, &previous_binding);
        glGenTextures(1, &color_map_texture_);
        glBindTexture(GL_TEXTURE_2D, color_map_texture_);
        // Linear along a row blends neighbouring entries; rows are sampled
        // at their centres so maps never bleed into each other.
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
        glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, ui::color_map_entries, ui::color_map_count, 0, GL_RGBA,
                     GL_UNSIGNED_BYTE, table.data());

        std::vector<float> ramp(ui::color_map_entries);
        for (int i = 0; i < ui::color_map_entries; ++i) ramp[i] = float(i) / (ui::color_map_entries - 1);
        glGenTextures(1, &ramp_texture_);
        glBindTexture(GL_TEXTURE_2D, ramp_texture_);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
        glTexImage2D(GL_TEXTURE_2D, 0, GL_R32F, ui::color_map_entries, 1, 0, GL_RED, GL_FLOAT, ramp.data());
        glBindTexture(GL_TEXTURE_2D, GLuint(previous_binding));
    }

    // Called inside the first map callback, when the backend's program is
    // current: our attributes get its locations, whatever its shader says.
    void create_program() {
        GLint backend_program = 0;
        glGetIntegerv(GL_CURRENT_PROGRAM, &backend_program);
        const GLuint vertex = compile_shader(GL_VERTEX_SHADER, vertex_shader_source);
        const GLuint fragment = compile_shader(GL_FRAGMENT_SHADER, fragment_shader_source);
        GLuint program = glCreateProgram();
        if (vertex) glAttachShader(program, vertex);
        if (fragment) glAttachShader(program, fragment);
        const char* attributes[] = {"Position", "UV", "Color"};
        for (int i = 0; i < 3; ++i) {
            const GLint location = backend_program ? glGetAttribLocation(GLuint(backend_program), attributes[i]) : -1;
            glBindAttribLocation(program, GLuint(location >= 0 ? location : i), attributes[i]);
        }
        glLinkProgram(program);
        GLint linked = GL_FALSE;
        glGetProgramiv(program, GL_LINK_STATUS, &linked);
        if (vertex) glDeleteShader(vertex);
        if (fragment) glDeleteShader(fragment);
        if (!vertex || !fragment || !linked) {
            std::fprintf(stderr, "convscope: heatmap shader program did not link; maps draw uncoloured\n");
            glDeleteProgram(program);
            program_failed_ = true;
            return;
        }
        program_ = program;
        projection_location_ = glGetUniformLocation(program, "ProjMtx");
        scale_location_ = glGetUniformLocation(program, "Scale");
        offset_location_ = glGetUniformLocation(program, "Offset");
        map_row_location_ = glGetUniformLocation(program, "MapRow");
        opacity_location_ = glGetUniformLocation(program, "Opacity");
        // Samplers never change: values on unit 0 (where the backend binds
        // the draw command's texture), the colour maps on unit 1.
        glUseProgram(program);
        glUniform1i(glGetUniformLocation(program, "Values"), 0);
        glUniform1i(glGetUniformLocation(program, "ColorMaps"), 1);
    }

    void set_projection(ImVec2 position, ImVec2 size) {
        if (position.x == projected_position_.x && position.y == projected_position_.y &&
            size.x == projected_size_.x && size.y == projected_size_.y) {
            return;
        }
        projected_position_ = position;
        projected_size_ = size;
        // The backend's orthographic projection (top-left origin, y down).
        const float left = position.x;
        const float right = position.x + size.x;
        const float top = position.y;
        const float bottom = position.y + size.y;
        const float projection[16] = {
            2.0f / (right - left), 0.0f, 0.0f, 0.0f,
            0.0f, 2.0f / (top - bottom), 0.0f, 0.0f,
            0.0f, 0.0f, -1.0f, 0.0f,
            (right + left) / (left - right), (top + bottom) / (bottom - top), 0.0f, 1.0f,
        };
        glUniformMatrix4fv(projection_location_, 1, GL_FALSE, projection);
    }

    static void set_uniform(GLint location, float* cached, float value) {
        if (*cached == value) return;
        *cached = value;
        glUniform1f(location, value);
    }

    void forget(uint64_t id) {
        auto found = entries_.find(id);
        if (found == entries_.end()) return;
        glDeleteTextures(1, &found->second.texture);
        texture_bytes_ -= found->second.bytes();
        ids_by_key_.erase(found->second.key);
        entries_.erase(found);
        ++evictions_;
    }

    // Frees least recently used textures not drawn this frame until `bytes`
    // are free (or nothing more may go).
    void evict_least_recent(size_t bytes) {
        std::vector<const TextureEntry*> candidates;
        for (const auto& [id, entry] : entries_) {
            if (entry.last_used_frame < frame_) candidates.push_back(&entry);
        }
        std::sort(candidates.begin(), candidates.end(),
                  [](const TextureEntry* a, const TextureEntry* b) { return a->last_used_frame < b->last_used_frame; });
        std::vector<uint64_t> chosen;
        size_t freed = 0;
        for (const TextureEntry* entry : candidates) {
            if (freed >= bytes) break;
            freed += entry->bytes();
            chosen.push_back(entry->id);
        }
        for (uint64_t id : chosen) forget(id);
    }

    std::unordered_map<uint64_t, TextureEntry> entries_;
    std::unordered_map<std::string, uint64_t> ids_by_key_;
    uint64_t next_id_ = 1;
    uint64_t frame_ = 1;
    size_t texture_bytes_ = 0;
    uint64_t uploads_ = 0;
    uint64_t evictions_ = 0;
    uint64_t refused_uploads_ = 0;
    GLint max_texture_size_ = 2048;
    size_t texture_byte_cap_ = default_texture_byte_cap;
    double render_started_ = 0.0;  // emscripten_get_now() at the frame's first map callback
    double render_ms_last_frame_ = 0.0;

    std::vector<MapDraw> draws_;
    size_t draws_last_frame_ = 0;
    size_t program_switches_ = 0;
    size_t program_switches_last_frame_ = 0;
    const ImDrawList* last_reset_list_ = nullptr;
    int last_reset_count_ = 0;

    GLuint program_ = 0;
    bool program_failed_ = false;
    GLuint color_map_texture_ = 0;
    GLuint ramp_texture_ = 0;
    GLint projection_location_ = -1;
    GLint scale_location_ = -1;
    GLint offset_location_ = -1;
    GLint map_row_location_ = -1;
    GLint opacity_location_ = -1;
    ImVec2 projected_position_{-1.0f, -1.0f};
    ImVec2 projected_size_{-1.0f, -1.0f};
    struct {
        float scale = NAN, offset = NAN, map_row = NAN, opacity = NAN;
    } uniforms_;
};

void apply_map_draw_callback(const ImDrawList*, const ImDrawCmd* command) {
    if (the_renderer && command) the_renderer->apply(*command);
}

std::unique_ptr<WebGLHeatmapRenderer> renderer_storage;

}  // namespace

void install_webgl_heatmap_renderer() {
    renderer_storage = std::make_unique<WebGLHeatmapRenderer>();
    the_renderer = renderer_storage.get();
    ui::set_heatmap_renderer(the_renderer);
    // The page's hook learns the debug functions (webgl_heatmap_debug.cpp).
    EM_ASM({
        var hook = window.convscope = window.convscope || {};
        hook.debugHeatmapStress = function(count) { Module['_convscope_debug_heatmap_stress'](count | 0); };
        hook.debugHeatmapTestCard = function(shown) { Module['_convscope_debug_heatmap_test_card'](shown ? 1 : 0); };
        hook.debugHeatmapCap = function(bytes) { Module['_convscope_debug_heatmap_cap'](Number(bytes) || 0); };
        hook.heatmapStats = function() { return JSON.parse(UTF8ToString(Module['_convscope_heatmap_stats_json']())); };
    });
}

void end_heatmap_frame() {
    if (the_renderer) the_renderer->end_frame();
}

HeatmapRendererStats heatmap_renderer_stats() {
    return the_renderer ? the_renderer->stats() : HeatmapRendererStats{};
}

void set_heatmap_texture_byte_cap(size_t bytes) {
    if (the_renderer) the_renderer->set_texture_byte_cap(bytes);
}

}  // namespace convscope::platform

#endif  // __EMSCRIPTEN__
