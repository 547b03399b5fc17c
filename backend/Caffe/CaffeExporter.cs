using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Mopt.Caffe.Proto;
using Mopt.Caffe.Proto.Weights;
using Mopt.Dialects.Caffe;
using Mopt.Dialects.Mo;
using Mopt.Ir;
using Mopt.Protobuf;

namespace Mopt.Backend.Caffe;

/// <summary>
/// Module in <c>caffe.*</c> → NetParameter, the inverse of the importer (docs/formats/caffe.md): op type → layer type,
/// location → layer name, operands → bottoms (the producer's top, the argument's <c>mo.name</c>), results → tops
/// (<c>mo.outputs</c>), the trailing <c>caffe.blobs</c> operands → blobs (the constants' bytes copied), plain attributes
/// → the <c>caffe.param_field</c> message, <c>caffe.&lt;field&gt;</c> → the layer's field, other <c>*_param</c>
/// dictionaries → those messages. Arguments go back as <c>input</c> + <c>input_shape</c>/<c>input_dim</c>, or as the
/// Input layer named by their <c>caffe.layer</c>.
/// </summary>
public static class CaffeExporter
{
    /// <summary>The net's own fields and its layers' (what the prototxt holds) and each layer's blobs (what the <c>.caffemodel</c> adds).</summary>
    public static CaffeNet ToNet(MirModule module, string name)
    {
        var net = new NetParameter();
        // Every layer's fields, one after the other, as protobuf writes them; each layer's place in them and its blobs.
        var layerBytes = new ArrayBufferWriter<byte>(4096);
        var layers = new List<(int Start, int Length, IReadOnlyList<WeightsBlob> Blobs)>();
        var m = module.Op;
        if (m.GetAttr("caffe.name") is StringAttr netName) net.Name = netName.Value;
        if (m.GetAttr("caffe.force_backward") is BoolAttr fb) net.ForceBackward = fb.Value;
        if (m.GetAttr("caffe.debug_info") is BoolAttr di) net.DebugInfo = di.Value;
        if (m.GetAttr("caffe.state") is DictionaryAttr state)
            net.State = NetState.Parser.ParseFrom(CaffeMessageBytes.Encode(state, NetState.Descriptor, $"'{name}': caffe.state"));
        var inputForm = (m.GetAttr("caffe.input_form") as StringAttr)?.Value;

        var func = module.MainFunction;
        // The layers: every op but the return and the constants written inside layers as their blobs (asked once here:
        // the question walks each constant's users).
        var ops = new List<Operation>();
        var body = func.Body.Operations;
        for (int i = 0; i < body.Count; i++)
        {
            var op = body[i];
            if (op.Name == FuncOp.ReturnOpName || IsBlobConstant(op)) continue;
            if (!op.Name.StartsWith(CaffeDialect.Name + ".", StringComparison.Ordinal))
                throw new MirException($"'{name}': cannot write a Caffe net: '{op.Name}' ({op.Location.FirstName ?? "unnamed"}) is not a Caffe layer (only a module in caffe.* can be written as .prototxt or .caffemodel)");
            ops.Add(op);
        }

        var tops = TopNames(func, ops);
        var layerNames = new HashSet<string>(StringComparer.Ordinal);

        // Inputs: the net's input fields (input_dim when the net had them and every input is 4-D, else input_shape),
        // then one Input layer per run of arguments carrying its name.
        var netInputs = func.Arguments.Where(a => func.ArgAttrs(a.Index).Get("caffe.layer") is null).ToList();
        var shaped = netInputs.Select(a => a.Type as TensorType).Where(t => t is { IsRanked: true }).Select(t => t!).ToList();
        if (shaped.Count > 0 && shaped.Count != netInputs.Count)
            throw new MirException($"'{name}': cannot write a Caffe net: some inputs have a shape and some do not");
        bool dims = inputForm == "input_dim" && shaped.All(t => t.Rank == 4);
        foreach (var arg in netInputs) net.Input.Add(tops[arg]);
        foreach (var t in shaped)
        {
            if (dims) net.InputDim.Add(t.Shape!.Select(d => checked((int)d)));
            else net.InputShape.Add(Shape(t.Shape!));
        }
        for (int i = 0; i < func.Arguments.Count;)
        {
            var layerName = (func.ArgAttrs(i).Get("caffe.layer") as StringAttr)?.Value;
            if (layerName is null) { i++; continue; }
            var layer = new LayerParameter { Name = Unique(layerName, layerNames), Type = "Input" };
            var types = new List<MirType>();
            for (; i < func.Arguments.Count && (func.ArgAttrs(i).Get("caffe.layer") as StringAttr)?.Value == layerName; i++)
            {
                layer.Top.Add(tops[func.Arguments[i]]);
                types.Add(func.Arguments[i].Type);
            }
            var ranked = types.OfType<TensorType>().Where(t => t.IsRanked).ToList();
            if (ranked.Count == types.Count)
            {
                layer.InputParam = new InputParameter();
                layer.InputParam.Shape.Add(ranked.Select(t => Shape(t.Shape!)));
            }
            else if (ranked.Count > 0)
                throw new MirException($"'{name}': cannot write a Caffe net: Input layer '{layerName}' has tops with and without shapes");
            int start = layerBytes.WrittenCount;
            layer.WriteTo(layerBytes);
            layers.Add((start, layerBytes.WrittenCount - start, []));
        }

        int index = 0;
        // One writer for the layers' fields and one for their parameter messages, emptied for each layer.
        var layerFields = new CaffeMessageBytes.Builder(LayerParameter.Descriptor, name);
        var paramFields = new CaffeMessageBytes.Builder(LayerParameter.Descriptor, name);
        var canonical = new CanonicalWire();
        foreach (var op in ops)
        {
            var type = op.Name[(CaffeDialect.Name.Length + 1)..];
            var layerName = Unique(op.Location.FirstName ?? $"{type.ToLowerInvariant()}{index}", layerNames);
            index++;
            int start = layerBytes.WrittenCount;
            var blobs = Layer(op, type, layerName, tops, module, name, layerFields, paramFields, canonical, layerBytes);
            layers.Add((start, layerBytes.WrittenCount - start, blobs));
        }
        var written = layerBytes.WrittenMemory;
        return new CaffeNet(net, layers.Select(l => new CaffeNetLayer(written.Slice(l.Start, l.Length), l.Blobs)).ToList());
    }

