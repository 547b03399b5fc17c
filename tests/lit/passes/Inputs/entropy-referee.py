#!/usr/bin/python3
"""Independent referee for quantize-int8's entropy calibration, on the histograms mopt's report holds (histograms=true).

For each activation it computes the KL threshold two peers would pick from the same counts, written from their
published code's steps (numpy + scipy.stats.entropy, nothing shared with mopt):
  trt   NVIDIA pytorch-quantization's _compute_amax_entropy (the TensorRT algorithm): |x| histogram, bins[0] = bins[1],
        candidates i = 128..2048 bins, P = first i bins with the tail added to the last, Q = those bins merged into
        2^(7 + unsigned) levels (unsigned: the tensor has no negative value) spread evenly over the non-empty bins,
        KL(P || Q) with no smoothing (a bin Q misses makes it infinite), amax = edge i of the last minimum.
  ort   ONNX Runtime's HistogramCollector.get_entropy_threshold on the signed histogram (negatives mirrored, 4096 bins),
        128 quantized bins over the window, q an integer division, both smoothed (smooth_distribution, eps 1e-4),
        first minimum; clipped to [min, max].
Prints one row per tensor: mopt's range (from the report), trt's and ort's thresholds, in bins of the histogram.
--check: exit 1 unless mopt's entropy threshold is within --tolerance bins of trt's for every tensor.
"""
import argparse, json, sys

import numpy as np
from scipy.stats import entropy


def trt_amax_bins(hist, unsigned):
    bins = hist.astype(np.float64).copy()
    bins[0] = bins[1]
    nbins = 1 << (7 + int(unsigned))
    best, best_div = None, np.inf
    total = bins.sum()
    for i in range(128, len(bins) + 1):
        space = np.linspace(0, i, nbins + 1)
        dig = np.digitize(np.arange(i), space) - 1
        nonzero = bins[:i] != 0
        counts = np.bincount(dig[nonzero], weights=bins[:i][nonzero], minlength=nbins)
        members = np.bincount(dig[nonzero], minlength=nbins)
        q = np.zeros(i)
        q[nonzero] = (counts / np.maximum(members, 1))[dig[nonzero]]
        p = bins[:i].copy()
        p[-1] += bins[i:].sum()
        if q.sum() == 0:
            continue
        div = entropy(p / total, q / q.sum())
        if div <= best_div:  # the last minimum, as pytorch-quantization's reversed argmin
            best, best_div = i, div
    return best


def smooth(p, eps=0.0001):
    is_zeros = (p == 0).astype(np.float64)
    is_nonzeros = (p != 0).astype(np.float64)
    n_zeros, n_nonzeros = is_zeros.sum(), p.size - is_zeros.sum()
    if not n_nonzeros:
        return None
    eps1 = eps * n_zeros / n_nonzeros
    return p.astype(np.float64) + eps * is_zeros + (-eps1) * is_nonzeros


def ort_threshold_bins(signed, num_quantized_bins=128):
    num_bins = signed.size
    zero = num_bins // 2
    half = num_quantized_bins // 2
    best, best_div = None, np.inf
    for i in range(half, zero + 1):
        start, end = zero - i, min(zero + i + 1, num_bins)
        sliced = signed[start:end].astype(np.int64)
        p = sliced.copy()
        p[0] += signed[:start].sum()
        p[-1] += signed[end:].sum()
        nonzeros = (p != 0).astype(np.int64)
        merged = sliced.size // num_quantized_bins
        quantized = np.array([sliced[k * merged:(k + 1) * merged].sum() for k in range(num_quantized_bins)], dtype=np.int64)
        quantized[-1] += sliced[num_quantized_bins * merged:].sum()
        q = np.zeros(p.size, dtype=np.int64)
        for k in range(num_quantized_bins):
            norm = nonzeros[k * merged:(k + 1) * merged].sum()
            if norm:
                q[k * merged:(k + 1) * merged] = quantized[k] / norm
        ps, qs = smooth(p), smooth(q)
        div = np.inf if ps is None or qs is None else entropy(ps, qs)
        if div < best_div:  # np.argmin: the first minimum
            best, best_div = i, div
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--tolerance", type=float, default=1.0, help="bins mopt's threshold may differ from trt's")
    ap.add_argument("--no-ort", action="store_true", help="skip ONNX Runtime's (slow: a python loop per candidate)")
    a = ap.parse_args()
    report = json.load(open(a.report))
    ranges = {t["name"]: t for t in report["tensors"] if t["kind"] == "activation"}
    bad = 0
    print(f"{'tensor':40} {'min':>9} {'max':>9} {'mopt':>9} {'trt':>9} {'ort':>9}   (thresholds; bins of the histogram in brackets)")
    for h in report["histograms"]:
        pos, neg = np.array(h["positive"]), np.array(h["negative"])
        w = h["bin_width"]
        lo, hi = h["range"]
        unsigned = lo >= 0 or hi <= 0
        mopt = max(-ranges[h["tensor"]]["range"][0], ranges[h["tensor"]]["range"][1])
        trt = trt_amax_bins(pos + neg, unsigned)
        trt_amax = min(trt * w, max(-lo, hi))
        ort = None if a.no_ort else ort_threshold_bins(np.concatenate([neg[::-1], pos]))
        ort_text = "-" if ort is None else f"{min(ort * w, max(-lo, hi)):9.4g}"
        print(f"{h['tensor'][:40]:40} {lo:9.4g} {hi:9.4g} {mopt:9.4g} {trt_amax:9.4g} {ort_text:>9}   [{mopt / w:7.1f} {trt:5d} {'-' if ort is None else ort:>5}]")
        if abs(mopt - trt_amax) > a.tolerance * w * (1 + 1e-6):
            bad += 1
    if a.check:
        print(f"entropy thresholds within {a.tolerance} bin of pytorch-quantization's: {len(report['histograms']) - bad}/{len(report['histograms'])}")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
