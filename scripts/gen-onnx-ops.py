#!/usr/bin/python3
"""Writes ir/Dialects/Onnx/OnnxOps.Generated.cs: every operator of ONNX's default domain as an OpDefinition
(operands, results, attributes with their kinds, defaults and the versions that have them, the opset versions
that (re)defined the operator, the operand counts its versions accept), read from ONNX's own operator schemas;
and ir/Dialects/Onnx/OnnxViews.Generated.cs: a typed view of each (ConvOp(op).W, .Group, .AutoPad), as the
accessors MLIR's ODS generates.

Needs Debian's python3-onnx (1.12: operator sets up to 17); the changes of operator sets 18 to 21 are listed
in SUPPLEMENT below from the ONNX changelog. Run it again when either changes: scripts/gen-onnx-ops.py
"""
import os
import numpy
import onnx
import onnx.defs as defs
from onnx import AttributeProto, helper

KINDS = {
    AttributeProto.FLOAT: "Float", AttributeProto.INT: "Int", AttributeProto.STRING: "String",
    AttributeProto.TENSOR: "Tensor", AttributeProto.GRAPH: "Graph", AttributeProto.FLOATS: "Floats",
    AttributeProto.INTS: "Ints", AttributeProto.STRINGS: "Strings", AttributeProto.TENSORS: "Tensors",
    AttributeProto.GRAPHS: "Graphs", AttributeProto.SPARSE_TENSOR: "SparseTensor",
    AttributeProto.TYPE_PROTO: "Type", AttributeProto.TYPE_PROTOS: "Types",
}
ARITY = {0: "Single", 1: "Optional", 2: "Variadic"}  # FormalParameterOption: Single, Optional, Variadic

