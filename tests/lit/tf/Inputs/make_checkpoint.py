#!/usr/bin/env python3
"""Writes a small TensorFlow training graph and its V2 checkpoint for the freeze lit tests, by hand (no TensorFlow, no
protobuf package): PREFIX.meta (a MetaGraphDef with a saver), PREFIX.index (a LevelDB-format table: BundleHeaderProto
under the empty key, a BundleEntryProto per tensor) and PREFIX.data-00000-of-00001 (the tensors' bytes), following
tensorflow/core/protobuf/{meta_graph,saver,tensor_bundle}.proto and tensorflow/core/lib/io/table_format.txt.
Usage: make_checkpoint.py <variables|resource> PREFIX [fault]
fault: missing (no 'b' in the bundle), dtype (the kernel saved as double), shape (the kernel saved as [4]),
badcrc (a data byte changed), truncdata, truncindex, noshard (no .data file), train (the output needs an Assign),
twoshards (no fault: the tensors in two data shards)."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protowire import attr, field, node, shape, varint, vfield  # noqa: E402

DT_FLOAT, DT_DOUBLE, DT_STRING = 1, 2, 7


def TYPE(t):  # AttrValue.type = 6
    return vfield(6, t)


def SHAPE(*dims):  # AttrValue.shape = 7
    return field(7, shape(*dims))


def tensor(dtype, dims, content=b"", floats=()):  # AttrValue.tensor (8): dtype 1, shape 2, content 4, float_val 5
    body = vfield(1, dtype) + field(2, shape(*dims)) + (field(4, content) if content else b"")
    return field(8, body + (field(5, b"".join(struct.pack("<f", f) for f in floats)) if floats else b""))


def crc32c(data, crc=0):  # CRC-32C (Castagnoli), reflected polynomial 0x82F63B78
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def mask(crc):  # how LevelDB and the bundle store a crc
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def block(entries):  # one block, keys prefix-compressed against the previous one, a restart point every 2 entries
    out, restarts, prev = b"", [], b""
    for i, (key, value) in enumerate(entries):
        shared = 0
        if i % 2 == 0:
            restarts.append(len(out))
        else:
            while shared < min(len(key), len(prev)) and key[shared] == prev[shared]:
                shared += 1
        out += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        prev = key
    restarts = restarts or [0]
    return out + b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))


def table(entries):  # a LevelDB table: one data block, an empty metaindex, the index, the footer
    out = b""

    def put(contents):
        nonlocal out
        handle = varint(len(out)) + varint(len(contents))
        out += contents + b"\x00" + struct.pack("<I", mask(crc32c(contents + b"\x00")))  # trailer: no compression
        return handle

    data = put(block(entries))
    meta = put(block([]))
    index = put(block([(entries[-1][0], data)]))
    footer = (meta + index).ljust(40, b"\x00") + struct.pack("<Q", 0xDB4775248B80FB57)
    return out + footer


def strings(*values):  # a string Const's value
    return field(8, vfield(1, DT_STRING) + field(2, shape(len(values))) + b"".join(field(8, v.encode()) for v in values))


def const(name, value, dtype):
    return node(name, "Const", attrs=attr("dtype", TYPE(dtype)) + attr("value", value))


def floats(*values):
    return tensor(DT_FLOAT, [len(values)], content=struct.pack(f"<{len(values)}f", *values))


def saver(keys, restore_ops):  # the save/restore subgraph of tf.train.Saver
    names = strings(*keys)
    slices = strings(*([""] * len(keys)))
    g = const("save/Const", strings("model"), DT_STRING)
    g += const("save/SaveV2/tensor_names", names, DT_STRING) + const("save/SaveV2/shape_and_slices", slices, DT_STRING)
    g += node("save/SaveV2", "SaveV2", ["save/Const", "save/SaveV2/tensor_names", "save/SaveV2/shape_and_slices"])
    g += node("save/control_dependency", "Identity", ["save/Const", "^save/SaveV2"], attr("T", TYPE(DT_STRING)))
    g += const("save/RestoreV2/tensor_names", names, DT_STRING) + const("save/RestoreV2/shape_and_slices", slices, DT_STRING)
    g += node("save/RestoreV2", "RestoreV2", ["save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices"])
    g += restore_ops + node("save/restore_all", "NoOp", ["^" + n for n in RESTORES])
    return g


RESTORES = []


def variables(fault):
    """y = x * w + b with VariableV2 w [3] (saved as "dense/kernel") and b [] (saved as "b")."""
    RESTORES[:] = ["save/Assign", "save/Assign_1"]
    g = node("x", "Placeholder", attrs=attr("dtype", TYPE(DT_FLOAT)) + attr("shape", SHAPE(2**64 - 1, 3)))
    for name, dims, init in (("w", [3], floats(0, 0, 0)), ("b", [], tensor(DT_FLOAT, [], floats=[0]))):
        g += node(name, "VariableV2", attrs=attr("dtype", TYPE(DT_FLOAT)) + attr("shape", SHAPE(*dims)) +
                  attr("container", field(2, b"")) + attr("shared_name", field(2, b"")))
        g += const(f"{name}/Initializer", init, DT_FLOAT)
        g += node(f"{name}/Assign", "Assign", [name, f"{name}/Initializer"], attr("T", TYPE(DT_FLOAT)))
        g += node(f"{name}/read", "Identity", [name], attr("T", TYPE(DT_FLOAT)))
    g += node("mul", "Mul", ["x", "w/read"], attr("T", TYPE(DT_FLOAT)))
    g += node("y", "AddV2", ["mul", "b/read"] + (["^w/Assign"] if fault == "train" else []), attr("T", TYPE(DT_FLOAT)))
    g += node("init", "NoOp", ["^w/Assign", "^b/Assign"])
    g += node("GradientDescent/update_w", "ApplyGradientDescent", ["w", "b/read", "mul"], attr("T", TYPE(DT_FLOAT)))
    restore = node("save/Assign", "Assign", ["b", "save/RestoreV2"], attr("T", TYPE(DT_FLOAT)))
    restore += node("save/Assign_1", "Assign", ["w", "save/RestoreV2:1"], attr("T", TYPE(DT_FLOAT)))
    g += saver(["b", "dense/kernel"], restore)
    return g, {"b": (DT_FLOAT, [], struct.pack("<f", 0.5)), "dense/kernel": (DT_FLOAT, [3], struct.pack("<3f", 1, 2, 3))}


def resource(fault):
    """y = x * v with a resource variable: VarHandleOp v [3], read by ReadVariableOp mul/ReadVariableOp."""
    RESTORES[:] = ["save/AssignVariableOp"]
    g = node("x", "Placeholder", attrs=attr("dtype", TYPE(DT_FLOAT)) + attr("shape", SHAPE(2**64 - 1, 3)))
    g += node("v", "VarHandleOp", attrs=attr("dtype", TYPE(DT_FLOAT)) + attr("shape", SHAPE(3)) +
              attr("container", field(2, b"")) + attr("shared_name", field(2, b"v")))
    g += const("v/Initializer", floats(0, 0, 0), DT_FLOAT)
    g += node("v/Assign", "AssignVariableOp", ["v", "v/Initializer"], attr("dtype", TYPE(DT_FLOAT)))
    g += node("v/Read/ReadVariableOp", "ReadVariableOp", ["v"], attr("dtype", TYPE(DT_FLOAT)))
    g += node("mul/ReadVariableOp", "ReadVariableOp", ["v"], attr("dtype", TYPE(DT_FLOAT)))
    g += node("y", "Mul", ["x", "mul/ReadVariableOp"], attr("T", TYPE(DT_FLOAT)))
    g += node("gather", "ResourceGather", ["v", "x"], attr("dtype", TYPE(DT_FLOAT)))
    restore = node("save/Identity", "Identity", ["save/RestoreV2"], attr("T", TYPE(DT_FLOAT)))
    restore += node("save/AssignVariableOp", "AssignVariableOp", ["v", "save/Identity"], attr("dtype", TYPE(DT_FLOAT)))
    g += saver(["v"], restore)
    return g, {"v": (DT_FLOAT, [3], struct.pack("<3f", 4, 5, 6))}


def entry(dtype, dims, shard, offset, data):  # BundleEntryProto: dtype 1, shape 2, shard_id 3, offset 4, size 5, crc32c 6
    return (vfield(1, dtype) + field(2, shape(*dims)) + (vfield(3, shard) if shard else b"") + (vfield(4, offset) if offset else b"") +
            vfield(5, len(data)) + varint(6 << 3 | 5) + struct.pack("<I", mask(crc32c(data))))


def main():
    kind, prefix = sys.argv[1], sys.argv[2]
    fault = sys.argv[3] if len(sys.argv) > 3 else ""
    graph, tensors = {"variables": variables, "resource": resource}[kind](fault)
    saver_def = field(1, b"save/Const:0") + field(2, b"save/control_dependency:0") + field(3, b"save/restore_all") + vfield(7, 2)
    with open(prefix + ".meta", "wb") as f:
        f.write(field(2, graph + field(4, vfield(1, 27))) + field(3, saver_def))  # graph_def = 2, saver_def = 3

    if fault == "missing":
        del tensors["b"]
    if fault == "dtype":
        tensors["dense/kernel"] = (DT_DOUBLE, [3], struct.pack("<3d", 1, 2, 3))
    if fault == "shape":
        tensors["dense/kernel"] = (DT_FLOAT, [4], struct.pack("<4f", 1, 2, 3, 4))
    shards = 2 if fault == "twoshards" else 1  # then each tensor in turn goes to the next shard
    datas, entries = [b""] * shards, [(b"", vfield(1, shards) + field(3, vfield(1, 1)))]  # header: num_shards, version { producer 1 }
    for i, key in enumerate(sorted(tensors)):
        dtype, dims, content = tensors[key]
        shard = i % shards
        entries.append((key.encode(), entry(dtype, dims, shard, len(datas[shard]), content)))
        datas[shard] += content
    data = datas[0]
    if fault == "badcrc":
        data = data[:-1] + bytes([data[-1] ^ 1])
    if fault == "truncdata":
        data = data[:-2]
    index = table(entries)
    if fault == "truncindex":
        index = index[:-10]
    with open(prefix + ".index", "wb") as f:
        f.write(index)
    datas[0] = data
    for shard in range(shards if fault != "noshard" else 0):
        with open(f"{prefix}.data-{shard:05d}-of-{shards:05d}", "wb") as f:
            f.write(datas[shard])


if __name__ == "__main__":
    main()
