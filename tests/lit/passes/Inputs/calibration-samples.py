#!/usr/bin/python3
"""Writes N seeded .npy calibration samples of one shape: smooth positive images with a few bright outliers, so that
activations have long tails (what makes calibration methods disagree). Usage: calibration-samples.py DIR N DIMS SEED"""
import os, sys

import numpy as np

out, n, dims, seed = sys.argv[1], int(sys.argv[2]), [int(d) for d in sys.argv[3].split(",")], int(sys.argv[4])
rng = np.random.default_rng(seed)
os.makedirs(out, exist_ok=True)
for i in range(n):
    x = rng.gamma(2.0, 0.5, size=dims).astype(np.float32)
    x[rng.random(dims) < 0.002] *= 8  # rare outliers
    np.save(os.path.join(out, f"sample_{i:03d}.npy"), x)
