#!/usr/bin/env python3
"""Writes small binary Caffe NetParameters (.caffemodel) for the lit tests, encoding the protobuf by hand (no Caffe,
no protobuf package): field numbers as in BVLC caffe's src/caffe/proto/caffe.proto.
Usage: make_caffemodel.py <tiny|chain|v1|legacy|missing|count|shape|truncated> out.caffemodel"""
import struct
import sys


def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, data):  # length-delimited
    return varint(num << 3 | 2) + varint(len(data)) + data


def vfield(num, value):  # varint
    return varint(num << 3) + varint(value)


def ffield(num, value):  # fixed32 float
    return varint(num << 3 | 5) + struct.pack("<f", value)


def s(num, text):
    return field(num, text.encode())


def blob(dims, values):  # BlobProto: shape 7 (BlobShape.dim 1 packed), data 5 packed
    shape = field(1, b"".join(varint(d) for d in dims))
    return field(7, field(7, shape) + field(5, b"".join(struct.pack("<f", v) for v in values)))


def legacy_blob(n, c, h, w, values):  # BlobProto: num 1, channels 2, height 3, width 4
    return field(7, vfield(1, n) + vfield(2, c) + vfield(3, h) + vfield(4, w) + field(5, b"".join(struct.pack("<f", v) for v in values)))


def layer(name, type, bottoms=(), tops=(), body=b""):  # LayerParameter: name 1, type 2, bottom 3, top 4; NetParameter.layer = 100
    return field(100, s(1, name) + s(2, type) + b"".join(s(3, b) for b in bottoms) + b"".join(s(4, t) for t in tops) + body)


def header(name="tiny"):  # NetParameter: name 1, input 3, input_dim 4
    return s(1, name) + s(3, "data") + b"".join(vfield(4, d) for d in (1, 2, 3, 3))


CONV = lambda *fields: field(106, b"".join(fields))  # convolution_param: num_output 1, kernel_size 4, bias_term 2
W = [0.5, -1.0, 2.0, 0.25]
B = [0.125, -0.5]


def conv1(body_blobs=None, num_output=2):
    blobs = body_blobs if body_blobs is not None else blob([2, 2, 1, 1], W) + blob([2], B)
    return layer("conv1", "Convolution", ["data"], ["conv1"], CONV(vfield(1, num_output), vfield(4, 1)) + blobs)


def tiny():
    net = header() + conv1()
    net += layer("relu1", "ReLU", ["conv1"], ["conv1"], field(123, ffield(1, 0.1)))  # in place; relu_param.negative_slope
    net += layer("drop_train", "Dropout", ["conv1"], ["conv1"], field(8, vfield(1, 0)))  # include { phase: TRAIN }
    net += layer("not_test", "Dropout", ["conv1"], ["conv1"], field(9, vfield(1, 1)))  # exclude { phase: TEST }
    net += layer("odd", "Mystery", ["data"], ["odd"])  # a type Caffe never had: imports, the lowering names it
    net += layer("pool1", "Pooling", ["conv1"], ["pool1"], field(121, vfield(1, 1) + vfield(12, 1)))  # AVE, global_pooling
    return net


def chain():  # conv1 -> PReLU (a [2] slope blob) -> conv2: three weighted layers in a row
    net = header("chain") + conv1()
    net += layer("prelu1", "PReLU", ["conv1"], ["conv1"], blob([2], [0.25, 0.5]))
    net += layer("conv2", "Convolution", ["conv1"], ["conv2"], CONV(vfield(1, 2), vfield(4, 1)) + blob([2, 2, 1, 1], W) + blob([2], B))
    return net


def v1():  # V1LayerParameter: bottom 2, top 3, name 4, type 5, blobs 6, convolution_param 10; NetParameter.layers = 2
    conv = s(4, "conv1") + vfield(5, 4) + s(2, "data") + s(3, "conv1") + field(10, vfield(1, 2) + vfield(4, 1))
    conv += field(6, field(7, field(1, b"".join(varint(d) for d in (2, 2, 1, 1)))) + field(5, b"".join(struct.pack("<f", v) for v in W)))
    conv += field(6, field(7, field(1, varint(2))) + field(5, b"".join(struct.pack("<f", v) for v in B)))
    relu = s(4, "relu1") + vfield(5, 18) + s(2, "conv1") + s(3, "conv1")
    soft = s(4, "loss") + vfield(5, 21) + s(2, "conv1") + s(3, "loss")
    return header("v1") + field(2, conv) + field(2, relu) + field(2, soft)


def legacy():
    return header("legacy") + layer("ip1", "InnerProduct", ["data"], ["ip1"],
                                    field(117, vfield(1, 2)) + legacy_blob(1, 1, 2, 18, [0.0] * 36) + legacy_blob(1, 1, 1, 2, B))


def main():
    kind, out = sys.argv[1], sys.argv[2]
    data = {
        "tiny": tiny,
        "chain": chain,
        "v1": v1,
        "legacy": legacy,
        "missing": lambda: header() + layer("relu1", "ReLU", ["nowhere"], ["relu1"]),
        "count": lambda: header() + conv1(blob([2, 2, 1, 1], W)),
        "shape": lambda: header() + conv1(num_output=3),
        "truncated": lambda: tiny()[:-7],
    }[kind]()
    with open(out, "wb") as f:
        f.write(data)


main()
