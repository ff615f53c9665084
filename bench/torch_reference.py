#!/usr/bin/python3
"""The reference for tsdsr-model-bench: a built-in model's network in plain PyTorch, timed.

Builds the functional Keras graph of a TensorFlow.js layers model (model.json + weight shards) with
torch.nn.functional, independently of the C++ loader in worker/model/, runs it on the input that
tsdsr-model-bench wrote, and reports the time of each repetition (JSON on stdout) and writes the output of
the last one. With --serve it runs one repetition per "run" line on stdin instead, so that tsdsr-model-bench
can alternate them with its own (a shared machine's load then weighs on both sides alike). Tensors are
NCHW, the transpose of the Keras model's NHWC.

Input and output files are .npy (version 1.0, little-endian float32, C order), read and written here with
the standard library and torch only (numpy is not needed).

    /usr/bin/python3 bench/torch_reference.py --model-dir DIR --input in.npy --output out.npy \
        --pixel-range 255 --threads 1 --warmup 1 --repeat 5
"""

import argparse
import ast
import json
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

NPY_MAGIC = b"\x93NUMPY"


def read_npy(path):
    """A float32 C-order .npy file (version 1.0 or 2.0) as a CPU tensor."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != NPY_MAGIC:
        raise ValueError(f"{path}: not a .npy file")
    major = data[6]
    if major == 1:
        (header_len,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (header_len,) = struct.unpack("<I", data[8:12])
        start = 12
    header = ast.literal_eval(data[start:start + header_len].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        raise ValueError(f"{path}: only little-endian float32 in C order is supported, got {header}")
    body = bytearray(data[start + header_len:])
    return torch.frombuffer(body, dtype=torch.float32).reshape(header["shape"]).clone()


def write_npy(path, tensor):
    """Writes a tensor as a float32 C-order .npy file (version 1.0)."""
    t = tensor.detach().to(torch.float32).contiguous().cpu()
    shape = tuple(t.shape)
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (shape,)
    pad = 64 - (10 + len(header) + 1) % 64
    header = (header + " " * pad + "\n").encode("latin1")
    with open(path, "wb") as f:
        f.write(NPY_MAGIC + b"\x01\x00" + struct.pack("<H", len(header)) + header)
        f.write(tensor_bytes(t))


def tensor_bytes(t):
    """The raw bytes of a contiguous CPU tensor (fast with numpy, slow but correct without)."""
    try:
        return t.numpy().tobytes()
    except (ImportError, RuntimeError):
        return bytes(t.view(torch.uint8).reshape(-1).tolist())


# ---- weights: model.json's weightsManifest and the shards it names ----

def decode_tensor(spec, raw):
    """One manifest entry's bytes as a float32 tensor in TF layout (dequantized)."""
    shape = spec["shape"]
    count = 1
    for d in shape:
        count *= d
    quant = spec.get("quantization")
    qtype = quant.get("dtype") if quant else None
    if qtype is None:
        values = torch.frombuffer(bytearray(raw), dtype=torch.float32)
    elif qtype == "float16":
        values = torch.frombuffer(bytearray(raw), dtype=torch.float16).to(torch.float32)
    elif qtype in ("uint8", "uint16"):
        # TF.js dequantizes as q * scale + min with JavaScript numbers (double), then stores float32.
        if qtype == "uint8":
            q = torch.frombuffer(bytearray(raw), dtype=torch.uint8).to(torch.float64)
        else:
            q = torch.frombuffer(bytearray(raw), dtype=torch.int16).to(torch.int32) & 0xFFFF
            q = q.to(torch.float64)
        values = (q * quant["scale"] + quant["min"]).to(torch.float32)
    else:
        raise ValueError(f"tensor {spec['name']}: unsupported quantization {quant}")
    if values.numel() != count:
        raise ValueError(f"tensor {spec['name']}: {values.numel()} values for shape {shape}")
    return values.reshape(shape)


