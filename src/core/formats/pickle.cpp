// [SECTION] index: objects and arena; dangerous globals; the interpreter
// (text helpers, constants, containers, objects, dispatch); read().
#include "core/formats/pickle.h"

#include <cstring>
#include <set>
#include <unordered_map>

#include "core/base/error.h"

namespace convscope::pickle {

// [SECTION] objects and arena ------------------------------------------------

Object* Object::get(const std::string& key) const {
    if (kind != Kind::dict) return nullptr;
    for (auto entry = entries.rbegin(); entry != entries.rend(); ++entry) {
        if (entry->first->kind == Kind::string && entry->first->text == key) return entry->second;
    }
    return nullptr;
}

Object* Arena::make(Kind kind) {
    if (objects_.size() >= max_objects_) {
        throw_limit_error("pickle: more than ", max_objects_, " objects");
    }
    objects_.emplace_back();
    objects_.back().kind = kind;
    return &objects_.back();
}

// [SECTION] dangerous globals -----------------------------------------------

std::string dangerous_global_reason(const std::string& module, const std::string& name) {
    // Whole modules whose every function touches processes, files, the
    // network or the interpreter itself. functools is not among them:
    // full pickles of timm/torchvision models hold functools.partial norm
    // layers, and a partial of something dangerous names that thing too.
    static const std::set<std::string> modules = {
        "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "pty", "importlib", "runpy",
        "webbrowser", "ctypes", "pickle", "_pickle", "marshal", "code", "codeop", "commands", "popen2",
        "platform", "multiprocessing", "asyncio", "threading", "_thread", "signal", "pdb", "bdb",
        "timeit", "tempfile", "glob", "io", "_io", "zipimport", "pkgutil", "imp", "types",
        "operator", "inspect", "urllib", "http", "ftplib", "smtplib", "telnetlib",
        "requests", "pip", "setuptools", "distutils", "torch.hub",
    };
    static const std::set<std::string> builtin_functions = {
        "eval", "exec", "execfile", "compile", "__import__", "open", "getattr", "setattr", "delattr",
        "globals", "locals", "vars", "input", "breakpoint", "help", "memoryview", "apply", "file",
        "reload", "exit", "quit", "type", "object",
    };
    std::string top = module.substr(0, module.find('.'));
    if (modules.count(module) || modules.count(top)) return module + "." + name;
    if ((module == "builtins" || module == "__builtin__" || module == "__builtins__") &&
        builtin_functions.count(name)) {
        return module + "." + name;
    }
    // numpy's loaders and anything named like a process call, in any module.
    static const std::set<std::string> names = {"system", "popen", "execv", "execve", "spawn", "eval", "exec",
                                                "load", "loads", "load_library", "run"};
    if (names.count(name) && module != "torch._utils" && module != "collections") return module + "." + name;
    return "";
}

// [SECTION] the interpreter ---------------------------------------------------

namespace {

constexpr int max_protocol = 5;

class Machine {
public:
    Machine(ByteSpan bytes, const std::string& context, const Hooks& hooks, const Limits& limits)
        : reader_(bytes, context), context_(context), hooks_(hooks), limits_(limits),
          arena_(std::make_shared<Arena>(limits.max_objects)) {}

    Result run();

private:
    ByteReader reader_;
    std::string context_;
    const Hooks& hooks_;
    Limits limits_;
    std::shared_ptr<Arena> arena_;
    std::vector<Object*> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, Object*> memo_;
    std::vector<std::string> globals_;
    std::set<std::string> seen_globals_;
    uint64_t opcode_offset_ = 0;
    uint64_t container_slots_ = 0;
    int protocol_ = 0;

    // Every slot a container stores counts, so that calling or extending a
    // memoized container again and again cannot grow memory quadratically.
    void charge(uint64_t slots) {
        container_slots_ += slots;
        if (container_slots_ > limits_.max_container_slots) {
            throw_limit_error(context_, ": pickle containers hold more than ", limits_.max_container_slots,
                              " items (opcode at offset ", opcode_offset_, ")");
        }
    }

