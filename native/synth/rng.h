// Deterministic randomness of the synthetic models: splitmix64 for seeding, xoshiro256+ for streams,
// Box-Muller for normals. Every random quantity is derived from (model seed, a name, an index) with
// mix3, so the bytes of a file do not depend on the order or the thread that generates them.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

namespace eia::synth {

inline uint64_t splitmix64(uint64_t & x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

inline uint64_t mix3(uint64_t a, uint64_t b, uint64_t c) {
    uint64_t x = a;
    uint64_t h = splitmix64(x);
    x ^= b + 0x632BE59BD9B4E019ULL;
    h ^= splitmix64(x);
    x ^= c * 0xD6E8FEB86659FD93ULL + 0x1234567ULL;
    h ^= splitmix64(x);
    return h;
}

inline uint64_t fnv1a(const std::string & s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) { h ^= c; h *= 0x100000001b3ULL; }
    return h;
}

struct Rng {
    uint64_t s[4];
    explicit Rng(uint64_t seed) {
        uint64_t x = seed;
        for (auto & v : s) v = splitmix64(x);
    }
    static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    inline uint64_t next() {
        const uint64_t result = s[0] + s[3];
        const uint64_t t = s[1] << 17;
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }
    inline double uniform() { return (double) (next() >> 11) * 0x1.0p-53; }   // [0,1)
    inline uint64_t below(uint64_t n) { return next() % n; }
    // n normals with standard deviation sigma
    void normals(float * out, int64_t n, float sigma) {
        int64_t i = 0;
        for (; i + 1 < n; i += 2) {
            const float u1 = (float) ((next() >> 40) + 1) * 0x1.0p-24f;   // (0,1]
            const float u2 = (float) (next() >> 40) * 0x1.0p-24f;         // [0,1)
            const float r = sigma * std::sqrt(-2.0f * std::log(u1));
            const float th = 6.2831853071795864f * u2;
            out[i] = r * std::cos(th);
            out[i + 1] = r * std::sin(th);
        }
        if (i < n) {
            float tmp[2];
            normals(tmp, 2, sigma);
            out[i] = tmp[0];
        }
    }
};

}  // namespace eia::synth
