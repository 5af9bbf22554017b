// TensorFlow Lite model reader: decodes the FlatBuffers tables of a .tflite
// file (flatbuffers.h, no flatbuffers library) into the format-neutral Model.
// It opens files for inspection; the engine does not run TFLite yet, and every
// layer says so in its unsupported_reason.
//
// On-disk layout read ("tensorflow/lite/schema/schema.fbs", schema version 3
// with the 3a/3b/3c additions; field ids in brackets; types per
// flatbuffers.h; tflite_tables.cpp holds the enum and options tables):
//   1. The file is a flatbuffer whose root is a Model and whose identifier
//      (bytes 4..7) is "TFL3". Bytes after the flatbuffer may hold buffer
//      data (3c: Buffer.offset) and an appended ZIP archive of associated
//      files (the TFLite metadata populator's labels.txt and friends).
//   2. Model: version [0] uint, operator_codes [1] [OperatorCode],
//      subgraphs [2] [SubGraph], description [3] string, buffers [4]
//      [Buffer], metadata_buffer [5] [int] (deprecated, ignored), metadata
//      [6] [Metadata], signature_defs [7] [SignatureDef].
//   3. OperatorCode: deprecated_builtin_code [0] int8, custom_code [1]
//      string, version [2] int = 1, builtin_code [3] int32. The builtin
//      code is max(deprecated_builtin_code, builtin_code), as TFLite's own
//      reader computes it (old files only set the int8, new ones both).
//   4. SubGraph: tensors [0] [Tensor], inputs [1] [int], outputs [2] [int],
//      operators [3] [Operator], name [4] string.
//   5. Tensor: shape [0] [int], type [1] TensorType int8 (FLOAT32 0,
//      FLOAT16 1, INT32 2, UINT8 3, INT64 4, STRING 5, BOOL 6, INT16 7,
//      COMPLEX64 8, INT8 9, FLOAT64 10, COMPLEX128 11, UINT64 12, RESOURCE 13,
//      VARIANT 14, UINT32 15, UINT16 16, INT4 17), buffer [2] uint (0 = no
//      data), name [3] string, quantization [4] QuantizationParameters,
//      is_variable [5] bool, sparsity [6] SparsityParameters (refused:
//      "sparse tensors are not supported"), shape_signature [7] [int] (-1 for
//      dynamic dimensions), has_rank [8] bool, variant_tensors [9] (ignored).
//   6. QuantizationParameters: min [0] [float], max [1] [float], scale [2]
//      [float], zero_point [3] [long], details [4]/[5] union
//      (CustomQuantization: reported, not read), quantized_dimension [6] int.
//   7. Operator: opcode_index [0] uint, inputs [1] [int] (-1 = omitted
//      optional input), outputs [2] [int], builtin_options [3]/[4] union
//      BuiltinOptions (members 1..126, decoded field by field into
//      attributes), custom_options [5] [ubyte], custom_options_format [6],
//      mutating_variable_inputs [7], intermediates [8] [int],
//      large_custom_options_offset [9] / size [10] ulong,
//      builtin_options_2 [11]/[12] union (StableHLO options: named, not read).
//   8. Buffer: data [0] [ubyte], or (3c, files past 2 GB) offset [1] ulong
//      and size [2] ulong, the offset counted from the start of the file and
//      valid when > 1.
//   9. Metadata: name [0] string, buffer [1] uint. Known names:
//      "min_runtime_version" (a NUL-padded version string) and
//      "TFLITE_METADATA" (a ModelMetadata flatbuffer, identifier "M001":
//      name [0], description [1], version [2], subgraph_metadata [3]
//      (SubGraphMetadata: output_tensor_metadata [3] [TensorMetadata:
//      associated_files [6]], associated_files [4]), author [4], license
//      [5], associated_files [6] [AssociatedFile: name [0], description [1],
//      type [2] int8 (TENSOR_AXIS_LABELS 2, TENSOR_VALUE_LABELS 3, ...),
//      locale [3]], min_parser_version [7]).
//  10. SignatureDef: inputs [0] / outputs [1] [TensorMap: name [0],
//      tensor_index [1]], signature_key [2], subgraph_index [4].
//
// Mapping into Model:
//   - format "tflite", producer "tflite" (the file does not name its
//     converter beyond the description), name = subgraph 0's name (or the
//     ModelMetadata name), layout channels_last (NHWC). Only subgraph 0 is
//     mapped; other subgraphs (WHILE/IF bodies) are counted in metadata and a
//     warning.
//   - One Layer per Operator in order. type = the BuiltinOperator name
//     ("CONV_2D"), or the custom code for CUSTOM operators. name = the first
//     output tensor's name up to its first ';' (the converter joins fused op
//     names with ';'), made unique with "_<index>"; "<TYPE>_<index>" when
//     empty. inputs/outputs are tensor names (a tensor with no name or a
//     repeated one is "tensor_<index>"); an omitted optional input is "".
//   - Attributes: the builtin options by their schema field names (padding
//     "SAME"/"VALID", fused_activation_function "RELU", tensor types by
//     name), "op_version", "builtin_options" (the options table's name),
//     "weights_layout" for convolutions and dense layers, and the first
//     output's quantization as "output_scale" / "output_zero_point".
//   - Weights: the inputs that are constant tensors (a non-empty buffer, not a
//     variable), in their stored layout (CONV_2D and TRANSPOSE_CONV kernels
//     OHWI, DEPTHWISE_CONV_2D 1HWC, FULLY_CONNECTED units x inputs), named by
//     their tensor names; integer weights keep their integer values with
//     Weight::quantization (scale, zero_point, axis). An input produced by a
//     DEQUANTIZE of a constant (float16 and hybrid models) is also a weight
//     of its consumer, dequantized to float32 and named by that input.
//   - Model inputs/outputs: subgraph 0's, with shape_signature when present
//     (so a dynamic batch is -1), else shape. Layer::output_shape likewise.
//   - Metadata: "schema_version", "description", "min_runtime_version",
//     "subgraphs", "operator_codes" (counts), "signature_defs"
//     ("serving_default (subgraph 0; inputs: x=tensor 0; outputs: ...)"),
//     the TFLITE_METADATA strings prefixed "model_metadata.", other metadata
//     entries as "metadata.<name>" = their size, "associated_files" (the
//     appended archive's members) and, when it holds the labels file,
//     "labels_file" and "labels" (one per line). A metadata flatbuffer or an
//     archive that cannot be read is a warning, not an error.
//   - Weight quantization is Layer::weight_quantization[weight name]; a
//     readable summary is the attribute "weights_quantization".
//   - Sparse constants are not weights: their consumer's unsupported_reason
//     names them ("sparse tensors are not supported"), plus one warning.
//   - Every layer's unsupported_reason says TFLite execution is not
//     implemented yet (custom operators say they are custom, too).
#pragma once

#include <string>

#include "core/formats/registry.h"

namespace convscope {

// Cheap and never throws: bytes 4..7 are "TFL3" and the root offset lies
// inside the file.
bool looks_like_tflite(ByteSpan bytes);

// Throws FormatError naming the table path ("Model.subgraphs[0].tensors[3]"),
// the field and the byte offset; LimitError past limits.h.
Model open_tflite(const FileBytes& bytes, const std::string& file_name);

// real = scale * (q - zero_point) as float32, per channel along
// quantization.axis (or one pair for axis -1). Throws Error when the
// quantization does not fit the tensor.
Tensor dequantize_weight(const Tensor& stored, const WeightQuantization& quantization);

// "CONV_2D" for 3; nullptr for codes the schema does not name.
const char* tflite_builtin_operator_name(int32_t code);

}  // namespace convscope
