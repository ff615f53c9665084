#!/usr/bin/python3
"""Makes the TSD-SR parity fixtures in worker/model/sd3/testdata/ with diffusers 0.29.2 on tiny random models.

The C++ SD3 transformer, VAE and LoRA merge (worker/model/sd3/) are tested against these files: a tiny
SD3Transformer2DModel and a tiny SD3-style AutoencoderKL with random weights in the diffusers folder layout,
random LoRAs in the layout of TSD-SR's transformer.safetensors / vae.safetensors, prompt embeddings saved with
torch.save, and inputs/outputs computed by diffusers itself (see worker/model/sd3/testdata/README.md).

How to run it, on any Debian 12-like machine (CPU only, nothing from PyPI):
  1. apt-get install python3-torch python3-numpy python3-regex python3-filelock python3-importlib-metadata \
         python3-packaging python3-tqdm python3-pil python3-requests python3-yaml
  2. Put a source checkout of huggingface/diffusers at tag v0.29.2 outside the project, e.g. /tmp/diffusers
     (a clone, or `git archive v0.29.2 src | tar -x -C /tmp/diffusers` from a mirror). Never commit it.
  3. /usr/bin/python3 tools/make_parity_fixtures.py --diffusers /tmp/diffusers
     (Debian's torch imports only under /usr/bin/python3.) --out DIR writes elsewhere than the testdata folder.
The script writes its own stand-ins for what Debian lacks into a temporary folder put first on sys.path: a
huggingface_hub with the names diffusers imports (no network use), an empty safetensors package (every
.safetensors file here is written with numpy), and a plain softmax attention as
torch.nn.functional.scaled_dot_product_attention on torches older than 2.0. Seeds are fixed: the same torch gives
the same files. Everything is float32 on the CPU.
"""

import argparse
import copy
import json
import os
import sys
import tempfile
import textwrap

import numpy as np
import torch
import torch.nn.functional as F

DIFFUSERS_VERSION = "0.29.2"
LORA_RANK = 4
LORA_ALPHA = 8.0  # scale alpha / rank = 2, so a merge that ignores the scale is caught
LORA_PREFIX = "transformer."  # TSD-SR's files use it for both the transformer and the VAE LoRA
# TSD-SR's transformer LoRA targets (test/test_tsdsr.py), matched as peft does: a module whose dotted name is a
# target or ends with "." + target, and that is a Linear or Conv2d.
TRANSFORMER_TARGETS = ["to_k", "to_q", "to_v", "to_out.0", "add_q_proj", "add_k_proj", "add_v_proj", "proj",
                       "linear", "proj_out"]

TRANSFORMER_CONFIG = dict(sample_size=16, patch_size=2, in_channels=16, num_layers=2, attention_head_dim=8,
                          num_attention_heads=2, joint_attention_dim=32, caption_projection_dim=16,
                          pooled_projection_dim=32, out_channels=16, pos_embed_max_size=12)
# Three levels (two downsamplers, a 1x1 shortcut where channels change, one block without): SD3's VAE in small.
VAE_CONFIG = dict(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 3,
                  up_block_types=["UpDecoderBlock2D"] * 3, block_out_channels=[8, 16, 16], layers_per_block=2,
                  act_fn="silu", latent_channels=16, norm_num_groups=4, sample_size=32, scaling_factor=1.5305,
                  shift_factor=0.0609, use_quant_conv=False, use_post_quant_conv=False)
PROMPT_TOKENS = 5

