using System.Runtime.InteropServices;
using Mopt.Backend.Runtime;
using Mopt.Frontend.Paddle;
using Mopt.Ir;

namespace Mopt.Tests.Paddle;

/// <summary>
/// Issue 14 item 6: the seed's options before writing Paddle, from the command line. <c>--fold-bn</c> leaves no
/// batch_norm in the written program and keeps the outputs (1e-5); <c>--round-weights</c> leaves at most 256 values in
/// each rounded parameter of the written .pdiparams, each within half a quantization step of the original, and the
/// written model gives what the same rounding gives written as ONNX.
/// </summary>
public sealed class PaddleSeedOptionsTests
{
    private static string Models => Path.Combine(TestPaths.SharedModels, "paddle");

    /// <summary>round-weights' defaults: 2^8 levels, tensors of at least 1024 elements.</summary>
    private const int Levels = 256, MinSize = 1024;

    public static TheoryData<string, long[]> WithBatchNorms() => new()
    {
        { "paddlelite_simple_model/model.pdmodel", [1, 3, 224, 224] },
        { "paddlemobile_resnet_cifar", [2, 3, 32, 32] },
    };

    public static TheoryData<string, long[]> Real() => new()
    {
        { "paddle2onnx_fit_a_line", [2, 13] },
        { "paddlelite_simple_model/model.pdmodel", [1, 3, 224, 224] },
        { "paddlemobile_resnet_cifar", [2, 3, 32, 32] },
    };

    private static void Opt(params string[] args)
    {
        var (exit, _, stderr) = Mir.Opt(args);
        Assert.True(exit == 0, $"mopt-opt {string.Join(" ", args)}: {stderr}");
    }

    [SharedModelsTheory]
    [MemberData(nameof(WithBatchNorms))]
    public void FoldBnBeforeWritingPaddleFoldsEveryBatchNormAndKeepsTheOutputs(string name, long[] inputShape)
    {
        using var dir = new TempDir();
        var source = Path.Combine(Models, name);
        Assert.Contains(PaddleModelFiles.Read(source).Program.Blocks[0].Ops, op => op.Type == "batch_norm");

        Opt(source, "--fold-bn", "-o", dir.File("folded.pdmodel"));

        Assert.DoesNotContain(PaddleModelFiles.Read(dir.File("folded.pdmodel")).Program.Blocks[0].Ops, op => op.Type == "batch_norm");
        var (expected, actual) = (RunLowered(source, dir, "original", inputShape), RunLowered(dir.File("folded.pdmodel"), dir, "folded", inputShape));
        Assert.True(MaxAbsDiff(actual, expected) <= 1e-5 * Math.Max(1, MaxAbs(expected)),
            $"{name}: fold-bn moved the output by {MaxAbsDiff(actual, expected):E2} (largest |output| {MaxAbs(expected):G3})");
    }

    [SharedModelsTheory]
    [MemberData(nameof(Real))]
    public void RoundWeightsBeforeWritingPaddleLeavesAtMost256ValuesPerParameter(string name, long[] inputShape)
    {
        using var dir = new TempDir();
        var source = Path.Combine(Models, name);
        Opt(source, "--round-weights", "-o", dir.File("rounded.pdmodel"));

        var original = PaddleModelFiles.Read(source).Parameters;
        var written = PaddleModelFiles.Read(dir.File("rounded.pdmodel")).Parameters;
        Assert.Equal(original.Keys.Order(), written.Keys.Order());
        int changed = 0;
        foreach (var (param, record) in written)
        {
            var before = Floats(original[param]);
            var after = Floats(record);
            if (before.Length < MinSize || before.Min() == before.Max())
            {
                Assert.True(before.AsSpan().SequenceEqual(after), $"{name}: '{param}' ({before.Length} elements) is not rounded but changed");
                continue;
            }
            if (!before.AsSpan().SequenceEqual(after)) changed++;
            Assert.True(after.Distinct().Count() <= Levels, $"{name}: '{param}' holds {after.Distinct().Count()} values after rounding");
            double halfStep = ((double)before.Max() - before.Min()) / (Levels - 1) / 2;
            double worst = before.Zip(after, (a, b) => Math.Abs((double)a - b)).Max();
            Assert.True(worst <= halfStep * (1 + 1e-5), $"{name}: '{param}' moved by {worst:E3}, more than half a step {halfStep:E3}");
        }
        if (original.Values.Any(r => r.Data.Length / sizeof(float) >= MinSize)) Assert.True(changed > 0, $"{name}: no parameter was rounded");

        // The written parameters are the rounded ones: the model gives what the same rounding written as ONNX gives.
        Opt(source, "--round-weights", "-o", dir.File("rounded.onnx"));
        var expected = Run(dir.File("rounded.onnx"), inputShape);
        var actual = RunLowered(dir.File("rounded.pdmodel"), dir, "back", inputShape);
        Assert.True(MaxAbsDiff(actual, expected) <= 1e-6 * Math.Max(1, MaxAbs(expected)), $"{name}: {MaxAbsDiff(actual, expected):E2}");
    }

