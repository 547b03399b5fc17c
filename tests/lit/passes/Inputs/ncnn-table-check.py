"""ncnn-table-check.py TABLE REPORT.json LAYER=INPUT...: ncnn's int8 scale table holds, for each LAYER, a line
'LAYER_param_0 s0 s1 ...' with 127 / max|W[c]| for each output channel (from the report's per-channel weight scales,
max|W[c]| / 127, of the weight tensor LAYER.weight), then a line 'LAYER s' with 127 / max(|min|, |max|) of INPUT's
range in the report; weight lines come first. Computed here, independently. Prints 'ok N'."""
import json, sys

lines = open(sys.argv[1]).read().splitlines()
report = json.load(open(sys.argv[2]))
inputs = dict(a.split("=", 1) for a in sys.argv[3:])
tensors = {(t["kind"], t["name"]): t for t in report["tensors"]}
weights = [l.split() for l in lines if l.split()[0].endswith("_param_0")]
blobs = [l.split() for l in lines if not l.split()[0].endswith("_param_0")]
assert lines.index(" ".join(blobs[0])) == len(weights), "weight lines come first"
assert sorted(w[0][: -len("_param_0")] for w in weights) == sorted(inputs), weights
for w in weights:
    layer = w[0][: -len("_param_0")]
    scales = tensors[("weight", layer + ".weight")]["scale"]
    scales = scales if isinstance(scales, list) else [scales]
    assert len(w) - 1 == len(scales), (layer, len(w) - 1, len(scales))
    for got, s in zip(map(float, w[1:]), scales):
        assert abs(got - 1 / s) <= 1e-5 * got, (layer, got, 1 / s)
for b in blobs:
    lo, hi = tensors[("activation", inputs[b[0]])]["range"]
    want = 127 / max(abs(lo), abs(hi))
    assert len(b) == 2 and abs(float(b[1]) - want) <= 1e-5 * want, (b, want)
assert len(blobs) == len(weights)
print("ok", len(weights))
