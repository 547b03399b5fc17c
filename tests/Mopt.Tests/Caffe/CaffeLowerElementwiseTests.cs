using Mopt.Caffe.Proto;
using Mopt.Tests.Tf;
using static Mopt.Tests.Caffe.CaffeLoweringCheck;

namespace Mopt.Tests.Caffe;

/// <summary>The lowering of Caffe's activations and element-wise layers (CaffeElementwiseLowerings), against OpenCV or Caffe's formula.</summary>
public sealed class CaffeLowerElementwiseTests
{
    private static readonly int[] Nchw = [2, 3, 4, 5];

    [Theory]
    [InlineData("ReLU", "")]
    [InlineData("ReLU", "relu_param { negative_slope: 0.1 }")]
    [InlineData("ReLU", "relu_param { negative_slope: -1.5 }")]
    [InlineData("Sigmoid", "")]
    [InlineData("TanH", "")]
    [InlineData("AbsVal", "")]
    [InlineData("BNLL", "")]
    [InlineData("ELU", "")]
    [InlineData("ELU", "elu_param { alpha: 0.5 }")]
    [InlineData("Exp", "")]
    [InlineData("Exp", "exp_param { base: 2 scale: 0.5 shift: 1 }")]
    [InlineData("Exp", "exp_param { scale: -0.7 shift: 0.3 }")]
    [InlineData("Power", "power_param { power: 2 scale: 0.5 shift: 1 }")]
    [InlineData("Power", "power_param { power: 3 }")]
    [InlineData("Power", "power_param { scale: -2 shift: 0.5 }")]
    [InlineData("Power", "")]
    [InlineData("Dropout", "dropout_param { dropout_ratio: 0.3 }")]
    [InlineData("Softmax", "")]
    [InlineData("Softmax", "softmax_param { axis: 2 }")]
    [InlineData("Softmax", "softmax_param { axis: -1 }")]
    public void AnActivationMatchesOpenCv(string type, string param) =>
        MatchesOpenCv($"layer {{ name: \"y\" type: \"{type}\" bottom: \"a\" top: \"y\" {param} }}", ["y"], [Nchw]);

    /// <summary>Log and a fractional Power need positive inputs (their NaNs for negative ones are Caffe's too, but compare as nothing).</summary>
    [Theory]
    [InlineData("Log", "")]
    [InlineData("Power", "power_param { power: 0.5 scale: 3 }")]
    [InlineData("Power", "power_param { power: -1.5 shift: 0.25 }")]
    public void APositiveDomainActivationMatchesOpenCv(string type, string param) =>
        MatchesOpenCv($"layer {{ name: \"y\" type: \"{type}\" bottom: \"a\" top: \"y\" {param} }}", ["y"], [Nchw], low: 0.1f, high: 3);

    /// <summary>OpenCV's Log layer ignores log_param's base: Caffe's log_base(shift + scale · x) is computed here.</summary>
    [Theory]
    [InlineData(10f, 2f, 0.5f)]
    [InlineData(2f, 1f, 0f)]
    [InlineData(-1f, 0.5f, 1f)]
    public void LogIsCaffesFormula(float logBase, float scale, float shift)
    {
        var inputs = Inputs(0.1f, 3, Nchw);
        var y = RunLowered($"layer {{ name: \"y\" type: \"Log\" bottom: \"a\" top: \"y\" log_param {{ base: {logBase} scale: {scale} shift: {shift} }} }}", ["y"], inputs).Single();
        AssertValues(y, Nchw, [.. inputs[0].Values.Select(x => (float)(Math.Log(shift + scale * x) / (logBase == -1 ? 1 : Math.Log(logBase))))]);
    }

    /// <summary>LRN WITHIN_CHANNEL is Caffe's AVE pool of x² over local_size², including the zero padding (k is not used).</summary>
    [Theory]
    [InlineData(3, 0.5f, 0.7f)]
    [InlineData(5, 2f, 0.75f)]
    public void LrnWithinChannelMatchesOpenCv(int size, float alpha, float beta) =>
        MatchesOpenCv($"layer {{ name: \"y\" type: \"LRN\" bottom: \"a\" top: \"y\" lrn_param {{ norm_region: WITHIN_CHANNEL local_size: {size} alpha: {alpha} beta: {beta} }} }}",
            ["y"], [Nchw]);

    /// <summary>
    /// LRN ACROSS_CHANNELS with k = 1 and alpha written, where OpenCV computes Caffe's formula (it ignores k, and without
    /// an alpha in the prototxt it does not use Caffe's default 1): the formula test below covers k and the defaults.
    /// </summary>
    [Theory]
    [InlineData("lrn_param { local_size: 5 alpha: 1 beta: 0.75 }")]
    [InlineData("lrn_param { local_size: 5 alpha: 0.5 }")]
    [InlineData("lrn_param { local_size: 3 alpha: 0.2 beta: 0.6 }")]
    public void LrnAcrossChannelsMatchesOpenCv(string param) =>
        MatchesOpenCv($"layer {{ name: \"y\" type: \"LRN\" bottom: \"a\" top: \"y\" {param} }}", ["y"], [[2, 8, 3, 4]]);

