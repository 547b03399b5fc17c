#!/usr/bin/python3
"""Writes prune-sensitivity.mir's samples and labels: sample i lifts channel CLASSES[i] of x [1,4,1,1] (1 + i/10, the
others -0.5), so the model predicts that class; the labels get samples 3 and 7 wrong (baseline top-1 0.8).
Usage: prune-sensitivity-data.py DIR  (writes DIR/data/NNN.npy, DIR/labels.npy, DIR/labels.txt, DIR/short.txt)"""
import os, sys

import numpy as np

out = sys.argv[1]
classes = [0, 1, 2, 0, 1, 2, 2, 0, 1, 0]
labels = [0, 1, 2, 1, 1, 2, 2, 1, 1, 0]
os.makedirs(os.path.join(out, "data"), exist_ok=True)
for i, c in enumerate(classes):
    x = np.full((1, 4, 1, 1), -0.5, dtype=np.float32)
    x[0, c, 0, 0] = 1 + i / 10
    np.save(os.path.join(out, "data", f"{i:03d}.npy"), x)
np.save(os.path.join(out, "labels.npy"), np.array(labels, dtype=np.int64))
with open(os.path.join(out, "labels.txt"), "w") as f:
    f.write("".join(f"{l}\n" for l in labels))
with open(os.path.join(out, "short.txt"), "w") as f:
    f.write("0\n1\n2\n")
