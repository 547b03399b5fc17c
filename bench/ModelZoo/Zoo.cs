using Mopt.Ir;

namespace Mopt.Bench.ModelZoo;

/// <summary>
/// Deterministic models in the onnx dialect, each exactly as <c>OnnxImporter</c> would import the PyTorch export of
/// it (see <see cref="GraphBuilder"/>): node and initializer names as <c>torch.onnx.export</c> writes them for the
/// torchvision module, batch-norms unfused, weights He-initialised from a splitmix64 stream, batch-norm parameters
/// random and non-trivial. The same arguments give the same module, bit for bit, on every machine.
/// </summary>
public static class Zoo
{
    public const ulong DefaultSeed = 0x5EED_2024;

    /// <summary>ResNet-18's stage widths.</summary>
    public static readonly int[] ResNetWidths = [64, 128, 256, 512];

    /// <summary>
    /// A torchvision-style ResNet of basic blocks: Conv (no bias) + BatchNormalization + Relu, residual Add, MaxPool,
    /// GlobalAveragePool, Flatten, Gemm. <paramref name="blocks"/> per stage, default 2,2,2,2 = ResNet-18 (69 nodes, 20
    /// of them BatchNormalization, 11.7M parameters = 46.8 MB of f32 weights). Input <c>input</c> 1x3xSxS, output
    /// <c>output</c> 1xclasses.
    /// </summary>
    public static MirModule ResNet(IReadOnlyList<int>? blocks = null, ulong seed = DefaultSeed, int classes = 1000, int inputSize = 224,
        ElementType? element = null)
    {
        blocks ??= [2, 2, 2, 2];
        if (blocks.Count != 4 || blocks.Any(b => b < 1)) throw new ArgumentException("a ResNet has four stages of at least one block each");
        bool resnet18 = blocks.SequenceEqual([2, 2, 2, 2]);
        var g = new GraphBuilder(resnet18 ? "resnet18" : "resnet", "input", [1, 3, inputSize, inputSize], seed, element);

        // stem: 7x7/2 conv, bn, relu, 3x3/2 max-pool
        var x = ConvBn(g, g.Input, "", "conv1", "bn1", "/conv1/Conv", "/bn1/BatchNormalization", 64, kernel: 7, stride: 2, pad: 3);
        x = g.Unary("Relu", "/relu/Relu", x);
        x = g.MaxPool("/maxpool/MaxPool", x, kernel: 3, stride: 2, pad: 1);

        for (int stage = 0; stage < 4; stage++)
        {
            string layer = $"layer{stage + 1}";
            for (int i = 0; i < blocks[stage]; i++)
                x = BasicBlock(g, x, $"{layer}.{i}", $"/{layer}/{layer}.{i}", ResNetWidths[stage], stride: stage > 0 && i == 0 ? 2 : 1);
        }

        x = g.GlobalAveragePool("/avgpool/GlobalAveragePool", x);
        x = g.Flatten("/Flatten", x);
        long features = GraphBuilder.Shape(x)[1];
        var fcW = g.HeWeight("fc.weight", [classes, features]);
        var fcB = g.Bias("fc.bias", classes, features);
        x = g.Gemm("/fc/Gemm", x, fcW, fcB, output: "output");
        return g.Finish(x, "output");
    }

    private static Value BasicBlock(GraphBuilder g, Value x, string prefix, string scope, int width, int stride)
    {
        var identity = x;
        var y = ConvBn(g, x, prefix, "conv1", "bn1", $"{scope}/conv1/Conv", $"{scope}/bn1/BatchNormalization", width, 3, stride, 1);
        y = g.Unary("Relu", $"{scope}/relu/Relu", y);
        y = ConvBn(g, y, prefix, "conv2", "bn2", $"{scope}/conv2/Conv", $"{scope}/bn2/BatchNormalization", width, 3, 1, 1);
        if (stride != 1 || GraphBuilder.Shape(x)[1] != width)
            identity = ConvBn(g, x, prefix, "downsample.0", "downsample.1",
                $"{scope}/downsample/downsample.0/Conv", $"{scope}/downsample/downsample.1/BatchNormalization", width, 1, stride, 0);
        y = g.Node("Add", $"{scope}/Add", [y, identity], (TensorType)y.Type);
        return g.Unary("Relu", $"{scope}/relu_1/Relu", y);
    }