    [[noreturn]] void fail(const std::string& message) const {
        throw_format_error(context_, ": ", message, " (opcode at offset ", opcode_offset_, ")");
    }
    Object* make(Kind kind) { return arena_->make(kind); }
    void push(Object* object) {
        if (stack_.size() >= limits_.max_stack) throw_limit_error(context_, ": pickle stack over ", limits_.max_stack);
        stack_.push_back(object);
    }
    Object* pop() {
        if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("stack underflow");
        Object* top = stack_.back();
        stack_.pop_back();
        return top;
    }
    Object* top() {
        if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("stack underflow");
        return stack_.back();
    }
    // The objects above the topmost mark, which is removed.
    std::vector<Object*> pop_to_mark() {
        if (marks_.empty()) fail("no MARK on the stack");
        size_t mark = marks_.back();
        marks_.pop_back();
        std::vector<Object*> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
        stack_.resize(mark);
        return items;
    }

    // Text helpers.
    std::string line();
    int64_t parse_decimal(const std::string& text);
    std::string unquote(const std::string& text);
    // Constants and strings.
    void push_integer(int64_t value);
    void push_long_bytes(uint64_t length);
    void push_text(Kind kind, uint64_t length);
    // Containers.
    Object* make_sequence(Kind kind, std::vector<Object*> items);
    void append_items(Object* list, const std::vector<Object*>& items);
    void set_items(Object* dict, const std::vector<Object*>& items);
    // Objects.
    void push_global(const std::string& module, const std::string& name);
    Object* call(Object* callable, Object* args);
    void build(Object* target, Object* state);
    void memo_put(uint64_t key);
    void memo_get(uint64_t key);
    void persistent_load(Object* id);

