#!/usr/bin/env python3
"""Small GraphDefs for the Graph Transform Tool transform tests (tests/lit/tf/transforms-*.mir), encoded by hand as
make_graphdef.py does (field numbers from tensorflow/core/framework/*.proto). Weights are seeded random floats.
Usage: make_transform_graphs.py <bn|shared|written|fold|nodes|big> out.pb"""
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protowire import attr, field, node, shape, varint, vfield  # noqa: E402


DT_FLOAT, DT_INT32 = 1, 3
TYPE = lambda t: vfield(6, t)
T = attr("T", TYPE(DT_FLOAT))
SHAPE = lambda *d: field(7, shape(*d))
S = lambda s: field(2, s.encode())
F = lambda f: varint(4 << 3 | 5) + struct.pack("<f", f)
B = lambda b: vfield(5, int(b))
I = lambda i: vfield(3, i)
INTS = lambda *v: field(1, field(3, b"".join(varint(x) for x in v)))


def const(name, array, inputs=(), device=""):
    array = np.asarray(array)
    dtype = DT_INT32 if array.dtype.kind == "i" else DT_FLOAT
    raw = array.astype(np.int32 if dtype == DT_INT32 else np.float32).tobytes()
    tensor = vfield(1, dtype) + field(2, shape(*array.shape)) + field(4, raw)
    return node(name, "Const", inputs, attr("dtype", TYPE(dtype)) + attr("value", field(8, tensor)), device)


def placeholder(name, *dims):
    return node(name, "Placeholder", attrs=attr("dtype", TYPE(DT_FLOAT)) + attr("shape", SHAPE(*[d % (1 << 64) for d in dims])))


rng = np.random.default_rng(7)
rand = lambda *s: rng.standard_normal(s).astype(np.float32)
positive = lambda *s: (rng.random(s) + 0.5).astype(np.float32)


def bn():
    """conv -> BiasAdd -> FusedBatchNorm -> Relu, a depthwise conv -> FusedBatchNormV3, a conv -> BatchNormWithGlobalNormalization."""
    g = placeholder("x", -1, 5, 5, 2)
    g += const("w", rand(3, 3, 2, 3)) + node("w/read", "Identity", ["w"], T)
    g += node("conv", "Conv2D", ["x", "w/read"], T + attr("padding", S("SAME")) + attr("strides", INTS(1, 1, 1, 1)) + attr("data_format", S("NHWC")))
    g += const("b", rand(3)) + node("bias", "BiasAdd", ["conv", "b"], T + attr("data_format", S("NHWC")))
    for p in ("gamma", "beta", "mean"):
        g += const("bn/" + p, rand(3))
    g += const("bn/var", positive(3))
    g += node("bn", "FusedBatchNorm", ["bias", "bn/gamma", "bn/beta", "bn/mean", "bn/var"],
              T + attr("epsilon", F(0.001)) + attr("is_training", B(False)) + attr("data_format", S("NHWC")))
    g += node("relu", "Relu", ["bn"], T)
    g += const("dw", rand(3, 3, 3, 2))
    g += node("dwconv", "DepthwiseConv2dNative", ["relu", "dw"], T + attr("padding", S("VALID")) + attr("strides", INTS(1, 1, 1, 1)))
    for p in ("gamma", "beta", "mean"):
        g += const("bn2/" + p, rand(6))
    g += const("bn2/var", positive(6))
    g += node("bn2", "FusedBatchNormV3", ["dwconv", "bn2/gamma", "bn2/beta", "bn2/mean", "bn2/var"],
              T + attr("U", TYPE(DT_FLOAT)) + attr("epsilon", F(0.0001)) + attr("is_training", B(False)))
    g += const("w3", rand(1, 1, 6, 4))
    g += node("conv3", "Conv2D", ["bn2", "w3"], T + attr("padding", S("VALID")) + attr("strides", INTS(1, 1, 1, 1)))
    g += const("bn3/mean", rand(4)) + const("bn3/var", positive(4)) + const("bn3/beta", rand(4)) + const("bn3/gamma", rand(4))
    g += node("bn3", "BatchNormWithGlobalNormalization", ["conv3", "bn3/mean", "bn3/var", "bn3/beta", "bn3/gamma"],
              T + attr("variance_epsilon", F(0.01)) + attr("scale_after_normalization", B(True)))
    # is_training=true normalizes by the batch: not folded.
    g += const("w4", rand(1, 1, 4, 4)) + node("conv4", "Conv2D", ["bn3", "w4"], T + attr("padding", S("VALID")) + attr("strides", INTS(1, 1, 1, 1)))
    g += const("bn4/s", rand(4)) + const("bn4/o", rand(4)) + const("bn4/m", rand(4)) + const("bn4/v", positive(4))
    g += node("bn4", "FusedBatchNorm", ["conv4", "bn4/s", "bn4/o", "bn4/m", "bn4/v"], T + attr("is_training", B(True)))
    g += node("out", "Relu", ["bn4:0"], T)
    return g


