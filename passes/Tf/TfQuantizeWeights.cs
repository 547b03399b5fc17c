using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// <c>--tf-quantize-weights='minimum-size=1024'</c>, the Graph Transform Tool's <c>quantize_weights</c>
/// (tensorflow/tools/graph_transforms/quantize_weights.cc): each large float Const is stored as eight bits and
/// turned back into floats by a <c>Dequantize</c> where it was.
/// <code>
/// Before: %w = "tf.Const"() {dtype = f32, value = dense_resource&lt;w&gt; : tensor&lt;784x10xf32&gt;} loc("w")
/// After:  %q = "tf.Const"() {dtype = !tf.quint8, value = {tensor_proto = dense&lt;"0x..."&gt; : tensor&lt;Nxui8&gt;}} loc("w_quantized_const")
///         %lo = "tf.Const"() {dtype = f32, value = dense&lt;min&gt; : tensor&lt;f32&gt;} loc("w_quantized_min")
///         %hi = "tf.Const"() {dtype = f32, value = dense&lt;max&gt; : tensor&lt;f32&gt;} loc("w_quantized_max")
///         %w = "tf.Dequantize"(%q, %lo, %hi) {T = !tf.quint8, mode = "MIN_FIRST"} loc("w")
/// </code>
/// As TensorFlow computes it (quantization_utils.h, FloatToQuantized&lt;quint8&gt;): min and max of the values,
/// widened to include 0; when they are equal, max = min + 1 (|min| &lt; 1e-6), 2·min (min &gt; 0) or min / 2; then,
/// in double, s = 256 / ((max - min) · 256 / 255) and q = clamp(round(x·s) - round(min·s), 0, 255), rounding halves
/// away from zero. Dequantize MIN_FIRST gives back about min + q · (max - min) / 255. The quint8 tensor is kept
/// as TensorFlow serializes it (mopt has no element type for quint8), so the written graph holds the same bytes.
/// Conditions: a tf.Const of dtype float (f32) with at least <c>minimum-size</c> elements; its device and control
/// inputs go to the Dequantize, which takes its name (so readers and <c>^name</c> still find it).
/// </summary>
public sealed class TfQuantizeWeights : Pass
{
    private readonly PassOption<long> _minimumSize = new("minimum-size", "the fewest elements a Const must have to be quantized", 1024, valid: n => n >= 0);

    public override string Name => "tf-quantize-weights";
    public override string Summary => "TensorFlow: store large float Consts as quint8 with a Dequantize (MIN_FIRST) after them (GTT quantize_weights)";
    public override IReadOnlyList<PassOption> Options => [_minimumSize];

    public TfQuantizeWeights Configure(GttTransform t)
    {
        if (t.One("minimum_size") is { } n) _minimumSize.Parse(n);
        return this;
    }

    public const int QUInt8 = 12;

