// Prints the canonical JSON of an HDF5 file as the real HDF5 library (h5wasm,
// libhdf5 compiled to WASM) reads it; `convscope h5dump FILE` prints the same
// format from our reader, and tests/tools/h5_crosscheck.sh diffs the two.
//
// Usage: node tests/tools/h5wasm_dump.mjs FILE
// Format: see dump_canonical_json() in src/core/formats/hdf5.h.
//
// Numeric data is fetched as raw bytes in the file's own datatype and decoded
// here (h5wasm has no float16; it hands over every type little-endian), then
// summed in double in row-major order, exactly as the C++ side does.
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const here = path.dirname(new URL(import.meta.url).pathname);
const h5wasmEntry = path.join(here, "../../node_modules/h5wasm/dist/node/hdf5_hl.js");
const h5wasm = await import(h5wasmEntry);
const Module = await h5wasm.ready;
void require;

const file_name = process.argv[2];
if (!file_name) {
    console.error("usage: node h5wasm_dump.mjs FILE");
    process.exit(2);
}

const H5T_INTEGER = Module.H5T_class_t.H5T_INTEGER.value;
const H5T_FLOAT = Module.H5T_class_t.H5T_FLOAT.value;
const H5T_STRING = Module.H5T_class_t.H5T_STRING.value;
const H5T_ENUM = Module.H5T_class_t.H5T_ENUM.value;

function halfToFloat(bits) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) return sign * mantissa * 2 ** -24;
    if (exponent === 31) return mantissa ? NaN : sign * Infinity;
    return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function isBooleanEnum(metadata) {
    const members = metadata.enum_type && metadata.enum_type.members;
    return members && Object.keys(members).length === 2 && members.FALSE === 0 && members.TRUE === 1;
}

// numpy-style dtype name, as dtype_name() in tensor.cpp.
function dtypeName(metadata) {
    if (metadata.type === H5T_ENUM) {
        if (isBooleanEnum(metadata)) return "bool";
        return dtypeName({ ...metadata, type: metadata.enum_type.type });
    }
    if (metadata.type === H5T_FLOAT) return `float${metadata.size * 8}`;
    if (metadata.type === H5T_INTEGER) {
        // Non-standard sizes widen to the next standard integer, as our reader does.
        const bits = metadata.size <= 1 ? 8 : metadata.size <= 2 ? 16 : metadata.size <= 4 ? 32 : 64;
        return `${metadata.signed ? "int" : "uint"}${bits}`;
    }
    throw new Error(`unsupported datatype class ${metadata.type}`);
}

function decodeNumbers(bytes, metadata) {
    let type = metadata.type;
    let signed = metadata.signed;
    if (type === H5T_ENUM) {
        type = metadata.enum_type.type;
        signed = metadata.enum_type.signed ?? signed;
    }
    const size = metadata.size;
    // h5wasm reads with the file type's byte order set to little-endian
    // (H5Tset_order in its get_*_data), so the bytes are always LE here.
    const little = true;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = Math.floor(bytes.byteLength / size);
    const out = new Array(count);
    for (let i = 0; i < count; ++i) {
        const at = i * size;
        let v;
        if (type === H5T_FLOAT) {
            if (size === 2) v = halfToFloat(view.getUint16(at, little));
            else if (size === 4) v = view.getFloat32(at, little);
            else v = view.getFloat64(at, little);
        } else {
            let big = 0n;
            for (let b = 0; b < size; ++b) {
                const byte = BigInt(bytes[little ? at + b : at + size - 1 - b]);
                big |= byte << BigInt(8 * b);
            }
            if (signed && size > 0 && big >> BigInt(8 * size - 1)) big -= 1n << BigInt(8 * size);
            v = Number(big);
        }
        out[i] = v;
    }
    if (isBooleanEnum(metadata)) return out.map((x) => (x ? 1 : 0));
    return out;
}

function totalElements(shape) {
    return shape.reduce((a, b) => a * Number(b), 1);
}