# Operator sets 18 to 21 (python3-onnx 1.12 stops at 17): versions added, and for each operator the attributes
# and operands its newest version has, when they changed. From onnx/docs/Changelog.md.
SUPPLEMENT_VERSIONS = {
    18: "BitwiseAnd BitwiseNot BitwiseOr BitwiseXor CenterCropPad Col2Im GroupNormalization LpPool Mish "
        "OptionalGetElement OptionalHasElement Pad ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean "
        "ReduceMin ReduceProd ReduceSumSquare Resize ScatterElements ScatterND Split",
    19: "AveragePool Cast CastLike Constant DeformConv DequantizeLinear Equal Identity If Loop Pad QuantizeLinear Reshape "
        "Resize Scan Shape Size",
    20: "AffineGrid ConstantOfShape DFT Gelu GridSample ImageDecoder IsInf IsNaN ReduceMax ReduceMin RegexFullMatch "
        "StringConcat StringSplit",
    21: "Cast CastLike Constant ConstantOfShape DequantizeLinear Flatten GroupNormalization Identity If Loop Pad "
        "QLinearMatMul QuantizeLinear Reshape Scan Shape Size Squeeze Transpose Unsqueeze",
}
# name -> (summary, operands, results, attributes) for operators new in 18-21, or extra attributes/operands of
# changed ones: operands/results as (name, arity); attributes as (name, kind, required, default).
NEW_OPS = {
    "BitwiseAnd": ("Bitwise and of integer tensors, with broadcasting", [("A", 0), ("B", 0)], [("C", 0)], []),
    "BitwiseOr": ("Bitwise or of integer tensors, with broadcasting", [("A", 0), ("B", 0)], [("C", 0)], []),
    "BitwiseXor": ("Bitwise exclusive or of integer tensors, with broadcasting", [("A", 0), ("B", 0)], [("C", 0)], []),
    "BitwiseNot": ("Bitwise not of an integer tensor", [("X", 0)], [("Y", 0)], []),
    "CenterCropPad": ("Center crops or pads the input to the given shape", [("input_data", 0), ("shape", 0)], [("output_data", 0)],
                      [("axes", "Ints", False, None)]),
    "Col2Im": ("Rearranges column blocks back into a multidimensional image", [("input", 0), ("image_shape", 0), ("block_shape", 0)],
               [("output", 0)], [("dilations", "Ints", False, None), ("pads", "Ints", False, None), ("strides", "Ints", False, None)]),
    "GroupNormalization": ("Group normalization", [("X", 0), ("scale", 0), ("bias", 0)], [("Y", 0)],
                           [("epsilon", "Float", False, "1e-05"), ("num_groups", "Int", True, None), ("stash_type", "Int", False, "1")]),
    "DeformConv": ("Deformable convolution", [("X", 0), ("W", 0), ("offset", 0), ("B", 1), ("mask", 1)], [("Y", 0)],
                   [("dilations", "Ints", False, None), ("group", "Int", False, "1"), ("kernel_shape", "Ints", False, None),
                    ("offset_group", "Int", False, "1"), ("pads", "Ints", False, None), ("strides", "Ints", False, None)]),
    "Mish": ("Mish activation: x * tanh(softplus(x))", [("X", 0)], [("Y", 0)], []),
    "AffineGrid": ("A sampling grid from affine matrices", [("theta", 0), ("size", 0)], [("grid", 0)],
                   [("align_corners", "Int", False, "0")]),
    "Gelu": ("Gaussian error linear unit", [("X", 0)], [("Y", 0)], [("approximate", "String", False, "none")]),
    "ImageDecoder": ("Decodes an encoded image", [("encoded_stream", 0)], [("image", 0)], [("pixel_format", "String", False, "RGB")]),
    "RegexFullMatch": ("Whether each string fully matches a regular expression", [("X", 0)], [("Y", 0)], [("pattern", "String", False, None)]),
    "StringConcat": ("Concatenates strings element-wise", [("X", 0), ("Y", 0)], [("Z", 0)], []),
    "StringSplit": ("Splits strings by a separator", [("X", 0)], [("Y", 0), ("Z", 0)],
                    [("delimiter", "String", False, None), ("maxsplit", "Int", False, None)]),
}
# Changed operators: (version, operands or None, attributes to add).
CHANGES = {
    "Pad": (18, [("data", 0), ("pads", 0), ("constant_value", 1), ("axes", 1)], []),
    "Split": (18, None, [("num_outputs", "Int", False, None)]),
    "Resize": (18, None, [("antialias", "Int", False, "0"), ("axes", "Ints", False, None),
                          ("keep_aspect_ratio_policy", "String", False, "stretch")]),
    "LpPool": (18, None, [("ceil_mode", "Int", False, "0")]),
    "AveragePool": (19, None, [("dilations", "Ints", False, None)]),
    "Cast": (19, None, [("saturate", "Int", False, "1")]),
    "QuantizeLinear": (21, None, [("saturate", "Int", False, "1"), ("block_size", "Int", False, "0"), ("output_dtype", "Int", False, "0")]),
    "DequantizeLinear": (21, None, [("block_size", "Int", False, "0")]),
    "DFT": (20, [("input", 0), ("dft_length", 1), ("axis", 1)], []),
}
for name in ["ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin",
             "ReduceProd", "ReduceSumSquare"]:
    CHANGES[name] = (18, [("data", 0), ("axes", 1)], [])


def cs(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def first_sentence(doc):
    text = " ".join((doc or "").split())
    for end in [". ", ".\n"]:
        if end in text:
            text = text[: text.index(end) + 1]
            break
    text = text.replace("`", "")
    return text[:160].rstrip(" ,;:")


def default_text(attr):
    d = attr.default_value
    if d is None or d.type == 0:
        return None
    v = helper.get_attribute_value(d)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, list):
        return "[" + ", ".join(str(x.decode() if isinstance(x, bytes) else numpy.float32(x) if isinstance(x, float) else x) for x in v) + "]"
    if isinstance(v, float):
        return str(numpy.float32(v))  # attributes are float32: 1e-05, not 9.999999747378752e-06
    return str(v)


def default_value(attr):
    """The default as a Python value (for the typed views), or None."""
    d = attr.default_value
    if d is None or d.type == 0:
        return None
    v = helper.get_attribute_value(d)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, list):
        return [x.decode() if isinstance(x, bytes) else x for x in v]
    return v


