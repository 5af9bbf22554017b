#include <catch2/catch.hpp>

#include <vector>

#include <stb_image_write.h>

#include "core/base/error.h"
#include "core/formats/image.h"

using namespace convscope;

namespace {
void collect(void* context, void* data, int size) {
    auto* bytes = static_cast<std::vector<uint8_t>*>(context);
    bytes->insert(bytes->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}
}  // namespace

TEST_CASE("image: PNG round trip through stb, channel conversion, bilinear resize", "[image]") {
    // 3x2 RGB with known pixels
    std::vector<uint8_t> pixels{255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90};
    std::vector<uint8_t> png;
    REQUIRE(stbi_write_png_to_func(collect, &png, 3, 2, 3, pixels.data(), 9) != 0);
    Tensor rgb = decode_image(ByteSpan(png.data(), png.size()), "test.png");
    REQUIRE(rgb.shape() == Shape{2, 3, 3});
    REQUIRE(rgb.f32()[4] == 255.0f);   // pixel (0,1) green
    REQUIRE(rgb.f32()[17] == 90.0f);
    Tensor gray = decode_image(ByteSpan(png.data(), png.size()), "test.png", 1);
    REQUIRE(gray.shape() == Shape{2, 3, 1});
    Tensor doubled = resize_image(rgb, 4, 6);
    REQUIRE(doubled.shape() == Shape{4, 6, 3});
    // half-pixel bilinear: output (0,0) samples source (-0.25,-0.25) -> clamped to pixel (0,0)
    REQUIRE(doubled.f32()[0] == Approx(255.0f));
    std::vector<uint8_t> junk{'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'g'};
    REQUIRE_THROWS_AS(decode_image(ByteSpan(junk.data(), junk.size()), "junk.bin"), FormatError);
}