    /// <summary>LRN ACROSS_CHANNELS: x · (k + alpha/n · Σ x² over the n channels centred on c, clipped at the edges)^−beta.</summary>
    [Theory]
    [InlineData(5, 1f, 0.75f, 1f)]
    [InlineData(3, 0.2f, 0.6f, 2f)]
    public void LrnAcrossChannelsIsCaffesFormula(int size, float alpha, float beta, float k)
    {
        int[] shape = [1, 4, 2, 3];
        var inputs = Inputs(-2, 2, shape);
        var y = RunLowered($"layer {{ name: \"y\" type: \"LRN\" bottom: \"a\" top: \"y\" lrn_param {{ local_size: {size} alpha: {alpha} beta: {beta} k: {k} }} }}", ["y"], inputs).Single();
        var x = inputs[0].Values;
        var expected = new float[x.Length];
        for (int c = 0; c < 4; c++)
            for (int p = 0; p < 6; p++)
            {
                double sum = 0;
                for (int j = c - (size - 1) / 2; j <= c + (size - 1) / 2; j++)
                    if (j is >= 0 and < 4) sum += Math.Pow(x[j * 6 + p], 2);
                expected[c * 6 + p] = (float)(x[c * 6 + p] * Math.Pow(k + alpha / size * sum, -beta));
            }
        AssertValues(y, shape, expected);
    }

    [Fact]
    public void LrnWithinChannelIsCaffesFormula()
    {
        int[] shape = [1, 2, 3, 4];
        var inputs = Inputs(-2, 2, shape);
        var y = RunLowered("layer { name: \"y\" type: \"LRN\" bottom: \"a\" top: \"y\" lrn_param { norm_region: WITHIN_CHANNEL local_size: 3 alpha: 0.5 beta: 0.7 k: 4 } }", ["y"], inputs).Single();
        var x = inputs[0].Values;
        var expected = new float[x.Length];
        for (int c = 0; c < 2; c++)
            for (int h = 0; h < 3; h++)
                for (int w = 0; w < 4; w++)
                {
                    double sum = 0;
                    for (int dh = -1; dh <= 1; dh++)
                        for (int dw = -1; dw <= 1; dw++)
                            if (h + dh is >= 0 and < 3 && w + dw is >= 0 and < 4) sum += Math.Pow(x[(c * 3 + h + dh) * 4 + w + dw], 2);
                    int i = (c * 3 + h) * 4 + w;
                    expected[i] = (float)(x[i] * Math.Pow(1 + 0.5 * sum / 9, -0.7));
                }
        AssertValues(y, shape, expected);
    }

    [Fact]
    public void PReluMatchesOpenCv() =>
        MatchesOpenCv("layer { name: \"y\" type: \"PReLU\" bottom: \"a\" top: \"y\" }", ["y"], [Nchw],
            new Dictionary<string, BlobProto[]> { ["y"] = [CaffeTestNet.Random(5, -0.5f, 0.5f, 3)] });

    /// <summary>A channel_shared slope is a blob of no axes (Caffe's shape), which OpenCV cannot read: x, or 0.25 x below 0.</summary>
    [Fact]
    public void ASharedPReluSlopeIsCaffesFormula()
    {
        var inputs = Inputs(-2, 2, Nchw);
        var y = RunLowered("layer { name: \"y\" type: \"PReLU\" bottom: \"a\" top: \"y\" prelu_param { channel_shared: true } }", ["y"], inputs,
            new Dictionary<string, BlobProto[]> { ["y"] = [CaffeTestNet.Blob([0.25f])] }).Single();
        AssertValues(y, Nchw, [.. inputs[0].Values.Select(x => x > 0 ? x : 0.25f * x)]);
    }

    /// <summary>PReLU over a 2-D input [N, C]: the slope stays [C].</summary>
    [Fact]
    public void PReluOverTwoAxesMatchesOpenCv() =>
        MatchesOpenCv("layer { name: \"y\" type: \"PReLU\" bottom: \"a\" top: \"y\" }", ["y"], [[3, 6]],
            new Dictionary<string, BlobProto[]> { ["y"] = [CaffeTestNet.Random(6, -1, 1, 6)] });

    [Theory]
    [InlineData("")]
    [InlineData("eltwise_param { operation: SUM coeff: 0.5 coeff: -2 coeff: 1 }")]
    [InlineData("eltwise_param { operation: PROD }")]
    [InlineData("eltwise_param { operation: MAX }")]
    public void EltwiseOfThreeBottomsMatchesOpenCv(string param) =>
        MatchesOpenCv($"layer {{ name: \"y\" type: \"Eltwise\" bottom: \"a\" bottom: \"b\" bottom: \"c\" top: \"y\" {param} }}", ["y"], [Nchw, Nchw, Nchw]);