    /// <summary>Both options at once (the seed's merge with rounding and merged batch norms): no batch_norm, and the outputs near the original's.</summary>
    [SharedModelsTheory]
    [MemberData(nameof(WithBatchNorms))]
    public void BothOptionsTogetherFoldAndRound(string name, long[] inputShape)
    {
        using var dir = new TempDir();
        var source = Path.Combine(Models, name);
        // fold first, so that the folded weights are the ones rounded (rounding first, folding scales each channel again)
        Opt(source, "--fold-bn", "--round-weights", "-o", dir.File("both.pdmodel"));
        Opt(source, "--round-weights", "--fold-bn", "-o", dir.File("other-order.pdmodel"));

        var files = PaddleModelFiles.Read(dir.File("both.pdmodel"));
        Assert.DoesNotContain(files.Program.Blocks[0].Ops, op => op.Type == "batch_norm");
        Assert.DoesNotContain(PaddleModelFiles.Read(dir.File("other-order.pdmodel")).Program.Blocks[0].Ops, op => op.Type == "batch_norm");
        foreach (var (param, record) in files.Parameters)
            if (Floats(record) is { Length: >= MinSize } values)
                Assert.True(values.Distinct().Count() <= Levels, $"{name}: '{param}' holds {values.Distinct().Count()} values");

        // Rounding to 256 levels per tensor moves the outputs by a small part of their range (a few % on these nets; the
        // ResNet's softmax saturates on this input, so not at all there).
        var expected = RunLowered(source, dir, "original", inputShape);
        foreach (var written in new[] { "both", "other-order" })
        {
            var actual = RunLowered(dir.File(written + ".pdmodel"), dir, written, inputShape);
            double relative = MaxAbsDiff(actual, expected) / MaxAbs(expected);
            Assert.True(relative <= 0.05, $"{name} {written}: the output moved by {relative:P2} of its largest value");
        }
    }

    private static float[] Floats(PaddleTensorRecord record)
    {
        Assert.Equal(ElementType.F32, record.Type.Element);
        return MemoryMarshal.Cast<byte, float>(record.Data.Span).ToArray();
    }

    /// <summary>The Paddle model lowered to ONNX by mopt-opt, run in ONNX Runtime on the seeded input.</summary>
    private static float[] RunLowered(string paddle, TempDir dir, string stem, long[] inputShape)
    {
        Opt(paddle, "-o", dir.File(stem + ".onnx"));
        return Run(dir.File(stem + ".onnx"), inputShape);
    }

    private static float[] Run(string onnx, long[] inputShape)
    {
        using var ort = new OrtRunner(File.ReadAllBytes(onnx));
        var input = PaddleLoweringCheck.Values(14, inputShape.Aggregate(1L, (a, d) => a * d), -1, 1);
        var outputs = ort.Run(new Dictionary<string, NpyArray>
        {
            [ort.InputNames.Single()] = new(ElementType.F32, inputShape, MemoryMarshal.AsBytes(input.AsSpan()).ToArray()),
        });
        return MemoryMarshal.Cast<byte, float>(outputs.Values.Single().Data).ToArray();
    }

    private static double MaxAbs(float[] values) => values.Max(v => Math.Abs((double)v));

    private static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(b.Length, a.Length);
        return a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
    }
}
