"""The protobuf wire format by hand (no TensorFlow, no protobuf package), shared by the lit tests' graph and checkpoint
writers: field numbers as in tensorflow/core/framework/{graph,node_def,attr_value,tensor_shape}.proto."""


def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])


def field(num, data):  # length-delimited
    return varint(num << 3 | 2) + varint(len(data)) + data


def vfield(num, value):  # varint
    return varint(num << 3) + varint(value)


def shape(*dims):  # TensorShapeProto: dim = 2 { size = 1 }
    return b"".join(field(2, vfield(1, d)) for d in dims)


def attr(key, value):  # NodeDef.attr (5): map<string, AttrValue> entry: key = 1, value = 2
    return field(5, field(1, key.encode()) + field(2, value))


def node(name, op, inputs=(), attrs=b"", device=""):  # GraphDef.node (1): NodeDef name 1, op 2, input 3, device 4, attr 5
    body = field(1, name.encode()) + field(2, op.encode()) + b"".join(field(3, i.encode()) for i in inputs)
    if device:
        body += field(4, device.encode())
    return field(1, body + attrs)
