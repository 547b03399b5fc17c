#!/usr/bin/env python3
"""An independent referee for the TensorFlow transform tests: reads a binary GraphDef by hand (protobuf wire format,
field numbers from tensorflow/core/framework/{graph,node_def,attr_value,tensor,tensor_shape}.proto; no TensorFlow,
no protobuf package) and evaluates it with numpy for the ops the test graphs use.

  tfgraph.py count A.pb                      print the node count and the op histogram
  tfgraph.py same A.pb B.pb IN OUT SHAPE [TOL]  run A and B on the same seeded random input (node IN, shape like
                                             1,49,10,1) and check OUT agrees within TOL (default 1e-5, relative to
                                             the largest magnitude); prints the max difference
  tfgraph.py const A.pb NAME                 print a Const's values (float32, repr) one per line
"""
import struct
import sys

import numpy as np

DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64, 10: np.bool_,
          12: np.uint8, 17: np.uint16, 19: np.float16, 22: np.uint32, 23: np.uint64}


def fields(buf):
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        elif wt == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wt)
        yield num, wt, v


def varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, i


def signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def shape(buf):
    dims = []
    for num, _, v in fields(buf):
        if num == 2:
            size = 0
            for n2, _, v2 in fields(v):
                if n2 == 1:
                    size = signed(v2)
            dims.append(size)
    return dims


def tensor(buf):
    dtype, dims, content, floats, ints, int64s = 1, [], None, [], [], []
    for num, wt, v in fields(buf):
        if num == 1:
            dtype = v
        elif num == 2:
            dims = shape(v)
        elif num == 4:
            content = v
        elif num == 5:
            floats += list(struct.unpack("<%df" % (len(v) // 4), v)) if wt == 2 else [struct.unpack("<f", v)[0]]
        elif num == 7:
            if wt == 2:
                j = 0
                while j < len(v):
                    x, j = varint(v, j)
                    ints.append(signed(x))
            else:
                ints.append(signed(v))
        elif num == 10:
            if wt == 2:
                j = 0
                while j < len(v):
                    x, j = varint(v, j)
                    int64s.append(signed(x))
            else:
                int64s.append(signed(v))
    np_type = DTYPES[dtype]
    count = int(np.prod(dims)) if dims else 1
    if content is not None:
        return np.frombuffer(content, dtype=np_type).reshape(dims).copy()
    values = floats or ints or int64s or [0]
    arr = np.array(values, dtype=np_type)
    if arr.size < count:
        arr = np.concatenate([arr, np.full(count - arr.size, arr[-1], dtype=np_type)])
    return arr.reshape(dims)


def attr_value(buf):
    for num, wt, v in fields(buf):
        if num == 2:
            return v.decode()
        if num == 3:
            return signed(v)
        if num == 4:
            return struct.unpack("<f", v)[0]
        if num == 5:
            return bool(v)
        if num == 6:
            return ("type", v)
        if num == 8:
            return tensor(v)
        if num == 1:  # list
            out = []
            for n2, w2, v2 in fields(v):
                if n2 == 3:
                    if w2 == 2:
                        j = 0
                        while j < len(v2):
                            x, j = varint(v2, j)
                            out.append(signed(x))
                    else:
                        out.append(signed(v2))
                elif n2 == 2:
                    out.append(v2.decode())
            return out
    return None


def read(path):
    nodes = []
    data = open(path, "rb").read()
    for num, _, v in fields(data):
        if num != 1:
            continue
        node = {"name": "", "op": "", "inputs": [], "attr": {}}
        for n2, _, v2 in fields(v):
            if n2 == 1:
                node["name"] = v2.decode()
            elif n2 == 2:
                node["op"] = v2.decode()
            elif n2 == 3:
                node["inputs"].append(v2.decode())
            elif n2 == 5:
                key, value = None, None
                for n3, _, v3 in fields(v2):
                    if n3 == 1:
                        key = v3.decode()
                    elif n3 == 2:
                        value = v3
                node["attr"][key] = attr_value(value)
        nodes.append(node)
    return nodes


def pad_same(x, k, stride, dilation=1):
    """TensorFlow's SAME padding of an NHWC input for kernel sizes k (h, w) and strides (h, w): more at the end."""
    pads = []
    for d in range(2):
        size = x.shape[1 + d]
        eff = (k[d] - 1) * dilation + 1
        out = (size + stride[d] - 1) // stride[d]
        total = max(0, (out - 1) * stride[d] + eff - size)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)]), pads


