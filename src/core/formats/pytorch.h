// PyTorch files (.pt, .pth, .bin from torch.save >= 1.6, TorchScript
// torch.jit.save archives): a ZIP container read with zip.h, whose pickles
// are read with pickle.h (nothing in them is executed).
//
// On-disk layout read (torch/serialization.py _save, torch/csrc/jit/
// serialization/export_module.cpp):
//   1. A ZIP archive (stored members, 64-byte aligned data) whose members all
//      sit under one folder, the archive name, which varies ("archive/",
//      the file's stem, ...): the folder of the shallowest "*/data.pkl".
//   2. <archive>/data.pkl: the pickled object (protocol 2). Tensors are
//      REDUCE calls of torch._utils._rebuild_tensor_v2(storage, offset,
//      size, stride, requires_grad, backward_hooks[, metadata]), wrapped by
//      torch._utils._rebuild_parameter(tensor, requires_grad, hooks) for
//      nn.Parameter, or torch._tensor._rebuild_from_type_v2(func, type,
//      args, state) for tensor subclasses.
//   3. A storage is a BINPERSID of the tuple ("storage", <storage class
//      global: torch.FloatStorage ...>, key, location, numel); its bytes are
//      <archive>/data/<key>, numel elements of the class's dtype.
//      Storage classes: Double f64, Float f32, Half f16, BFloat16 (converted
//      to f32: our DType has no bfloat16), Long i64, Int i32, Short i16,
//      Char i8, Byte u8, Bool.
//   4. <archive>/byteorder: "little" or "big" (absent before torch 1.10 =
//      little). Big-endian files are refused.
//   5. <archive>/version: the format version, a decimal line (metadata).
//   6. TorchScript adds <archive>/constants.pkl (a tuple of constants; its
//      tensors' storages are <archive>/constants/<key>) and
//      <archive>/code/__torch__/<module path>.py, one file per scripted
//      class (the class hierarchy, listed in metadata). Its data.pkl holds
//      modules as __torch__.<path>.<Class> objects whose state dict holds
//      their tensors and submodules by attribute name.
//   7. The legacy format (torch.save before 1.6, or with
//      _use_new_zipfile_serialization=False), not a ZIP: five pickles in a
//      row - the magic number 0x1950a86a20f9469cfc6c, the protocol version
//      (1001), sys_info (a dict), the object (storage ids are
//      ("storage", class, key, location, numel, view_metadata); views are
//      refused; a whole pickled model names its classes as ("module",
//      class, source file, source), read as the class), the list of storage keys - then for each key in that
//      list's order a u64 element count and the raw little-endian elements.
//
// Mapping into Model (format "pytorch", producer "pytorch", layout
// channels_first, has_architecture false, one warning saying so):
//   - The weights are found in the pickled object: a state dict itself, or
//     a dict's "state_dict" / "model_state_dict" / "model" / "module" /
//     "net" / "ema" ... entry (the key is in metadata "weights_from"), or a
//     module object (torch.save(model)) walked through its _parameters,
//     _buffers and _modules (eager) or its attributes (TorchScript).
//   - metadata "container": "torch.save", "torchscript" or "torch.save legacy".
//   - Layers by key prefix (state_dict.h); module classes and their int /
//     float / tuple attributes (stride, padding, groups, ...) when the file
//     records them. metadata: "container" (torch.save / torchscript),
//     "version", "pickle_protocol", "python_classes" (every non-torch
//     global the pickle names), "torchscript_classes".
#pragma once

#include <string>

#include "core/formats/registry.h"

namespace convscope {

// A ZIP whose central directory names a "data.pkl", or the legacy magic.
bool looks_like_pytorch(ByteSpan bytes);

// Throws FormatError ("refused: the pickle calls os.system ..." for a
// pickle naming a dangerous global) and LimitError.
Model open_pytorch(const FileBytes& bytes, const std::string& file_name);

}  // namespace convscope
