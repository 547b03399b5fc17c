#!/usr/bin/env python3
"""Tiny TensorFlow graphs, one per op family, with TensorFlow's semantics computed independently in numpy: writes
OUT/g.pb (the GraphDef, encoded by hand as make_graphdef.py does), OUT/inputs/<name>.npy (seeded inputs) and OUT/ref.mir
(a module with the same inputs that returns the expected outputs as constants), so that
  mopt-opt OUT/g.pb -o OUT/g.onnx --verify-against=OUT/ref.mir --verify-inputs=OUT/inputs
runs the lowered graph in ONNX Runtime and compares it with numpy. Usage: tf_lowering_cases.py <case> OUT"""
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from protowire import field, varint, vfield  # noqa: E402


DT = {np.float32: 1, np.int32: 3, np.int64: 9, np.bool_: 10}
MIR = {np.float32: "f32", np.int32: "i32", np.int64: "i64", np.bool_: "i1"}


def shape_proto(dims):
    return b"".join(field(2, vfield(1, d)) for d in dims)


# AttrValue: list 1 (ListValue: s 2, i 3, f 4), s 2, i 3, f 4, b 5, type 6, shape 7, tensor 8
def a_type(t): return vfield(6, DT[t])
def a_int(i): return vfield(3, i)
def a_ints(v): return field(1, field(3, b"".join(varint(i) for i in v)))
def a_str(s): return field(2, s.encode())
def a_bool(b): return vfield(5, 1 if b else 0)
def a_float(f): return varint(4 << 3 | 5) + struct.pack("<f", f)
def a_shape(dims): return field(7, shape_proto(dims))


def a_tensor(array):
    array = np.asarray(array)  # tobytes() is C order; ascontiguousarray would make a scalar 1-D
    body = vfield(1, DT[array.dtype.type]) + field(2, shape_proto(array.shape)) + field(4, array.tobytes())
    return field(8, body)


class Graph:
    def __init__(self):
        self.nodes = b""
        self.feeds = {}      # name -> array
        self.outputs = {}    # name -> expected array
        self.count = 0

    def node(self, name, op, inputs=(), **attrs):
        body = field(1, name.encode()) + field(2, op.encode()) + b"".join(field(3, i.encode()) for i in inputs)
        for key in sorted(attrs):
            body += field(5, field(1, key.encode()) + field(2, attrs[key]))
        self.nodes += field(1, body)
        return name

    def placeholder(self, name, array, shape=None):
        self.feeds[name] = array
        dims = [d if d >= 0 else 2**64 - 1 for d in (shape if shape is not None else array.shape)]
        return self.node(name, "Placeholder", dtype=a_type(array.dtype.type), shape=a_shape(dims))

    def const(self, name, array):
        array = np.asarray(array)
        return self.node(name, "Const", dtype=a_type(array.dtype.type), value=a_tensor(array))

    def out(self, name, expected):
        self.outputs[name] = np.asarray(expected)


def dense(a):
    a = np.asarray(a)
    t = a.dtype.type
    if t == np.float32:
        fmt = lambda v: "%.9e" % float(v)
    elif t == np.bool_:
        fmt = lambda v: "true" if v else "false"
    else:
        fmt = lambda v: str(int(v))

    def rec(x):
        if x.ndim == 0:
            return fmt(x)
        return "[" + ", ".join(rec(y) for y in x) + "]"
    return "dense<%s>" % rec(a)


def ttype(a):
    a = np.asarray(a)
    return "tensor<%s%s>" % ("".join("%dx" % d for d in a.shape), MIR[a.dtype.type])