def main():
    schemas = [s for s in defs.get_all_schemas_with_history() if s.domain == ""]
    by_name = {}
    for s in schemas:
        by_name.setdefault(s.name, []).append(s)
    ops = {}
    for name, versions in by_name.items():
        versions.sort(key=lambda s: s.since_version)
        latest = versions[-1]
        # each attribute with the first and last version that has it
        attrs = {}
        for s in versions:
            for a in s.attributes.values():
                entry = attrs.setdefault(a.name, {"kind": KINDS.get(a.type, "Any"), "required": a.required,
                                                  "default": default_text(a), "since": s.since_version, "until": None,
                                                  "first_kind": KINDS.get(a.type, "Any")})
                entry["kind"] = KINDS.get(a.type, "Any")
                entry["required"] = a.required
                entry["default"] = default_text(a)
                entry["value"] = default_value(a)
                entry["last"] = s.since_version
                history = entry.setdefault("history", [])
                if not history or history[-1][1] != entry["default"]:
                    history.append((s.since_version, entry["default"]))
        next_version = {}
        for i, s in enumerate(versions):
            next_version[s.since_version] = versions[i + 1].since_version if i + 1 < len(versions) else None
        for a in attrs.values():
            nv = next_version[a.pop("last")]
            if nv is not None:
                a["until"] = nv - 1  # gone from version nv on
            first_kind = a.pop("first_kind")
            if first_kind != a["kind"]:
                a["former_kind"] = first_kind
        # the operand counts any version accepts (Slice-1 takes one, Slice-10 three)
        counts = (min(s.min_input for s in versions), max(s.max_input for s in versions))
        ops[name] = {
            "summary": first_sentence(latest.doc),
            "versions": [s.since_version for s in versions],
            "operands": [(p.name, ARITY[int(p.option)]) for p in latest.inputs],
            "results": [(p.name, ARITY[int(p.option)]) for p in latest.outputs],
            "attrs": attrs,
            "deprecated": latest.deprecated,
            "counts": (counts[0], None if counts[1] >= 2**31 - 1 else counts[1]),
        }
    for name, (summary, operands, results, attrs) in NEW_OPS.items():
        ops[name] = {"summary": summary, "versions": [], "operands": [(n, ARITY[a]) for n, a in operands],
                     "results": [(n, ARITY[a]) for n, a in results],
                     "attrs": {n: {"kind": k, "required": r, "default": d, "value": parse_default(k, d), "since": None, "until": None}
                               for n, k, r, d in attrs},
                     "deprecated": False}
        ops[name]["counts"] = slot_counts(ops[name]["operands"])
    for version, names in SUPPLEMENT_VERSIONS.items():
        for name in names.split():
            op = ops[name]
            if op["attrs"] and all(a["since"] is None for a in op["attrs"].values()):
                for a in op["attrs"].values():
                    a["since"] = version
            if version not in op["versions"]:
                op["versions"].append(version)
    for name, (version, operands, new_attrs) in CHANGES.items():
        op = ops[name]
        if operands is not None:
            op["operands"] = [(n, ARITY[a]) for n, a in operands]
            op["counts"] = union(op["counts"], slot_counts(op["operands"]))
            # an attribute that became an operand is gone from this version on
            for n, _ in operands:
                if n in op["attrs"] and op["attrs"][n]["until"] is None:
                    op["attrs"][n]["until"] = version - 1
        for n, k, r, d in new_attrs:
            op["attrs"][n] = {"kind": k, "required": r, "default": d, "value": parse_default(k, d), "since": version, "until": None}
    for op in ops.values():
        op["versions"].sort()

    out = []
    out.append("// <auto-generated>")
    out.append(f"// Written by scripts/gen-onnx-ops.py from ONNX {onnx.__version__}'s operator schemas (operator sets 1 to "
               f"{defs.onnx_opset_version()}) and its supplement for 18 to 21. Do not edit: change the script and run it.")
    out.append("// </auto-generated>")
    out.append("#nullable enable")
    out.append("using Mopt.Ir;")
    out.append("")
    out.append("namespace Mopt.Dialects.Onnx;")
    out.append("")
    out.append("internal static partial class OnnxOps")
    out.append("{")
    out.append("    /// <summary>The operators of ONNX's default domain.</summary>")
    out.append("    internal static readonly string[] SpecifiedNames =")
    out.append("    [")
    for name in sorted(ops):
        out.append(f"        \"onnx.{name}\",")
    out.append("    ];")
    out.append("")
    out.append("    /// <summary>Operator <paramref name=\"opType\"/> of ONNX's default domain as its specification defines it (no traits, no interfaces), or null.</summary>")
    out.append("    internal static OpDefinition? Specified(string opType) => opType switch")
    out.append("    {")
    defs_out = []
    for name in sorted(ops):
        op = ops[name]
        parts = [f"Summary = {cs(op['summary'])}"]
        parts.append("Versions = [" + ", ".join(str(v) for v in op["versions"]) + "]")
        parts.append("Operands = [" + ", ".join(f"new({cs(n)}, Arity.{a})" for n, a in op["operands"]) + "]")
        parts.append("Results = [" + ", ".join(f"new({cs(n)}, Arity.{a})" for n, a in op["results"]) + "]")
        attrs = []
        for an in sorted(op["attrs"]):
            a = op["attrs"][an]
            args = [cs(an), f"AttrKind.{a['kind']}"]
            if a["required"]:
                args.append("Required: true")
            if a["default"] is not None:
                args.append(f"Default: {cs(a['default'])}")
            if a["since"] is not None:
                args.append(f"Since: {a['since']}")
            if a["until"] is not None:
                args.append(f"Until: {a['until']}")
            if a.get("former_kind") is not None:
                args.append(f"FormerKind: AttrKind.{a['former_kind']}")
            attrs.append("new(" + ", ".join(args) + ")")
        parts.append("Attributes = [" + ", ".join(attrs) + "]")
        if op["counts"] != slot_counts(op["operands"]):
            lo, hi = op["counts"]
            parts.append(f"OperandCounts = new({lo}, {'null' if hi is None else hi})")
        if op["deprecated"]:
            parts.append("Deprecated = true")
        out.append(f"        \"{name}\" => {ident(name)}(),")
        defs_out.append(f"    private static OpDefinition {ident(name)}() => new(\"onnx.{name}\") {{ " + ", ".join(parts) + " };")
    out.append("        _ => null,")
    out.append("    };")
    # One small method per operator: a run touches only the code of the operators it meets.
    out.append("")
    out.extend(defs_out)
    out.append("}")
    path = os.path.join(os.path.dirname(__file__), "..", "ir", "Dialects", "Onnx", "OnnxOps.Generated.cs")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"{len(ops)} operators written to {os.path.normpath(path)}")
    write_views(ops)