    public override void Run(MirModule module, PassContext context)
    {
        if (!TfGraph.Applies(module, Name)) return;
        var func = module.MainFunction;
        long bytesBefore = 0, bytesAfter = 0;
        foreach (var op in func.Body.Operations.ToList())
        {
            if (op.Name != TfDialect.ConstOp || op.Results.Count != 1) continue;
            if (TfGraph.ConstValue(op.Result, module) is not { Type.Element: var e } value || e != ElementType.F32) continue;
            if (value.ElementCount < _minimumSize.Value) continue;
            var name = TfGraph.NodeName(op) ?? TfGraph.UniqueName(func, "Const");
            var (q, min, max) = Quantize(value.ToFloats());

            var builder = OpBuilder.Before(op);
            var proto = QuantizedTensorProto(value.Type.Shape!, q);
            var quantized = builder.Create(TfDialect.ConstOp, [], [TfDialect.UnknownTensor],
                [new NamedAttr("dtype", new TypeAttr(TfDataTypes.TypeOf(QUInt8))),
                 new NamedAttr("value", DictionaryAttr.From([new NamedAttr("tensor_proto", new DenseElementsAttr(new TensorType(ElementType.UI8, [proto.Length]), proto, false))]))],
                Location.Named(TfGraph.UniqueName(func, name + "_quantized_const")));
            var scalar = new TensorType(ElementType.F32, []);
            var lo = TfGraph.CreateConst(builder, module, scalar, BitConverter.GetBytes(min), TfGraph.UniqueName(func, name + "_quantized_min"));
            var hi = TfGraph.CreateConst(builder, module, scalar, BitConverter.GetBytes(max), TfGraph.UniqueName(func, name + "_quantized_max"));
            var attrs = new List<NamedAttr> { new("T", new TypeAttr(TfDataTypes.TypeOf(QUInt8))), new("mode", new StringAttr("MIN_FIRST")) };
            foreach (var keep in new[] { TfGraph.DeviceAttr, TfGraph.ControlInputsAttr })
                if (op.GetAttr(keep) is { } a) attrs.Add(new NamedAttr(keep, a));
            var dequantize = builder.Create("tf.Dequantize", [quantized.Result, lo.Result, hi.Result], [TfDialect.UnknownTensor], attrs, Location.Named(name));
            op.Result.ReplaceAllUsesWith(dequantize.Result);
            op.Erase();
            bytesBefore += value.Bytes.Length;
            bytesAfter += q.Length + 8;
            context.Count("Consts quantized");
            context.Log($"quantized '{name}' ({value.Type}) to quint8 in [{min}, {max}]");
        }
        if (bytesBefore > 0)
        {
            context.Count("weight bytes before", bytesBefore);
            context.Count("weight bytes after", bytesAfter);
        }
        func.UpdateType();
    }

    /// <summary>TensorFlow's eight-bit MIN_FIRST quantization of the values: the bytes and the range.</summary>
    public static (byte[] Q, float Min, float Max) Quantize(float[] values)
    {
        float min = float.MaxValue, max = 1.17549435e-38f; // std::numeric_limits<float>::min(), as TensorFlow starts
        foreach (var v in values)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        min = Math.Min(min, 0f);
        max = Math.Max(0f, max);
        if (min == max)
        {
            if (Math.Abs(min) < 0.000001f) max = min + 1.0f;
            else if (min > 0) max = 2.0f * min;
            else max = min / 2.0f;
        }
        const long steps = 256;
        double range = (max - (double)min) * (steps / (steps - 1.0));
        double scale = steps / range;
        double offset = Math.Round(min * scale, MidpointRounding.AwayFromZero);
        var q = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double quantized = Math.Round(values[i] * scale, MidpointRounding.AwayFromZero) - offset;
            q[i] = (byte)Math.Clamp(quantized, 0, 255);
        }
        return (q, min, max);
    }

    /// <summary>A serialized TensorProto { dtype: DT_QUINT8, tensor_shape, tensor_content }, fields in number order as protobuf writes them.</summary>
    private static byte[] QuantizedTensorProto(IReadOnlyList<long> dims, byte[] content)
    {
        var shape = new List<byte>();
        foreach (var d in dims)
        {
            var dim = new List<byte> { 0x08 };
            dim.AddRange(Varint((ulong)d));
            shape.Add(0x12);
            shape.AddRange(Varint((ulong)dim.Count));
            shape.AddRange(dim);
        }
        var proto = new List<byte>(content.Length + shape.Count + 16) { 0x08, QUInt8, 0x12 };
        proto.AddRange(Varint((ulong)shape.Count));
        proto.AddRange(shape);
        proto.Add(0x22);
        proto.AddRange(Varint((ulong)content.Length));
        proto.AddRange(content);
        return proto.ToArray();
    }

    private static IEnumerable<byte> Varint(ulong v)
    {
        while (v >= 0x80) { yield return (byte)(v | 0x80); v >>= 7; }
        yield return (byte)v;
    }
}
