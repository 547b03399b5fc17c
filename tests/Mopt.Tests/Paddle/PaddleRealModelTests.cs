using System.Runtime.InteropServices;
using Mopt.Backend.Runtime;
using Mopt.Frontend.Paddle;
using Mopt.Ir;
using Mopt.Paddle.Proto;

namespace Mopt.Tests.Paddle;

/// <summary>
/// Issue 14 item 7 on the real models in shared/models/paddle: each imports, lowers and runs in ONNX Runtime, and gives
/// what a small interpreter of the same ProgramDesc (Paddle's ops as the tests transcribe them, over the parameters as
/// read from the files) gives; --pipeline=deploy keeps the outputs; written back as Paddle and re-imported, the same outputs.
/// </summary>
public sealed class PaddleRealModelTests
{
    private static string Models => Path.Combine(TestPaths.SharedModels, "paddle");

    public static TheoryData<string, long[]> Nets() => new()
    {
        { "paddle2onnx_fit_a_line", [2, 13] },
        { "paddlelite_simple_model/model.pdmodel", [1, 3, 224, 224] },
        { "paddlemobile_resnet_cifar", [2, 3, 32, 32] },
    };

    [SharedModelsTheory]
    [MemberData(nameof(Nets))]
    public void LoweredModelMatchesAnInterpreterOfTheProgram(string name, long[] inputShape)
    {
        var path = Path.Combine(Models, name);
        var files = PaddleModelFiles.Read(path);
        var input = PaddleLoweringCheck.Values(21, inputShape.Aggregate(1L, (a, d) => a * d), -1, 1);
        var reference = new ProgramInterpreter(files).Run(input, inputShape);

        using var dir = new TempDir();
        foreach (var (stem, extra) in new[] { ("lowered", Array.Empty<string>()), ("deployed", ["--pipeline=deploy"]) })
        {
            var onnx = dir.File(stem + ".onnx");
            var (exit, _, stderr) = Mir.Opt([path, .. extra, "-o", onnx]);
            Assert.True(exit == 0, stderr);
            using var ort = new OrtRunner(File.ReadAllBytes(onnx));
            var feedName = files.Program.Blocks[0].Ops.First(o => o.Type == "feed").Outputs[0].Arguments[0];
            var outputs = ort.Run(new Dictionary<string, NpyArray> { [feedName] = new(ElementType.F32, inputShape, MemoryMarshal.AsBytes(input.AsSpan()).ToArray()) });
            var actual = MemoryMarshal.Cast<byte, float>(outputs.Values.Single().Data).ToArray();
            Assert.Equal(reference.Shape, outputs.Values.Single().Shape);
            double worst = 0, scale = reference.Values.Max(v => Math.Abs(v));
            for (int i = 0; i < actual.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - reference.Values[i]) / Math.Max(scale, 1e-12));
            Assert.True(worst <= 1e-5, $"{name} {stem}: ONNX Runtime differs from the interpreter by {worst:E2} (relative to the largest output)");
        }
    }

    /// <summary>Written back as Paddle (as read, and after deploy) and re-imported: the same outputs, bit for bit as read.</summary>
    [SharedModelsTheory]
    [MemberData(nameof(Nets))]
    public void WrittenBackAsPaddleGivesIdenticalOutputs(string name, long[] inputShape)
    {
        var path = Path.Combine(Models, name);
        var input = PaddleLoweringCheck.Values(22, inputShape.Aggregate(1L, (a, d) => a * d), -1, 1);
        var feedName = PaddleModelFiles.Read(path).Program.Blocks[0].Ops.First(o => o.Type == "feed").Outputs[0].Arguments[0];
        using var dir = new TempDir();
        float[] Run(string model, string stem, params string[] extra)
        {
            var onnx = dir.File(stem + ".onnx");
            var (exit, _, stderr) = Mir.Opt([model, .. extra, "-o", onnx]);
            Assert.True(exit == 0, stderr);
            using var ort = new OrtRunner(File.ReadAllBytes(onnx));
            var outputs = ort.Run(new Dictionary<string, NpyArray> { [feedName] = new(ElementType.F32, inputShape, MemoryMarshal.AsBytes(input.AsSpan()).ToArray()) });
            return MemoryMarshal.Cast<byte, float>(outputs.Values.Single().Data).ToArray();
        }
        void Write(string model, string output, params string[] extra)
        {
            var (exit, _, stderr) = Mir.Opt([model, .. extra, "-o", output]);
            Assert.True(exit == 0, stderr);
        }

        var original = Run(path, "original");
        Write(path, dir.File("asread.pdmodel"));
        Assert.Equal(original, Run(dir.File("asread.pdmodel"), "asread"));

        Write(path, dir.File("deployed.pdmodel"), "--pipeline=deploy");
        var deployed = Run(dir.File("deployed.pdmodel"), "deployed");
        double worst = 0, scale = original.Max(v => Math.Abs(v));
        for (int i = 0; i < original.Length; i++) worst = Math.Max(worst, Math.Abs(deployed[i] - original[i]) / Math.Max(scale, 1e-12));
        Assert.True(worst <= 1e-5, $"{name}: deployed and written as Paddle differs by {worst:E2} (relative to the largest output)");
    }

    /// <summary>Paddle's ops as the three real models use them, one float tensor per var, NCHW.</summary>
    private sealed class ProgramInterpreter(PaddleModelFiles files)
    {
        private readonly Dictionary<string, (long[] Shape, float[] Values)> _vars = new(StringComparer.Ordinal);

        public (long[] Shape, float[] Values) Run(float[] input, long[] shape)
        {
            foreach (var (name, record) in files.Parameters)
                _vars[name] = (record.Type.Shape!.ToArray(), MemoryMarshal.Cast<byte, float>(record.Data.Span).ToArray());
            string? fetched = null;
            foreach (var op in files.Program.Blocks[0].Ops)
            {
                string In(string slot) => op.Inputs.First(s => s.Parameter == slot).Arguments[0];
                string Out(string slot) => op.Outputs.First(s => s.Parameter == slot).Arguments[0];
                float F(string attr, float d) => op.Attrs.FirstOrDefault(a => a.Name == attr)?.F ?? d;
                int[] Is(string attr) => [.. op.Attrs.First(a => a.Name == attr).Ints];
                switch (op.Type)
                {
                    case "feed": _vars[Out("Out")] = (shape, input); break;
                    case "fetch": fetched = In("X"); break;
                    case "conv2d": _vars[Out("Output")] = Conv(_vars[In("Input")], _vars[In("Filter")], Is("strides")[0], Is("paddings"), op.Attrs.First(a => a.Name == "groups").I); break;
                    case "batch_norm":
                    {
                        var (s, x) = _vars[In("X")];
                        var (g, b, m, v) = (_vars[In("Scale")].Values, _vars[In("Bias")].Values, _vars[In("Mean")].Values, _vars[In("Variance")].Values);
                        long c = s[1], hw = s[2] * s[3];
                        float eps = F("epsilon", 1e-5f);
                        _vars[Out("Y")] = (s, x.Select((val, i) => { long ch = i / hw % c; return (float)((val - m[ch]) / Math.Sqrt(v[ch] + eps) * g[ch] + b[ch]); }).ToArray());
                        break;
                    }
                    case "relu": _vars[Out("Out")] = (_vars[In("X")].Shape, _vars[In("X")].Values.Select(v => Math.Max(v, 0)).ToArray()); break;
                    case "elementwise_add":
                    {
                        var (sx, x) = _vars[In("X")];
                        var y = _vars[In("Y")].Values;
                        _vars[Out("Out")] = (sx, x.Select((v, i) => v + y[i % y.Length]).ToArray());
                        break;
                    }
                    case "pool2d":
                    {
                        var (s, x) = _vars[In("X")];
                        int k = Is("ksize")[0];
                        Assert.Equal("avg", op.Attrs.First(a => a.Name == "pooling_type").S);
                        long oh = s[2] / k, ow = s[3] / k, planes = s[0] * s[1];
                        var y = new float[planes * oh * ow];
                        for (long p = 0; p < planes; p++)
                            for (long i = 0; i < oh; i++)
                                for (long j = 0; j < ow; j++)
                                {
                                    double acc = 0;
                                    for (int a = 0; a < k; a++)
                                        for (int b = 0; b < k; b++) acc += x[(p * s[2] + i * k + a) * s[3] + j * k + b];
                                    y[(p * oh + i) * ow + j] = (float)(acc / (k * k));
                                }
                        _vars[Out("Out")] = ([s[0], s[1], oh, ow], y);
                        break;
                    }
                    case "mul":
                    {
                        var (sx, x) = _vars[In("X")];
                        var (sw, w) = _vars[In("Y")];
                        long rows = sx[0], inner = x.Length / rows, cols = sw[1];
                        var y = new float[rows * cols];
                        for (long r = 0; r < rows; r++)
                            for (long c = 0; c < cols; c++)
                            {
                                double acc = 0;
                                for (long k = 0; k < inner; k++) acc += x[r * inner + k] * w[k * cols + c];
                                y[r * cols + c] = (float)acc;
                            }
                        _vars[Out("Out")] = ([rows, cols], y);
                        break;
                    }
                    case "softmax":
                    {
                        var (s, x) = _vars[In("X")];
                        long cols = s[^1];
                        var y = new float[x.Length];
                        for (long r = 0; r < x.Length / cols; r++)
                        {
                            var row = x.Skip((int)(r * cols)).Take((int)cols).ToArray();
                            double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max));
                            for (long c = 0; c < cols; c++) y[r * cols + c] = (float)(Math.Exp(row[c] - max) / sum);
                        }
                        _vars[Out("Out")] = (s, y);
                        break;
                    }
                    default: throw new InvalidOperationException($"the test interpreter has no {op.Type}");
                }
            }
            return _vars[fetched!];
        }

        private static (long[], float[]) Conv((long[] Shape, float[] Values) x, (long[] Shape, float[] Values) f, int stride, int[] paddings, int groups)
        {
            var (s, xv) = x;
            var (fs, fv) = f;
            int n = (int)s[0], c = (int)s[1], h = (int)s[2], w = (int)s[3], o = (int)fs[0], k = (int)fs[2];
            int[] pads = paddings.Length == 2 ? [paddings[0], paddings[0], paddings[1], paddings[1]] : paddings;
            var y = new List<float>();
            int oh = 0, ow = 0;
            for (int b = 0; b < n; b++)
                y.AddRange(PaddleLoweringTests.DirectConv(xv[(b * c * h * w)..((b + 1) * c * h * w)], c, h, w, fv, o, k, stride, 1, pads, groups, out oh, out ow));
            return ([n, o, oh, ow], y.ToArray());
        }
    }
}