def ident(op_type):
    """The C# method that defines an operator (Abs -> DefineAbs)."""
    return "Define" + op_type


def slot_counts(operands):
    """(min, max) operands the slots allow: up to the last single one given; a variadic slot takes any number."""
    lo = 0
    for i, (_, arity) in enumerate(operands):
        if arity == "Single":
            lo = i + 1
    variadic = bool(operands) and operands[-1][1] == "Variadic"
    return (lo, None if variadic else len(operands))


def union(a, b):
    return (min(a[0], b[0]), None if a[1] is None or b[1] is None else max(a[1], b[1]))


def parse_default(kind, text):
    if text is None:
        return None
    return {"Int": int, "Float": float}.get(kind, str)(text)


# C# names a view's members may not take (the record struct's own members)
RESERVED = {"Op", "OpName", "Is", "TryGet", "Equals", "GetHashCode", "ToString", "Deconstruct", "EqualityContract"}


def pascal(name):
    return "".join(p[:1].upper() + p[1:] for p in name.split("_") if p)


def cs_float(v):
    text = repr(float(numpy.float32(v)))
    if text in ("inf", "-inf", "nan"):
        return {"inf": "float.PositiveInfinity", "-inf": "float.NegativeInfinity", "nan": "float.NaN"}[text]
    return str(numpy.float32(v)) + "f"  # the specification's float32 value, as an attribute read from a file holds it


def accessor(a, name):
    """The C# type and expression of attribute a's typed accessor."""
    kind, value, key = a["kind"], a.get("value"), cs(name)
    if kind == "Int":
        return ("long", f"Op.ReadInt({key}) ?? {int(value)}") if value is not None else ("long?", f"Op.ReadInt({key})")
    if kind == "Float":
        return ("double", f"Op.ReadFloat({key}) ?? {cs_float(value)}") if value is not None else ("double?", f"Op.ReadFloat({key})")
    if kind == "String":
        return ("string", f"Op.ReadString({key}) ?? {cs(value)}") if value is not None else ("string?", f"Op.ReadString({key})")
    if kind == "Ints":
        return ("long[]", f"Op.ReadInts({key}) ?? new long[] {{ {', '.join(str(int(x)) for x in value)} }}") if value is not None \
            else ("long[]?", f"Op.ReadInts({key})")
    if kind == "Floats":
        return ("double[]", f"Op.ReadFloats({key}) ?? new double[] {{ {', '.join(cs_float(x) for x in value)} }}") if value is not None \
            else ("double[]?", f"Op.ReadFloats({key})")
    if kind == "Strings":
        return ("string[]", f"Op.ReadStrings({key}) ?? new[] {{ {', '.join(cs(x) for x in value)} }}") if value is not None \
            else ("string[]?", f"Op.ReadStrings({key})")
    return ("Attr?", f"Op.GetAttr({key})")  # tensors, types: the attribute itself


