// Shared between tflite.cpp and tflite_tables.cpp: the schema's name tables.
#pragma once

#include <cstddef>
#include <cstdint>

namespace convscope::tflite {

// One BuiltinOptions member: its table name and its fields in field-id order
// as space-separated "name:kind" or "name:kind=default" specs. Kinds: bool,
// i8, i32, u32, i64, f32, string, i32s, f32s (vectors), padding (SAME/VALID),
// activation (ActivationFunctionType), type (TensorType), weights_format,
// mirror_pad_mode.
struct OptionsTable {
    const char* name;
    const char* fields;
};

const char* builtin_operator_name(int32_t code);         // nullptr when unknown
const OptionsTable* builtin_options_table(uint8_t type);  // nullptr for 0 and unknown

}  // namespace convscope::tflite
