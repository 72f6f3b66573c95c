#include "cvec.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <unistd.h>
#include <cstring>
#include <fstream>

#include "common.h"
#include "error.h"
#include "ggml.h"
#include "gguf.h"
#include "runtime.h"

namespace eia {

namespace {

constexpr size_t kMaxMetaKeys = 4096;
constexpr size_t kMaxMetaKeyLen = 256;
constexpr size_t kMaxMetaString = 1 << 16;
constexpr size_t kMaxMetaArray = 1 << 16;

// Every metadata entry is checked before gguf sees it (gguf aborts on some inputs, e.g. a key set twice with two types).
void check_meta(const std::map<std::string, MetaValue> & meta) {
    if (meta.size() > kMaxMetaKeys) fail("control vector: " + std::to_string(meta.size()) + " metadata keys (at most " + std::to_string(kMaxMetaKeys) + ")");
    const std::string prefix = kMetaPrefix;
    for (auto & kv : meta) {
        const std::string & k = kv.first;
        if (k.size() <= prefix.size() || k.compare(0, prefix.size(), prefix) != 0) fail("control vector: metadata key '" + k + "' is outside eia-native's namespace (keys start with '" + prefix + "')");
        if (k.size() > kMaxMetaKeyLen) fail("control vector: metadata key '" + k.substr(0, 64) + "...' is longer than " + std::to_string(kMaxMetaKeyLen) + " characters");
        for (char c : k) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
            if (!ok) fail("control vector: metadata key '" + k + "' has a character other than letters, digits, '_', '-' and '.'");
        }
        if (k.back() == '.' || k.find("..") != std::string::npos) fail("control vector: metadata key '" + k + "' has an empty part");
        const MetaValue & v = kv.second;
        auto too_long = [&](const std::string & x) {
            if (x.size() > kMaxMetaString) fail("control vector: metadata '" + k + "' holds a string longer than " + std::to_string(kMaxMetaString) + " bytes");
        };
        switch (v.kind) {
            case MetaValue::Kind::Str: too_long(v.s); break;
            case MetaValue::Kind::Float:
                if (!std::isfinite(v.f)) fail("control vector: metadata '" + k + "' is NaN or infinite");
                break;
            case MetaValue::Kind::IntArray:
            case MetaValue::Kind::FloatArray:
            case MetaValue::Kind::StrArray: {
                const size_t n = v.kind == MetaValue::Kind::IntArray ? v.ints.size() : v.kind == MetaValue::Kind::FloatArray ? v.floats.size() : v.strs.size();
                if (n == 0) fail("control vector: metadata '" + k + "' is an empty array (leave the key out instead)");
                if (n > kMaxMetaArray) fail("control vector: metadata '" + k + "' holds more than " + std::to_string(kMaxMetaArray) + " values");
                for (double x : v.floats)
                    if (!std::isfinite(x)) fail("control vector: metadata '" + k + "' holds NaN or infinity");
                for (auto & x : v.strs) too_long(x);
                break;
            }
            default: break;
        }
    }
}

void set_meta(gguf_context * g, const std::string & k, const MetaValue & v) {
    switch (v.kind) {
        case MetaValue::Kind::Str: gguf_set_val_str(g, k.c_str(), v.s.c_str()); break;
        case MetaValue::Kind::Int: gguf_set_val_i64(g, k.c_str(), v.i); break;
        case MetaValue::Kind::Float: gguf_set_val_f64(g, k.c_str(), v.f); break;
        case MetaValue::Kind::Bool: gguf_set_val_bool(g, k.c_str(), v.b); break;
        case MetaValue::Kind::IntArray: gguf_set_arr_data(g, k.c_str(), GGUF_TYPE_INT64, v.ints.data(), v.ints.size()); break;
        case MetaValue::Kind::FloatArray: gguf_set_arr_data(g, k.c_str(), GGUF_TYPE_FLOAT64, v.floats.data(), v.floats.size()); break;
        case MetaValue::Kind::StrArray: {
            std::vector<const char *> p;
            for (auto & x : v.strs) p.push_back(x.c_str());
            gguf_set_arr_str(g, k.c_str(), p.data(), p.size());
            break;
        }
    }
}

// A scalar of any numeric GGUF type as int64 or double; false for other types.
bool numeric_at(gguf_type t, const void * p, size_t i, MetaValue::Kind * kind, int64_t * iv, double * fv) {
    switch (t) {
        case GGUF_TYPE_UINT8: *iv = ((const uint8_t *) p)[i]; break;
        case GGUF_TYPE_INT8: *iv = ((const int8_t *) p)[i]; break;
        case GGUF_TYPE_UINT16: *iv = ((const uint16_t *) p)[i]; break;
        case GGUF_TYPE_INT16: *iv = ((const int16_t *) p)[i]; break;
        case GGUF_TYPE_UINT32: *iv = ((const uint32_t *) p)[i]; break;
        case GGUF_TYPE_INT32: *iv = ((const int32_t *) p)[i]; break;
        case GGUF_TYPE_UINT64: *iv = (int64_t) ((const uint64_t *) p)[i]; break;
        case GGUF_TYPE_INT64: *iv = ((const int64_t *) p)[i]; break;
        case GGUF_TYPE_FLOAT32: *fv = ((const float *) p)[i]; *kind = MetaValue::Kind::Float; return true;
        case GGUF_TYPE_FLOAT64: *fv = ((const double *) p)[i]; *kind = MetaValue::Kind::Float; return true;
        default: return false;
    }
    *kind = MetaValue::Kind::Int;
    return true;
}

// The "eia.*" metadata of a GGUF file (keys of other namespaces are left alone).
std::map<std::string, MetaValue> read_meta(const gguf_context * g) {
    std::map<std::string, MetaValue> out;
    const std::string prefix = kMetaPrefix;
    for (int64_t id = 0; id < gguf_get_n_kv(g); id++) {
        const std::string k = gguf_get_key(g, id);
        if (k.compare(0, prefix.size(), prefix) != 0) continue;
        MetaValue v;
        const gguf_type t = gguf_get_kv_type(g, id);
        if (t == GGUF_TYPE_STRING) { v.kind = MetaValue::Kind::Str; v.s = gguf_get_val_str(g, id); }
        else if (t == GGUF_TYPE_BOOL) { v.kind = MetaValue::Kind::Bool; v.b = gguf_get_val_bool(g, id); }
        else if (t == GGUF_TYPE_ARRAY) {
            const gguf_type at = gguf_get_arr_type(g, id);
            const size_t n = gguf_get_arr_n(g, id);
            if (at == GGUF_TYPE_STRING) {
                v.kind = MetaValue::Kind::StrArray;
                for (size_t i = 0; i < n; i++) v.strs.push_back(gguf_get_arr_str(g, id, i));
            } else if (at == GGUF_TYPE_BOOL || at == GGUF_TYPE_ARRAY) {
                continue;  // not a kind we write: left out
            } else {
                const void * p = gguf_get_arr_data(g, id);
                bool floats = false, ok = true;
                std::vector<int64_t> iv(n);
                std::vector<double> fv(n);
                for (size_t i = 0; i < n; i++) {
                    MetaValue::Kind kind;
                    int64_t x = 0;
                    double y = 0;
                    if (!numeric_at(at, p, i, &kind, &x, &y)) { ok = false; break; }
                    if (kind == MetaValue::Kind::Float) floats = true;
                    iv[i] = x;
                    fv[i] = kind == MetaValue::Kind::Float ? y : (double) x;
                }
                if (!ok) continue;
                if (floats) { v.kind = MetaValue::Kind::FloatArray; v.floats = std::move(fv); }
                else { v.kind = MetaValue::Kind::IntArray; v.ints = std::move(iv); }
            }
        } else {
            MetaValue::Kind kind;
            if (!numeric_at(t, gguf_get_val_data(g, id), 0, &kind, &v.i, &v.f)) continue;
            v.kind = kind;
        }
        out[k] = std::move(v);
    }
    return out;
}

}  // namespace

