using System.Runtime.InteropServices;
using Mopt.Ir;

namespace Mopt.Bench.ParsePrint;

/// <summary>
/// A ResNet in the form mopt imports an ONNX model: every weight an <c>onnx.Constant</c> whose bytes are a
/// <c>dense_resource</c> blob, batch-norms unfused (scale, bias, mean, var constants), PyTorch-export names in
/// <c>loc("...")</c>. ResNet-18's stem, head, stage widths (64, 128, 256, 512) and basic blocks; the number of
/// blocks per stage is a parameter, so that the module can be made ResNet-18 itself (2,2,2,2) or deeper.
/// Weights are deterministic pseudo-random values (He-uniform for convolutions), the same on every run.
/// </summary>
public sealed class ResNetModule
{
    public static readonly int[] Widths = [64, 128, 256, 512];

    private readonly MirModule _module;
    private readonly OpBuilder _b;
    private readonly ElementType _elem;
    private ulong _rng;

    public int Operations { get; private set; }
    public long WeightBytes { get; private set; }
    public long Parameters { get; private set; }
    public int Blobs => _module.Resources.Count;
    public MirModule Module => _module;

    private ResNetModule(IReadOnlyList<int> blocks, ElementType elem, int classes, ulong seed)
    {
        _elem = elem;
        _rng = seed;
        _module = MirModule.Create("resnet");
        _module.Op.SetAttr("mo.source", new StringAttr("onnx"));
        _module.Op.SetAttr("onnx.opset", IntegerAttr.I64(17));

        var inputType = Tensor(1, 3, 224, 224);
        var outputType = Tensor(1, classes);
        var main = _module.AddFunction("main", [inputType], [outputType]);
        main.SetArgAttrs(0, DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr("input"))]));
        main.SetResultAttrs(0, DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr("output"))]));
        _b = OpBuilder.AtEnd(main.Body);

        // stem: 7x7/2 conv, bn, relu, 3x3/2 max-pool: 224 -> 112 -> 56
        Value x = main.Arguments[0];
        x = ConvBn(x, "conv1", "bn1", "", 64, kernel: 7, stride: 2, pad: 3);
        x = Unary("onnx.Relu", x, "/relu/Relu");
        x = MaxPool(x, "/maxpool/MaxPool");

        for (int stage = 0; stage < 4; stage++)
        {
            string layer = $"layer{stage + 1}";
            for (int i = 0; i < blocks[stage]; i++)
                x = BasicBlock(x, $"{layer}.{i}", $"/{layer}/{layer}.{i}", Widths[stage], stride: stage > 0 && i == 0 ? 2 : 1);
        }

        // head: global average pool, flatten, fully connected
        var shape = Shape(x);
        x = Create("onnx.GlobalAveragePool", [x], Tensor(1, shape[1], 1, 1), [], "/avgpool/GlobalAveragePool");
        x = Create("onnx.Flatten", [x], Tensor(1, shape[1]), [Int("axis", 1)], "/Flatten");
        var fcW = Weight("fc.weight", Tensor(classes, shape[1]), Uniform(1.0 / Math.Sqrt(shape[1])));
        var fcB = Weight("fc.bias", Tensor(classes), Uniform(1.0 / Math.Sqrt(shape[1])));
        x = Create("onnx.Gemm", [x, fcW, fcB], outputType,
            [new NamedAttr("alpha", new FloatAttr(1.0, ElementType.F32)), new NamedAttr("beta", new FloatAttr(1.0, ElementType.F32)), Int("transB", 1)],
            "/fc/Gemm");
        _b.Return([x], Location.Named("output"));
        Operations++;
    }

    /// <summary>Builds the module: <paramref name="blocks"/> basic blocks per stage (ResNet-18 is 2,2,2,2).</summary>
    public static ResNetModule Build(IReadOnlyList<int> blocks, ElementType elem, int classes = 1000, ulong seed = 0x5EED_2024) =>
        new(blocks, elem, classes, seed);

    private Value BasicBlock(Value x, string prefix, string scope, int width, int stride)
    {
        var identity = x;
        var y = ConvBn(x, $"{prefix}.conv1", $"{prefix}.bn1", scope, width, kernel: 3, stride: stride, pad: 1);
        y = Unary("onnx.Relu", y, $"{scope}/relu/Relu");
        y = ConvBn(y, $"{prefix}.conv2", $"{prefix}.bn2", scope, width, kernel: 3, stride: 1, pad: 1);
        if (stride != 1 || Shape(x)[1] != width)
            identity = ConvBn(x, $"{prefix}.downsample.0", $"{prefix}.downsample.1", scope, width, kernel: 1, stride: stride, pad: 0);
        y = Create("onnx.Add", [y, identity], y.Type, [], $"{scope}/Add");
        return Unary("onnx.Relu", y, $"{scope}/relu_1/Relu");
    }

    /// <summary>A bias-free convolution and its batch-norm, as torchvision's ResNet has them.</summary>
    private Value ConvBn(Value x, string conv, string bn, string scope, int outChannels, int kernel, int stride, int pad)
    {
        var s = Shape(x);
        long inChannels = s[1];
        long h = (s[2] + 2 * pad - kernel) / stride + 1, w = (s[3] + 2 * pad - kernel) / stride + 1;
        var outType = Tensor(1, outChannels, h, w);

        var weight = Weight($"{conv}.weight", Tensor(outChannels, inChannels, kernel, kernel), Uniform(Math.Sqrt(6.0 / (inChannels * kernel * kernel))));
        string convName = conv.Contains('.') ? conv[(conv.LastIndexOf('.') + 1)..] : conv;
        if (conv.Contains("downsample")) convName = "downsample/downsample.0";
        var y = Create("onnx.Conv", [x, weight], outType,
        [
            Ints("dilations", 1, 1), Int("group", 1), Ints("kernel_shape", kernel, kernel),
            Ints("pads", pad, pad, pad, pad), Ints("strides", stride, stride),
        ], $"{scope}/{convName}/Conv");

        var channels = Tensor(outChannels);
        var scale = Weight($"{bn}.weight", channels, i => 1.0 + 0.1 * NextSigned());
        var bias = Weight($"{bn}.bias", channels, i => 0.1 * NextSigned());
        var mean = Weight($"{bn}.running_mean", channels, i => 0.2 * NextSigned());
        var variance = Weight($"{bn}.running_var", channels, i => 0.5 + NextUnit());
        string bnName = bn.Contains("downsample") ? "downsample/downsample.1" : bn[(bn.LastIndexOf('.') + 1)..];
        return Create("onnx.BatchNormalization", [y, scale, bias, mean, variance], outType,
            [new NamedAttr("epsilon", new FloatAttr(1e-5f, ElementType.F32)), new NamedAttr("momentum", new FloatAttr(0.9f, ElementType.F32))],
            $"{scope}/{bnName}/BatchNormalization");
    }

    private Value MaxPool(Value x, string name)
    {
        var s = Shape(x);
        var outType = Tensor(1, s[1], (s[2] + 2 - 3) / 2 + 1, (s[3] + 2 - 3) / 2 + 1);
        return Create("onnx.MaxPool", [x], outType,
            [Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2)], name);
    }

    private Value Unary(string op, Value x, string name) => Create(op, [x], x.Type, [], name);

    private Value Create(string op, Value[] operands, MirType type, NamedAttr[] attrs, string name)
    {
        Operations++;
        return _b.Create(op, operands, [type], attrs, Location.Named(name)).Result;
    }

    /// <summary>An <c>onnx.Constant</c> of a new blob named after the PyTorch parameter, filled by <paramref name="value"/>.</summary>
    private Value Weight(string name, TensorType type, Func<long, double> value)
    {
        long n = type.ElementCount!.Value;
        var bytes = new byte[checked(n * _elem.ByteSize)];
        if (_elem == ElementType.F64)
        {
            var d = MemoryMarshal.Cast<byte, double>(bytes.AsSpan());
            for (int i = 0; i < d.Length; i++) d[i] = value(i);
        }
        else
        {
            var f = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
            for (int i = 0; i < f.Length; i++) f[i] = (float)value(i);
        }
        Operations++;
        Parameters += n;
        WeightBytes += bytes.Length;
        return _b.ResourceConstant(_module, name, type, bytes, Location.Named(name));
    }

    private Func<long, double> Uniform(double bound) => _ => bound * NextSigned();

    /// <summary>splitmix64: deterministic and fast enough for 25 million weights.</summary>
    private ulong Next()
    {
        ulong z = _rng += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private double NextUnit() => (Next() >> 11) * (1.0 / (1UL << 53));
    private double NextSigned() => 2 * NextUnit() - 1;

    private TensorType Tensor(params long[] shape) => new(_elem, shape);
    private static IReadOnlyList<long> Shape(Value v) => ((TensorType)v.Type).Shape!;
    private static NamedAttr Int(string name, long v) => new(name, IntegerAttr.I64(v));
    private static NamedAttr Ints(string name, params long[] v) => new(name, ArrayAttr.OfInts(v));
}
