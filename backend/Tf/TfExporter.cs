using Google.Protobuf;
using Mopt.Dialects.Tf;
using Mopt.Ir;
using Mopt.Tf.Proto;

namespace Mopt.Backend.Tf;

/// <summary>
/// Module in <c>tf.*</c> → GraphDef, the inverse of the importer (docs/formats/tensorflow.md): node names come back from
/// <c>loc</c> and <c>mo.name</c>, attributes without a dot in their name are the node's, <c>tf.device</c> and
/// <c>tf.control_inputs</c> its device and <c>^inputs</c>; Const bytes are written from the blobs unchanged.
/// </summary>
public static class TfExporter
{
    public static void Write(MirModule module, Stream output, string name) => ToGraphDef(module, name).WriteTo(output);

    public static GraphDef ToGraphDef(MirModule module, string name)
    {
        var graph = new GraphDef();
        var m = module.Op;
        if (m.GetInt("tf.producer") is long producer)
        {
            graph.Versions = new VersionDef { Producer = (int)producer, MinConsumer = (int)(m.GetInt("tf.min_consumer") ?? 0) };
            if (m.GetAttr("tf.bad_consumers") is ArrayAttr bad) graph.Versions.BadConsumers.AddRange(bad.Elements.Select(e => (int)((IntegerAttr)e).Value));
        }
        if (m.GetInt("tf.version") is long version) graph.Version = (int)version;
        if (m.GetAttr("tf.library") is DenseElementsAttr lib) graph.Library = FunctionDefLibrary.Parser.ParseFrom(lib.Data.Span);
        if (m.GetAttr("tf.debug_info") is DenseElementsAttr debug) graph.DebugInfo = ByteString.CopyFrom(debug.Data.Span);

        var func = module.MainFunction;
        var names = new Dictionary<Value, string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < func.Arguments.Count; i++)
        {
            var argAttrs = func.ArgAttrs(i);
            var argName = func.ArgName(i) ?? $"Placeholder_{i}";
            if (!used.Add(argName)) throw new MirException($"'{name}': cannot write a GraphDef: two nodes are named '{argName}'");
            var node = new NodeDef { Name = argName, Op = "Placeholder" };
            if (argAttrs.Get("tf.attrs") is DictionaryAttr attrs)
                foreach (var a in attrs.Entries) node.Attr[a.Name] = Value(a.Value, module, $"argument '{argName}'");
            else
            {
                var type = func.Arguments[i].Type;
                var (dtype, shape) = type is TensorType tt ? (TfDataTypes.CodeOf(tt.Element), tt.Shape) : (null, null);
                if (dtype is null) throw new MirException($"'{name}': cannot write a GraphDef: argument '{argName}' has type {type}, which TensorFlow has no dtype for");
                node.Attr["dtype"] = new AttrValue { Type = (DataType)dtype };
                node.Attr["shape"] = new AttrValue { Shape = Shape(shape) };
            }
            Common(node, argAttrs.Get("tf.device"), argAttrs.Get("tf.control_inputs"));
            graph.Node.Add(node);
            names[func.Arguments[i]] = argName;
        }

