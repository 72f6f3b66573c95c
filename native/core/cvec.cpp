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

std::vector<uint8_t> encode_control_vector(const ControlVector & cv) {
    if (cv.layers.empty()) fail("control vector: no layers to write");
    if (cv.n_embd <= 0) fail("control vector: directions must not be empty");  // gguf asserts on 0-element tensors
    for (auto & kv : cv.layers) {
        if (kv.first < 1) fail("control vector: layer " + std::to_string(kv.first) + " cannot be written (llama.cpp control vectors start at block 1)");
        if ((int) kv.second.size() != cv.n_embd) fail("control vector: layer " + std::to_string(kv.first) + " has the wrong width");
        for (float x : kv.second)
            if (!std::isfinite(x)) fail("control vector: layer " + std::to_string(kv.first) + " contains NaN or infinity");
    }
    // the metadata through ggml's own GGUF writer (tensor infos only: no ggml context, no tensor data
    // in it), then the data section laid out at the offsets gguf assigned
    gguf_context * g = gguf_init_empty();
    gguf_set_val_str(g, "general.architecture", "controlvector");
    gguf_set_val_str(g, "controlvector.model_hint", cv.model_hint.c_str());
    gguf_set_val_i32(g, "controlvector.layer_count", (int32_t) cv.layers.size());
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
