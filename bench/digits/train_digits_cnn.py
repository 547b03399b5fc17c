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
import argparse, json, os, random, sys

import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


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

    random.seed(a.seed); np.random.seed(a.seed); torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=a.test_fraction, random_state=a.seed, stratify=y)
    mean, std = float(x_train.mean()), float(x_train.std())
    x_train = (x_train - mean) / std
    x_test = (x_test - mean) / std

    model = DigitsCnn()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(a.seed)
    for epoch in range(a.epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 32):
            idx = perm[i:i + 32]
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad(); loss.backward(); opt.step()
        sched.step()

    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(x_test)).argmax(1).numpy()
    top1 = float((pred == y_test).mean())

    os.makedirs(os.path.join(a.out, "calibration"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "eval"), exist_ok=True)
    onnx_path = os.path.join(a.out, "digits_cnn.onnx")
    # PRESERVE keeps the BatchNormalization ops (EVAL would fold them into the convs during export).
    torch.onnx.export(model, torch.from_numpy(x_test[:1]), onnx_path, opset_version=13, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}}, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)
    rng = np.random.default_rng(a.seed)
    for k, i in enumerate(rng.choice(len(x_train), size=min(a.calibration, len(x_train)), replace=False)):
        np.save(os.path.join(a.out, "calibration", f"{k:04d}.npy"), x_train[i:i + 1])
    np.save(os.path.join(a.out, "eval", "images.npy"), x_test)
    np.save(os.path.join(a.out, "eval", "labels.npy"), y_test)
    info = {"dataset": "sklearn.datasets.load_digits (1797 8x8 images, 10 classes)", "seed": a.seed, "epochs": a.epochs,
            "train": len(x_train), "test": len(x_test), "calibration": min(a.calibration, len(x_train)),
            "mean": mean, "std": std, "float_top1": top1, "torch": torch.__version__}
    with open(os.path.join(a.out, "digits_cnn.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info))


if __name__ == "__main__":
    sys.exit(main())