    /// <summary>A bias-free convolution and its batch-norm; parameters named <c>prefix.conv.weight</c>, <c>prefix.bn.weight</c>, ...</summary>
    private static Value ConvBn(GraphBuilder g, Value x, string prefix, string conv, string bn, string convNode, string bnNode,
        long outChannels, int kernel, int stride, int pad, int group = 1)
    {
        string P(string s) => prefix.Length == 0 ? s : $"{prefix}.{s}";
        long inChannels = GraphBuilder.Shape(x)[1];
        var w = g.HeWeight($"{P(conv)}.weight", [outChannels, inChannels / group, kernel, kernel]);
        var y = g.Conv(convNode, x, w, null, stride, pad, group);
        var (scale, bias, mean, variance) = g.BatchNormParams(P(bn), outChannels);
        return g.BatchNorm(bnNode, y, scale, bias, mean, variance);
    }

    // ------------------------------------------------------------------ MobileNetV2

    /// <summary>
    /// torchvision's MobileNetV2: a 3x3/2 stem, 17 inverted residual blocks (1x1 expansion, 3x3 depthwise conv with
    /// group = channels, 1x1 linear projection; residual Add when the shape allows), a 1x1 conv to 1280 channels,
    /// GlobalAveragePool, Flatten, Gemm. Every conv bias-free and followed by a BatchNormalization; ReLU6 as
    /// <c>Clip(x, min, max)</c> with min 0 and max 6 as scalar initializers (the opset 11+ form). At width 1.0: 152
    /// nodes, 52 of them BatchNormalization, 35 Clip, 10 Add.
    /// </summary>
    public static MirModule MobileNetV2(ulong seed = DefaultSeed, double widthMultiplier = 1.0, int inputSize = 224, int classes = 1000)
    {
        if (widthMultiplier <= 0) throw new ArgumentException("the width multiplier must be positive");
        var g = new GraphBuilder("mobilenet_v2", "input", [1, 3, inputSize, inputSize], seed);
        var clipMin = g.Scalar("relu6.min", 0.0);
        var clipMax = g.Scalar("relu6.max", 6.0);
        Value Relu6(string node, Value v) => g.Node("Clip", node, [v, clipMin, clipMax], (TensorType)v.Type);

        // (expansion t, channels c, repeats n, first stride s), as in the paper and torchvision
        int[][] settings = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];
        long input = MakeDivisible(32 * widthMultiplier);
        long last = MakeDivisible(1280 * Math.Max(1.0, widthMultiplier));

        int f = 0;
        string S(int i) => $"/features/features.{i}";
        var x = ConvBn(g, g.Input, $"features.{f}", "0", "1", $"{S(f)}/features.{f}.0/Conv", $"{S(f)}/features.{f}.1/BatchNormalization", input, 3, 2, 1);
        x = Relu6($"{S(f)}/features.{f}.2/Clip", x);

        foreach (var s in settings)
        {
            long output = MakeDivisible(s[1] * widthMultiplier);
            for (int i = 0; i < s[2]; i++)
            {
                f++;
                int stride = i == 0 ? s[3] : 1;
                x = InvertedResidual(g, x, f, output, stride, s[0], Relu6);
            }
        }

