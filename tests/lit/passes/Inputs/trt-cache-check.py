"""trt-cache-check.py CACHE REPORT.json: every activation line of a TensorRT calibration cache holds the float32 bits
of max(|min|, |max|) / 127 of that tensor's range in mopt's quantization report (computed here, independently);
tensors whose range is tied to another (no range in the report) are only checked to be there. Prints 'ok N M'."""
import json, struct, sys

cache, report = sys.argv[1], json.load(open(sys.argv[2]))
lines = open(cache).read().splitlines()
assert lines[0] == "TRT-8601-EntropyCalibration2", lines[0]
table = {}
for line in lines[1:]:
    name, _, value = line.rpartition(": ")
    assert len(value) == 8, line
    table[name] = struct.unpack(">f", bytes.fromhex(value))[0]
checked = tied = 0
for t in report["tensors"]:
    if t["kind"] != "activation":
        continue
    assert t["name"] in table, f"{t['name']} missing from the cache"
    lo, hi = t["range"]
    if lo is None or hi is None or lo != lo or hi != hi:
        tied += 1
        continue
    want = struct.unpack("<f", struct.pack("<f", max(abs(lo), abs(hi)) / 127.0))[0]
    assert abs(table[t["name"]] - want) <= 1e-7 * max(1.0, want), (t["name"], table[t["name"]], want)
    checked += 1
assert len(table) == checked + tied, (len(table), checked, tied)
print("ok", checked, tied)
