#!/usr/bin/python3
"""Trains a small Conv+BatchNorm CNN on scikit-learn's bundled 8x8 digits and writes what the quantize benchmark needs.

Debian's python3-torch and python3-sklearn (the digits ship inside scikit-learn: no download). Seeded: the same
machine and versions give the same model. Writes into OUT:
  digits_cnn.onnx         the float model, exported with its BatchNormalization ops (opset 13, input 'image' Nx1x8x8)
  calibration/NNNN.npy    CAL training images, one per file (the calibration folder of --quantize-int8)
  eval/images.npy         the held-out test images, float32 [N, 1, 8, 8]
  eval/labels.npy         their labels, int64 [N]
  digits_cnn.json         what was trained and the float model's test top-1 (measured here in PyTorch)
Images are scaled as the training saw them: (pixel / 16 - mean) / std with the training set's mean and std.
"""
import argparse, os, sys

import torch
from torch import nn

from digits_common import DATASET, seeded_split, top1, train, write_dataset, write_info


class DigitsCnn(nn.Module):
    def __init__(self):
        super().__init__()
        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        self.features = nn.Sequential(*block(1, 16), *block(16, 32), nn.MaxPool2d(2), *block(32, 64), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20261205)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--calibration", type=int, default=512, help="training images written as calibration samples")
    ap.add_argument("--test-fraction", type=float, default=0.4)
    a = ap.parse_args()

    x_train, x_test, y_train, y_test, mean, std = seeded_split(a.seed, a.test_fraction)
    model = train(DigitsCnn(), x_train, y_train, a.epochs, 2e-3, a.seed)
    accuracy = top1(model, x_test, y_test)

    write_dataset(a.out, x_train, x_test, y_test, a.calibration, a.seed)
    onnx_path = os.path.join(a.out, "digits_cnn.onnx")
    # PRESERVE keeps the BatchNormalization ops (EVAL would fold them into the convs during export).
    torch.onnx.export(model, torch.from_numpy(x_test[:1]), onnx_path, opset_version=13, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}}, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)
    info = {"dataset": DATASET, "seed": a.seed, "epochs": a.epochs,
            "train": len(x_train), "test": len(x_test), "calibration": min(a.calibration, len(x_train)),
            "mean": mean, "std": std, "float_top1": accuracy, "torch": torch.__version__}
    write_info(os.path.join(a.out, "digits_cnn.json"), info)


if __name__ == "__main__":
    sys.exit(main())
