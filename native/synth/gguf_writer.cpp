// Streaming GGUF writer (see gguf_writer.h).
#include "gguf_writer.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <system_error>
#include <thread>
#include <unistd.h>

#include "error.h"
#include "ggml.h"
#include "rng.h"

namespace eia::synth {

namespace {

void fill_chunk(const TensorPlan & tp, uint64_t seed, int64_t chunk, int64_t r0, int64_t r1, float * dst) {
    const int64_t n = (r1 - r0) * tp.ne0;
    switch (tp.init) {
        case I_NORMAL: {
            Rng rng(mix3(seed, fnv1a(tp.name), (uint64_t) chunk));
            rng.normals(dst, n, tp.value);
            break;
        }
        case I_CONST:
            std::fill(dst, dst + n, tp.value);
            break;
        case I_ROWS:
            std::memcpy(dst, tp.rows->data() + r0 * tp.ne0, (size_t) n * sizeof(float));
            break;
    }
    if (tp.post) tp.post(r0, r1, dst);
}

void convert_rows(ggml_type type, const float * src, uint8_t * dst, int64_t nrows, int64_t ne0) {
    switch (type) {
        case GGML_TYPE_F32:
            std::memcpy(dst, src, (size_t) (nrows * ne0) * sizeof(float));
            break;
        case GGML_TYPE_F16:
            ggml_fp32_to_fp16_row(src, (ggml_fp16_t *) dst, nrows * ne0);
            break;
        default:
            ggml_quantize_chunk(type, src, dst, 0, nrows, ne0, nullptr);
            break;
    }
}

struct FileCloser {
    FILE * f = nullptr;
    ~FileCloser() { if (f) std::fclose(f); }
};

void write_or_fail(FILE * f, const void * data, size_t n, const std::string & path) {
    if (n && std::fwrite(data, 1, n, f) != n) {
        fail(Code::IO, "eia-synth: write failed on '" + path + "': " + std::strerror(errno));
    }
}

int n_threads_for_writing() {
    const unsigned hc = std::thread::hardware_concurrency();
    return (int) std::max(1u, std::min(hc == 0 ? 4u : hc, 32u));
}

void stream_tensor(FILE * f, const std::string & path, const TensorPlan & tp, uint64_t seed,
                   std::vector<float> & src, std::vector<uint8_t> & dst, int n_threads) {
    const int64_t ne0 = tp.ne0, ne1 = tp.ne1;
    const size_t row_bytes = ggml_row_size(tp.type, ne0);
    const int64_t chunk_rows = std::max<int64_t>(1, (int64_t(1) << 20) / ne0);
    const int64_t n_chunks = (ne1 + chunk_rows - 1) / chunk_rows;
    const int64_t slab_chunks = std::max<int64_t>(1, (int64_t(32) << 20) / (chunk_rows * ne0));
    for (int64_t c0 = 0; c0 < n_chunks; c0 += slab_chunks) {
        const int64_t c1 = std::min(n_chunks, c0 + slab_chunks);
        const int64_t r0 = c0 * chunk_rows, r1 = std::min(ne1, c1 * chunk_rows);
        src.resize((size_t) ((r1 - r0) * ne0));
        dst.resize((size_t) (r1 - r0) * row_bytes);
        std::atomic<int64_t> next(c0);
        auto work = [&]() {
            for (;;) {
                const int64_t c = next.fetch_add(1);
                if (c >= c1) break;
                const int64_t a = c * chunk_rows, b = std::min(ne1, a + chunk_rows);
                float * s = src.data() + (a - r0) * ne0;
                fill_chunk(tp, seed, c, a, b, s);
                convert_rows(tp.type, s, dst.data() + (size_t) (a - r0) * row_bytes, b - a, ne0);
            }
        };
        const int nt = (int) std::min<int64_t>(n_threads, c1 - c0);
        if (nt <= 1) {
            work();
        } else {
            std::vector<std::thread> th;
            th.reserve(nt - 1);
            try {
                for (int i = 0; i < nt - 1; ++i) th.emplace_back(work);
            } catch (const std::system_error &) {
                // fewer threads: the chunk queue is shared, the bytes do not depend on who writes them
            }
            work();
            for (auto & t : th) t.join();
        }
        write_or_fail(f, dst.data(), dst.size(), path);
    }
}

struct GgufHolder {
    gguf_context * g = nullptr;
    ggml_context * c = nullptr;
    ~GgufHolder() {
        if (g) gguf_free(g);
        if (c) ggml_free(c);
    }
};

}  // namespace

TensorPlan matrix_plan(const std::string & name, int64_t ne0, int64_t ne1, float sigma, ggml_type wtype) {
    TensorPlan tp;
    tp.name = name; tp.ne0 = ne0; tp.ne1 = ne1; tp.n_dims = 2;
    tp.type = (ne0 % ggml_blck_size(wtype) == 0) ? wtype : GGML_TYPE_F32;
    tp.init = I_NORMAL; tp.value = sigma;
    return tp;
}

TensorPlan vector_plan(const std::string & name, int64_t ne0, InitKind init, float value) {
    TensorPlan tp;
    tp.name = name; tp.ne0 = ne0; tp.ne1 = 1; tp.n_dims = 1;
    tp.type = GGML_TYPE_F32; tp.init = init; tp.value = value;
    return tp;
}

std::string block_tensor(int i, const char * name) { return "blk." + std::to_string(i) + "." + name; }

void write_gguf(const std::string & out, const std::function<void(gguf_context *)> & set_kv,
                const std::vector<TensorPlan> & plans, uint64_t seed, FileGuard & guard) {
    GgufHolder h;
    h.g = gguf_init_empty();
    if (!h.g) fail("eia-synth: gguf_init_empty failed");
    set_kv(h.g);

    ggml_init_params ip{};
    ip.mem_size = (plans.size() + 16) * ggml_tensor_overhead();
    ip.mem_buffer = nullptr;
    ip.no_alloc = true;
    h.c = ggml_init(ip);
    if (!h.c) fail("eia-synth: ggml_init failed");
    std::set<std::string> names;
    for (const auto & tp : plans) {
        if (!names.insert(tp.name).second) fail("internal: duplicate tensor " + tp.name);
        if (tp.name.size() >= GGML_MAX_NAME) fail("internal: tensor name too long: " + tp.name);
        if (tp.ne0 % ggml_blck_size(tp.type) != 0) fail("internal: row size not divisible by block size: " + tp.name);
        ggml_tensor * t = tp.n_dims == 1 ? ggml_new_tensor_1d(h.c, tp.type, tp.ne0)
                                         : ggml_new_tensor_2d(h.c, tp.type, tp.ne0, tp.ne1);
        ggml_set_name(t, tp.name.c_str());
        gguf_add_tensor(h.g, t);
    }

    const std::string tmp = out + ".tmp";
    guard.paths.push_back(tmp);
    FileCloser fc;
    fc.f = std::fopen(tmp.c_str(), "wb");
    if (!fc.f) fail(Code::IO, "eia-synth: cannot open '" + tmp + "' for writing: " + std::strerror(errno));
    std::setvbuf(fc.f, nullptr, _IOFBF, 1 << 22);
    if (!gguf_write_to_file_ptr(h.g, fc.f, /*only_meta=*/true)) fail(Code::IO, "eia-synth: writing metadata to '" + tmp + "' failed");
    const size_t alignment = gguf_get_alignment(h.g);
    const long meta_end = std::ftell(fc.f);   // gguf_get_data_offset is only set for files read back
    if (meta_end < 0 || (size_t) meta_end % alignment != 0) fail("internal: metadata of '" + tmp + "' not aligned");
    const size_t data_offset = (size_t) meta_end;

    const int nt = n_threads_for_writing();
    std::vector<float> src;
    std::vector<uint8_t> dst;
    std::vector<uint8_t> zeros(alignment, 0);
    size_t written = 0;   // bytes of the data section so far
    for (size_t i = 0; i < plans.size(); ++i) {
        if (gguf_get_tensor_offset(h.g, (int64_t) i) != written) {
            fail("internal: tensor offset mismatch for " + plans[i].name);
        }
        stream_tensor(fc.f, tmp, plans[i], seed, src, dst, nt);
        const size_t nbytes = gguf_get_tensor_size(h.g, (int64_t) i);
        const size_t padded = GGML_PAD(nbytes, alignment);
        write_or_fail(fc.f, zeros.data(), padded - nbytes, tmp);
        written += padded;
    }
    if (std::fflush(fc.f) != 0) fail(Code::IO, "eia-synth: flush failed on '" + tmp + "': " + std::strerror(errno));
    // on the disk before the rename makes it the model (a crash never leaves a renamed, unwritten file)
    if (fsync(fileno(fc.f)) != 0) fail(Code::IO, "eia-synth: sync failed on '" + tmp + "': " + std::strerror(errno));
    const long pos = std::ftell(fc.f);
    if (pos >= 0 && (size_t) pos != data_offset + written) fail("internal: file size mismatch for '" + tmp + "'");
    const int rc = std::fclose(fc.f);
    fc.f = nullptr;
    if (rc != 0) fail(Code::IO, "eia-synth: close failed on '" + tmp + "': " + std::strerror(errno));
    if (std::rename(tmp.c_str(), out.c_str()) != 0) {
        fail(Code::IO, "eia-synth: cannot rename '" + tmp + "' to '" + out + "': " + std::strerror(errno));
    }
}

void write_text_atomic(const std::string & path, const std::string & data, FileGuard & guard) {
    const std::string tmp = path + ".tmp";
    guard.paths.push_back(tmp);
    FileCloser fc;
    fc.f = std::fopen(tmp.c_str(), "wb");
    if (!fc.f) fail(Code::IO, "eia-synth: cannot open '" + tmp + "' for writing: " + std::strerror(errno));
    write_or_fail(fc.f, data.data(), data.size(), tmp);
    if (std::fflush(fc.f) != 0) fail(Code::IO, "eia-synth: flush failed on '" + tmp + "': " + std::strerror(errno));
    if (fsync(fileno(fc.f)) != 0) fail(Code::IO, "eia-synth: sync failed on '" + tmp + "': " + std::strerror(errno));
    const int rc = std::fclose(fc.f);
    fc.f = nullptr;
    if (rc != 0) fail(Code::IO, "eia-synth: close failed on '" + tmp + "': " + std::strerror(errno));
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        fail(Code::IO, "eia-synth: cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(errno));
    }
}

std::string npy_f32_1d(const std::vector<float> & v) {
    std::string hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(v.size()) + ",), }";
    const size_t base = 10;   // magic(6) + version(2) + header len(2)
    while ((base + hdr.size() + 1) % 64 != 0) hdr += ' ';
    hdr += '\n';
    std::string out = std::string("\x93NUMPY", 6);
    out += (char) 1;
    out += (char) 0;
    out += (char) (hdr.size() & 0xff);
    out += (char) ((hdr.size() >> 8) & 0xff);
    out += hdr;
    out.append((const char *) v.data(), v.size() * sizeof(float));   // little-endian hosts
    return out;
}

}  // namespace eia::synth
