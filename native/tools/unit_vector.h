// A random unit direction of n floats from a seed (Gaussian, normalised): the steering and monitor
// directions of the C++ bench harness and the native tests.
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

inline std::vector<float> unit_vector(int n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd;
    std::vector<float> v(n);
    double s = 0;
    for (auto & x : v) { x = nd(rng); s += (double) x * x; }
    for (auto & x : v) x = (float) (x / std::sqrt(s));
    return v;
}