        int index = 0;
        foreach (var op in func.Body.Operations)
        {
            if (op.Name == FuncOp.ReturnOpName) continue;
            if (!op.Name.StartsWith("tf.", StringComparison.Ordinal))
                throw new MirException($"'{name}': cannot write a GraphDef: '{op.Name}' ({NodeName(op) ?? "unnamed"}) is not a TensorFlow op (only a module in tf.* can be written as .pb)");
            var opType = op.Name[3..];
            var nodeName = NodeName(op) ?? $"{opType}_{index}";
            for (int k = 1; !used.Add(nodeName); k++) nodeName = $"{NodeName(op) ?? opType}_{index}_{k}";
            index++;
            var node = new NodeDef { Name = nodeName, Op = opType };
            foreach (var operand in op.Operands) node.Input.Add(names[operand]);
            foreach (var a in op.Attributes)
            {
                if (a.Name.Contains('.')) continue;
                node.Attr[a.Name] = Value(a.Value, module, $"node '{nodeName}' attribute '{a.Name}'");
            }
            Common(node, op.GetAttr("tf.device"), op.GetAttr("tf.control_inputs"));
            if (op.GetAttr("tf.experimental_debug_info") is DenseElementsAttr di) node.ExperimentalDebugInfo = ByteString.CopyFrom(di.Data.Span);
            if (op.GetAttr("tf.experimental_type") is DenseElementsAttr et) node.ExperimentalType = ByteString.CopyFrom(et.Data.Span);
            graph.Node.Add(node);
            for (int r = 0; r < op.Results.Count; r++) names[op.Results[r]] = r == 0 ? nodeName : $"{nodeName}:{r}";
        }