def write(g, out):
    os.makedirs(os.path.join(out, "inputs"), exist_ok=True)
    with open(os.path.join(out, "g.pb"), "wb") as f:
        f.write(g.nodes)
    for name, a in g.feeds.items():
        np.save(os.path.join(out, "inputs", name + ".npy"), a)
    args = ", ".join('%%arg%d: %s {mo.name = "%s"}' % (i, ttype(a), n) for i, (n, a) in enumerate(g.feeds.items()))
    res = ", ".join('%s {mo.name = "%s"}' % (ttype(a), n) for n, a in g.outputs.items())
    lines = ["module attributes {onnx.opset = 17 : i64} {", "  func.func @main(%s) -> (%s) {" % (args, res)]
    for i, (n, a) in enumerate(g.outputs.items()):
        lines.append('    %%c%d = "onnx.Constant"() {value = %s : %s} : () -> %s' % (i, dense(a), ttype(a), ttype(a)))
    lines.append("    return %s : %s" % (", ".join("%%c%d" % i for i in range(len(g.outputs))), ", ".join(ttype(a) for a in g.outputs.values())))
    lines += ["  }", "}"]
    with open(os.path.join(out, "ref.mir"), "w") as f:
        f.write("\n".join(lines) + "\n")


rng = np.random.default_rng(7)