    [Fact]
    public void EltwiseSumWithCoefficientsIsCaffesFormula()
    {
        int[] shape = [1, 2, 2, 2];
        var inputs = Inputs(-2, 2, shape, shape);
        var y = RunLowered("layer { name: \"y\" type: \"Eltwise\" bottom: \"a\" bottom: \"b\" top: \"y\" eltwise_param { coeff: 3 coeff: -1 } }", ["y"], inputs).Single();
        AssertValues(y, shape, [.. inputs[0].Values.Zip(inputs[1].Values, (a, b) => 3 * a - b)]);
    }

    /// <summary>OpenCV has no Clip layer for Caffe: min(max(x, min), max) is computed here.</summary>
    [Fact]
    public void ClipIsCaffesFormula()
    {
        var inputs = Inputs(-2, 2, Nchw);
        var y = RunLowered("layer { name: \"y\" type: \"Clip\" bottom: \"a\" top: \"y\" clip_param { min: -0.5 max: 0.75 } }", ["y"], inputs).Single();
        AssertValues(y, Nchw, [.. inputs[0].Values.Select(x => Math.Min(Math.Max(x, -0.5f), 0.75f))]);
    }

    /// <summary>Threshold (OpenCV has no Threshold layer for Caffe): 1 where x > t, else 0 (x = t gives 0).</summary>
    [Fact]
    public void ThresholdIsCaffesFormula()
    {
        int[] shape = [1, 1, 2, 3];
        var inputs = new[] { new CaffeInput("a", shape, [-1f, 0.3f, 0.31f, 2f, 0f, 0.29f]) };
        var y = RunLowered("layer { name: \"y\" type: \"Threshold\" bottom: \"a\" top: \"y\" threshold_param { threshold: 0.3 } }", ["y"], inputs).Single();
        AssertValues(y, shape, [0, 0, 1, 1, 0, 0]);
    }

    /// <summary>Swish is x · sigmoid(beta · x): computed here from the formula, with beta 1 and 2.</summary>
    [Theory]
    [InlineData(1f)]
    [InlineData(2f)]
    public void SwishIsCaffesFormula(float beta)
    {
        var inputs = Inputs(-3, 3, Nchw);
        var y = RunLowered($"layer {{ name: \"y\" type: \"Swish\" bottom: \"a\" top: \"y\" swish_param {{ beta: {beta} }} }}", ["y"], inputs).Single();
        AssertValues(y, Nchw, [.. inputs[0].Values.Select(x => (float)(x / (1 + Math.Exp(-beta * x))))]);
    }

    /// <summary>Power with scale 0 is the constant shift^power (1 for power 0), whatever x is.</summary>
    [Theory]
    [InlineData("power_param { power: 2 scale: 0 shift: 3 }", 9f)]
    [InlineData("power_param { power: 0 shift: 3 }", 1f)]
    public void APowerOfAConstantIsThatConstant(string param, float value)
    {
        int[] shape = [1, 2, 1, 3];
        var y = RunLowered($"layer {{ name: \"y\" type: \"Power\" bottom: \"a\" top: \"y\" {param} }}", ["y"], Inputs(-2, 2, shape)).Single();
        AssertValues(y, shape, Enumerable.Repeat(value, 6).ToArray());
    }

    [Theory]
    [InlineData("layer { name: \"y\" type: \"LRN\" bottom: \"a\" top: \"y\" lrn_param { local_size: 4 } }", "node 'y' (LRN): LRN local_size must be odd")]
    [InlineData("layer { name: \"y\" type: \"Exp\" bottom: \"a\" top: \"y\" exp_param { base: -2 } }", "node 'y' (Exp): exp_param.base must be")]
    [InlineData("layer { name: \"y\" type: \"Eltwise\" bottom: \"a\" bottom: \"a\" top: \"y\" eltwise_param { operation: MAX coeff: 1 coeff: 2 } }", "node 'y' (Eltwise): Eltwise MAX takes no coeff")]
    [InlineData("layer { name: \"y\" type: \"Eltwise\" bottom: \"a\" bottom: \"a\" top: \"y\" eltwise_param { coeff: 1 } }", "node 'y' (Eltwise): Eltwise SUM has 1 coeff for 2 bottoms")]
    [InlineData("layer { name: \"y\" type: \"Clip\" bottom: \"a\" top: \"y\" clip_param { min: 0 } }", "node 'y' (Clip): a Clip layer needs both")]
    public void AnUnfaithfulOptionIsAnErrorNamingTheLayer(string layers, string message) =>
        Assert.Contains(message, LoweringError(layers, Nchw));
}
