using System.Runtime.InteropServices;
using Mopt.Ir;

namespace Mopt.Bench.ModelZoo;

/// <summary>
/// splitmix64: a tiny, fast generator whose numbers are the same on every runtime and machine (System.Random's
/// are not promised to be). Normal samples are Irwin–Hall sums of 12 uniforms (additions only, so bit-exact
/// everywhere, unlike Box–Muller's log and cos).
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1), 53 bits.</summary>
    public double NextUnit() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [-1, 1).</summary>
    public double NextSigned() => 2 * NextUnit() - 1;

    public double Uniform(double low, double high) => low + (high - low) * NextUnit();

    /// <summary>Approximately N(mean, stddev²): the sum of 12 uniforms has variance 1.</summary>
    public double Normal(double mean, double stddev)
    {
        double sum = 0;
        for (int i = 0; i < 12; i++) sum += NextUnit();
        return mean + stddev * (sum - 6.0);
    }
}

/// <summary>
/// Writes a module exactly as <c>OnnxImporter</c> makes one from a PyTorch-style export: module attributes
/// (<c>mo.source</c>, <c>onnx.opset</c>, <c>onnx.opset_import</c>, <c>onnx.ir_version</c>, <c>onnx.producer_name</c>),
/// <c>@main</c> with <c>mo.name</c> on its argument and result, every initializer an <c>onnx.Constant</c> of a
/// <c>dense_resource</c> blob named by its location, all of them at the top of the function (the importer reads
/// initializers before nodes), then the nodes, each with its name in <c>loc(...)</c> and its output tensor names in
/// <c>mo.outputs</c>, then a <c>func.return</c> without a location. Exporting such a module and importing the file
/// gives the same module back.
/// </summary>
public sealed class GraphBuilder
{
    public const long Opset = 17;
    public const long IrVersion = 8;
    public const string Producer = "mopt-zoo";

    private readonly FuncOp _main;
    private int _constants;

    public MirModule Module { get; }
    public ElementType Element { get; }
    public SplitMix64 Random { get; }
    public Value Input => _main.Arguments[0];

    public GraphBuilder(string graphName, string inputName, IReadOnlyList<long> inputShape, ulong seed, ElementType? element = null)
    {
        Element = element ?? ElementType.F32;
        if (Element != ElementType.F32 && Element != ElementType.F64)
            throw new ArgumentException($"the zoo builds f32 or f64 models, not {Element}");
        Random = new SplitMix64(seed);
        Module = MirModule.Create(graphName);
        var m = Module.Op;
        m.SetAttr("mo.source", new StringAttr("onnx"));
        m.SetAttr("onnx.opset", IntegerAttr.I64(Opset));
        m.SetAttr("onnx.opset_import", DictionaryAttr.From([new NamedAttr("ai.onnx", IntegerAttr.I64(Opset))]));
        m.SetAttr("onnx.ir_version", IntegerAttr.I64(IrVersion));
        m.SetAttr("onnx.producer_name", new StringAttr(Producer));
        _main = Module.AddFunction("main", [Tensor(inputShape)], []);
        _main.SetArgAttrs(0, NameAttrs(inputName));
    }

    public TensorType Tensor(IReadOnlyList<long> shape) => new(Element, shape);
    public static IReadOnlyList<long> Shape(Value v) => ((TensorType)v.Type).Shape!;

    /// <summary>Ends <c>@main</c>: returns <paramref name="output"/> as the graph output <paramref name="name"/>.</summary>
    public MirModule Finish(Value output, string name)
    {
        OpBuilder.AtEnd(_main.Body).Return([output]);
        _main.UpdateType();
        _main.SetResultAttrs(0, NameAttrs(name));
        Verifier.Verify(Module, $"zoo model '{Module.Name}'");
        return Module;
    }