def versions_text(a):
    if a["since"] is None and a["until"] is None:
        return ""
    if a["until"] is None:
        return f"; from opset {a['since']}"
    return f"; opsets {a['since'] or 1} to {a['until']}"


def write_views(ops):
    out = []
    out.append("// <auto-generated>")
    out.append("// Written by scripts/gen-onnx-ops.py with OnnxOps.Generated.cs. Do not edit: change the script and run it.")
    out.append("// </auto-generated>")
    out.append("#nullable enable")
    out.append("using Mopt.Ir;")
    out.append("")
    out.append("namespace Mopt.Dialects.Onnx;")
    for name in sorted(ops):
        op = ops[name]
        view = name + "Op"
        taken = set(RESERVED)
        out.append("")
        out.append(f"/// <summary><c>onnx.{name}</c>: {escape_xml(op['summary'])}</summary>")
        out.append(f"public readonly record struct {view}(Operation Op)")
        out.append("{")
        out.append(f"    public const string OpName = \"onnx.{name}\";")
        out.append("    public static bool Is(Operation op) => op.Name == OpName;")
        out.append(f"    public static {view}? TryGet(Operation op) => Is(op) ? new {view}(op) : null;")

        def member(spec_name, suffix):
            n = pascal(spec_name)
            if n in taken:
                n += suffix
            taken.add(n)
            return n

        for i, (n, arity) in enumerate(op["operands"]):
            m = member(n, "Operand")
            if arity == "Single" and i >= op["counts"][0]:
                out.append(f"    /// <summary>Null in the older versions that did not take it (an attribute then).</summary>")
                out.append(f"    public Value? {m} => OnnxViews.Optional(Op, {i});")
            elif arity == "Single":
                out.append(f"    public Value {m} => Op.GetOperand({i});")
            elif arity == "Optional":
                out.append(f"    /// <summary>Null when absent (omitted or <c>onnx.NoValue</c>).</summary>")
                out.append(f"    public Value? {m} => OnnxViews.Optional(Op, {i});")
            else:
                out.append(f"    public IReadOnlyList<Value> {m} => OnnxViews.OperandsFrom(Op, {i});")
        for i, (n, arity) in enumerate(op["results"]):
            m = member(n, "Result")
            if arity == "Single":
                out.append(f"    public OpResult {m} => Op.Results[{i}];")
            elif arity == "Optional":
                out.append(f"    public OpResult? {m} => Op.Results.Count > {i} ? Op.Results[{i}] : null;")
            else:
                out.append(f"    public IReadOnlyList<OpResult> {m} => OnnxViews.ResultsFrom(Op, {i});")
        for an in sorted(op["attrs"]):
            a = op["attrs"][an]
            if a["kind"] in ("Graph", "Graphs"):
                continue  # subgraphs are the op's regions
            m = member(an, "Attribute")
            type_, expr = accessor(a, an)
            default = f", default {a['default']}" if a.get("value") is not None else ""
            history = a.get("history", [])
            if len(history) > 1 and a.get("value") is not None:  # Softmax's axis: 1 before 13, -1 from 13
                older = ", ".join((f"{d} before opset {history[i + 1][0]}" if d is not None else f"none before opset {history[i + 1][0]}")
                                  for i, (_, d) in enumerate(history[:-1]))
                default += f"; {older}, where the caller must apply it"
            out.append(f"    /// <summary><c>{an}</c> ({a['kind'].lower()}{escape_xml(default)}{versions_text(a)}).</summary>")
            out.append(f"    public {type_} {m} => {expr};")
        out.append("}")
    path = os.path.join(os.path.dirname(__file__), "..", "ir", "Dialects", "Onnx", "OnnxViews.Generated.cs")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"{len(ops)} typed views written to {os.path.normpath(path)}")


def escape_xml(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


if __name__ == "__main__":
    main()