def shared():
    """A conv whose output feeds a FusedBatchNorm and a Relu: folding would change what the Relu sees."""
    g = placeholder("x", -1, 3, 3, 2) + const("w", rand(1, 1, 2, 2))
    g += node("conv", "Conv2D", ["x", "w"], T + attr("padding", S("VALID")) + attr("strides", INTS(1, 1, 1, 1)))
    g += const("s", rand(2)) + const("o", rand(2)) + const("m", rand(2)) + const("v", positive(2))
    g += node("bn", "FusedBatchNorm", ["conv", "s", "o", "m", "v"], T + attr("is_training", B(False)))
    g += node("other", "Relu", ["conv"], T) + node("sum", "AddV2", ["bn", "other"], T)
    return g


def written():
    """MatMul -> Add(bias) -> the batch norm written out: Rsqrt(var + eps) * gamma, x * scale + (beta - mean * scale)."""
    g = placeholder("x", -1, 6)
    g += const("W", rand(6, 4)) + node("W/read", "Identity", ["W"], T)
    g += const("b", rand(4)) + node("b/read", "Identity", ["b"], T)
    g += node("MatMul", "MatMul", ["x", "W/read"], T + attr("transpose_a", B(False)) + attr("transpose_b", B(False)))
    g += node("add", "Add", ["MatMul", "b/read"], T)
    g += const("bn/gamma", rand(4)) + const("bn/beta", rand(4)) + const("bn/mean", rand(4)) + const("bn/var", positive(4))
    g += const("bn/add/y", np.float32(0.001))
    g += node("bn/add", "Add", ["bn/var", "bn/add/y"], T) + node("bn/Rsqrt", "Rsqrt", ["bn/add"], T)
    g += node("bn/mul", "Mul", ["bn/Rsqrt", "bn/gamma"], T) + node("bn/mul_1", "Mul", ["add", "bn/mul"], T)
    g += node("bn/mul_2", "Mul", ["bn/mean", "bn/mul"], T) + node("bn/sub", "Sub", ["bn/beta", "bn/mul_2"], T)
    g += node("bn/add_1", "Add", ["bn/mul_1", "bn/sub"], T)
    # A Mul by a constant vector right after a MatMul with transpose_b: fold_batch_norms.
    g += const("W2", rand(3, 4)) + node("MatMul_2", "MatMul", ["bn/add_1", "W2"], T + attr("transpose_b", B(True)))
    g += const("scale2", rand(3)) + node("mul2", "Mul", ["MatMul_2", "scale2"], T)
    g += node("y", "Relu", ["mul2"], T)
    return g


