#include "quantize.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "error.h"
#include "ggml.h"
#include "gguf.h"
#include "llama.h"
#include "runtime.h"

namespace fs = std::filesystem;

namespace eia {

const std::vector<QuantType> & quant_types() {
    static const std::vector<QuantType> types = {
        {"f32", LLAMA_FTYPE_ALL_F32, 32.0},        {"f16", LLAMA_FTYPE_MOSTLY_F16, 16.0},
        {"bf16", LLAMA_FTYPE_MOSTLY_BF16, 16.0},    {"q8_0", LLAMA_FTYPE_MOSTLY_Q8_0, 8.5},
        {"q6_k", LLAMA_FTYPE_MOSTLY_Q6_K, 6.56},    {"q5_k_m", LLAMA_FTYPE_MOSTLY_Q5_K_M, 5.69},
        {"q5_k_s", LLAMA_FTYPE_MOSTLY_Q5_K_S, 5.54}, {"q5_1", LLAMA_FTYPE_MOSTLY_Q5_1, 6.0},
        {"q5_0", LLAMA_FTYPE_MOSTLY_Q5_0, 5.5},     {"q4_k_m", LLAMA_FTYPE_MOSTLY_Q4_K_M, 4.89},
        {"q4_k_s", LLAMA_FTYPE_MOSTLY_Q4_K_S, 4.58}, {"q4_1", LLAMA_FTYPE_MOSTLY_Q4_1, 5.0},
        {"q4_0", LLAMA_FTYPE_MOSTLY_Q4_0, 4.5},     {"iq4_nl", LLAMA_FTYPE_MOSTLY_IQ4_NL, 4.5},
        {"iq4_xs", LLAMA_FTYPE_MOSTLY_IQ4_XS, 4.25}, {"q3_k_l", LLAMA_FTYPE_MOSTLY_Q3_K_L, 4.27},
        {"q3_k_m", LLAMA_FTYPE_MOSTLY_Q3_K_M, 3.91}, {"q3_k_s", LLAMA_FTYPE_MOSTLY_Q3_K_S, 3.5},
        {"q2_k", LLAMA_FTYPE_MOSTLY_Q2_K, 2.63},
    };
    return types;
}

namespace {

// The facts of a GGUF model file that the checks need; fails with the reason when it is not one.
struct GgufFacts {
    std::string arch;
    int64_t n_tensors = 0;
    int64_t file_type = -1;  // general.file_type, -1 when absent
};

GgufFacts read_facts(const std::string & path, const char * what) {
    {
        std::ifstream f(path, std::ios::binary);
        if (!f) fail(Code::IO, std::string(what) + " '" + path + "' cannot be opened");
        char magic[4] = {};
        f.read(magic, 4);
        if (f.gcount() < 4 || std::memcmp(magic, "GGUF", 4) != 0) fail(std::string(what) + " '" + path + "' is not a GGUF file (bad magic)");
    }
    gguf_init_params gp = {true, nullptr};  // metadata only: no tensor data is read
    take_thread_log_errors();
    gguf_context * g = gguf_init_from_file(path.c_str(), gp);
    if (!g) fail(std::string(what) + " '" + path + "' is not a readable GGUF file: " + take_thread_log_errors());
    GgufFacts r;
    const int64_t ka = gguf_find_key(g, "general.architecture");
    if (ka >= 0 && gguf_get_kv_type(g, ka) == GGUF_TYPE_STRING) r.arch = gguf_get_val_str(g, ka);
    r.n_tensors = gguf_get_n_tensors(g);
    const int64_t kf = gguf_find_key(g, "general.file_type");
    if (kf >= 0) {
        const gguf_type t = gguf_get_kv_type(g, kf);
        if (t == GGUF_TYPE_UINT32) r.file_type = gguf_get_val_u32(g, kf);
        else if (t == GGUF_TYPE_INT32) r.file_type = gguf_get_val_i32(g, kf);
    }
    gguf_free(g);
    return r;
}

bool same_file(const std::string & a, const std::string & b) {
    std::error_code ec;
    if (fs::exists(b, ec) && fs::equivalent(a, b, ec)) return true;
    const fs::path ca = fs::weakly_canonical(a, ec), cb = fs::weakly_canonical(b, ec);
    return !ec && ca == cb;
}

}  // namespace

QuantizeResult quantize_model(const QuantizeOptions & opt, QuantizeProgress * progress) {
    // ---- checks, before llama.cpp sees anything
    const QuantType * type = nullptr;
    for (const auto & t : quant_types())
        if (opt.type == t.name) type = &t;
    if (!type) {
        std::string names;
        for (const auto & t : quant_types()) names += (names.empty() ? "" : ", ") + std::string(t.name);
        fail("quantize: unknown type '" + opt.type + "' (known: " + names + ")");
    }
    if (opt.in.empty()) fail("quantize: empty input path");
    if (opt.out.empty()) fail("quantize: empty output path");
    if (opt.threads < 0 || opt.threads > 512) fail("quantize: threads must be in 0..512 (0 = all)");
    ensure_backend();
    const GgufFacts in = read_facts(opt.in, "quantize: input");
    if (in.arch.empty()) fail("quantize: input '" + opt.in + "' has no general.architecture: not a model file");
    if (in.arch == "controlvector") fail("quantize: input '" + opt.in + "' is a control vector, not a model");
    if (in.n_tensors <= 0) fail("quantize: input '" + opt.in + "' holds no tensors");
    if (same_file(opt.in, opt.out)) fail("quantize: the output is the input file ('" + opt.out + "'); write to another path");
    const std::string tmp = opt.out + ".tmp-" + std::to_string((long) getpid());
    {   // the output folder must exist and be writable: probe with the temporary file itself
        FILE * f = std::fopen(tmp.c_str(), "wb");
        if (!f) fail(Code::IO, "quantize: cannot write '" + tmp + "': " + std::strerror(errno) + " (the output folder must exist and be writable)");
        std::fclose(f);
    }
    if (progress) {
        progress->done.store(0);
        progress->total.store(in.n_tensors);
    }

    // ---- llama.cpp's quantizer; its "[  i/  n] tensor ..." lines are the progress
    llama_model_quantize_params qp = llama_model_quantize_default_params();
    qp.nthread = opt.threads;
    qp.ftype = (llama_ftype) type->ftype;
    qp.allow_requantize = opt.allow_requantize;
    uint32_t rc;
    std::string errors;
    {
        ThreadLogObserver watch([progress](int, const char * text) {
            int i = 0, n = 0;
            if (progress && text[0] == '[' && std::sscanf(text, "[%d/%d]", &i, &n) == 2 && n > 0) {
                progress->total.store(n);
                progress->done.store(i > 0 ? i - 1 : 0);  // the line opens tensor i: i - 1 are written
            }
        });
        take_thread_log_errors();
        rc = llama_model_quantize(opt.in.c_str(), tmp.c_str(), &qp);
        errors = take_thread_log_errors();
    }
    if (rc != 0) {
        std::remove(tmp.c_str());
        fail("quantize: llama.cpp could not quantize '" + opt.in + "' to " + type->name + (errors.empty() ? "" : ": " + errors));
    }

    // ---- the check that it ran: a GGUF of the asked file type with every tensor
    GgufFacts out;
    try {
        out = read_facts(tmp, "quantize: output");
    } catch (...) {
        std::remove(tmp.c_str());
        throw;
    }
    std::string bad;
    if (out.file_type != type->ftype) bad = "general.file_type is " + std::to_string(out.file_type) + ", expected " + std::to_string(type->ftype) + " (" + type->name + ")";
    else if (out.n_tensors != in.n_tensors) bad = std::to_string(out.n_tensors) + " tensors written, the input has " + std::to_string(in.n_tensors);
    else if (out.arch != in.arch) bad = "architecture '" + out.arch + "' written, the input's is '" + in.arch + "'";
    if (!bad.empty()) {
        std::remove(tmp.c_str());
        fail(Code::Internal, "quantize: the written file fails its check: " + bad);
    }
    if (std::rename(tmp.c_str(), opt.out.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::remove(tmp.c_str());
        fail(Code::IO, "quantize: cannot rename '" + tmp + "' to '" + opt.out + "': " + why);
    }
    if (progress) progress->done.store(in.n_tensors);
    QuantizeResult r;
    r.type = type->name;
    r.ftype = type->ftype;
    r.n_tensors = out.n_tensors;
    r.arch = in.arch;
    std::error_code ec;
    r.in_bytes = (uint64_t) fs::file_size(opt.in, ec);
    r.out_bytes = (uint64_t) fs::file_size(opt.out, ec);
    return r;
}

}  // namespace eia