        // A control input must still name a node: a pass that removed one must have moved the dependency.
        foreach (var node in graph.Node)
            foreach (var input in node.Input)
                if (input.StartsWith('^') && !used.Contains(input[1..]))
                    throw new MirException($"'{name}': cannot write a GraphDef: node '{node.Name}' has control input '{input}', which names no node");
        return graph;
    }

    private static string? NodeName(Operation op) => op.Location is NameLoc n ? n.Name : null;

    private static void Common(NodeDef node, Attr? device, Attr? control)
    {
        if (device is StringAttr d) node.Device = d.Value;
        if (control is ArrayAttr c) node.Input.AddRange(c.Elements.Select(e => "^" + ((StringAttr)e).Value));
    }

    private static TensorShapeProto Shape(IReadOnlyList<long>? dims)
    {
        var s = new TensorShapeProto();
        if (dims is null) s.UnknownRank = true;
        else s.Dim.AddRange(dims.Select(d => new TensorShapeProto.Types.Dim { Size = d < 0 ? -1 : d }));
        return s;
    }

    /// <summary>The inverse of the importer's mapping (TfAttributes).</summary>
    private static AttrValue Value(Attr a, MirModule module, string what) => a switch
    {
        StringAttr s => new AttrValue { S = ByteString.CopyFrom(StringBytes.Encode(s.Value)) },
        IntegerAttr i => new AttrValue { I = i.Value },
        FloatAttr f => new AttrValue { F = (float)f.Value },
        BoolAttr b => new AttrValue { B = b.Value },
        TypeAttr t => new AttrValue { Type = DType(t.Type, what) },
        DenseArrayAttr d => new AttrValue { Shape = Shape(d.Values.ToArray()) },
        UnitAttr => new AttrValue { Shape = Shape(null) },
        DenseElementsAttr or DenseResourceAttr => new AttrValue { Tensor = Tensor(a, module, what) },
        ArrayAttr l => new AttrValue { List = List(l, module, what) },
        DictionaryAttr { Entries.Count: 0 } => new AttrValue(),
        DictionaryAttr d when d.Get("placeholder") is StringAttr p => new AttrValue { Placeholder = p.Value },
        DictionaryAttr d when d.Get("tensor_proto") is not null => new AttrValue { Tensor = Tensor(a, module, what) },
        DictionaryAttr d when d.Get("name") is StringAttr => new AttrValue { Func = Func(d, module, what) },
        _ => throw new MirException($"{what}: {a} has no TensorFlow attribute form"),
    };

    private static NameAttrList Func(DictionaryAttr d, MirModule module, string what)
    {
        var f = new NameAttrList { Name = ((StringAttr)d.Get("name")!).Value };
        if (d.Get("attr") is DictionaryAttr attrs)
            foreach (var e in attrs.Entries) f.Attr[e.Name] = Value(e.Value, module, what);
        return f;
    }

    private static AttrValue.Types.ListValue List(ArrayAttr l, MirModule module, string what)
    {
        var list = new AttrValue.Types.ListValue();
        foreach (var e in l.Elements)
        {
            switch (e)
            {
                case StringAttr s: list.S.Add(ByteString.CopyFrom(StringBytes.Encode(s.Value))); break;
                case IntegerAttr i: list.I.Add(i.Value); break;
                case FloatAttr f: list.F.Add((float)f.Value); break;
                case BoolAttr b: list.B.Add(b.Value); break;
                case TypeAttr t: list.Type.Add(DType(t.Type, what)); break;
                case DenseArrayAttr d: list.Shape.Add(Shape(d.Values.ToArray())); break;
                case UnitAttr: list.Shape.Add(Shape(null)); break;
                case DenseElementsAttr or DenseResourceAttr: list.Tensor.Add(Tensor(e, module, what)); break;
                case DictionaryAttr { } d when d.Get("tensor_proto") is not null: list.Tensor.Add(Tensor(e, module, what)); break;
                case DictionaryAttr d when d.Get("name") is StringAttr: list.Func.Add(Func(d, module, what)); break;
                default: throw new MirException($"{what}: list element {e} has no TensorFlow attribute form");
            }
        }
        return list;
    }

    private static DataType DType(MirType t, string what) =>
        TfDataTypes.CodeOf(t) is int code ? (DataType)code : throw new MirException($"{what}: type {t} has no TensorFlow dtype");

    /// <summary>A tensor back as TensorProto: a splat as one typed value (TensorFlow fills the shape with it), else tensor_content.</summary>
    private static TensorProto Tensor(Attr a, MirModule module, string what)
    {
        if (a is DictionaryAttr d && d.Get("tensor_proto") is DenseElementsAttr proto) return TensorProto.Parser.ParseFrom(proto.Data.Span);
        var (type, data, splat) = a switch
        {
            DenseElementsAttr e => (e.Type, e.Data, e.IsSplat),
            DenseResourceAttr r => (r.Type, module.Resources.Get(r.Key)?.Data ?? throw new MirException($"{what}: no resource blob '{r.Key}'"), false),
            _ => throw new MirException($"{what}: {a} is not a tensor"),
        };
        var t = new TensorProto { Dtype = DType(type.Element, what), TensorShape = Shape(type.Shape ?? throw new MirException($"{what}: a tensor of unknown rank")) };
        if (!splat) { t.TensorContent = ByteString.CopyFrom(data.Span); return t; }
        var v = data.Span;
        switch (t.Dtype)
        {
            case DataType.DtFloat: t.FloatVal.Add(BitConverter.ToSingle(v)); break;
            case DataType.DtDouble: t.DoubleVal.Add(BitConverter.ToDouble(v)); break;
            case DataType.DtInt32: t.IntVal.Add(BitConverter.ToInt32(v)); break;
            case DataType.DtInt16: t.IntVal.Add(BitConverter.ToInt16(v)); break;
            case DataType.DtUint16: t.IntVal.Add(BitConverter.ToUInt16(v)); break;
            case DataType.DtInt8: t.IntVal.Add((sbyte)v[0]); break;
            case DataType.DtUint8: t.IntVal.Add(v[0]); break;
            case DataType.DtInt64: t.Int64Val.Add(BitConverter.ToInt64(v)); break;
            case DataType.DtBool: t.BoolVal.Add(v[0] != 0); break;
            case DataType.DtHalf or DataType.DtBfloat16: t.HalfVal.Add(BitConverter.ToUInt16(v)); break;
            case DataType.DtUint32: t.Uint32Val.Add(BitConverter.ToUInt32(v)); break;
            case DataType.DtUint64: t.Uint64Val.Add(BitConverter.ToUInt64(v)); break;
            default: t.TensorContent = ByteString.CopyFrom(new DenseElementsAttr(type, data, true).ToFullBytes()); break;
        }
        return t;
    }
}