        f++;
        x = ConvBn(g, x, $"features.{f}", "0", "1", $"{S(f)}/features.{f}.0/Conv", $"{S(f)}/features.{f}.1/BatchNormalization", last, 1, 1, 0);
        x = Relu6($"{S(f)}/features.{f}.2/Clip", x);
        x = g.GlobalAveragePool("/GlobalAveragePool", x);
        x = g.Flatten("/Flatten", x);
        var w = g.HeWeight("classifier.1.weight", [classes, last]);
        var b = g.Bias("classifier.1.bias", classes, last);
        x = g.Gemm("/classifier/classifier.1/Gemm", x, w, b, output: "output");
        return g.Finish(x, "output");
    }

    private static Value InvertedResidual(GraphBuilder g, Value x, int index, long output, int stride, int expand, Func<string, Value, Value> relu6)
    {
        long input = GraphBuilder.Shape(x)[1];
        long hidden = (long)Math.Round(input * (double)expand, MidpointRounding.ToEven);
        string prefix = $"features.{index}.conv";
        string scope = $"/features/features.{index}/conv";
        var y = x;
        int layer = 0;
        if (expand != 1)
        {
            y = ConvBn(g, y, $"{prefix}.0", "0", "1", $"{scope}/conv.0/conv.0.0/Conv", $"{scope}/conv.0/conv.0.1/BatchNormalization", hidden, 1, 1, 0);
            y = relu6($"{scope}/conv.0/conv.0.2/Clip", y);
            layer++;
        }
        // depthwise: one 3x3 filter per channel
        y = ConvBn(g, y, $"{prefix}.{layer}", "0", "1", $"{scope}/conv.{layer}/conv.{layer}.0/Conv",
            $"{scope}/conv.{layer}/conv.{layer}.1/BatchNormalization", hidden, 3, stride, 1, group: (int)hidden);
        y = relu6($"{scope}/conv.{layer}/conv.{layer}.2/Clip", y);
        // linear projection: conv and bn, no activation
        y = ConvBn(g, y, prefix, $"{layer + 1}", $"{layer + 2}", $"{scope}/conv.{layer + 1}/Conv", $"{scope}/conv.{layer + 2}/BatchNormalization", output, 1, 1, 0);
        if (stride == 1 && input == output)
            y = g.Node("Add", $"/features/features.{index}/Add", [x, y], (TensorType)y.Type);
        return y;
    }

    /// <summary>torchvision's <c>_make_divisible(v, 8)</c>: the nearest multiple of 8, at least 8, never 10% below <paramref name="v"/>.</summary>
    private static long MakeDivisible(double v, int divisor = 8)
    {
        long n = Math.Max(divisor, (long)(v + divisor / 2.0) / divisor * divisor);
        if (n < 0.9 * v) n += divisor;
        return n;
    }

    // ------------------------------------------------------------------ DenseNet

    /// <summary>DenseNet-121's dense layers per block.</summary>
    public static readonly int[] DenseNet121Blocks = [6, 12, 24, 16];

    /// <summary>
    /// torchvision's DenseNet (growth rate 32, bottleneck width 4 x 32, 64 initial features; DenseNet-121 by default):
    /// a 7x7/2 Conv + BatchNormalization + Relu + 3x3/2 MaxPool stem; dense blocks whose every layer concatenates all
    /// earlier feature maps (a <c>Concat</c>, one input for a block's first layer, as <c>torch.cat</c> exports it) and
    /// runs BatchNormalization + Relu + 1x1 Conv + BatchNormalization + Relu + 3x3 Conv, the block ending in a Concat;
    /// between blocks a transition BatchNormalization + Relu + 1x1 Conv (halving the channels) + 2x2/2 AveragePool;
    /// then BatchNormalization, Relu, GlobalAveragePool, Flatten, Gemm. Convs bias-free. DenseNet-121: 431 nodes, 121
    /// BatchNormalization: the 59 after a Conv (the stem's, each layer's second) fold into it; the 62 after a Concat
    /// (each layer's first, the transitions', the last) have no layer before them and a Relu after them.
    /// </summary>
    public static MirModule DenseNet(IReadOnlyList<int>? blocks = null, ulong seed = DefaultSeed, int growth = 32, int bottleneck = 4,
        int initialFeatures = 64, int classes = 1000, int inputSize = 224)
    {
        blocks ??= DenseNet121Blocks;
        if (blocks.Count == 0 || blocks.Any(b => b < 1)) throw new ArgumentException("a DenseNet has at least one block of at least one layer");
        bool densenet121 = blocks.SequenceEqual(DenseNet121Blocks) && growth == 32 && bottleneck == 4 && initialFeatures == 64;
        var g = new GraphBuilder(densenet121 ? "densenet121" : "densenet", "input", [1, 3, inputSize, inputSize], seed);

        var x = ConvBn(g, g.Input, "features", "conv0", "norm0", "/features/conv0/Conv", "/features/norm0/BatchNormalization",
            initialFeatures, kernel: 7, stride: 2, pad: 3);
        x = g.Unary("Relu", "/features/relu0/Relu", x);
        x = g.MaxPool("/features/pool0/MaxPool", x, kernel: 3, stride: 2, pad: 1);

        for (int b = 0; b < blocks.Count; b++)
        {
            string block = $"denseblock{b + 1}";
            var features = new List<Value> { x };
            for (int i = 0; i < blocks[b]; i++)
            {
                string layer = $"denselayer{i + 1}", prefix = $"features.{block}.{layer}", scope = $"/features/{block}/{layer}";
                var y = g.ConcatChannels($"{scope}/Concat", features);
                y = BnRelu(g, y, $"{prefix}.norm1", $"{scope}/norm1/BatchNormalization", $"{scope}/relu1/Relu");
                y = ConvBn(g, y, prefix, "conv1", "norm2", $"{scope}/conv1/Conv", $"{scope}/norm2/BatchNormalization", bottleneck * growth, 1, 1, 0);
                y = g.Unary("Relu", $"{scope}/relu2/Relu", y);
                long inChannels = GraphBuilder.Shape(y)[1];
                y = g.Conv($"{scope}/conv2/Conv", y, g.HeWeight($"{prefix}.conv2.weight", [growth, inChannels, 3, 3]), null, stride: 1, pad: 1);
                features.Add(y);
            }
            x = g.ConcatChannels($"/features/{block}/Concat", features);
            if (b == blocks.Count - 1) break;

            string transition = $"transition{b + 1}", tprefix = $"features.{transition}", tscope = $"/features/{transition}";
            x = BnRelu(g, x, $"{tprefix}.norm", $"{tscope}/norm/BatchNormalization", $"{tscope}/relu/Relu");
            long channels = GraphBuilder.Shape(x)[1];
            x = g.Conv($"{tscope}/conv/Conv", x, g.HeWeight($"{tprefix}.conv.weight", [channels / 2, channels, 1, 1]), null, stride: 1, pad: 0);
            x = g.AveragePool($"{tscope}/pool/AveragePool", x, kernel: 2, stride: 2);
        }

        long final = GraphBuilder.Shape(x)[1];
        var (scale, bias, mean, variance) = g.BatchNormParams("features.norm5", final);
        x = g.BatchNorm("/features/norm5/BatchNormalization", x, scale, bias, mean, variance);
        x = g.Unary("Relu", "/Relu", x);
        x = g.GlobalAveragePool("/GlobalAveragePool", x);
        x = g.Flatten("/Flatten", x);
        var w = g.HeWeight("classifier.weight", [classes, final]);
        var fcB = g.Bias("classifier.bias", classes, final);
        x = g.Gemm("/classifier/Gemm", x, w, fcB, output: "output");
        return g.Finish(x, "output");
    }

    /// <summary>A batch-norm with parameters <c>prefix.weight</c>, ... and the Relu after it.</summary>
    private static Value BnRelu(GraphBuilder g, Value x, string prefix, string bnNode, string reluNode)
    {
        var (scale, bias, mean, variance) = g.BatchNormParams(prefix, GraphBuilder.Shape(x)[1]);
        return g.Unary("Relu", reluNode, g.BatchNorm(bnNode, x, scale, bias, mean, variance));
    }

    // ------------------------------------------------------------------ MLP

    /// <summary>
    /// An MLP on 2-D activations: per hidden layer Gemm (transB = 1, with bias) + BatchNormalization (over the feature
    /// axis of a batch x features tensor, as <c>nn.BatchNorm1d</c> exports) + Relu, then a Gemm to the classes and
    /// Softmax (axis 1). Default: batch 4, 64 inputs, hidden 128, 96, 64, 10 classes: 11 nodes, 3 BatchNormalization.
    /// </summary>
    public static MirModule MlpWithBatchNorm(ulong seed = DefaultSeed, int batch = 4, int inputs = 64, IReadOnlyList<int>? hidden = null, int classes = 10)
    {
        hidden ??= [128, 96, 64];
        var g = new GraphBuilder("mlp_bn", "input", [batch, inputs], seed);
        var x = g.Input;
        long width = inputs;
        for (int i = 0; i < hidden.Count; i++)
        {
            string fc = $"fc{i + 1}", bn = $"bn{i + 1}";
            var w = g.HeWeight($"{fc}.weight", [hidden[i], width]);
            var b = g.Bias($"{fc}.bias", hidden[i], width);
            x = g.Gemm($"/{fc}/Gemm", x, w, b);
            var (scale, bias, mean, variance) = g.BatchNormParams(bn, hidden[i]);
            x = g.BatchNorm($"/{bn}/BatchNormalization", x, scale, bias, mean, variance);
            x = g.Unary("Relu", $"/relu{i + 1}/Relu", x);
            width = hidden[i];
        }
        string head = $"fc{hidden.Count + 1}";
        var hw = g.HeWeight($"{head}.weight", [classes, width]);
        var hb = g.Bias($"{head}.bias", classes, width);
        x = g.Gemm($"/{head}/Gemm", x, hw, hb);
        x = g.Node("Softmax", "/softmax/Softmax", [x], (TensorType)x.Type, [GraphBuilder.Int("axis", 1)], output: "output");
        return g.Finish(x, "output");
    }

    // ------------------------------------------------------------------ small CNN

    /// <summary>
    /// A small CNN on 1x3x32x32: Conv (with bias) + Relu + MaxPool, Conv (no bias) + BatchNormalization + Relu +
    /// MaxPool, Flatten, Gemm + Relu, Gemm to 10 classes: 11 nodes, one BatchNormalization.
    /// </summary>
    public static MirModule SmallCnn(ulong seed = DefaultSeed, int inputSize = 32, int classes = 10)
    {
        var g = new GraphBuilder("small_cnn", "input", [1, 3, inputSize, inputSize], seed);
        var w1 = g.HeWeight("conv1.weight", [16, 3, 3, 3]);
        var b1 = g.Bias("conv1.bias", 16, 3 * 3 * 3);
        var x = g.Conv("/conv1/Conv", g.Input, w1, b1, stride: 1, pad: 1);
        x = g.Unary("Relu", "/relu1/Relu", x);
        x = g.MaxPool("/pool1/MaxPool", x, kernel: 2, stride: 2, pad: 0);
        x = ConvBn(g, x, "", "conv2", "bn2", "/conv2/Conv", "/bn2/BatchNormalization", 32, 3, 1, 1);
        x = g.Unary("Relu", "/relu2/Relu", x);
        x = g.MaxPool("/pool2/MaxPool", x, kernel: 2, stride: 2, pad: 0);
        x = g.Flatten("/Flatten", x);
        long features = GraphBuilder.Shape(x)[1];
        var w3 = g.HeWeight("fc1.weight", [64, features]);
        var b3 = g.Bias("fc1.bias", 64, features);
        x = g.Gemm("/fc1/Gemm", x, w3, b3);
        x = g.Unary("Relu", "/relu3/Relu", x);
        var w4 = g.HeWeight("fc2.weight", [classes, 64]);
        var b4 = g.Bias("fc2.bias", classes, 64);
        x = g.Gemm("/fc2/Gemm", x, w4, b4, output: "output");
        return g.Finish(x, "output");
    }

    // ------------------------------------------------------------------ CNN with a batch-norm after every conv

    /// <summary>
    /// A small VGG-style CNN with a batch-norm after every convolution, for the quantization benchmark: per stage a 3x3
    /// Conv (no bias) + BatchNormalization + Relu, a 2x2 MaxPool between stages, then GlobalAveragePool, Flatten and a
    /// Gemm classifier. Default: 1x3x64x64, widths 32, 64, 128, 256, 10 classes: 18 nodes (4 BatchNormalization),
    /// 0.39M parameters. He-uniform weights keep the activations' scale from layer to layer (ReLU halves the second
    /// moment, fan-in x 2/fan-in doubles it back), so a unit-variance input gives activations of order 1 throughout.
    /// </summary>
    public static MirModule CnnWithBatchNorms(ulong seed = DefaultSeed, int inputSize = 64, IReadOnlyList<int>? widths = null, int classes = 10)
    {
        widths ??= [32, 64, 128, 256];
        if (widths.Count == 0 || widths.Any(w => w < 1)) throw new ArgumentException("a CNN needs at least one stage of positive width");
        var g = new GraphBuilder("cnn_bn", "input", [1, 3, inputSize, inputSize], seed);
        var x = g.Input;
        for (int i = 0; i < widths.Count; i++)
        {
            string conv = $"conv{i + 1}", bn = $"bn{i + 1}";
            x = ConvBn(g, x, "", conv, bn, $"/{conv}/Conv", $"/{bn}/BatchNormalization", widths[i], kernel: 3, stride: 1, pad: 1);
            x = g.Unary("Relu", $"/relu{i + 1}/Relu", x);
            if (i < widths.Count - 1) x = g.MaxPool($"/pool{i + 1}/MaxPool", x, kernel: 2, stride: 2, pad: 0);
        }
        x = g.GlobalAveragePool("/avgpool/GlobalAveragePool", x);
        x = g.Flatten("/Flatten", x);
        long features = GraphBuilder.Shape(x)[1];
        var w = g.HeWeight("fc.weight", [classes, features]);
        var b = g.Bias("fc.bias", classes, features);
        x = g.Gemm("/fc/Gemm", x, w, b, output: "output");
        return g.Finish(x, "output");
    }
}