    private static DictionaryAttr NameAttrs(string name) => DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr(name))]);

    // ------------------------------------------------------------------ nodes

    /// <summary>A one-output node named <paramref name="name"/>; its output tensor is <c>name_output_0</c> (as PyTorch names them) unless given.</summary>
    public Value Node(string opType, string name, Value[] inputs, TensorType type, NamedAttr[]? attrs = null, string? output = null)
    {
        var all = new List<NamedAttr>(attrs ?? []) { new("mo.outputs", ArrayAttr.OfStrings([output ?? $"{name}_output_0"])) };
        var op = new Operation("onnx." + opType, inputs, [type], all, Location.Named(name));
        _main.Body.Append(op);
        return op.Result;
    }

    public Value Unary(string opType, string name, Value x) => Node(opType, name, [x], (TensorType)x.Type);

    /// <summary>Conv with square kernel, stride and padding; <paramref name="bias"/> may be null.</summary>
    public Value Conv(string name, Value x, Value weight, Value? bias, int stride, int pad, int group = 1)
    {
        var s = Shape(x);
        var w = Shape(weight);
        long k = w[2];
        var type = Tensor([s[0], w[0], (s[2] + 2 * pad - k) / stride + 1, (s[3] + 2 * pad - k) / stride + 1]);
        return Node("Conv", name, bias is null ? [x, weight] : [x, weight, bias], type,
        [
            Ints("dilations", 1, 1), Int("group", group), Ints("kernel_shape", k, k),
            Ints("pads", pad, pad, pad, pad), Ints("strides", stride, stride),
        ]);
    }

    /// <summary>BatchNormalization in inference form (one output), epsilon 1e-5 and momentum 0.9 as PyTorch exports them.</summary>
    public Value BatchNorm(string name, Value x, Value scale, Value bias, Value mean, Value variance) =>
        Node("BatchNormalization", name, [x, scale, bias, mean, variance], (TensorType)x.Type,
            [Float("epsilon", 1e-5f), Float("momentum", 0.9f)]);

    public Value MaxPool(string name, Value x, int kernel, int stride, int pad)
    {
        var s = Shape(x);
        var type = Tensor([s[0], s[1], (s[2] + 2 * pad - kernel) / stride + 1, (s[3] + 2 * pad - kernel) / stride + 1]);
        return Node("MaxPool", name, [x], type,
            [Int("ceil_mode", 0), Ints("dilations", 1, 1), Ints("kernel_shape", kernel, kernel), Ints("pads", pad, pad, pad, pad), Ints("strides", stride, stride)]);
    }

    /// <summary>AveragePool as PyTorch exports <c>nn.AvgPool2d(kernel, stride)</c> (no padding, count_include_pad = 1).</summary>
    public Value AveragePool(string name, Value x, int kernel, int stride)
    {
        var s = Shape(x);
        var type = Tensor([s[0], s[1], (s[2] - kernel) / stride + 1, (s[3] - kernel) / stride + 1]);
        return Node("AveragePool", name, [x], type,
            [Int("ceil_mode", 0), Int("count_include_pad", 1), Ints("kernel_shape", kernel, kernel), Ints("pads", 0, 0, 0, 0), Ints("strides", stride, stride)]);
    }

    /// <summary>Concat along the channel axis (1), as <c>torch.cat(tensors, 1)</c> exports, also for a single tensor.</summary>
    public Value ConcatChannels(string name, IReadOnlyList<Value> xs)
    {
        var s = Shape(xs[0]);
        long channels = xs.Sum(x => Shape(x)[1]);
        return Node("Concat", name, [.. xs], Tensor([s[0], channels, s[2], s[3]]), [Int("axis", 1)]);
    }

    public Value GlobalAveragePool(string name, Value x)
    {
        var s = Shape(x);
        return Node("GlobalAveragePool", name, [x], Tensor([s[0], s[1], 1, 1]));
    }

    public Value Flatten(string name, Value x)
    {
        var s = Shape(x);
        long rest = 1;
        for (int i = 1; i < s.Count; i++) rest *= s[i];
        return Node("Flatten", name, [x], Tensor([s[0], rest]), [Int("axis", 1)]);
    }

    /// <summary>Gemm as PyTorch exports <c>nn.Linear</c>: <c>x · Wᵀ + b</c> (transB = 1).</summary>
    public Value Gemm(string name, Value x, Value weight, Value bias, string? output = null) =>
        Node("Gemm", name, [x, weight, bias], Tensor([Shape(x)[0], Shape(weight)[0]]),
            [Float("alpha", 1f), Float("beta", 1f), Int("transB", 1)], output);

    // ------------------------------------------------------------------ initializers

    /// <summary>An initializer: an <c>onnx.Constant</c> at the top of <c>@main</c>, its bytes a new blob keyed (and located) by <paramref name="name"/>.</summary>
    public Value Initializer(string name, IReadOnlyList<long> shape, Func<double> value)
    {
        var type = Tensor(shape);
        long n = type.ElementCount!.Value;
        var bytes = new byte[checked(n * Element.ByteSize)];
        if (Element == ElementType.F64)
        {
            var d = MemoryMarshal.Cast<byte, double>(bytes.AsSpan());
            for (int i = 0; i < d.Length; i++) d[i] = value();
        }
        else
        {
            var f = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
            for (int i = 0; i < f.Length; i++) f[i] = (float)value();
        }
        // The importer's alignment: at least 4, else the element size.
        var key = Module.Resources.Add(name, new ResourceBlob((uint)Math.Max(4, Element.ByteSize), bytes));
        var op = new Operation("onnx.Constant", [], [type], [new NamedAttr("value", new DenseResourceAttr(type, key))], Location.Named(name));
        _main.Body.Insert(_constants++, op);
        return op.Result;
    }

    public Value Scalar(string name, double value) => Initializer(name, [], () => value);

    /// <summary>He-uniform: U(±√(6 / fan_in)), variance 2 / fan_in.</summary>
    public Value HeWeight(string name, IReadOnlyList<long> shape)
    {
        long fanIn = 1;
        for (int i = 1; i < shape.Count; i++) fanIn *= shape[i];
        double bound = Math.Sqrt(6.0 / fanIn);
        return Initializer(name, shape, () => bound * Random.NextSigned());
    }

    /// <summary>A bias as PyTorch initialises it: U(±1/√fan_in).</summary>
    public Value Bias(string name, long size, long fanIn)
    {
        double bound = 1.0 / Math.Sqrt(fanIn);
        return Initializer(name, [size], () => bound * Random.NextSigned());
    }

    /// <summary>
    /// The four batch-norm parameters, non-trivial: scale ~ U(0.5, 1.5), bias ~ N(0, 0.1), running mean ~ N(0, 0.5),
    /// running variance ~ U(0.5, 2).
    /// </summary>
    public (Value Scale, Value Bias, Value Mean, Value Var) BatchNormParams(string prefix, long channels) =>
        (Initializer($"{prefix}.weight", [channels], () => Random.Uniform(0.5, 1.5)),
         Initializer($"{prefix}.bias", [channels], () => Random.Normal(0, 0.1)),
         Initializer($"{prefix}.running_mean", [channels], () => Random.Normal(0, 0.5)),
         Initializer($"{prefix}.running_var", [channels], () => Random.Uniform(0.5, 2.0)));

    // ------------------------------------------------------------------ attributes

    public static NamedAttr Int(string name, long v) => new(name, IntegerAttr.I64(v));
    public static NamedAttr Ints(string name, params long[] v) => new(name, ArrayAttr.OfInts(v));
    public static NamedAttr Float(string name, float v) => new(name, FloatAttr.F32(v));
}