def storage_bytes(spec):
    count = 1
    for d in spec["shape"]:
        count *= d
    quant = spec.get("quantization")
    qtype = quant.get("dtype") if quant else None
    return count * {None: 4, "float16": 2, "uint16": 2, "uint8": 1}[qtype]


def load_weights(model_dir, manifest):
    """name -> float32 tensor, from each group's shards read back to back and sliced in manifest order."""
    weights = {}
    for group in manifest:
        blob = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            if spec.get("dtype", "float32") != "float32":
                raise ValueError(f"tensor {spec['name']}: dtype {spec['dtype']} is not supported")
            size = storage_bytes(spec)
            weights[spec["name"]] = decode_tensor(spec, blob[offset:offset + size])
            offset += size
        if offset != len(blob):
            raise ValueError(f"{model_dir}: group holds {len(blob)} bytes, its tensors {offset}")
    return weights


# ---- the graph ----

def pair(value, default):
    if value is None:
        return default
    if isinstance(value, int):
        return (value, value)
    return (int(value[0]), int(value[1]))


def depth_to_space(x, block):
    """tf.nn.depth_to_space on NCHW: channel (i*b + j)*C + c goes to out[c, y*b + i, x*b + j]."""
    n, depth, h, w = x.shape
    c = depth // (block * block)
    return x.reshape(n, block, block, c, h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, c, h * block, w * block)


class Conv:
    """Keras Conv2D (stride 1, channels_last): HWIO kernel, padding "same" or "valid", optional relu."""

    def __init__(self, config, kernel, bias):
        if pair(config.get("strides"), (1, 1)) != (1, 1) or config.get("groups", 1) != 1:
            raise ValueError(f"{config['name']}: only stride 1, one group")
        self.weight = kernel.permute(3, 2, 0, 1).contiguous()  # (out, in, kh, kw)
        self.bias = bias
        kh, kw = kernel.shape[0], kernel.shape[1]
        self.dilation = pair(config.get("dilation_rate"), (1, 1))
        self.pad = None  # (left, right, top, bottom) for F.pad when "same" is asymmetric
        self.padding = (0, 0)
        if config.get("padding", "valid") == "same":
            th, tw = (kh - 1) * self.dilation[0], (kw - 1) * self.dilation[1]
            if th % 2 == 0 and tw % 2 == 0:
                self.padding = (th // 2, tw // 2)
            else:  # TF puts the odd pixel after
                self.pad = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
        self.relu = config.get("activation", "linear") == "relu"

    def __call__(self, x):
        if self.pad is not None:
            x = F.pad(x, self.pad)
        y = F.conv2d(x, self.weight, self.bias, 1, self.padding, self.dilation)
        return F.relu(y) if self.relu else y


def make_op(layer, weights):
    """A function of the layer's input list, for one Keras layer."""
    cls, config, name = layer["class_name"], layer["config"], layer["name"]
    if cls == "Conv2D":
        bias = weights.pop(name + "/bias") if config.get("use_bias", True) else None
        conv = Conv(config, weights.pop(name + "/kernel"), bias)
        return lambda xs: conv(xs[0])
    if cls == "Activation":
        act = config.get("activation", "linear")
        if act == "relu":
            return lambda xs: F.relu(xs[0])
        if act == "linear":
            return lambda xs: xs[0]
        raise ValueError(f"{name}: activation {act}")
    if cls == "Concatenate":
        axis = {0: 0, 1: 2, 2: 3, 3: 1, -1: 1, -2: 3, -3: 2, -4: 0}[config.get("axis", -1)]
        return lambda xs: torch.cat(xs, axis)
    if cls == "Add":
        return lambda xs: sum(xs[1:], xs[0])
    if cls == "MultiplyBeta":
        beta = config.get("beta", 0.2)
        return lambda xs: xs[0] * beta
    if cls.startswith("PixelShuffle"):
        block = int(config.get("scale") or cls[len("PixelShuffle"):-1])
        return lambda xs: depth_to_space(xs[0], block)
    if cls == "UpSampling2D":
        sy, sx = pair(config.get("size"), (2, 2))
        return lambda xs: F.interpolate(xs[0], scale_factor=(sy, sx), mode="nearest")
    raise ValueError(f"{name}: layer type {cls} is not supported")


class Network:
    """The model's layers in an order where every input precedes its consumers; values are dropped after
    their last use, as any reasonable runner would."""

    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "model.json")) as f:
            model = json.load(f)
        topology = model["modelTopology"]
        config = topology.get("model_config", topology)["config"]
        weights = load_weights(model_dir, model["weightsManifest"])
        layers = {layer["name"]: layer for layer in config["layers"]}
        self.input = config["input_layers"][0][0]
        self.output = config["output_layers"][0][0]
        self.steps = []  # (name, op, input names)
        placed = set()

        def place(name):
            if name in placed:
                return
            layer = layers[name]
            inputs = [entry[0] for entry in (layer["inbound_nodes"][0] if layer["inbound_nodes"] else [])]
            for i in inputs:
                place(i)
            placed.add(name)
            if name != self.input:
                self.steps.append((name, make_op(layer, weights), inputs))

        sys.setrecursionlimit(10000)
        place(self.output)
        if weights:
            raise ValueError(f"{model_dir}: weights of no layer: {sorted(weights)[:5]}")
        last_use = {}
        for index, (_, _, inputs) in enumerate(self.steps):
            for i in inputs:
                last_use[i] = index
        self.release = [[i for i in set(inputs) if last_use[i] == index and i != self.output]
                        for index, (_, _, inputs) in enumerate(self.steps)]

    def __call__(self, x):
        values = {self.input: x}
        for (name, op, inputs), release in zip(self.steps, self.release):
            values[name] = op([values[i] for i in inputs])
            for i in release:
                del values[i]
        return values[self.output]


