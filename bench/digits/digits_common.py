"""What both digits training scripts share: the seeded split of scikit-learn's digits, the training loop, and the
files the quantize benchmark reads (calibration/NNNN.npy, eval/images.npy, eval/labels.npy, NAME.json)."""
import json, os, random

import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

DATASET = "sklearn.datasets.load_digits (1797 8x8 images, 10 classes)"


def seeded_split(seed, test_fraction):
    """Seeds every RNG, then splits the digits (stratified) and scales them by the training set's mean and std."""
    random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    mean, std = float(x_train.mean()), float(x_train.std())
    return (x_train - mean) / std, (x_test - mean) / std, y_train, y_test, mean, std


def train(model, x_train, y_train, epochs, lr, seed):
    """Adam with a cosine schedule, batches of 32 in a seeded order; returns the model in eval mode."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 32):
            idx = perm[i:i + 32]
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad(); loss.backward(); opt.step()
        sched.step()
    model.eval()
    return model


def top1(model, x, y):
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def write_dataset(out, x_train, x_test, y_test, calibration, seed):
    """CAL training images, one per file (the calibration folder), and the test images with their labels."""
    os.makedirs(os.path.join(out, "calibration"), exist_ok=True)
    os.makedirs(os.path.join(out, "eval"), exist_ok=True)
    rng = np.random.default_rng(seed)
    for k, i in enumerate(rng.choice(len(x_train), size=min(calibration, len(x_train)), replace=False)):
        np.save(os.path.join(out, "calibration", f"{k:04d}.npy"), x_train[i:i + 1])
    np.save(os.path.join(out, "eval", "images.npy"), x_test)
    np.save(os.path.join(out, "eval", "labels.npy"), y_test)


def write_info(path, info):
    with open(path, "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info))
