#!/usr/bin/env bash
# The GPU check (issue 12), one run of at most 10 minutes on a CUDA machine with no network and no
# Node: build the C++ core + harness + llama-batched-bench with CUDA from .gpu/carry.tar.xz
# (bench/gpu/pack-source.sh: the pinned llama.cpp source, pruned; EIA_LLAMA=source, because the
# prebuilt CUDA package (159 MB) is larger than what travels to the device), write the
# qwen2.5-7b-shaped synthetic model, then
#   0. correctness before speed: the engine's device oracles (eia-device-check, issue 22: placement,
#      capture = CPU, batch = alone, steering = llama.cpp's control vector, alpha 0, seeded sampling
#      alone = batched with host and backend sampling, greedy + monitors + gates = CPU, an open
#      generation with joins and cancels), one JSON line per check into results.jsonl;
# and measure at 55 sequences x (128-token prompt + 200 new tokens):
#   1. steered / unsteered / steered+monitor decode with llama.cpp's backend (in-graph) sampling,
#      and again with host sampling (the harness's timers split each step: sampling share, ms/step);
#   2. llama-batched-bench S_TG at 55 (the yardstick, same source build);
#   3. where the time goes: nsys over one steered backend-sampling decode when nsys exists.
# Results: $OUT/results.jsonl (+ logs), one JSON object per measurement.
set -uo pipefail
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
src=$PWD
work=/tmp/eia-gpu
# idempotent: a second call on the same (warm) machine reuses the build and the model
if [ ! -x "$work/b/bin/eia-bench" ]; then rm -rf "$work" && mkdir -p "$work" && tar -C "$work" -xJf "$src/.gpu/carry.tar.xz"; fi
cd "$work"
R="$OUT/results.jsonl"
say() { echo "[$(date +%T)] $*" | tee -a "$OUT/log.txt"; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv | tee "$OUT/gpu.txt"
nproc | tee -a "$OUT/gpu.txt"
t0=$(date +%s)
[ -x b/bin/eia-bench ] || cmake -S . -B b -G Ninja -DCMAKE_BUILD_TYPE=Release -DEIA_LLAMA=source -DEIA_GPU=cuda -DCMAKE_CUDA_ARCHITECTURES=90 >"$OUT/cmake.log" 2>&1 \
  || { tail -40 "$OUT/cmake.log"; exit 1; }
ninja -C b -j "$(nproc)" eia-bench eia-device-check llama-batched-bench >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
say "build done in $(( $(date +%s) - t0 )) s"
# the oracles on the device against the CPU, on their own tiny model (a failure is reported, and the
# benchmarks still run so that one lent GPU answers both questions; the exit status says it at the end)
b/bin/eia-device-check --json | tee "$OUT/device-check.jsonl" | tee -a "$R"
checks=${PIPESTATUS[0]}
say "device checks done (exit $checks)"
M=/tmp/q7.gguf
[ -f $M ] || b/bin/eia-bench synth --arch qwen2 --shape qwen2.5-7b --type q8_0 --out $M | tee -a "$R"
say "synth done"
L=16
b/bin/eia-bench decode --model $M --gpu-layers -1 --seqs 55 --prompt-tokens 128 --gen 200 --layer $L --reps 2 --sampling backend | tee -a "$R"
say "decode (backend sampling) done"
b/bin/llama-batched-bench -m $M -ngl 99 -c 18432 -b 2048 -ub 512 -npp 128 -ntg 200 -npl 55 -fa auto --output-format jsonl 2>"$OUT/bb.err" | tee -a "$R"
say "batched-bench done"
b/bin/eia-bench decode --model $M --gpu-layers -1 --seqs 55 --prompt-tokens 128 --gen 200 --layer $L --reps 1 --sampling host | tee -a "$R"
say "decode (host sampling) done"
if command -v nsys >/dev/null 2>&1; then
  nsys profile -o "$OUT/decode" --force-overwrite true --stats=true \
    b/bin/eia-bench decode --model $M --gpu-layers -1 --seqs 55 --prompt-tokens 128 --gen 64 --layer $L --reps 1 --sampling backend >"$OUT/nsys.txt" 2>&1
  grep -A 25 "cuda_gpu_kern_sum\|cuda_api_sum" "$OUT/nsys.txt" | head -80 > "$OUT/nsys-summary.txt"
  say "nsys profile done"
fi
say "total $(( $(date +%s) - t0 )) s"
[ "$checks" -eq 0 ] || { say "device checks FAILED (exit $checks): see $OUT/device-check.jsonl"; exit 1; }