HUB_STUB = {
    "__init__.py": '''
        __version__ = "0.23.4"
        from . import constants, utils, file_download, _commit_api

        def _no_hub(*args, **kwargs):
            raise RuntimeError("huggingface_hub stand-in: no hub access in make_parity_fixtures.py")

        create_repo = hf_hub_download = model_info = snapshot_download = upload_folder = create_commit = _no_hub
        split_torch_state_dict_into_shards = _no_hub

        class ModelCard:
            load = staticmethod(_no_hub)

        class ModelCardData:
            def __init__(self, **kwargs):
                self.__dict__.update(kwargs)
    ''',
    "constants.py": '''
        import os
        HF_HOME = os.environ.get("HF_HOME", "/tmp/hf_home")
        HF_HUB_CACHE = os.path.join(HF_HOME, "hub")
        HF_HUB_OFFLINE = True
        HF_HUB_DISABLE_TELEMETRY = True
    ''',
    "utils.py": '''
        class HfHubHTTPError(Exception): pass
        class EntryNotFoundError(HfHubHTTPError): pass
        class LocalEntryNotFoundError(EntryNotFoundError): pass
        class RepositoryNotFoundError(HfHubHTTPError): pass
        class RevisionNotFoundError(HfHubHTTPError): pass
        class OfflineModeIsEnabled(ConnectionError): pass

        def validate_hf_hub_args(fn):
            return fn

        def is_jinja_available():
            return False
    ''',
    "file_download.py": '''
        import re
        REGEX_COMMIT_HASH = re.compile(r"^[0-9a-f]{40}$")
    ''',
    "_commit_api.py": '''
        class CommitOperationAdd:
            def __init__(self, path_in_repo, path_or_fileobj):
                self.path_in_repo, self.path_or_fileobj = path_in_repo, path_or_fileobj
    ''',
}


def install_stand_ins(stub_dir):
    """Writes the huggingface_hub and safetensors stand-ins, puts them first on sys.path, adds SDPA if missing."""
    hub = os.path.join(stub_dir, "huggingface_hub")
    os.makedirs(hub)
    for name, text in HUB_STUB.items():
        with open(os.path.join(hub, name), "w") as f:
            f.write(textwrap.dedent(text).lstrip())
    os.makedirs(os.path.join(stub_dir, "safetensors"))
    with open(os.path.join(stub_dir, "safetensors", "__init__.py"), "w") as f:
        f.write("# stand-in: diffusers imports it; the fixtures are written with numpy\n")
    sys.path.insert(0, stub_dir)
    os.environ["HF_HOME"] = os.path.join(stub_dir, "hf_home")
    if not hasattr(F, "scaled_dot_product_attention"):
        F.scaled_dot_product_attention = plain_attention


def plain_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """softmax(Q·Kᵀ·scale + mask)·V: torch 2's scaled_dot_product_attention without dropout or causal masking."""
    assert dropout_p == 0.0 and not is_causal
    scale = query.shape[-1] ** -0.5 if scale is None else scale
    scores = torch.matmul(query, key.transpose(-2, -1)) * scale
    if attn_mask is not None:
        scores = scores + attn_mask if attn_mask.dtype != torch.bool else scores.masked_fill(~attn_mask, float("-inf"))
    return torch.matmul(scores.softmax(dim=-1), value)


# ---- files ----

SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.int64: "I64",
                      torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL"}


