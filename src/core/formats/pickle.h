// Python pickle reader that executes nothing: a bounded interpreter of the
// pickle opcodes that builds plain data (None, bools, ints, floats, strings,
// bytes, tuples, lists, dicts) and, for every GLOBAL it meets, only a
// name. Calling a global (REDUCE, NEWOBJ, INST, OBJ) never runs anything:
// the result is a placeholder Instance naming the callable and keeping its
// arguments and BUILD state, unless the caller's hook (PyTorch's tensor
// rebuild functions) recognises the name and returns a value itself.
// collections.OrderedDict and builtins.set/frozenset become a dict and a list.
//
// On-disk layout read (Python's Lib/pickletools.py, protocols 0-5; opcode
// bytes in brackets):
//   1. An optional PROTO [0x80] n (n <= 5), then opcodes up to STOP ['.'];
//      FRAME [0x95] u64 is a length hint and is checked against the bytes left.
//   2. Stack and marks: MARK ['('], POP ['0'], POP_MARK ['1'], DUP ['2'].
//   3. Constants: NONE ['N'], NEWTRUE [0x88], NEWFALSE [0x89], INT ['I'
//      text line; "00"/"01" are bools], BININT ['J' i32], BININT1 ['K' u8],
//      BININT2 ['M' u16], LONG ['L' text], LONG1 [0x8a u8 n, n-byte two's
//      complement little-endian], LONG4 [0x8b u32 n, ...] (ints over 64 bits
//      are refused), FLOAT ['F' text], BINFLOAT ['G' big-endian f64].
//   4. Strings and bytes: BINUNICODE ['X' u32 n, UTF-8], SHORT_BINUNICODE
//      [0x8c u8 n], BINUNICODE8 [0x8d u64 n], BINSTRING ['T' i32 n],
//      SHORT_BINSTRING ['U' u8 n], BINBYTES ['B' u32 n], SHORT_BINBYTES
//      ['C' u8 n], BINBYTES8 [0x8e u64 n], BYTEARRAY8 [0x96 u64 n], STRING
//      ['S' quoted text line], UNICODE ['V' text line].
//   5. Containers: EMPTY_TUPLE [')'], TUPLE ['t'], TUPLE1..3 [0x85-0x87],
//      EMPTY_LIST [']'], LIST ['l'], APPEND ['a'], APPENDS ['e'],
//      EMPTY_DICT ['}'], DICT ['d'], SETITEM ['s'], SETITEMS ['u'],
//      EMPTY_SET [0x8f], ADDITEMS [0x90], FROZENSET [0x91].
//   6. Memo: PUT ['p' text], BINPUT ['q' u8], LONG_BINPUT ['r' u32],
//      MEMOIZE [0x94], GET ['g' text], BINGET ['h' u8], LONG_BINGET ['j' u32].
//   7. Objects: GLOBAL ['c' "module\nname\n"], STACK_GLOBAL [0x93], REDUCE
//      ['R'], BUILD ['b'], NEWOBJ [0x81], NEWOBJ_EX [0x92], INST ['i'],
//      OBJ ['o'], PERSID ['P' text], BINPERSID ['Q'] (the caller's
//      persistent_load decides what the id means).
//   Refused with their offset: EXT1/2/4 [0x82-0x84] (extension registry),
//   NEXT_BUFFER/READONLY_BUFFER [0x97/0x98] (out-of-band buffers), and any
//   other byte.
//
// Safety: a GLOBAL/STACK_GLOBAL naming a module or function that could run
// code (os.*, posix.*, nt.*, subprocess.*, builtins.eval/exec/__import__/
// compile/open/getattr, sys, shutil, socket, importlib, runpy, ctypes,
// pickle, marshal, ...) stops the read with a FormatError
// "refused: the pickle calls os.system (GLOBAL at offset N); nothing was run".
// Limits: stack depth, memo entries, objects created, string/bytes length.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/base/byte_reader.h"
#include "core/tensor/tensor.h"

namespace convscope::pickle {

enum class Kind : uint8_t {
    none, boolean, integer, floating, string, bytes, tuple, list, dict,
    global,    // a module.name reference (text = "module.name")
    instance,  // a call's placeholder: text = callable name, items = args, state = BUILD state
    tensor,    // made by a caller's hook
    opaque,    // made by a caller's hook (e.g. a storage), text describes it
};

struct Object {
    Kind kind = Kind::none;
    bool boolean = false;
    int64_t integer = 0;
    double floating = 0.0;
    std::string text;                 // string/bytes contents, global or class name
    std::vector<Object*> items;       // tuple/list items, instance args
    std::vector<std::pair<Object*, Object*>> entries;  // dict entries in insertion order
    Object* state = nullptr;          // instance BUILD state
    std::string dict_class;           // "collections.OrderedDict" for an OrderedDict
    std::unique_ptr<Tensor> tensor;   // kind tensor only (kept out of line: most objects are not tensors)
    int64_t tag = -1;                 // free for hooks (e.g. a storage index)

    bool is_string() const { return kind == Kind::string; }
    // The value for a string key of a dict (the last one set wins), nullptr
    // when absent or not a dict.
    Object* get(const std::string& key) const;
};

// An object costs ~160 bytes, a container slot 8: the defaults cap a hostile
// pickle at a few hundred MB however it reuses memoized containers, far
// above what a real checkpoint needs (a pickled ResNet-50 makes ~40k objects).
struct Limits {
    uint64_t max_objects = 1u * 1024 * 1024;
    uint64_t max_container_slots = 16u * 1024 * 1024;  // items + entries stored, summed over all containers
    uint64_t max_stack = 1u * 1024 * 1024;
    uint64_t max_memo = 1u * 1024 * 1024;
    uint64_t max_string_bytes = 256u * 1024 * 1024;
};

// All objects a read made; they point at each other (cycles are possible
// through the memo), so they live and die together here.
class Arena {
public:
    explicit Arena(uint64_t max_objects = Limits{}.max_objects) : max_objects_(max_objects) {}
    Object* make(Kind kind);
    size_t size() const { return objects_.size(); }

private:
    std::deque<Object> objects_;
    uint64_t max_objects_;
};

struct Hooks {
    // BINPERSID/PERSID: the id object -> the value to push. Unset: refused.
    std::function<Object*(Object* id, Arena& arena)> persistent_load;
    // REDUCE/NEWOBJ of `callable` with the args tuple: a value, or nullptr
    // for the default placeholder Instance.
    std::function<Object*(const std::string& callable, Object* args, Arena& arena)> reduce;
};

struct Result {
    std::shared_ptr<Arena> arena;
    Object* root = nullptr;
    int protocol = 0;
    size_t end = 0;  // bytes read, STOP included (the next pickle of a stream starts here)
    std::vector<std::string> globals;  // every distinct global the pickle names, in order
};

// Reads one pickle from `bytes` (up to its STOP). `context` names it in
// errors ("archive/data.pkl"). Throws FormatError (with the opcode offset)
// and LimitError.
Result read(ByteSpan bytes, const std::string& context, const Hooks& hooks = {}, const Limits& limits = {});

// Why a global is refused ("" when it is harmless to name).
std::string dangerous_global_reason(const std::string& module, const std::string& name);

}  // namespace convscope::pickle