    /// <summary>Whether <paramref name="op"/> is a constant that only layers' blob operands read (written inside them).</summary>
    private static bool IsBlobConstant(Operation op)
    {
        if (op.Name != Constants.ConstantOp || op.Results.Count != 1) return false;
        foreach (var use in op.Result.Uses)
            if (BlobCount(use.Owner) is not int n || use.Index < use.Owner.OperandCount - n) return false;
        return true;
    }

    private static int? BlobCount(Operation op) =>
        op.Name.StartsWith(CaffePrefix, StringComparison.Ordinal) ? (int)(op.GetInt(CaffeDialect.BlobsAttr) ?? 0) : null;

    private const string CaffePrefix = CaffeDialect.Name + ".";

    /// <summary>Appends the layer's fields to <paramref name="output"/> as protobuf writes a LayerParameter; returns its blobs.</summary>
    /// <param name="layer">The writer of the layer's fields, and <paramref name="paramFields"/> of its parameter message's (both emptied here).</param>
    private static List<WeightsBlob> Layer(Operation op, string type, string layerName, Dictionary<Value, string> tops, MirModule module, string name,
        CaffeMessageBytes.Builder layer, CaffeMessageBytes.Builder paramFields, CanonicalWire canonical, ArrayBufferWriter<byte> output)
    {
        var what = new LayerWhat(name, layerName, type);
        int blobs = (int)(op.GetInt(CaffeDialect.BlobsAttr) ?? 0);
        if (blobs < 0 || blobs > op.OperandCount) throw new MirException($"{what}: caffe.blobs = {blobs}, but it has {op.OperandCount} operands");

        layer.Start(LayerParameter.Descriptor, what);
        var fields = LayerParameter.Descriptor;
        layer.String(LayerParameter.NameFieldNumber, layerName);
        layer.String(LayerParameter.TypeFieldNumber, type);
        for (int i = 0; i < op.OperandCount - blobs; i++)
        {
            var operand = op.GetOperand(i);
            if (!tops.TryGetValue(operand, out var bottom))
                throw new MirException($"{what}: bottom {i} is {Describe(operand)}, not the top of a layer or an input");
            layer.String(LayerParameter.BottomFieldNumber, bottom);
        }
        var results = op.Results;
        for (int i = 0; i < results.Count; i++) layer.String(LayerParameter.TopFieldNumber, tops[results[i]]);

        var own = (op.GetAttr(CaffeDialect.ParamAttr) as StringAttr)?.Value;
        var ownField = own is null ? null : fields.FindFieldByName(own)
            ?? throw new MirException($"{what}: caffe.param_field '{own}' is no field of LayerParameter");
        if (ownField is { FieldType: not Google.Protobuf.Reflection.FieldType.Message })
            throw new MirException($"{what}: caffe.param_field '{own}' is not a message field");
        var param = ownField is null ? null : paramFields.Start(ownField.MessageType, new ParamWhat(what, own!));

        foreach (var attr in op.AttributeSpan)
        {
            switch (attr.Name)
            {
                case MoDialect.OutputsAttr or CaffeDialect.BlobsAttr or CaffeDialect.ParamAttr:
                    continue;
                case "caffe.param_unknown_fields" when param is not null:
                    param.Raw(CaffeMessageBytes.BytesOf(attr.Value) ?? throw new MirException($"{what}: caffe.param_unknown_fields is not bytes"));
                    continue;
                case CaffeMessageBytes.UnknownFieldsAttr:
                    layer.Raw(CaffeMessageBytes.BytesOf(attr.Value) ?? throw new MirException($"{what}: {attr.Name} is not bytes"));
                    continue;
            }
            if (attr.Name.StartsWith("mo.", StringComparison.Ordinal)) continue; // mopt's own notes (names, hints): not Caffe's
            if (attr.Name.StartsWith("caffe.", StringComparison.Ordinal))
            {
                var field = fields.FindFieldByName(attr.Name["caffe.".Length..]);
                if (field is null || field.FieldNumber is LayerParameter.NameFieldNumber or LayerParameter.TypeFieldNumber
                    or LayerParameter.BottomFieldNumber or LayerParameter.TopFieldNumber or LayerParameter.BlobsFieldNumber)
                    throw new MirException($"{what}: attribute '{attr.Name}' is no field of LayerParameter, so it cannot be written back");
                layer.Field(field, attr.Value);
                continue;
            }
            if (attr.Name.Contains('.'))
                throw new MirException($"{what}: attribute '{attr.Name}' has no place in a Caffe layer");
            if (param is not null && param.Descriptor.FindFieldByName(attr.Name) is { } paramField) param.Field(paramField, attr.Value);
            else if (attr.Name.EndsWith("_param", StringComparison.Ordinal) && fields.FindFieldByName(attr.Name) is { } other) layer.Field(other, attr.Value);
            else throw new MirException($"{what}: attribute '{attr.Name}' is no field of {(own ?? "any of its parameter messages")}, so it cannot be written back");
        }
        if (ownField is not null) layer.Message(ownField, param!.WrittenSpan());

        // The builder's bytes put in protobuf's order without a LayerParameter; what that cannot settle (bytes of unknown
        // fields carried over, a field given twice) is parsed and written, with protobuf's own errors.
        var built = layer.WrittenSpan();
        if (!canonical.TryWrite(LayerParameter.Descriptor, built, output))
        {
            try { LayerParameter.Parser.ParseFrom(built).WriteTo(output); }
            catch (InvalidProtocolBufferException e) { throw new MirException($"{what}: {e.Message}"); }
        }
        var blobList = new List<WeightsBlob>(blobs);
        for (int i = op.OperandCount - blobs; i < op.OperandCount; i++)
            blobList.Add(Blob(op.GetOperand(i), module, what, i - (op.OperandCount - blobs)));
        return blobList;
    }

