#!/usr/bin/python3
"""Trains the pruning benchmark's two nets on scikit-learn's bundled 8x8 digits, upsampled to 16x16.

  mobilenet  MobileNetV2-like: a 3x3 stem, five inverted residual blocks (expand 1x1 -> BN -> ReLU6 -> depthwise 3x3
             -> BN -> ReLU6 -> linear 1x1 -> BN, a residual Add when the stride is 1 and the width stays), a 1x1 head,
             global average pool, a Linear. The 1x1 convs are named `expand` and `linear`, so the seed's kind of regex,
             `.*(expand|linear).*weight`, selects them and not the depthwise `dw` ones.
  resnet     ResNet-like: a 3x3 stem, basic blocks (3x3 conv, BN, ReLU, 3x3 conv, BN, Add, ReLU) with identity shortcuts
             and, where the width or stride changes, 1x1 projection shortcuts; global average pool, a Linear.

Debian's python3-torch and python3-sklearn (the digits ship inside scikit-learn: no download). Seeded: the same machine
and versions give the same model. Writes into OUT:
  digits_ARCH.onnx     the float model with its BatchNormalization ops (opset 13, input 'image' 1x1x16x16, batch 1)
  eval/data/images.npy the held-out test images, float32 [N, 1, 16, 16] (one file: mopt splits it into N samples; alone
                       in its folder, which is the data=DIR of --prune-sensitivity)
  eval/labels.npy      their labels, int64 [N]
  eval/labels.txt      the same labels, one a line
  digits_ARCH.json     what was trained, its parameter count and its test top-1 (measured here in PyTorch)
Images are scaled as the training saw them: (pixel / 16 - mean) / std with the training set's mean and std, then
bilinearly upsampled 8x8 -> 16x16 (so the nets have some spatial work to prune).
"""
import argparse, os, sys, warnings

import numpy as np
import torch
from torch import nn

from digits_common import DATASET, seeded_split, top1, train, write_info


def conv_bn(cin, cout, k, stride=1, groups=1):
    return nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expansion):
        super().__init__()
        hidden = cin * expansion
        self.expand, self.expand_bn = conv_bn(cin, hidden, 1)
        self.dw, self.dw_bn = conv_bn(hidden, hidden, 3, stride, groups=hidden)
        self.linear, self.linear_bn = conv_bn(hidden, cout, 1)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = nn.functional.relu6(self.expand_bn(self.expand(x)))
        y = nn.functional.relu6(self.dw_bn(self.dw(y)))
        y = self.linear_bn(self.linear(y))
        return x + y if self.residual else y


class MobileNetLike(nn.Module):
    # (out channels, stride) per block; expansion 4
    BLOCKS = [(16, 1), (24, 2), (24, 1), (32, 2), (32, 1)]

    def __init__(self):
        super().__init__()
        self.stem, self.stem_bn = conv_bn(1, 16, 3)
        blocks, cin = [], 16
        for cout, stride in self.BLOCKS:
            blocks.append(InvertedResidual(cin, cout, stride, 4))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head, self.head_bn = conv_bn(cin, 128, 1)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        x = nn.functional.relu6(self.stem_bn(self.stem(x)))
        x = nn.functional.relu6(self.head_bn(self.head(self.blocks(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = conv_bn(cin, cout, 3, stride)
        self.conv2, self.bn2 = conv_bn(cout, cout, 3)
        self.shortcut = nn.Sequential(*conv_bn(cin, cout, 1, stride)) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        y = nn.functional.relu(self.bn1(self.conv1(x)))
        return nn.functional.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNetLike(nn.Module):
    # (out channels, stride) per basic block
    BLOCKS = [(16, 1), (16, 1), (32, 2), (32, 1), (64, 2)]

    def __init__(self):
        super().__init__()
        self.stem, self.stem_bn = conv_bn(1, 16, 3)
        blocks, cin = [], 16
        for cout, stride in self.BLOCKS:
            blocks.append(BasicBlock(cin, cout, stride))
            cin = cout
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, 10)

    def forward(self, x):
        x = self.layers(nn.functional.relu(self.stem_bn(self.stem(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


ARCHS = {"mobilenet": MobileNetLike, "resnet": ResNetLike}


def upsample(x, size):
    return nn.functional.interpolate(torch.from_numpy(x), size=(size, size), mode="bilinear", align_corners=False).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("arch", choices=sorted(ARCHS))
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20261205)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--size", type=int, default=16, help="the images' side after upsampling")
    ap.add_argument("--test-fraction", type=float, default=0.4)
    a = ap.parse_args()

    x_train, x_test, y_train, y_test, mean, std = seeded_split(a.seed, a.test_fraction)
    x_train, x_test = upsample(x_train, a.size), upsample(x_test, a.size)
    model = train(ARCHS[a.arch](), x_train, y_train, a.epochs, 3e-3, a.seed)
    accuracy = top1(model, x_test, y_test)

    os.makedirs(os.path.join(a.out, "eval", "data"), exist_ok=True)
    np.save(os.path.join(a.out, "eval", "data", "images.npy"), np.ascontiguousarray(x_test, dtype=np.float32))
    np.save(os.path.join(a.out, "eval", "labels.npy"), y_test)
    with open(os.path.join(a.out, "eval", "labels.txt"), "w") as f:
        f.write("".join(f"{int(v)}\n" for v in y_test))
    onnx_path = os.path.join(a.out, f"digits_{a.arch}.onnx")
    # constant folding only turns ReLU6's Cast(Constant) bounds into constants; the parameters are not folded (eval mode)
    warnings.filterwarnings("ignore", message="It is recommended that constant folding be turned off")
    # PRESERVE keeps the BatchNormalization ops (EVAL would fold them into the convs during export); batch 1, static.
    torch.onnx.export(model, torch.from_numpy(x_test[:1]), onnx_path, opset_version=13, input_names=["image"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    info = {"dataset": DATASET, "arch": a.arch, "seed": a.seed, "epochs": a.epochs, "size": a.size,
            "train": len(x_train), "test": len(x_test), "mean": mean, "std": std,
            "parameters": sum(p.numel() for p in model.parameters()), "float_top1": accuracy, "torch": torch.__version__}
    write_info(os.path.join(a.out, f"digits_{a.arch}.json"), info)


if __name__ == "__main__":
    sys.exit(main())