def run_once(network, batch, pixel_range):
    """What BuiltinModel::Forward does (to the network's range, run, back to [0, 1]), timed: (output, wall
    seconds, process CPU seconds)."""
    start, cpu = time.perf_counter(), time.process_time()
    x = batch * pixel_range if pixel_range != 1 else batch
    y = network(x)
    out = y / pixel_range if pixel_range != 1 else y
    return out, time.perf_counter() - start, time.process_time() - cpu


def serve(network, batch, args):
    """One JSON line per command read from stdin: "run" runs once and answers its times, "save" writes the last
    output to --output. Lets tsdsr-model-bench alternate its own repetitions with these ones."""
    out = None
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "run":
            out, wall, cpu = run_once(network, batch, args.pixel_range)
            print(json.dumps({"seconds": wall, "cpu_seconds": cpu}), flush=True)
        elif command == "save" and out is not None:
            write_npy(args.output, out)
            print(json.dumps({"saved": args.output, "output_shape": list(out.shape)}), flush=True)
        else:
            print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", required=True, help="folder of model.json and its weight shards")
    parser.add_argument("--input", required=True, help=".npy, (N, 3, H, W) float32 in [0, 1]")
    parser.add_argument("--output", required=True, help=".npy written with the last repetition's output")
    parser.add_argument("--pixel-range", type=float, default=1.0, help="what white is fed to the network as")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--serve", action="store_true", help="run on commands from stdin (see serve())")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    network = Network(args.model_dir)
    batch = read_npy(args.input)
    with torch.inference_mode():
        if args.serve:
            serve(network, batch, args)
            return
        walls, cpus = [], []
        for rep in range(args.warmup + args.repeat):
            out, wall, cpu = run_once(network, batch, args.pixel_range)
            if rep >= args.warmup:
                walls.append(wall)
                cpus.append(cpu)
    write_npy(args.output, out)
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "seconds": walls,
               "cpu_seconds": cpus, "output_shape": list(out.shape)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
