#!/usr/bin/python3
"""Trains a large MLP on scikit-learn's bundled 8x8 digits and writes what the quantize benchmark needs.

An LLM-like stack of wide Linear + GELU layers (image 1x8x8 -> Flatten -> 64 -> 1024 -> 1024 -> 1024 -> 10, 2.2M
parameters, 8.7 MB of f32 weights), the kind of model 4-bit weights are for. Debian's python3-torch and
python3-sklearn (the digits ship inside scikit-learn: no download). Seeded: the same machine and versions give the same
model. Writes into OUT:
  digits_mlp.onnx                   the float model (opset 13, input 'image' Nx1x8x8, output 'logits' Nx10)
  test_data_set_NNNN/input_0.pb     each held-out test image as an ONNX TensorProto [1, 1, 8, 8] (the layout of the
                                    ONNX model zoo's test data, which the benchmark evaluates on)
  eval/images.npy, eval/labels.npy  the same images, float32 [N, 1, 8, 8], and their labels, int64 [N]
  calibration/NNNN.npy              CAL training images, one per file
  digits_mlp.json                   what was trained and the float model's test top-1 (measured here in PyTorch)
Images are scaled as the training saw them: (pixel / 16 - mean) / std with the training set's mean and std.
"""
import argparse, os, sys

import numpy as np
import torch
from torch import nn

from digits_common import DATASET, seeded_split, top1, train, write_dataset, write_info


class DigitsMlp(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        layers, fan_in = [nn.Flatten()], 64
        for _ in range(depth):
            layers += [nn.Linear(fan_in, width), nn.GELU()]
            fan_in = width
        layers.append(nn.Linear(fan_in, 10))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def tensor_proto(a):
    """An ONNX TensorProto of float32 `a`: dims (field 1), data_type FLOAT (field 2), raw_data (field 9)."""
    out = bytearray()
    for d in a.shape:
        out += b"\x08" + varint(d)
    out += b"\x10" + varint(1)
    raw = np.ascontiguousarray(a, dtype="<f4").tobytes()
    out += b"\x4a" + varint(len(raw)) + raw
    return bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20261205)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--calibration", type=int, default=512, help="training images written as calibration samples")
    ap.add_argument("--test-fraction", type=float, default=0.4)
    a = ap.parse_args()

    x_train, x_test, y_train, y_test, mean, std = seeded_split(a.seed, a.test_fraction)
    model = train(DigitsMlp(a.width, a.depth), x_train, y_train, a.epochs, 1e-3, a.seed)
    accuracy = top1(model, x_test, y_test)

    write_dataset(a.out, x_train, x_test, y_test, a.calibration, a.seed)
    torch.onnx.export(model, torch.from_numpy(x_test[:1]), os.path.join(a.out, "digits_mlp.onnx"), opset_version=13,
                      input_names=["image"], output_names=["logits"], dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
                      do_constant_folding=False)
    for i in range(len(x_test)):
        d = os.path.join(a.out, f"test_data_set_{i:04d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "input_0.pb"), "wb") as f:
            f.write(tensor_proto(x_test[i:i + 1]))
    info = {"dataset": DATASET, "seed": a.seed, "epochs": a.epochs,
            "width": a.width, "depth": a.depth, "parameters": sum(p.numel() for p in model.parameters()),
            "train": len(x_train), "test": len(x_test), "calibration": min(a.calibration, len(x_train)),
            "mean": mean, "std": std, "float_top1": accuracy, "torch": torch.__version__}
    write_info(os.path.join(a.out, "digits_mlp.json"), info)


if __name__ == "__main__":
    sys.exit(main())