std::vector<uint8_t> encode_control_vector(const ControlVector & cv) {
    if (cv.layers.empty()) fail("control vector: no layers to write");
    if (cv.n_embd <= 0) fail("control vector: directions must not be empty");  // gguf asserts on 0-element tensors
    for (auto & kv : cv.layers) {
        if (kv.first < 1) fail("control vector: layer " + std::to_string(kv.first) + " cannot be written (llama.cpp control vectors start at block 1)");
        if ((int) kv.second.size() != cv.n_embd) fail("control vector: layer " + std::to_string(kv.first) + " has the wrong width");
        for (float x : kv.second)
            if (!std::isfinite(x)) fail("control vector: layer " + std::to_string(kv.first) + " contains NaN or infinity");
    }
    check_meta(cv.meta);
    // the metadata through ggml's own GGUF writer (tensor infos only: no ggml context, no tensor data
    // in it), then the data section laid out at the offsets gguf assigned
    gguf_context * g = gguf_init_empty();
    gguf_set_val_str(g, "general.architecture", "controlvector");
    gguf_set_val_str(g, "controlvector.model_hint", cv.model_hint.c_str());
    gguf_set_val_i32(g, "controlvector.layer_count", (int32_t) cv.layers.size());
    for (auto & kv : cv.meta) set_meta(g, kv.first, kv.second);
    std::vector<uint8_t> tensor_mem(ggml_tensor_overhead());
    for (auto & kv : cv.layers) {
        ggml_init_params ip = {tensor_mem.size(), tensor_mem.data(), true};
        ggml_context * tctx = ggml_init(ip);
        ggml_tensor * t = ggml_new_tensor_1d(tctx, GGML_TYPE_F32, cv.n_embd);
        ggml_set_name(t, ("direction." + std::to_string(kv.first)).c_str());
        gguf_add_tensor(g, t);  // copies the tensor's info (name, type, shape)
        ggml_free(tctx);
    }
    const size_t meta = gguf_get_meta_size(g);
    const size_t align = gguf_get_alignment(g);
    const size_t nbytes = (size_t) cv.n_embd * sizeof(float);
    const size_t padded = (nbytes + align - 1) / align * align;
    std::vector<uint8_t> out(meta + padded * cv.layers.size(), 0);
    gguf_get_meta_data(g, out.data());
    int64_t i = 0;
    for (auto & kv : cv.layers) {
        const size_t off = meta + gguf_get_tensor_offset(g, i++);
        std::memcpy(out.data() + off, kv.second.data(), nbytes);
    }
    gguf_free(g);
    return out;
}