/// <summary>What a module holds: operations, ONNX nodes by type, initializers and their bytes.</summary>
public sealed record ModelStats(int Operations, int Nodes, int Initializers, long Parameters, long WeightBytes, IReadOnlyDictionary<string, int> NodesByType)
{
    public int Count(string opType) => NodesByType.GetValueOrDefault(opType);

    public static ModelStats Of(MirModule module)
    {
        int ops = 0, nodes = 0, initializers = 0;
        long parameters = 0, bytes = 0;
        var byType = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var op in module.AllOperations())
        {
            ops++;
            if (op.Name == "onnx.Constant" && op.GetAttr("mo.node") is null)
            {
                initializers++;
                if (op.GetAttr("value") is DenseResourceAttr res)
                {
                    parameters += res.Type.ElementCount ?? 0;
                    bytes += module.Resources.Get(res.Key)?.Data.Length ?? 0;
                }
                else if (op.GetAttr("value") is DenseElementsAttr dense)
                {
                    parameters += dense.Type.ElementCount ?? 0;
                    bytes += dense.Type.ByteSize ?? 0;
                }
            }
            else if (op.Name.StartsWith("onnx.", StringComparison.Ordinal) && op.Name != "onnx.NoValue")
            {
                nodes++;
                string type = op.Name["onnx.".Length..];
                byType[type] = byType.GetValueOrDefault(type) + 1;
            }
        }
        return new ModelStats(ops, nodes, initializers, parameters, bytes, byType);
    }
}