    /// <summary>A blob from the constant's bytes: f32 as <c>data</c>, f64 as <c>double_data</c>, with its shape.</summary>
    private static WeightsBlob Blob(Value value, MirModule module, LayerWhat layerWhat, int index)
    {
        // The message is built only for an error; the constant's attribute is looked up once (each look-up asks the
        // dialect registry for the op's definition).
        string What() => $"{layerWhat}: blob {index}";
        var attr = value is OpResult { Owner: var op } ? Constants.ValueAttribute(op) : null;
        if (attr is null) throw new MirException($"{What()} is {Describe(value)}, not a constant");
        if (Constants.TryGet(attr, module) is not { } tensor) throw new MirException($"{What()}: its constant has no static shape or no bytes");
        var blob = new WeightsBlob { Shape = Shape(tensor.Type.Shape!) };
        // The IR's bytes are wrapped, not copied: the module is not changed while the file is written.
        if (tensor.Type.Element == ElementType.F32) blob.Data.Add(UnsafeByteOperations.UnsafeWrap(tensor.Bytes));
        else if (tensor.Type.Element == ElementType.F64) blob.DoubleData.Add(UnsafeByteOperations.UnsafeWrap(tensor.Bytes));
        else throw new MirException($"{What()} is {tensor.Type}: Caffe blobs hold f32 or f64");
        return blob;
    }