def write_safetensors(path, tensors, metadata=None):
    """Writes a safetensors file with numpy: 8-byte little-endian header length, JSON header, raw data."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(np.array([len(text)], dtype="<u8").tobytes())
        f.write(text)
        for data in chunks:
            f.write(data)


def save_model(model, folder):
    """config.json (diffusers' own save_config) and diffusion_pytorch_model.safetensors (the state dict)."""
    model.save_config(folder)
    write_safetensors(os.path.join(folder, "diffusion_pytorch_model.safetensors"),
                      {k: v for k, v in model.state_dict().items()}, {"format": "pt"})


# ---- models and LoRAs ----

def perturb_parameters(model, generator):
    """Adds small noise to every parameter so that norm weights are not 1 and biases not 0 (catches swaps)."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=generator))


def is_transformer_target(name):
    return any(name == t or name.endswith("." + t) for t in TRANSFORMER_TARGETS)


def is_vae_target(name):
    # TSD-SR lists every Conv2d/Linear of the SD3 VAE encoder by name (and quant_conv, which SD3 lacks).
    return name.startswith("encoder.") or name == "quant_conv"


def make_lora(model, is_target, generator):
    """Random rank-LORA_RANK A/B pairs for the targeted Linear/Conv2d modules: {module name: (A, B)}."""
    lora = {}
    for name, module in model.named_modules():
        if not is_target(name):
            continue
        if isinstance(module, torch.nn.Linear):
            a_shape, b_shape = (LORA_RANK, module.in_features), (module.out_features, LORA_RANK)
        elif isinstance(module, torch.nn.Conv2d):
            a_shape = (LORA_RANK, module.in_channels, *module.kernel_size)
            b_shape = (module.out_channels, LORA_RANK, 1, 1)
        else:
            continue
        lora[name] = (0.1 * torch.randn(a_shape, generator=generator), 0.1 * torch.randn(b_shape, generator=generator))
    assert lora, "no LoRA target matched"
    return lora


def lora_file_tensors(lora):
    """The keys as TSD-SR's files hold them: "transformer.<module>.lora_A.weight" / ".lora_B.weight"."""
    tensors = {}
    for name, (a, b) in lora.items():
        tensors[f"{LORA_PREFIX}{name}.lora_A.weight"] = a
        tensors[f"{LORA_PREFIX}{name}.lora_B.weight"] = b
    return tensors


def merged_copy(model, lora):
    """A copy of `model` with W += (alpha / rank)·B·A merged into every adapted module."""
    merged = copy.deepcopy(model)
    modules = dict(merged.named_modules())
    with torch.no_grad():
        for name, (a, b) in lora.items():
            w = modules[name].weight
            w += (LORA_ALPHA / LORA_RANK) * (b.flatten(1) @ a.flatten(1)).view(w.shape)
    return merged


# ---- parity cases ----

def transformer_case(base, merged, batch, height, width, timesteps, prompt, pooled, generator):
    hidden = torch.randn(batch, TRANSFORMER_CONFIG["in_channels"], height, width, generator=generator)
    t = torch.tensor(timesteps, dtype=torch.float32)
    args = dict(hidden_states=hidden, encoder_hidden_states=prompt, pooled_projections=pooled, timestep=t,
                return_dict=False)
    return {"hidden_states": hidden, "timestep": t, "encoder_hidden_states": prompt, "pooled_projections": pooled,
            "sample": merged(**args)[0], "sample_no_lora": base(**args)[0]}


def vae_encode_case(base, merged, generator):
    image = torch.rand(1, 3, 16, 24, generator=generator) * 2 - 1
    dist, dist_base = merged.encode(image).latent_dist, base.encode(image).latent_dist
    return {"image": image, "mean": dist.mean, "logvar": dist.logvar, "std": dist.std,
            "mean_no_lora": dist_base.mean, "logvar_no_lora": dist_base.logvar}


def vae_decode_case(vae, generator):
    latent = torch.randn(1, VAE_CONFIG["latent_channels"], 4, 6, generator=generator)
    return {"latent": latent, "image": vae.decode(latent, return_dict=False)[0]}


def tsdsr_step_case(vae, transformer, prompt, pooled, generator, scale=4):
    """One TSD-SR tile as test/test_tsdsr.py runs it, with the latent mean instead of a sample of the posterior."""
    lr = torch.rand(1, 3, 8, 6, generator=generator)
    upscaled = (F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False) * 2 - 1).clamp(-1, 1)
    sf = VAE_CONFIG["scaling_factor"]
    z = vae.encode(upscaled).latent_dist.mean * sf
    t = torch.tensor([1000.0])
    v = transformer(hidden_states=z, encoder_hidden_states=prompt, pooled_projections=pooled, timestep=t,
                    return_dict=False)[0]
    z0 = z - v
    decoded = vae.decode(z0 / sf, return_dict=False)[0]
    return {"lr": lr, "upscaled": upscaled, "z": z, "timestep": t, "encoder_hidden_states": prompt,
            "pooled_projections": pooled, "v": v, "z0": z0, "decoded": decoded, "output": decoded.clamp(-1, 1)}