def rand(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


# ---------------------------------------------------------------- TensorFlow semantics in numpy

def same_pads(n, k, s, d):
    """TensorFlow's SAME: pad_total = max((ceil(n/s)-1)*s + (k-1)*d+1 - n, 0), the smaller half before."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def pad_nhwc(x, padding, kh, kw, sh, sw, dh=1, dw=1, value=0.0):
    if padding == "VALID":
        return x, (0, 0), (0, 0)
    ph, pw = same_pads(x.shape[1], kh, sh, dh), same_pads(x.shape[2], kw, sw, dw)
    return np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=value), ph, pw


def windows(x, kh, kw, sh, sw, dh=1, dw=1):
    """x [N, H, W, C] (already padded) → [N, OH, OW, kh, kw, C]."""
    n, h, w, c = x.shape
    oh, ow = (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1
    out = np.zeros((n, oh, ow, kh, kw, c), x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, i, j] = x[:, i * sh:i * sh + (kh - 1) * dh + 1:dh, j * sw:j * sw + (kw - 1) * dw + 1:dw, :]
    return out


def conv2d(x, f, strides, padding, dilations=(1, 1)):
    kh, kw, cin, cout = f.shape
    xp, _, _ = pad_nhwc(x, padding, kh, kw, strides[0], strides[1], dilations[0], dilations[1])
    win = windows(xp, kh, kw, strides[0], strides[1], dilations[0], dilations[1])
    return np.einsum("nijhwc,hwco->nijo", win.astype(np.float64), f.astype(np.float64)).astype(np.float32)


def depthwise(x, f, strides, padding):
    kh, kw, c, m = f.shape
    xp, _, _ = pad_nhwc(x, padding, kh, kw, strides[0], strides[1])
    win = windows(xp, kh, kw, strides[0], strides[1])
    y = np.einsum("nijhwc,hwcm->nijcm", win.astype(np.float64), f.astype(np.float64))
    return y.reshape(y.shape[0], y.shape[1], y.shape[2], c * m).astype(np.float32)  # channel c*M + m


def max_pool(x, k, s, padding):
    xp, _, _ = pad_nhwc(x, padding, k[0], k[1], s[0], s[1], value=-np.inf)
    return windows(xp, k[0], k[1], s[0], s[1]).max(axis=(3, 4))


def avg_pool(x, k, s, padding):
    """TensorFlow averages over the window's elements inside the input (padding not counted)."""
    xp, _, _ = pad_nhwc(x, padding, k[0], k[1], s[0], s[1])
    ones, _, _ = pad_nhwc(np.ones_like(x), padding, k[0], k[1], s[0], s[1])
    total = windows(xp, k[0], k[1], s[0], s[1]).sum(axis=(3, 4))
    count = windows(ones, k[0], k[1], s[0], s[1]).sum(axis=(3, 4))
    return (total / count).astype(np.float32)


def batch_norm(x, scale, offset, mean, var, eps):
    return ((x - mean) / np.sqrt(var + eps) * scale + offset).astype(np.float32)


# ---------------------------------------------------------------- the cases

def case_conv():
    """Conv2D SAME stride 2 on 7x6 (asymmetric: H pads 1/1, W pads 0/1), BiasAdd, Relu6; a dilated VALID Conv2D; a
    grouped one (input 4 channels, filter 2)."""
    g = Graph()
    x = rand(1, 7, 6, 3)
    f = rand(3, 3, 3, 4)
    b = rand(4)
    g.placeholder("x", x)
    g.const("w", f)
    g.const("b", b)
    g.node("conv", "Conv2D", ["x", "w"], T=a_type(np.float32), strides=a_ints([1, 2, 2, 1]), padding=a_str("SAME"), data_format=a_str("NHWC"))
    g.node("bias", "BiasAdd", ["conv", "b"], T=a_type(np.float32))
    g.node("relu6", "Relu6", ["bias"], T=a_type(np.float32))
    g.out("relu6", np.clip(conv2d(x, f, (2, 2), "SAME") + b, 0, 6))
    f2 = rand(2, 3, 3, 2)
    g.const("w2", f2)
    g.node("dilated", "Conv2D", ["x", "w2"], T=a_type(np.float32), strides=a_ints([1, 1, 1, 1]), padding=a_str("VALID"),
           dilations=a_ints([1, 2, 2, 1]))
    g.out("dilated", conv2d(x, f2, (1, 1), "VALID", (2, 2)))
    f3 = rand(3, 3, 3, 5)
    g.const("w3", f3)
    g.node("same_dilated", "Conv2D", ["x", "w3"], T=a_type(np.float32), strides=a_ints([1, 2, 1, 1]), padding=a_str("SAME"),
           dilations=a_ints([1, 1, 2, 1]))
    g.out("same_dilated", conv2d(x, f3, (2, 1), "SAME", (1, 2)))
    return g


def case_depthwise():
    """DepthwiseConv2dNative with depth_multiplier 2 (SAME, stride 2 on 7x6), then FusedBatchNormV3 (NHWC, eps 1e-3)
    and FusedBatchNorm; a multiplier-1 depthwise VALID."""
    g = Graph()
    x = rand(1, 7, 6, 3)
    f = rand(3, 3, 3, 2)
    g.placeholder("x", x)
    g.const("dw_w", f)
    g.node("dw", "DepthwiseConv2dNative", ["x", "dw_w"], T=a_type(np.float32), strides=a_ints([1, 2, 2, 1]), padding=a_str("SAME"))
    scale, offset, mean, var = rand(6), rand(6), rand(6), rand(6, lo=0.5, hi=2.0)
    for n, v in (("scale", scale), ("offset", offset), ("mean", mean), ("var", var)):
        g.const(n, v)
    g.node("bn", "FusedBatchNormV3", ["dw", "scale", "offset", "mean", "var"], T=a_type(np.float32), U=a_type(np.float32),
           epsilon=a_float(1e-3), is_training=a_bool(False), data_format=a_str("NHWC"))
    g.node("relu", "Relu", ["bn"], T=a_type(np.float32))
    g.out("relu", np.maximum(batch_norm(depthwise(x, f, (2, 2), "SAME"), scale, offset, mean, var, 1e-3), 0))
    f1 = rand(2, 2, 3, 1)
    g.const("dw1_w", f1)
    g.node("dw1", "DepthwiseConv2dNative", ["x", "dw1_w"], T=a_type(np.float32), strides=a_ints([1, 1, 1, 1]), padding=a_str("VALID"))
    s3, o3, m3, v3 = rand(3), rand(3), rand(3), rand(3, lo=0.5, hi=2.0)
    for n, v in (("s3", s3), ("o3", o3), ("m3", m3), ("v3", v3)):
        g.const(n, v)
    g.node("bn1", "FusedBatchNorm", ["dw1", "s3", "o3", "m3", "v3"], T=a_type(np.float32), epsilon=a_float(1e-4), is_training=a_bool(False))
    g.out("bn1", batch_norm(depthwise(x, f1, (1, 1), "VALID"), s3, o3, m3, v3, 1e-4))
    return g


def case_pool():
    """MaxPool and AvgPool 3x3 stride 2 SAME on 7x6 (asymmetric pads; the average counts only the input's elements),
    AvgPool 2x2 VALID, MaxPool 2x3 stride (1, 2) SAME."""
    g = Graph()
    x = rand(1, 7, 6, 2)
    g.placeholder("x", x)
    g.node("max", "MaxPool", ["x"], T=a_type(np.float32), ksize=a_ints([1, 3, 3, 1]), strides=a_ints([1, 2, 2, 1]), padding=a_str("SAME"))
    g.out("max", max_pool(x, (3, 3), (2, 2), "SAME"))
    g.node("avg", "AvgPool", ["x"], T=a_type(np.float32), ksize=a_ints([1, 3, 3, 1]), strides=a_ints([1, 2, 2, 1]), padding=a_str("SAME"))
    g.out("avg", avg_pool(x, (3, 3), (2, 2), "SAME"))
    g.node("avg_valid", "AvgPool", ["x"], T=a_type(np.float32), ksize=a_ints([1, 2, 2, 1]), strides=a_ints([1, 2, 2, 1]), padding=a_str("VALID"))
    g.out("avg_valid", avg_pool(x, (2, 2), (2, 2), "VALID"))
    g.node("max2", "MaxPool", ["x"], T=a_type(np.float32), ksize=a_ints([1, 2, 3, 1]), strides=a_ints([1, 1, 2, 1]), padding=a_str("SAME"))
    g.out("max2", max_pool(x, (2, 3), (1, 2), "SAME"))
    return g


def case_matmul():
    """MatMul with transpose_a (placeholder) and transpose_b (constant), BatchMatMulV2 with adj_x and adj_y and a
    broadcast batch, BatchMatMul plain."""
    g = Graph()
    a = rand(4, 3)
    b = rand(5, 4)
    g.placeholder("a", a)
    g.const("b", b)
    g.node("mm", "MatMul", ["a", "b"], T=a_type(np.float32), transpose_a=a_bool(True), transpose_b=a_bool(True))
    g.out("mm", a.T @ b.T)
    x = rand(2, 4, 3)
    y = rand(1, 5, 4)
    g.placeholder("x", x)
    g.const("y", y)
    g.node("bmm", "BatchMatMulV2", ["x", "y"], T=a_type(np.float32), adj_x=a_bool(True), adj_y=a_bool(True))
    # bmm is checked through bmm1, its only reader (a graph's outputs are the nodes no one reads)
    z = rand(2, 5, 2)
    g.const("z", z)
    g.node("bmm1", "BatchMatMul", ["bmm", "z"], T=a_type(np.float32))
    g.out("bmm1", np.matmul(np.matmul(np.swapaxes(x, 1, 2), np.swapaxes(y, 1, 2)), z))
    return g


def case_elementwise():
    """Every element-wise op, with broadcasting against constants, and Softmax over the last axis."""
    g = Graph()
    x = rand(2, 3, 4)
    p = rand(2, 3, 4, lo=0.5, hi=2.0)
    c = rand(4)
    g.placeholder("x", x)
    g.placeholder("p", p)
    g.const("c", c)
    T = dict(T=a_type(np.float32))
    g.node("add", "Add", ["x", "c"], **T)
    g.node("addv2", "AddV2", ["add", "p"], **T)
    g.node("sub", "Sub", ["addv2", "x"], **T)
    g.node("mul", "Mul", ["sub", "p"], **T)
    g.node("div", "RealDiv", ["mul", "p"], **T)
    g.node("max", "Maximum", ["div", "x"], **T)
    g.node("min", "Minimum", ["max", "c"], **T)
    g.out("min", np.minimum(np.maximum(((x + c + p - x) * p) / p, x), c))
    g.node("rsqrt", "Rsqrt", ["p"], **T)
    g.node("sqrt", "Sqrt", ["p"], **T)
    g.node("square", "Square", ["x"], **T)
    g.out("rsqrt", 1 / np.sqrt(p))
    g.out("sqrt", np.sqrt(p))
    g.out("square", x * x)
    g.node("elu", "Elu", ["x"], **T)
    g.node("sig", "Sigmoid", ["elu"], **T)
    g.node("tanh", "Tanh", ["sig"], **T)
    elu = np.where(x > 0, x, np.exp(x) - 1)
    g.out("tanh", np.tanh(1 / (1 + np.exp(-elu))))
    g.node("softmax", "Softmax", ["x"], **T)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    g.out("softmax", e / e.sum(axis=-1, keepdims=True))
    return g


def case_reduce():
    """Mean keep_dims over [1, 2], Sum over [-1], Max over a scalar axis, Mean over no axes (x itself), ArgMax int64
    and int32."""
    g = Graph()
    x = rand(2, 3, 4, 5)
    g.placeholder("x", x)
    T = dict(T=a_type(np.float32))
    g.const("axes12", np.array([1, 2], np.int32))
    g.node("mean", "Mean", ["x", "axes12"], keep_dims=a_bool(True), Tidx=a_type(np.int32), **T)
    g.out("mean", x.mean(axis=(1, 2), keepdims=True))
    g.const("last", np.array([-1], np.int32))
    g.node("sum", "Sum", ["x", "last"], keep_dims=a_bool(False), **T)
    g.out("sum", x.sum(axis=-1))
    g.const("one", np.array(1, np.int32))
    g.node("max", "Max", ["x", "one"], keep_dims=a_bool(False), **T)
    g.out("max", x.max(axis=1))
    g.const("none", np.zeros([0], np.int32))
    g.node("mean0", "Mean", ["x", "none"], keep_dims=a_bool(False), **T)
    g.node("neg", "Sub", ["mean0", "x"], **T)
    g.out("neg", np.zeros_like(x))
    g.node("argmax", "ArgMax", ["x", "last"], output_type=a_type(np.int64), **T)
    g.out("argmax", x.argmax(axis=-1).astype(np.int64))
    g.node("argmax32", "ArgMax", ["x", "one"], output_type=a_type(np.int32), **T)
    g.out("argmax32", x.argmax(axis=1).astype(np.int32))
    return g


def case_shape():
    """Reshape (-1), Squeeze (named dims and all), ExpandDims (negative dim), ConcatV2, Pack (negative axis), Pad,
    Transpose, Shape (int32 and int64), Cast, Identity."""
    g = Graph()
    x = rand(2, 1, 3, 1)
    y = rand(2, 3)
    g.placeholder("x", x)
    g.placeholder("y", y)
    T = dict(T=a_type(np.float32))
    g.const("shape", np.array([3, -1], np.int32))
    g.node("reshape", "Reshape", ["x", "shape"], **T)
    g.out("reshape", x.reshape(3, -1))
    g.node("squeeze", "Squeeze", ["x"], squeeze_dims=a_ints([1]), **T)
    g.out("squeeze", x.reshape(2, 3, 1))
    g.node("squeeze_all", "Squeeze", ["x"], **T)
    g.node("ident", "Identity", ["squeeze_all"], **T)
    g.const("minus1", np.array(-1, np.int32))
    g.node("expand", "ExpandDims", ["y", "minus1"], **T)
    g.out("expand", y[:, :, None])
    g.node("concat", "ConcatV2", ["y", "ident", "y", "minus1"], N=a_int(3), **T)
    g.out("concat", np.concatenate([y, x.reshape(2, 3), y], axis=-1))
    g.node("pack", "Pack", ["y", "ident"], N=a_int(2), axis=a_int(-1), **T)
    g.out("pack", np.stack([y, x.reshape(2, 3)], axis=-1))
    g.const("paddings", np.array([[1, 0], [2, 3]], np.int32))
    g.node("pad", "Pad", ["y", "paddings"], **T)
    g.out("pad", np.pad(y, ((1, 0), (2, 3))))
    g.const("perm", np.array([2, 0, 1, 3], np.int32))
    g.node("transpose", "Transpose", ["x", "perm"], **T)
    g.out("transpose", x.transpose(2, 0, 1, 3))
    g.node("shape32", "Shape", ["x"], out_type=a_type(np.int32), **T)
    g.out("shape32", np.array(x.shape, np.int32))
    g.node("shape64", "Shape", ["y"], out_type=a_type(np.int64), **T)
    g.out("shape64", np.array(y.shape, np.int64))
    g.node("cast", "Cast", ["y"], SrcT=a_type(np.float32), DstT=a_type(np.int32))
    g.out("cast", (y * 1).astype(np.int32))
    return g


def case_strided_slice():
    """StridedSlice with every mask, each checked against the numpy indexing expression it encodes."""
    g = Graph()
    x = rand(4, 5, 6, 3)
    g.placeholder("x", x)
    n = [0]

    def ss(expr, expected, begin, end, strides, **masks):
        n[0] += 1
        name = "ss%d" % n[0]
        g.const(name + "_b", np.array(begin, np.int32))
        g.const(name + "_e", np.array(end, np.int32))
        g.const(name + "_s", np.array(strides, np.int32))
        g.node(name, "StridedSlice", ["x", name + "_b", name + "_e", name + "_s"], T=a_type(np.float32), Index=a_type(np.int32),
               **{k: a_int(v) for k, v in masks.items()})
        g.out(name, expected)
        _ = expr
    ss("x[1:3, ::2]", x[1:3, ::2], [1, 0], [3, 0], [1, 2], end_mask=2)
    ss("x[-1, :, 1:-1]", x[-1, :, 1:-1], [-1, 0, 1], [0, 0, -1], [1, 1, 1], begin_mask=2, end_mask=2, shrink_axis_mask=1)
    ss("x[..., 1]", x[..., 1], [0, 1], [0, 2], [1, 1], ellipsis_mask=1, shrink_axis_mask=2)
    ss("x[:, None, ..., ::-2]", x[:, None, ..., ::-2], [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, -2],
       begin_mask=9, end_mask=9, new_axis_mask=2, ellipsis_mask=4)
    ss("x[3:0:-1, 2, None, 4:1:-2]", x[3:0:-1, 2, None, 4:1:-2], [3, 2, 0, 4], [0, 3, 0, 1], [-1, 1, 1, -2],
       shrink_axis_mask=2, new_axis_mask=4)
    ss("x[:-1, -2]", x[:-1, -2], [0, -2], [-1, -1], [1, 1], begin_mask=1, shrink_axis_mask=2)
    return g


def case_edges():
    """An NHWC network whose transposes must all meet and cancel inside: Conv → BiasAdd → Relu → FusedBatchNorm →
    MaxPool → Conv → Add(residual) → Mean over H, W → MatMul; only the input edge keeps a Transpose."""
    g = Graph()
    x = rand(1, 8, 8, 3)
    g.placeholder("x", x)
    T = dict(T=a_type(np.float32))
    f1, b1 = rand(3, 3, 3, 4), rand(4)
    g.const("w1", f1)
    g.const("b1", b1)
    g.node("conv1", "Conv2D", ["x", "w1"], strides=a_ints([1, 1, 1, 1]), padding=a_str("SAME"), **T)
    g.node("bias1", "BiasAdd", ["conv1", "b1"], **T)
    g.node("relu1", "Relu", ["bias1"], **T)
    s, o, m, v = rand(4), rand(4), rand(4), rand(4, lo=0.5, hi=2.0)
    for nm, a in (("s", s), ("o", o), ("m", m), ("v", v)):
        g.const(nm, a)
    g.node("bn", "FusedBatchNorm", ["relu1", "s", "o", "m", "v"], epsilon=a_float(1e-3), is_training=a_bool(False), **T)
    g.node("pool", "MaxPool", ["bn"], ksize=a_ints([1, 2, 2, 1]), strides=a_ints([1, 2, 2, 1]), padding=a_str("VALID"), **T)
    f2 = rand(3, 3, 4, 4)
    g.const("w2", f2)
    g.node("conv2", "Conv2D", ["pool", "w2"], strides=a_ints([1, 1, 1, 1]), padding=a_str("SAME"), **T)
    g.node("res", "AddV2", ["conv2", "pool"], **T)
    g.const("hw", np.array([1, 2], np.int32))
    g.node("gap", "Mean", ["res", "hw"], keep_dims=a_bool(False), **T)
    wf = rand(4, 2)
    g.const("wf", wf)
    g.node("logits", "MatMul", ["gap", "wf"], **T)
    y = np.maximum(conv2d(x, f1, (1, 1), "SAME") + b1, 0)
    y = batch_norm(y, s, o, m, v, 1e-3)
    y = max_pool(y, (2, 2), (2, 2), "VALID")
    y = conv2d(y, f2, (1, 1), "SAME") + y
    g.out("logits", y.mean(axis=(1, 2)) @ wf)
    return g


def case_layout():
    """Small filters with counting values, so the lowered IR shows where each weight went: Conv2D filter [1, 2, 2, 3]
    (HWIO) with stride (2, 1) SAME (W pads 0 before, 1 after), BiasAdd, Relu, MaxPool 2x2 stride 2 SAME; a depthwise
    filter [1, 2, 2, 2] (multiplier 2)."""
    g = Graph()
    x = rand(1, 5, 4, 2)
    g.placeholder("x", x)
    T = dict(T=a_type(np.float32))
    f = np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3)
    b = np.array([0.5, -0.5, 0.25], np.float32)
    g.const("w", f)
    g.const("b", b)
    g.node("conv", "Conv2D", ["x", "w"], strides=a_ints([1, 2, 1, 1]), padding=a_str("SAME"), **T)
    g.node("bias", "BiasAdd", ["conv", "b"], **T)
    g.node("relu", "Relu", ["bias"], **T)
    g.node("pool", "MaxPool", ["relu"], ksize=a_ints([1, 2, 2, 1]), strides=a_ints([1, 2, 2, 1]), padding=a_str("SAME"), **T)
    g.out("pool", max_pool(np.maximum(conv2d(x, f, (2, 1), "SAME") + b, 0), (2, 2), (2, 2), "SAME"))
    d = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)
    g.const("dw_w", d)
    g.node("dw", "DepthwiseConv2dNative", ["x", "dw_w"], strides=a_ints([1, 1, 1, 1]), padding=a_str("SAME"), **T)
    g.out("dw", depthwise(x, d, (1, 1), "SAME"))
    return g


