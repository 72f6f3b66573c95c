#!/usr/bin/env bash
# Packs what a CUDA build of eia-bench needs into .gpu/carry.tar.xz (git-ignored), small enough to
# travel to a GPU machine that has no network and no Node (the prebuilt CUDA package, 159 MB, is not):
# the pinned llama.cpp source pruned to the CPU + CUDA backends, common, and the two llama.cpp
# tools; the project's C++ and this folder. Run there: bash bench/gpu/run.sh (EIA_LLAMA=source).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
node scripts/vendor-llama.mjs
mkdir -p .gpu
tar -C "$root" -cJf .gpu/carry.tar.xz \
  --exclude='vendor/llama.cpp/.git' \
  --exclude='vendor/llama.cpp/ggml/src/ggml-'{vulkan,sycl,metal,opencl,cann,musa,hip,hexagon,webgpu,zdnn,zendnn,openvino,virtgpu,et,blas,rpc} \
  vendor/llama.cpp/CMakeLists.txt vendor/llama.cpp/cmake vendor/llama.cpp/ggml vendor/llama.cpp/src vendor/llama.cpp/include \
  vendor/llama.cpp/common vendor/llama.cpp/vendor vendor/llama.cpp/tools/llama-bench vendor/llama.cpp/tools/batched-bench \
  vendor/llama.cpp/tools/CMakeLists.txt vendor/llama.cpp/licenses vendor/llama.cpp/LICENSE \
  CMakeLists.txt native bench/gpu
ls -la .gpu/carry.tar.xz
