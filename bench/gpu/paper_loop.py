"""The paper's steering loop, as published: PyTorch + transformers, forward hook on
model.model.layers[L] adding alpha * d to the block output, use_cache=False (every new token
recomputes the whole sequence), one sample at a time. Randomly initialised model of the given
shape (no weights needed: only the cost is measured). Prints one JSON line."""
import argparse
import json
import time

import torch
from transformers import AutoModelForCausalLM, Qwen2Config

SHAPES = {
    # Qwen2.5-7B-Instruct
    "qwen2.5-7b": dict(hidden_size=3584, num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
                       intermediate_size=18944, vocab_size=152064, rope_theta=1e6, max_position_embeddings=32768),
    "0.5b": dict(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                 intermediate_size=4864, vocab_size=151936, rope_theta=1e6, max_position_embeddings=32768, tie_word_embeddings=True),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="qwen2.5-7b")
    ap.add_argument("--layer", type=int, default=16)
    ap.add_argument("--alphas", default="-5,5")
    ap.add_argument("--samples", type=int, default=1)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--dtype", default="bfloat16")
    a = ap.parse_args()
    dtype = getattr(torch, a.dtype)
    cfg = Qwen2Config(**SHAPES[a.shape])
    torch.manual_seed(0)
    t_init = time.time()
    torch.set_default_dtype(dtype)  # build the random model directly in bf16 on the GPU
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(cfg)
    torch.set_default_dtype(torch.float32)
    model.eval()
    t_init = time.time() - t_init
    d = torch.randn(cfg.hidden_size, device="cuda", dtype=dtype)
    d = d / d.norm()
    state = {"alpha": 0.0}

    def hook(_module, _inp, out):
        if isinstance(out, tuple):
            return (out[0] + state["alpha"] * d,) + tuple(out[1:])
        return out + state["alpha"] * d

    model.model.layers[a.layer].register_forward_hook(hook)
    prompt = torch.randint(100, cfg.vocab_size - 100, (1, a.prompt_tokens), device="cuda")
    alphas = [float(x) for x in a.alphas.split(",")]

    def sample_once(alpha, n_new):
        state["alpha"] = alpha
        ids = prompt.clone()
        with torch.no_grad():
            for _ in range(n_new):
                logits = model(ids, use_cache=False).logits[:, -1, :].float()
                probs = torch.softmax(logits / 0.7, dim=-1)
                nxt = torch.multinomial(probs, 1)
                ids = torch.cat([ids, nxt], dim=1)
        return ids

    sample_once(0.0, 4)  # warm-up
    torch.cuda.synchronize()
    t0 = time.time()
    n_tok = 0
    for alpha in alphas:
        for _ in range(a.samples):
            sample_once(alpha, a.gen)
            n_tok += a.gen
    torch.cuda.synchronize()
    dt = time.time() - t0
    print(json.dumps({"bench": "paper_pytorch", "shape": a.shape, "layer": a.layer, "alphas": alphas, "samples": a.samples,
                      "prompt_tokens": a.prompt_tokens, "gen": a.gen, "dtype": a.dtype, "seconds": round(dt, 3),
                      "tokens": n_tok, "tok_s": round(n_tok / dt, 2), "sec_per_sample": round(dt / (len(alphas) * a.samples), 3),
                      "init_s": round(t_init, 1), "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