void write_control_vector(const std::string & path, const ControlVector & cv) {
    if (path.empty()) fail("control vector: empty output path");
    const std::vector<uint8_t> bytes = encode_control_vector(cv);
    // temp file, every byte written, flushed to the disk, closed, renamed; any failure removes the temp file
    const std::string tmp = path + ".tmp";
    FILE * f = std::fopen(tmp.c_str(), "wb");
    bool ok = f != nullptr;
    int err = ok ? 0 : errno;
    if (ok && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) { ok = false; err = errno; }
    if (ok && std::fflush(f) != 0) { ok = false; err = errno; }
    if (ok && fsync(fileno(f)) != 0) { ok = false; err = errno; }
    if (f && std::fclose(f) != 0 && ok) { ok = false; err = errno; }
    if (ok && std::rename(tmp.c_str(), path.c_str()) != 0) { ok = false; err = errno; }
    if (!ok) {
        std::remove(tmp.c_str());
        fail(Code::IO, "control vector: cannot write '" + path + "': " + std::strerror(err));
    }
}

ControlVector read_control_vector(const std::string & path) {
    ensure_backend();
    {
        std::ifstream f(path, std::ios::binary);
        if (!f) fail(Code::IO, "cannot open control vector '" + path + "'");
        char magic[4] = {};
        f.read(magic, 4);
        if (f.gcount() < 4 || std::memcmp(magic, "GGUF", 4) != 0) fail("'" + path + "' is not a GGUF file (bad magic)");
    }
    ggml_context * gctx = nullptr;
    gguf_init_params gp = {false, &gctx};
    take_thread_log_errors();
    gguf_context * g = gguf_init_from_file(path.c_str(), gp);
    if (!g) fail("cannot read control vector '" + path + "': " + take_thread_log_errors());
    ControlVector cv;
    const int64_t kh = gguf_find_key(g, "controlvector.model_hint");
    if (kh >= 0 && gguf_get_kv_type(g, kh) == GGUF_TYPE_STRING) cv.model_hint = gguf_get_val_str(g, kh);
    cv.meta = read_meta(g);
    std::string err;
    for (int64_t i = 0; i < gguf_get_n_tensors(g) && err.empty(); i++) {
        const std::string name = gguf_get_tensor_name(g, i);
        ggml_tensor * t = ggml_get_tensor(gctx, name.c_str());
        if (name.rfind("direction.", 0) != 0) continue;
        char * end = nullptr;
        const long layer = std::strtol(name.c_str() + 10, &end, 10);
        if (end == name.c_str() + 10 || *end || layer < 1 || layer > 100000) { err = "bad tensor name '" + name + "'"; break; }
        if (!t || t->type != GGML_TYPE_F32 || ggml_n_dims(t) != 1) { err = "tensor '" + name + "' is not a 1-D F32 vector"; break; }
        const int ne = (int) t->ne[0];
        if (cv.n_embd == 0) cv.n_embd = ne;
        if (ne != cv.n_embd) { err = "tensor '" + name + "' width differs from the others"; break; }
        auto & v = cv.layers[(int) layer];
        v.resize(ne);
        std::memcpy(v.data(), t->data, ne * sizeof(float));
    }
    gguf_free(g);
    if (gctx) ggml_free(gctx);
    if (!err.empty()) fail("control vector '" + path + "': " + err);
    if (cv.layers.empty()) fail("control vector '" + path + "' has no direction.N tensors");
    return cv;
}

std::vector<float> load_control_vector_llama(const std::string & path, float strength, int * n_embd_out) {
    read_control_vector(path);  // our checks first: common's loader asserts on some malformed files
    auto data = common_control_vector_load({{strength, path}});
    if (data.n_embd <= 0) fail("llama.cpp's control-vector loader rejected '" + path + "'");
    if (n_embd_out) *n_embd_out = data.n_embd;
    return data.data;
}

}  // namespace eia