def windows(x, kh, kw, sh, sw):
    n, h, w, c = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.empty((n, oh, ow, kh, kw, c), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            out[:, :, :, i, j, :] = x[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]
    return out


def conv(x, w, a, depthwise=False):
    assert a.get("data_format", "NHWC") == "NHWC"
    s = a["strides"]
    if a["padding"] == "SAME":
        x, _ = pad_same(x, w.shape[:2], (s[1], s[2]))
    win = windows(x.astype(np.float64), w.shape[0], w.shape[1], s[1], s[2])
    if depthwise:
        out = np.einsum("nhwijc,ijcm->nhwcm", win, w.astype(np.float64))
        return out.reshape(out.shape[0], out.shape[1], out.shape[2], -1)
    return np.einsum("nhwijc,ijco->nhwo", win, w.astype(np.float64))


def pool(x, a, kind):
    k, s = a["ksize"], a["strides"]
    if a["padding"] == "SAME":
        ones = np.ones(x.shape[:3] + (1,))
        x, _ = pad_same(x, (k[1], k[2]), (s[1], s[2]))
        ones, _ = pad_same(ones, (k[1], k[2]), (s[1], s[2]))
    else:
        ones = np.ones(x.shape[:3] + (1,))
    win = windows(x.astype(np.float64), k[1], k[2], s[1], s[2])
    if kind == "max":
        return win.max(axis=(3, 4))
    count = windows(ones, k[1], k[2], s[1], s[2]).sum(axis=(3, 4))
    return win.sum(axis=(3, 4)) / count


def dequantize(q, lo, hi):
    scale = (float(hi) - float(lo)) * (256 / 255.0) / 256
    lo_rounded = np.round(float(lo) / np.float32(scale)) * np.float32(scale)
    return (lo_rounded + q.astype(np.float64) * scale).astype(np.float32)


def evaluate(nodes, feeds, want):
    by_name = {n["name"]: n for n in nodes}
    values = dict(feeds)

    def value(ref):
        name, _, index = ref.partition(":")
        v = get(name)
        return v[int(index or 0)] if isinstance(v, tuple) else v

    def get(name):
        if name in values:
            return values[name]
        n = by_name[name]
        a, op = n["attr"], n["op"]
        ins = [value(i) for i in n["inputs"] if not i.startswith("^")]
        if op == "Const":
            r = a["value"]
        elif op in ("Identity", "CheckNumerics", "StopGradient", "Snapshot"):
            r = ins[0]
        elif op in ("Add", "AddV2", "BiasAdd"):
            r = ins[0] + ins[1]
        elif op == "Sub":
            r = ins[0] - ins[1]
        elif op == "Mul":
            r = ins[0] * ins[1]
        elif op == "RealDiv":
            r = ins[0] / ins[1]
        elif op == "Rsqrt":
            r = 1 / np.sqrt(ins[0])
        elif op == "Relu":
            r = np.maximum(ins[0], 0)
        elif op == "MatMul":
            x, w = ins
            x = x.T if a.get("transpose_a") else x
            w = w.T if a.get("transpose_b") else w
            r = x.astype(np.float64) @ w.astype(np.float64)
        elif op == "Conv2D":
            r = conv(ins[0], ins[1], a)
        elif op == "DepthwiseConv2dNative":
            r = conv(ins[0], ins[1], a, depthwise=True)
        elif op in ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"):
            x, g, b, m, v = ins
            if a.get("is_training", True):  # the batch's own statistics
                m, v = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
            r = (x - m) / np.sqrt(v.astype(np.float64) + a.get("epsilon", 1e-4)) * g + b
        elif op == "BatchNormWithGlobalNormalization":
            x, m, v, b, g = ins
            r = (x - m) / np.sqrt(v.astype(np.float64) + a["variance_epsilon"]) * (g if a.get("scale_after_normalization") else 1) + b
        elif op == "StridedSlice":
            x, begin, end, strides = ins
            index = []
            for d in range(len(begin)):
                if a.get("shrink_axis_mask", 0) >> d & 1:
                    index.append(int(begin[d]))
                else:
                    index.append(slice(None if a.get("begin_mask", 0) >> d & 1 else int(begin[d]),
                                       None if a.get("end_mask", 0) >> d & 1 else int(end[d]), int(strides[d])))
            r = np.asarray(x[tuple(index)])
        elif op == "Tanh":
            r = np.tanh(ins[0])
        elif op == "Reshape":
            r = ins[0].reshape([int(d) for d in ins[1]])
        elif op == "Squeeze":
            dims = a.get("squeeze_dims") or [i for i, d in enumerate(ins[0].shape) if d == 1]
            r = np.squeeze(ins[0], axis=tuple(dims))
        elif op == "AvgPool":
            r = pool(ins[0], a, "avg")
        elif op == "MaxPool":
            r = pool(ins[0], a, "max")
        elif op == "Softmax":
            e = np.exp(ins[0] - ins[0].max(axis=-1, keepdims=True))
            r = e / e.sum(axis=-1, keepdims=True)
        elif op == "Dequantize":
            assert a.get("mode") == "MIN_FIRST"
            r = dequantize(ins[0], ins[1], ins[2])
        elif op == "Shape":
            r = np.array(ins[0].shape, dtype=np.int32)
        elif op == "Pack":
            r = np.stack(ins, axis=a.get("axis", 0))
        elif op == "ConcatV2":
            r = np.concatenate(ins[:-1], axis=int(ins[-1]))
        elif op == "Cast":
            r = ins[0].astype(DTYPES[a["DstT"][1]])
        elif op == "ArgMax":
            r = np.argmax(ins[0], axis=int(ins[1]))
        else:
            raise SystemExit("tfgraph.py: no evaluator for %s (%s)" % (op, name))
        values[name] = r
        return r

    return value(want)


def find(nodes, name):
    for n in nodes:
        if n["name"] == name:
            return n
    raise SystemExit("tfgraph.py: no node " + name)


def main():
    cmd = sys.argv[1]
    if cmd == "count":
        nodes = read(sys.argv[2])
        hist = {}
        for n in nodes:
            hist[n["op"]] = hist.get(n["op"], 0) + 1
        print("%d nodes" % len(nodes))
        for op in sorted(hist):
            print("%s %d" % (op, hist[op]))
    elif cmd == "same":
        a, b, inp, out, dims = sys.argv[2:7]
        tol = float(sys.argv[7]) if len(sys.argv) > 7 else 1e-5
        x = np.random.default_rng(0).standard_normal([int(d) for d in dims.split(",")]).astype(np.float32)
        ya = evaluate(read(a), {inp: x}, out)
        yb = evaluate(read(b), {inp: x}, out)
        diff = float(np.max(np.abs(ya.astype(np.float64) - yb.astype(np.float64))))
        scale = float(np.max(np.abs(ya))) or 1.0
        print("max abs diff %.3g, relative %.3g" % (diff, diff / scale))
        if diff / scale > tol:
            raise SystemExit("tfgraph.py: %s and %s differ at %s by %g (relative %g > %g)" % (a, b, out, diff, diff / scale, tol))
        print("same within %g" % tol)
    elif cmd == "quantized":
        # quantize_weights: the quint8 bytes and the range, recomputed here from the original Const as TensorFlow's
        # quantize_weights.cc and FloatToQuantized<quint8> compute them, must be what the transformed graph holds.
        a, b, name = sys.argv[2:5]
        w = find(read(a), name)["attr"]["value"].astype(np.float32)
        nodes = read(b)
        assert find(nodes, name)["op"] == "Dequantize", "%s is not a Dequantize" % name
        q = find(nodes, name + "_quantized_const")["attr"]["value"]
        lo = np.float32(find(nodes, name + "_quantized_min")["attr"]["value"])
        hi = np.float32(find(nodes, name + "_quantized_max")["attr"]["value"])
        mn, mx = min(np.float32(w.min()), np.float32(0)), max(np.float32(w.max()), np.float32(0))
        assert (mn, mx) == (lo, hi), "range [%r, %r], expected [%r, %r]" % (lo, hi, mn, mx)
        scale = 256 / ((float(mx) - float(mn)) * (256 / 255.0))
        away = lambda v: np.sign(v) * np.floor(np.abs(v) + 0.5)
        expected = np.clip(away(w.astype(np.float64) * scale) - away(float(mn) * scale), 0, 255).astype(np.uint8)
        assert q.shape == w.shape and q.dtype == np.uint8, "quantized tensor %s %s" % (q.shape, q.dtype)
        wrong = int(np.count_nonzero(q != expected))
        assert wrong == 0, "%d of %d quantized values differ" % (wrong, q.size)
        step = (float(mx) - float(mn)) / 255
        err = float(np.max(np.abs(dequantize(q, lo, hi).astype(np.float64) - w)))
        assert err <= step * 1.0001, "dequantized values are %g off, more than a step %g" % (err, step)
        print("%s: %d values, range [%r, %r], bytes as TensorFlow's, dequantized within %.3g (step %.3g)" % (name, q.size, float(lo), float(hi), err, step))
    elif cmd == "rounded":
        # round_weights: TensorFlow's bucket centres, in float32 as round_weights.cc computes them.
        a, b, name, steps = sys.argv[2:6]
        w = find(read(a), name)["attr"]["value"].astype(np.float32).ravel()
        got = find(read(b), name)["attr"]["value"].astype(np.float32).ravel()
        mn, mx = np.float32(w.min()), max(np.float32(w.max()), np.float32(1.17549435e-38))
        width = (mx - mn) / np.float32(int(steps))
        bucket = np.floor((w - mn) / width).astype(np.int32)
        expected = mn + width * (bucket.astype(np.float32) + np.float32(0.5))
        assert expected.dtype == np.float32
        wrong = int(np.count_nonzero(got.view(np.uint32) != expected.view(np.uint32)))
        assert wrong == 0, "%d of %d rounded values differ" % (wrong, w.size)
        print("%s: %d values, %d distinct, bit-identical to TensorFlow's rounding" % (name, w.size, len(np.unique(got))))
    elif cmd == "const":
        for n in read(sys.argv[2]):
            if n["name"] == sys.argv[3]:
                for v in np.asarray(n["attr"]["value"]).ravel():
                    print(repr(float(v)))
                return
        raise SystemExit("no node " + sys.argv[3])


main()
