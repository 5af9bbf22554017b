// A user's set of images: a folder, a .zip, loose files, or a .npy/.npz
// array, streamed one image at a time.
//
// Labels follow the ImageFolder convention: the first folder level below the
// root names the class ("data/cat/001.png" is a "cat"); images directly in
// the root are unlabelled. Class names are the sorted folder names, so the
// label numbers are stable whatever order the files arrive in. Only the
// list of entries is kept; each image is decoded when asked for, so a set of
// thousands of pictures never holds more than one decoded image.
//
// Arrays: a .npy of uint8 or float images [N, H, W], [N, H, W, C] or
// [N, C, H, W] (C in 1..4, values 0..255), or a .npz holding such an array
// (named "images", "x", "x_test", "X" or the first image-shaped member) and
// optionally integer labels [N] ("labels", "y", "y_test", "Y").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/formats/registry.h"
#include "core/tensor/tensor.h"

namespace convscope {

class ImageDataset {
public:
    // Every image file below `path` (PNG/JPEG/BMP/GIF by extension), sorted
    // by path. Throws Error naming the folder when it holds no image.
    static ImageDataset from_folder(const std::string& path);
    // Image members of a ZIP archive; folder names inside it are labels (a
    // single top-level folder that holds every member is skipped, as when a
    // folder was zipped whole).
    static ImageDataset from_zip(const FileBytes& bytes, const std::string& name);
    // Files the app received in one drop, with their relative paths
    // ("fashion/Coat/12.png"); the same label rule as a zip.
    static ImageDataset from_files(std::vector<std::pair<std::string, FileBytes>> files);
    static ImageDataset from_npy(const FileBytes& bytes, const std::string& name);
    static ImageDataset from_npz(const FileBytes& bytes, const std::string& name);
    // Picks by what `path` is: a folder, .zip, .npy, .npz, or one image.
    static ImageDataset open(const std::string& path);

    size_t size() const { return entries_.size(); }
    const std::string& name(size_t index) const;
    // Index into class_names(), or -1 for an unlabelled image.
    int label(size_t index) const;
    const std::vector<std::string>& class_names() const { return class_names_; }
    bool labelled() const { return !class_names_.empty(); }
    // Image `index` as [h, w, c] float32 with values 0..255. Throws
    // FormatError naming the file when it cannot be decoded.
    Tensor image(size_t index) const;
    // "fashion200 (zip): 200 images in 10 classes".
    std::string describe() const;

private:
    struct Entry {
        std::string name;
        int label = -1;
    };
    std::string source_;
    std::vector<Entry> entries_;
    std::vector<std::string> class_names_;
    std::function<Tensor(size_t)> decode_;

    // Fills entries_ and class_names_ from relative paths (label rule above).
    void label_by_folder(const std::vector<std::string>& relative_paths);
};

// True for the image extensions the sets take (.png .jpg .jpeg .bmp .gif).
bool is_image_file_name(const std::string& name);

// Maps dataset class names onto a model's class names where they agree,
// ignoring case and every character that is not a letter or a digit
// ("T-shirt_top" matches "T-shirt/top"). Folder names that are plain numbers
// within [0, model_classes) are taken as class indices when no names match.
// Returns, per dataset class, the model class index or -1.
std::vector<int> match_class_names(const std::vector<std::string>& dataset_classes,
                                   const std::vector<std::string>& model_classes, int64_t model_class_count);

}  // namespace convscope