// Space-padded fixed strings (strpad 2) lose their padding when libhdf5
// converts them to C strings, as h5py does; h5wasm returns the raw bytes.
function unpad(text, metadata) {
    return metadata.strpad === 2 && typeof text === "string" ? text.replace(/ +$/, "") : text;
}

function attributeValue(objPath, name) {
    const metadata = Module.get_attribute_metadata(h5file.file_id, objPath, name);
    if (metadata.type === H5T_STRING) {
        const value = h5file.get(objPath).attrs[name].json_value;
        if (metadata.shape === null) return [];
        if (metadata.shape.length === 0) return unpad(Array.isArray(value) ? value[0] : value, metadata);
        return (Array.isArray(value) ? value.flat(Infinity) : [value]).map((v) => unpad(v, metadata));
    }
    if (metadata.shape === null) {
        return { dtype: dtypeName(metadata), shape: [0], values: [] };
    }
    const nbytes = metadata.size * metadata.total_size;
    const ptr = Module._malloc(Math.max(nbytes, 1));
    try {
        Module.get_attribute_data(h5file.file_id, objPath, name, BigInt(ptr));
        const bytes = Module.HEAPU8.slice(ptr, ptr + nbytes);
        return { dtype: dtypeName(metadata), shape: metadata.shape.map(Number), values: decodeNumbers(bytes, metadata) };
    } finally {
        Module._free(ptr);
    }
}

function datasetEntry(entry, dataset) {
    const metadata = dataset.metadata;
    const shape = (metadata.shape || []).map(Number);
    entry.shape = shape;
    if (metadata.type === H5T_STRING) {
        entry.dtype = "string";
        const value = dataset.json_value;
        entry.strings = (Array.isArray(value) ? value.flat(Infinity) : [value]).map((v) => unpad(v, metadata));
        return;
    }
    const count = totalElements(shape);
    const nbytes = metadata.size * count;
    let values = [];
    if (shape.length === 0 && metadata.size !== 2) {
        // libhdf5 cannot select a hyperslab of a scalar dataspace.
        const value = dataset.json_value;
        values = [typeof value === "boolean" ? Number(value) : Number(value)];
    } else if (count > 0) {
        const ptr = Module._malloc(nbytes);
        try {
            const dims = shape.map(BigInt);
            Module.get_dataset_data(h5file.file_id, dataset.path, dims, dims.map(() => 0n), dims.map(() => 1n), BigInt(ptr));
            values = decodeNumbers(Module.HEAPU8.slice(ptr, ptr + nbytes), metadata);
        } finally {
            Module._free(ptr);
        }
    }
    let sum = 0, sumSquares = 0;
    for (const v of values) {
        sum += v;
        sumSquares += v * v;
    }
    entry.dtype = dtypeName(metadata);
    entry.sum = sum;
    entry.sum_squares = sumSquares;
}

const h5file = new h5wasm.File(path.resolve(file_name), "r");
const objects = [];
function visit(objPath, depth) {
    if (depth > 64) throw new Error(`${objPath}: nesting deeper than 64`);
    const obj = h5file.get(objPath);
    const entry = { path: objPath };
    if (obj instanceof h5wasm.BrokenSoftLink) {
        objects.push({ path: objPath, kind: "broken-link", target: obj.target });
        return;
    }
    const kind = obj instanceof h5wasm.Group ? "group" : obj instanceof h5wasm.Dataset ? "dataset" : "other";
    entry.kind = kind;
    entry.attributes = Module.get_attribute_names(h5file.file_id, objPath).map((name) => ({
        name,
        value: attributeValue(objPath, name),
    }));
    let children = [];
    if (kind === "group") {
        children = obj.keys();
        entry.children = children;
    } else if (kind === "dataset") {
        datasetEntry(entry, obj);
    }
    objects.push(entry);
    for (const child of children) visit(objPath === "/" ? `/${child}` : `${objPath}/${child}`, depth + 1);
}
visit("/", 0);
h5file.close();
process.stdout.write(JSON.stringify({ objects }, null, 1) + "\n");
