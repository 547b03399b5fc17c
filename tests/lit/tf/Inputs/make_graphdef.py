#!/usr/bin/env python3
"""Writes small TensorFlow GraphDefs for the lit tests, encoding the protobuf by hand (no TensorFlow, no protobuf
package): field numbers as in tensorflow/core/framework/{graph,node_def,attr_value,tensor,tensor_shape}.proto.
Usage: make_graphdef.py <tiny|missing|cycle|nodtype|truncated> out.pb"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protowire import attr, field, node, shape, varint, vfield  # noqa: E402


DT_FLOAT, DT_INT32 = 1, 3
TYPE = lambda t: vfield(6, t)  # AttrValue.type = 6
SHAPE = lambda *d: field(7, shape(*d))  # AttrValue.shape = 7


def tensor(dtype, dims, content=b"", floats=()):  # TensorProto: dtype 1, shape 2, content 4, float_val 5 (packed)
    body = vfield(1, dtype) + field(2, shape(*dims))
    if content:
        body += field(4, content)
    if floats:
        body += field(5, b"".join(struct.pack("<f", f) for f in floats))
    return field(8, body)  # AttrValue.tensor = 8


def tiny():
    g = node("x", "Placeholder", attrs=attr("dtype", TYPE(DT_FLOAT)) + attr("shape", SHAPE(2**64 - 1, 3)))
    g += node("w", "Const", attrs=attr("dtype", TYPE(DT_FLOAT)) +
              attr("value", tensor(DT_FLOAT, [3], content=struct.pack("<3f", 1.0, 2.0, 3.0))))
    g += node("half", "Const", ["^x"], attr("dtype", TYPE(DT_FLOAT)) + attr("value", tensor(DT_FLOAT, [2, 3], floats=[0.5])),
              device="/device:CPU:0")
    g += node("mul", "Mul", ["x", "w:0"], attr("T", TYPE(DT_FLOAT)))
    g += node("add", "AddV2", ["mul", "half"], attr("T", TYPE(DT_FLOAT)))
    g += node("pool", "MaxPool", ["add"], attr("T", TYPE(DT_FLOAT)) + attr("padding", field(2, b"SAME")) +
              attr("ksize", field(1, field(3, b"".join(varint(v) for v in [1, 2, 2, 1])))))
    g += node("split", "Unpack", ["add"], attr("num", vfield(3, 2)) + attr("axis", vfield(3, 0)))
    g += node("second", "Relu", ["split:1"])
    return g + field(4, vfield(1, 27))  # versions { producer: 27 }


GRAPHS = {
    "tiny": tiny,
    "missing": lambda: node("y", "Relu", ["nowhere"]),
    "cycle": lambda: node("a", "Relu", ["b"]) + node("b", "Relu", ["a"]),
    "nodtype": lambda: node("x", "Placeholder") + node("y", "Relu", ["x"]),
    "truncated": lambda: tiny()[:40],
}

with open(sys.argv[2], "wb") as f:
    f.write(GRAPHS[sys.argv[1]]())
