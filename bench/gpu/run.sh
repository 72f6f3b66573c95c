#!/usr/bin/env bash
# The GPU check of issue 7 (run on a CUDA machine, no Node needed): build the C++ core + harness
# with CUDA from .gpu/carry.tar.xz (bench/gpu/pack-source.sh), write the qwen2.5-7b-shaped synthetic
# model, then measure: steered vs unsteered batched decode (55 sequences), llama-batched-bench S_TG
# at 55, capture vs plain prefill, the paper's pattern on our engine, and the paper's actual
# PyTorch loop (bench/gpu/paper_loop.py). Results: $OUT/results.jsonl (+ logs).
set -uo pipefail
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
src=$PWD
work=/tmp/eia-gpu
# idempotent: a second call on the same (warm) machine reuses the build and the model
if [ ! -x "$work/b/bin/eia-bench" ]; then rm -rf "$work" && mkdir -p "$work" && tar -C "$work" -xJf "$src/.gpu/carry.tar.xz"; fi
cp "$src/bench/gpu/paper_loop.py" "$work/bench/gpu/paper_loop.py"
cd "$work"
R="$OUT/results.jsonl"
say() { echo "[$(date +%T)] $*" | tee -a "$OUT/log.txt"; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv | tee "$OUT/gpu.txt"
nproc | tee -a "$OUT/gpu.txt"
t0=$(date +%s)
[ -x b/bin/eia-bench ] || cmake -S . -B b -G Ninja -DCMAKE_BUILD_TYPE=Release -DEIA_GPU=cuda -DCMAKE_CUDA_ARCHITECTURES=90 -DEIA_BUILD_LLAMA_TOOLS=ON >"$OUT/cmake.log" 2>&1 \
  || { tail -40 "$OUT/cmake.log"; exit 1; }
ninja -C b -j "$(nproc)" eia-bench llama-batched-bench >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
say "build done in $(( $(date +%s) - t0 )) s"
M=/tmp/q7.gguf
[ -f $M ] || b/bin/eia-bench synth --arch qwen2 --shape qwen2.5-7b --type q8_0 --out $M | tee -a "$R"
say "synth done"
L=16
b/bin/eia-bench decode --model $M --gpu-layers -1 --seqs 55 --prompt-tokens 128 --gen 200 --layer $L --reps 2 | tee -a "$R"
say "decode done"
b/bin/llama-batched-bench -m $M -ngl 99 -c 18432 -b 2048 -ub 512 -npp 128 -ntg 200 -npl 55 -fa auto --output-format jsonl 2>"$OUT/bb.err" | tee -a "$R"
say "batched-bench done"
b/bin/eia-bench capture --model $M --gpu-layers -1 --texts 32 --text-tokens 512 --layers 8,12,16,20,24 --reps 3 | tee -a "$R"
say "capture done"
b/bin/eia-bench paper --model $M --gpu-layers -1 --samples 1 --prompt-tokens 128 --gen 32 --layer $L | tee -a "$R"
say "paper pattern on our engine done"
python3 "$work/bench/gpu/paper_loop.py" --shape qwen2.5-7b --layer $L --alphas=-5,5 --samples 1 --prompt-tokens 128 --gen 64 2>"$OUT/torch.err" | tee -a "$R"
say "pytorch loop done; total $(( $(date +%s) - t0 )) s"