def case_dynamic():
    """A flatten whose shape is computed at run time, as TensorFlow graphs write it for an unknown batch:
    Reshape(x, Pack(StridedSlice(Shape(x))[0], -1)), x of shape [?, 4, 3]."""
    g = Graph()
    x = rand(2, 4, 3)
    g.placeholder("x", x, shape=[-1, 4, 3])
    I32 = dict(T=a_type(np.int32))
    g.node("shape", "Shape", ["x"], T=a_type(np.float32), out_type=a_type(np.int32))
    g.const("b0", np.array([0], np.int32))
    g.const("b1", np.array([1], np.int32))
    g.node("batch", "StridedSlice", ["shape", "b0", "b1", "b1"], Index=a_type(np.int32), shrink_axis_mask=a_int(1), **I32)
    g.const("minus1", np.array(-1, np.int32))
    g.node("dims", "Pack", ["batch", "minus1"], N=a_int(2), axis=a_int(0), **I32)
    g.node("flat", "Reshape", ["x", "dims"], T=a_type(np.float32), Tshape=a_type(np.int32))
    g.out("flat", x.reshape(2, -1))
    return g


def case_blocked():
    """Nodes ONNX cannot take as they are: a Mean whose axes are an input, a StridedSlice whose begin is one, and a Relu
    after the Mean (blocked by it). No expected outputs: the lowering must refuse."""
    g = Graph()
    x = rand(2, 3)
    g.placeholder("x", x)
    g.placeholder("axes", np.array([1], np.int32))
    T = dict(T=a_type(np.float32))
    g.node("mean", "Mean", ["x", "axes"], **T)
    g.node("after", "Relu", ["mean"], **T)
    g.const("e", np.array([1], np.int32))
    g.node("slice", "StridedSlice", ["x", "axes", "e", "e"], Index=a_type(np.int32), **T)
    return g


def case_unknown():
    """Two op types without a lowering (whatever their names), beside one that has one."""
    g = Graph()
    g.placeholder("x", rand(2, 3))
    T = dict(T=a_type(np.float32))
    g.node("fft", "FFT", ["x"], **T)
    g.node("relu", "Relu", ["x"], **T)
    g.node("where", "Where", ["relu"], **T)
    return g


CASES = {k[5:]: f for k, f in globals().items() if k.startswith("case_")}

if __name__ == "__main__":
    write(CASES[sys.argv[1]](), sys.argv[2])