def make_fixtures(out):
    from diffusers import AutoencoderKL, SD3Transformer2DModel  # after the stand-ins are in place
    import diffusers
    if diffusers.__version__ != DIFFUSERS_VERSION:
        sys.exit(f"diffusers {diffusers.__version__} found; the fixtures are defined by {DIFFUSERS_VERSION}")
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(20240601)
    transformer = SD3Transformer2DModel(**TRANSFORMER_CONFIG).eval()
    vae = AutoencoderKL(**VAE_CONFIG).eval()
    perturb_parameters(transformer, g)
    perturb_parameters(vae, g)
    transformer_lora = make_lora(transformer, is_transformer_target, g)
    vae_lora = make_lora(vae, is_vae_target, g)
    transformer_merged = merged_copy(transformer, transformer_lora)
    vae_merged = merged_copy(vae, vae_lora)

    save_model(transformer, os.path.join(out, "transformer"))
    save_model(vae, os.path.join(out, "vae"))
    lora_metadata = {"format": "pt", "lora_alpha": LORA_ALPHA, "rank": LORA_RANK, "prefix": LORA_PREFIX}
    write_safetensors(os.path.join(out, "lora", "transformer.safetensors"), lora_file_tensors(transformer_lora),
                      lora_metadata)
    write_safetensors(os.path.join(out, "lora", "vae.safetensors"), lora_file_tensors(vae_lora), lora_metadata)

    prompt = torch.randn(1, PROMPT_TOKENS, TRANSFORMER_CONFIG["joint_attention_dim"], generator=g)
    pooled = torch.randn(1, TRANSFORMER_CONFIG["pooled_projection_dim"], generator=g)
    os.makedirs(os.path.join(out, "embeddings"), exist_ok=True)
    torch.save(prompt, os.path.join(out, "embeddings", "prompt_embeds.pt"))
    torch.save(pooled, os.path.join(out, "embeddings", "pool_embeds.pt"))

    meta = {"diffusers": DIFFUSERS_VERSION, "torch": torch.__version__}
    with torch.no_grad():
        cases = {
            "transformer": transformer_case(transformer, transformer_merged, 1, 16, 12, [1000.0], prompt, pooled, g),
            "transformer_batch2": transformer_case(
                transformer, transformer_merged, 2, 8, 10, [1000.0, 250.0],
                torch.cat([prompt, torch.randn(prompt.shape, generator=g)]),
                torch.cat([pooled, torch.randn(pooled.shape, generator=g)]), g),
            "vae_encode": vae_encode_case(vae, vae_merged, g),
            "vae_decode": vae_decode_case(vae, g),
            "tsdsr_step": tsdsr_step_case(vae_merged, transformer_merged, prompt, pooled, g),
        }
    for name, tensors in cases.items():
        write_safetensors(os.path.join(out, "parity", name + ".safetensors"), tensors, meta)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(out) for f in files)
    print(f"wrote {out}: {total} bytes; transformer LoRA on {len(transformer_lora)} modules, "
          f"VAE LoRA on {len(vae_lora)}")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--diffusers", required=True, help="a diffusers v0.29.2 source checkout (or its src/)")
    parser.add_argument("--out", default=os.path.join(root, "worker", "model", "sd3", "testdata"))
    args = parser.parse_args()
    src = os.path.join(args.diffusers, "src")
    sys.path.insert(0, src if os.path.isdir(src) else args.diffusers)
    with tempfile.TemporaryDirectory(prefix="parity_stubs_") as stub_dir:
        install_stand_ins(stub_dir)
        torch.set_num_threads(1)  # same reductions on every machine
        make_fixtures(args.out)


if __name__ == "__main__":
    main()