    private static BlobShape Shape(IReadOnlyList<long> dims)
    {
        var shape = new BlobShape();
        shape.Dim.Add(dims);
        return shape;
    }

    /// <summary>
    /// The top name of every value: arguments' <c>mo.name</c>, results' <c>mo.outputs</c> (else the layer's name). Caffe
    /// reads a bottom as the latest top of that name, so a value read after an in-place layer overwrote its name is
    /// renamed (<c>name_1</c>, ...) and that layer stops being in place.
    /// </summary>
    private static Dictionary<Value, string> TopNames(FuncOp func, List<Operation> ops)
    {
        var names = new Dictionary<Value, string>();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < func.Arguments.Count; i++)
        {
            names[func.Arguments[i]] = func.ArgName(i) ?? $"input{i}";
            taken.Add(names[func.Arguments[i]]);
        }
        var returned = new Dictionary<Value, string>();
        if (func.Return is { } ret)
            for (int i = 0; i < ret.OperandCount; i++)
                if (func.ResultName(i) is { } n) returned.TryAdd(ret.GetOperand(i), n);
        int index = 0;
        foreach (var op in ops)
        {
            // The result names, read in place (not copied to a list per layer).
            var outputs = op.GetAttr(MoDialect.OutputsAttr) is ArrayAttr a && a.Elements.Count == op.Results.Count ? a.Elements : null;
            var layerName = op.Location.FirstName ?? $"{op.Name[(CaffeDialect.Name.Length + 1)..].ToLowerInvariant()}{index}";
            index++;
            for (int r = 0; r < op.Results.Count; r++)
            {
                var result = op.Results[r];
                names[result] = (outputs?[r] as StringAttr)?.Value ?? (returned.TryGetValue(result, out var n) ? n : op.Results.Count == 1 ? layerName : $"{layerName}_{r}");
                taken.Add(names[result]);
            }
        }

        // Replay the net as Caffe reads it; a read of a name some later top took over gets a fresh name.
        var current = new Dictionary<string, Value>(StringComparer.Ordinal);
        foreach (var arg in func.Arguments) current[names[arg]] = arg;
        void Read(Value v)
        {
            if (!names.TryGetValue(v, out var n) || current.GetValueOrDefault(n) == v) return;
            var fresh = Unique(n, taken);
            names[v] = fresh;
            current[fresh] = v;
        }
        // By index: Operation.Operands is a query, and a foreach over a list interface an enumerator per op.
        foreach (var op in ops)
        {
            for (int i = 0; i < op.OperandCount; i++) Read(op.GetOperand(i));
            for (int i = 0; i < op.Results.Count; i++) current[names[op.Results[i]]] = op.Results[i];
        }
        if (func.Return is { } r2)
            for (int i = 0; i < r2.OperandCount; i++) Read(r2.GetOperand(i));
        return names;
    }

    private static string Unique(string name, HashSet<string> taken)
    {
        var candidate = name;
        for (int k = 1; !taken.Add(candidate); k++) candidate = $"{name}_{k}";
        return candidate;
    }

    private static string Describe(Value v) => v switch
    {
        OpResult r => $"a result of {r.Owner.Name}{(r.Owner.Location.FirstName is { } n ? $" '{n}'" : "")}",
        BlockArgument a => $"argument #{a.Index}",
        _ => "?",
    };

    /// <summary>"'net': cannot write layer 'name' (Type)", the start of a layer's errors: its text made only for an error.</summary>
    private sealed record LayerWhat(string Net, string Layer, string Type)
    {
        public override string ToString() => $"'{Net}': cannot write layer '{Layer}' ({Type})";
    }

    /// <summary>A layer's own parameter message, as its errors name it.</summary>
    private sealed record ParamWhat(LayerWhat Layer, string Field)
    {
        public override string ToString() => $"{Layer}: {Field}";
    }
}