def fold():
    """Constant subgraphs of every op fold_constants evaluates, and one it does not (Tanh)."""
    g = placeholder("x", 2, 3, 4)
    g += node("shape", "Shape", ["x"], attr("T", TYPE(DT_FLOAT)) + attr("out_type", TYPE(DT_INT32)))
    g += const("begin", np.array([1], np.int32)) + const("end", np.array([3], np.int32)) + const("one", np.array([1], np.int32))
    g += node("hw", "StridedSlice", ["shape", "begin", "end", "one"], attr("T", TYPE(DT_INT32)) + attr("Index", TYPE(DT_INT32)))
    g += const("first", np.array([0], np.int32)) + const("firstend", np.array([1], np.int32))
    g += node("n", "StridedSlice", ["shape", "first", "firstend", "one"], attr("T", TYPE(DT_INT32)) + attr("shrink_axis_mask", I(1)))
    g += const("minus1", np.array(-1, np.int32))
    g += node("newshape", "Pack", ["n", "minus1"], attr("T", TYPE(DT_INT32)) + attr("N", I(2)) + attr("axis", I(0)))
    g += node("flat", "Reshape", ["x", "newshape"], T)
    g += const("axis", np.array(0, np.int32))
    g += node("dims", "ConcatV2", ["hw", "one", "axis"], attr("T", TYPE(DT_INT32)) + attr("N", I(2)))
    g += node("dimsf", "Cast", ["dims"], attr("SrcT", TYPE(DT_INT32)) + attr("DstT", TYPE(DT_FLOAT)))
    g += const("v", np.array([4.0, 16.0, 0.25], np.float32)) + const("eps", np.float32(0.5))
    g += node("v_eps", "AddV2", ["v", "eps"], T) + node("r", "Rsqrt", ["v_eps"], T)
    g += node("q", "RealDiv", ["r", "dimsf"], T) + node("d", "Sub", ["q", "eps"], T) + node("m", "Mul", ["d", "dimsf"], T)
    g += const("w", np.arange(36, dtype=np.float32).reshape(3, 12) / 36) + const("wshape", np.array([12, 3], np.int32))
    g += node("wr", "Reshape", ["w", "wshape"], T)
    g += node("mm", "MatMul", ["flat", "wr"], T)
    g += node("out", "Mul", ["mm", "m"], T)
    g += node("t", "Tanh", ["v"], T) + node("out2", "Mul", ["mm", "t"], T)
    return g


def nodes():
    """Identity and CheckNumerics to remove (one with a control input, one an output, one named by ^), duplicates, devices."""
    g = placeholder("x", -1, 3)
    g += const("c", np.array([1.0, 2.0, 3.0], np.float32), device="/device:CPU:0")
    g += node("c/read", "Identity", ["c"], T, device="/device:CPU:0")
    g += node("check", "CheckNumerics", ["x"], T + attr("message", S("bad")))
    g += node("a", "Add", ["check", "c/read"], T, device="/device:GPU:0")
    g += node("i_ctrl", "Identity", ["a", "^c"], T)
    g += node("side", "Relu", ["x"], T)
    g += node("r", "Relu", ["i_ctrl", "^c/read", "^side"], T)
    g += const("c2", np.array([1.0, 2.0, 3.0], np.float32), device="/device:CPU:0")
    g += node("a2", "Add", ["check", "c2"], T, device="/device:GPU:0")
    g += node("sum", "AddV2", ["r", "a2"], T)
    g += node("unused", "Relu", ["x"], T)
    g += node("result", "Identity", ["sum"], T)
    return g


def big():
    """A 40x32 weight (1280 elements) and a 16-element bias: quantize_weights takes the first, round_weights both."""
    g = placeholder("x", -1, 40)
    w = rand(40, 32)
    w[0, 0] = 0.5  # an exact tie for rounding
    g += const("w", w) + node("mm", "MatMul", ["x", "w"], T)
    g += const("b", rand(32)) + node("y", "BiasAdd", ["mm", "b"], T)
    return g


with open(sys.argv[2], "wb") as f:
    f.write({"bn": bn, "shared": shared, "written": written, "fold": fold, "nodes": nodes, "big": big}[sys.argv[1]]())