    bool step(uint8_t opcode);
    bool step_containers(uint8_t opcode);
    bool step_objects(uint8_t opcode);
};

// [SECTION] text helpers

std::string Machine::line() {
    std::string text;
    while (true) {
        if (reader_.at_end()) fail("text argument without a newline");
        char c = static_cast<char>(reader_.u8());
        if (c == '\n') break;
        if (text.size() >= 65536) fail("text argument over 65536 bytes");
        text += c;
    }
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return text;
}

int64_t Machine::parse_decimal(const std::string& text) {
    std::string digits = text;
    if (!digits.empty() && digits.back() == 'L') digits.pop_back();
    if (digits.empty() || digits.size() > 19) fail("integer '" + text + "' is not a 64-bit decimal");
    size_t start = digits[0] == '-' || digits[0] == '+' ? 1 : 0;
    if (start == digits.size()) fail("integer '" + text + "' has no digits");
    int64_t value = 0;
    for (size_t i = start; i < digits.size(); ++i) {
        if (digits[i] < '0' || digits[i] > '9') fail("integer '" + text + "' has a non-digit");
        value = value * 10 + (digits[i] - '0');
    }
    return digits[0] == '-' ? -value : value;
}

std::string Machine::unquote(const std::string& text) {
    if (text.size() < 2 || (text.front() != '\'' && text.front() != '"') || text.back() != text.front()) {
        fail("STRING argument is not quoted");
    }
    std::string inner = text.substr(1, text.size() - 2);
    if (inner.find('\\') != std::string::npos) fail("STRING with escape sequences is not read");
    return inner;
}

// [SECTION] constants and strings

void Machine::push_integer(int64_t value) {
    Object* object = make(Kind::integer);
    object->integer = value;
    push(object);
}

void Machine::push_long_bytes(uint64_t length) {
    if (length > 8) fail("integer of " + std::to_string(length) + " bytes is over 64 bits");
    ByteSpan bytes = reader_.bytes(length);
    uint64_t value = 0;
    for (uint64_t i = 0; i < length; ++i) value |= static_cast<uint64_t>(bytes.data[i]) << (8 * i);
    if (length > 0 && length < 8 && (bytes.data[length - 1] & 0x80)) value |= ~uint64_t{0} << (8 * length);
    push_integer(static_cast<int64_t>(value));
}

void Machine::push_text(Kind kind, uint64_t length) {
    if (length > limits_.max_string_bytes) {
        throw_limit_error(context_, ": string of ", length, " bytes at offset ", opcode_offset_, "; the limit is ",
                          limits_.max_string_bytes);
    }
    Object* object = make(kind);
    object->text = reader_.string(length);
    push(object);
}

// [SECTION] containers

Object* Machine::make_sequence(Kind kind, std::vector<Object*> items) {
    charge(items.size());
    Object* object = make(kind);
    object->items = std::move(items);
    return object;
}

void Machine::append_items(Object* list, const std::vector<Object*>& items) {
    charge(items.size());
    if (list->kind == Kind::list) {
        list->items.insert(list->items.end(), items.begin(), items.end());
    } else if (list->kind == Kind::instance) {
        // list subclasses (e.g. torch.nn.ModuleList state) keep the items as args.
        list->items.insert(list->items.end(), items.begin(), items.end());
    } else {
        fail("APPEND to something that is not a list");
    }
}

void Machine::set_items(Object* dict, const std::vector<Object*>& items) {
    if (items.size() % 2 != 0) fail("SETITEMS with an odd number of items");
    if (dict->kind == Kind::instance) {
        // dict subclasses: keep the entries in the instance's state.
        if (!dict->state) dict->state = make(Kind::dict);
        dict = dict->state;
    }
    if (dict->kind != Kind::dict) fail("SETITEM on something that is not a dict");
    charge(items.size() / 2);
    // Appended, not replaced: a repeated key's last value wins in Object::get
    // (a search per insert would make a large dict quadratic).
    for (size_t i = 0; i < items.size(); i += 2) dict->entries.emplace_back(items[i], items[i + 1]);
}

// [SECTION] objects

void Machine::push_global(const std::string& module, const std::string& name) {
    std::string full = module + "." + name;
    std::string reason = dangerous_global_reason(module, name);
    if (!reason.empty()) {
        throw_format_error(context_, ": refused: the pickle calls ", reason, " (GLOBAL at offset ", opcode_offset_,
                           "); nothing was run");
    }
    if (seen_globals_.insert(full).second) globals_.push_back(full);
    Object* object = make(Kind::global);
    object->text = full;
    push(object);
}

Object* Machine::call(Object* callable, Object* args) {
    if (callable->kind != Kind::global) fail("call of something that is not a global");
    if (args->kind != Kind::tuple) fail("call of " + callable->text + " without an argument tuple");
    const std::string& name = callable->text;
    if (hooks_.reduce) {
        if (Object* result = hooks_.reduce(name, args, *arena_)) return result;
    }
    if (name == "collections.OrderedDict" || name == "builtins.dict" || name == "__builtin__.dict") {
        Object* dict = make(Kind::dict);
        dict->dict_class = name;  // the pairs below are charged by set_items
        if (!args->items.empty() && args->items[0]->kind == Kind::list) {
            for (Object* pair : args->items[0]->items) {
                if ((pair->kind == Kind::tuple || pair->kind == Kind::list) && pair->items.size() == 2) {
                    set_items(dict, pair->items);
                }
            }
        }
        return dict;
    }
    if (name == "builtins.set" || name == "builtins.frozenset" || name == "__builtin__.set" ||
        name == "__builtin__.frozenset" || name == "builtins.list" || name == "builtins.tuple") {
        Object* list = make(name.size() > 5 && name.compare(name.size() - 5, 5, "tuple") == 0 ? Kind::tuple : Kind::list);
        if (!args->items.empty() && (args->items[0]->kind == Kind::list || args->items[0]->kind == Kind::tuple)) {
            charge(args->items[0]->items.size());
            list->items = args->items[0]->items;
        }
        return list;
    }
    if (name == "_codecs.encode" && !args->items.empty() && args->items[0]->kind == Kind::string) {
        // Protocol-2 pickles of Python 3 bytes: encode(text, 'latin1'); the
        // code points of the text are the bytes.
        Object* bytes = make(Kind::bytes);
        const std::string& text = args->items[0]->text;
        for (size_t i = 0; i < text.size(); ++i) {
            auto c = static_cast<uint8_t>(text[i]);
            if (c < 0x80) {
                bytes->text += static_cast<char>(c);
            } else if ((c & 0xE0) == 0xC0 && i + 1 < text.size()) {
                bytes->text += static_cast<char>(((c & 0x1F) << 6) | (static_cast<uint8_t>(text[++i]) & 0x3F));
            } else {
                fail("_codecs.encode of a character over U+00FF");
            }
        }
        return bytes;
    }
    Object* instance = make(Kind::instance);
    instance->text = name;
    charge(args->items.size());
    instance->items = args->items;
    return instance;
}

void Machine::build(Object* target, Object* state) {
    if (target->kind == Kind::instance) {
        if (target->state && target->state->kind == Kind::dict && state->kind == Kind::dict) {
            set_items(target->state, [&] {
                std::vector<Object*> flat;
                for (auto& [key, value] : state->entries) {
                    flat.push_back(key);
                    flat.push_back(value);
                }
                return flat;
            }());
        } else {
            target->state = state;
        }
    } else if (target->kind == Kind::dict && state->kind == Kind::dict) {
        charge(state->entries.size());
        for (auto& entry : state->entries) target->entries.push_back(entry);
    }
    // BUILD on a tensor or a plain value (e.g. torch's tensor hooks state) is ignored.
}

void Machine::memo_put(uint64_t key) {
    if (memo_.size() >= limits_.max_memo && !memo_.count(key)) {
        throw_limit_error(context_, ": pickle memo over ", limits_.max_memo, " entries");
    }
    memo_[key] = top();
}

void Machine::memo_get(uint64_t key) {
    auto found = memo_.find(key);
    if (found == memo_.end()) fail("memo key " + std::to_string(key) + " was never stored");
    push(found->second);
}

void Machine::persistent_load(Object* id) {
    if (!hooks_.persistent_load) fail("persistent id in a pickle that cannot have one");
    Object* value = hooks_.persistent_load(id, *arena_);
    if (!value) fail("persistent id not understood");
    push(value);
}

bool Machine::step_containers(uint8_t opcode) {
    switch (opcode) {
    case ')': push(make(Kind::tuple)); return true;
    case 't': push(make_sequence(Kind::tuple, pop_to_mark())); return true;
    case 0x85: case 0x86: case 0x87: {
        std::vector<Object*> items(opcode - 0x84);
        for (size_t i = items.size(); i-- > 0;) items[i] = pop();
        push(make_sequence(Kind::tuple, std::move(items)));
        return true;
    }
    case ']': push(make(Kind::list)); return true;
    case 'l': push(make_sequence(Kind::list, pop_to_mark())); return true;
    case 'a': { Object* item = pop(); append_items(top(), {item}); return true; }
    case 'e': { std::vector<Object*> items = pop_to_mark(); append_items(top(), items); return true; }
    case '}': push(make(Kind::dict)); return true;
    case 'd': { Object* dict = make(Kind::dict); set_items(dict, pop_to_mark()); push(dict); return true; }
    case 's': { Object* value = pop(); Object* key = pop(); set_items(top(), {key, value}); return true; }
    case 'u': { std::vector<Object*> items = pop_to_mark(); set_items(top(), items); return true; }
    case 0x8f: push(make(Kind::list)); return true;
    case 0x90: { std::vector<Object*> items = pop_to_mark(); append_items(top(), items); return true; }
    case 0x91: push(make_sequence(Kind::list, pop_to_mark())); return true;
    default: return false;
    }
}

bool Machine::step_objects(uint8_t opcode) {
    switch (opcode) {
    case 'c': { std::string module = line(); std::string name = line(); push_global(module, name); return true; }
    case 0x93: {
        Object* name = pop();
        Object* module = pop();
        if (!module->is_string() || !name->is_string()) fail("STACK_GLOBAL of something that is not two strings");
        push_global(module->text, name->text);
        return true;
    }
    case 'R': case 0x81: { Object* args = pop(); Object* callable = pop(); push(call(callable, args)); return true; }
    case 0x92: {
        pop();  // kwargs: the placeholder keeps positional arguments only
        Object* args = pop();
        Object* callable = pop();
        push(call(callable, args));
        return true;
    }
    case 'i': {
        std::string module = line();
        std::string name = line();
        std::vector<Object*> args = pop_to_mark();
        push_global(module, name);
        Object* callable = pop();
        push(call(callable, make_sequence(Kind::tuple, std::move(args))));
        return true;
    }
    case 'o': {
        std::vector<Object*> items = pop_to_mark();
        if (items.empty()) fail("OBJ without a class");
        Object* callable = items.front();
        items.erase(items.begin());
        push(call(callable, make_sequence(Kind::tuple, std::move(items))));
        return true;
    }
    case 'b': { Object* state = pop(); build(top(), state); return true; }
    case 'Q': persistent_load(pop()); return true;
    case 'P': { Object* id = make(Kind::string); id->text = line(); persistent_load(id); return true; }
    case 'p': memo_put(static_cast<uint64_t>(parse_decimal(line()))); return true;
    case 'q': memo_put(reader_.u8()); return true;
    case 'r': memo_put(reader_.u32()); return true;
    case 0x94: memo_put(memo_.size()); return true;
    case 'g': memo_get(static_cast<uint64_t>(parse_decimal(line()))); return true;
    case 'h': memo_get(reader_.u8()); return true;
    case 'j': memo_get(reader_.u32()); return true;
    default: return false;
    }
}

// Returns false at STOP.
bool Machine::step(uint8_t opcode) {
    switch (opcode) {
    case '.': return false;
    case 0x80: {
        protocol_ = reader_.u8();
        if (protocol_ > max_protocol) fail("pickle protocol " + std::to_string(protocol_) + " is newer than 5");
        return true;
    }
    case 0x95: {
        uint64_t length = reader_.u64();
        if (length > reader_.remaining()) fail("FRAME of " + std::to_string(length) + " bytes past the end");
        return true;
    }
    case '(': marks_.push_back(stack_.size()); return true;
    case '0': pop(); return true;
    case '1': pop_to_mark(); return true;
    case '2': push(top()); return true;
    case 'N': push(make(Kind::none)); return true;
    case 0x88: case 0x89: { Object* b = make(Kind::boolean); b->boolean = opcode == 0x88; push(b); return true; }
    case 'I': {
        std::string text = line();
        if (text == "00" || text == "01") {
            Object* b = make(Kind::boolean);
            b->boolean = text == "01";
            push(b);
        } else {
            push_integer(parse_decimal(text));
        }
        return true;
    }
    case 'J': push_integer(reader_.i32()); return true;
    case 'K': push_integer(reader_.u8()); return true;
    case 'M': push_integer(reader_.u16()); return true;
    case 'L': push_integer(parse_decimal(line())); return true;
    case 0x8a: push_long_bytes(reader_.u8()); return true;
    case 0x8b: push_long_bytes(reader_.u32()); return true;
    case 'F': {
        std::string text = line();
        char* end = nullptr;
        Object* f = make(Kind::floating);
        f->floating = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size()) fail("FLOAT '" + text + "' is not a number");
        push(f);
        return true;
    }
    case 'G': {
        ByteSpan bytes = reader_.bytes(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | bytes.data[i];
        Object* f = make(Kind::floating);
        std::memcpy(&f->floating, &bits, 8);
        push(f);
        return true;
    }
    case 'X': push_text(Kind::string, reader_.u32()); return true;
    case 0x8c: push_text(Kind::string, reader_.u8()); return true;
    case 0x8d: push_text(Kind::string, reader_.u64()); return true;
    case 'T': {
        int32_t length = reader_.i32();
        if (length < 0) fail("BINSTRING with a negative length");
        push_text(Kind::string, static_cast<uint64_t>(length));
        return true;
    }
    case 'U': push_text(Kind::string, reader_.u8()); return true;
    case 'B': push_text(Kind::bytes, reader_.u32()); return true;
    case 'C': push_text(Kind::bytes, reader_.u8()); return true;
    case 0x8e: case 0x96: push_text(Kind::bytes, reader_.u64()); return true;
    case 'S': { Object* s = make(Kind::string); s->text = unquote(line()); push(s); return true; }
    case 'V': { Object* s = make(Kind::string); s->text = line(); push(s); return true; }
    case 0x82: case 0x83: case 0x84: fail("extension registry opcodes (EXT1/2/4) are not read");
    case 0x97: case 0x98: fail("out-of-band buffers (protocol 5 NEXT_BUFFER) are not read");
    default:
        if (step_containers(opcode) || step_objects(opcode)) return true;
        fail(concat("unknown opcode 0x", std::hex, static_cast<int>(opcode)));
    }
}

Result Machine::run() {
    while (true) {
        if (reader_.at_end()) fail("pickle ends without STOP");
        opcode_offset_ = reader_.absolute_position();
        if (!step(reader_.u8())) break;
    }
    if (stack_.size() != 1 || !marks_.empty()) {
        fail("STOP with " + std::to_string(stack_.size()) + " values on the stack, expected 1");
    }
    Result result;
    result.arena = arena_;
    result.root = stack_.back();
    result.protocol = protocol_;
    result.end = reader_.position();
    result.globals = globals_;
    return result;
}

}  // namespace

// [SECTION] read() --------------------------------------------------------------

Result read(ByteSpan bytes, const std::string& context, const Hooks& hooks, const Limits& limits) {
    Machine machine(bytes, context, hooks, limits);
    return machine.run();
}

}  // namespace convscope::pickle
