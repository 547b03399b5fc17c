using System.Text.Json;
using Mopt.Backend.Runtime;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Passes;
using Mopt.Passes.Quantization;
using Mopt.Tests.Numeric;

namespace Mopt.Tests.Passes;

/// <summary>
/// --quantize-int8 in ONNX Runtime: dynamic and static int8 models agree with the float model on inputs other than
/// the calibration ones (top-1 and a stated relative error), weights really are int8, the report's numbers follow
/// from the ranges it lists, and bad calibration data or non-constant weights fail with nothing written.
/// </summary>
public sealed class QuantizeInt8Tests
{
    private static MirModule SmallCnn() => MirReader.ParseFile(Mir.ExamplePath);

    private static MirModule Mnist() => OnnxImporter.ImportFile(Path.Combine(TestPaths.SharedModels, "onnx", "connxr_mnist", "model.onnx"));

    /// <summary>Float parameters left with more than a handful of elements (a bias or scale is allowed).</summary>
    private static int LargeFloatConstants(MirModule m) => m.AllOperations()
        .Count(o => o.Name == Constants.ConstantOp && Constants.TryGet(o.Result, m) is { } t && t.Type.Element.IsFloat && t.ElementCount > 64);

    [Fact]
    public void WithoutDataTheSmallCnnGetsInt8WeightsAndKeepsItsAnswers()
    {
        // Convs weight-only (float compute on Cast(W_q) * scale), the Gemm dynamic (MatMulInteger); no float weight left.
        var result = Numerics.RunPasses(SmallCnn(), "fold-bn,dce,quantize-int8", seed: 3);
        var diff = Assert.Single(result.Differences);
        Assert.Equal(1.0, diff.Top1Agreement);
        Assert.True(diff.MaxRelDiff < 0.02, $"max rel diff {diff.MaxRelDiff}");
        Assert.Equal(0, Numerics.Count(result.After, "onnx.ConvInteger"));
        Assert.Equal(1, Numerics.Count(result.After, "onnx.MatMulInteger"));
        foreach (var conv in result.After.AllOperations().Where(o => o.Name == "onnx.Conv"))
        {
            var mul = ((OpResult)conv.GetOperand(1)).Owner;
            Assert.Equal("onnx.Mul", mul.Name);
            var cast = ((OpResult)mul.GetOperand(0)).Owner;
            Assert.Equal("onnx.Cast", cast.Name);
            Assert.Equal(ElementType.I8, ((TensorType)cast.GetOperand(0).Type).Element);
        }
        Assert.Equal(0, LargeFloatConstants(result.After));
    }

    [Theory]
    [InlineData(1, "quantize-int8")]
    [InlineData(2, "quantize-int8")]
    [InlineData(1, "quantize-int8{calibration=random:4}")]
    public void AConvTransposeGetsAnInt8WeightPerOutputChannelWithOrWithoutData(int group, string pass)
    {
        var n = new TestNet(40 + group, ("x", [1, 4, 5, 5]));
        int m = 3 * group;
        var w = n.Random("deconv.weight", [4, 3, 3, 3]);
        var c = n.Op("ConvTranspose", "deconv", [n[0], w, n.Random("deconv.bias", [m])], [1, m, 10, 10], TestNet.Int("group", group),
            TestNet.Ints("strides", 2, 2), TestNet.Ints("pads", 1, 1, 1, 1), TestNet.Ints("output_padding", 1, 1));
        var result = Numerics.RunPasses(n.Finish(n.Op("Relu", "relu", [c], [1, m, 10, 10])), pass, seed: 5);
        var diff = Assert.Single(result.Differences);
        Assert.True(diff.MaxRelDiff < 0.05, $"max rel diff {diff.MaxRelDiff}");
        var deconv = Assert.Single(result.After.AllOperations(), o => o.Name == "onnx.ConvTranspose");
        var mul = ((OpResult)deconv.GetOperand(1)).Owner;
        Assert.Equal("onnx.Mul", mul.Name);
        Assert.Equal(ElementType.I8, ((TensorType)((OpResult)mul.GetOperand(0)).Owner.GetOperand(0).Type).Element);
        // One scale per index of the weight's output-channel axis (1: [C, M/group, k, k]), broadcast along it.
        Assert.Equal(new long[] { 1, 3, 1, 1 }, ((TensorType)mul.GetOperand(1).Type).Shape);
        Assert.Equal(0, LargeFloatConstants(result.After));
    }

    [Fact]
    public void TheDequantizeLinearFormComputesTheSameWeightsBitForBit()
    {
        var weightOnly = Numerics.RunPasses(SmallCnn(), "fold-bn,dce,quantize-int8", seed: 3);
        var dq = Numerics.RunPasses(SmallCnn(), "fold-bn,dce,quantize-int8{conv=dequantize-linear}", seed: 3);
        Assert.Equal(2, Numerics.Count(dq.After, "onnx.DequantizeLinear"));
        var a = Assert.Single(weightOnly.Differences);
        var b = Assert.Single(dq.Differences);
        // Same float weights, so the same outputs against the original, to the last bit.
        Assert.Equal(a.MaxRelDiff, b.MaxRelDiff);
        Assert.Equal(a.MaxAbsDiff, b.MaxAbsDiff);
    }

    [Fact]
    public void DynamicQuantizationOfTheSmallCnnKeepsItsAnswers()
    {
        var result = Numerics.RunPasses(SmallCnn(), "fold-bn,dce,quantize-int8{conv=integer}", seed: 3);
        var diff = Assert.Single(result.Differences);
        Assert.Equal(1.0, diff.Top1Agreement);
        Assert.True(diff.MaxRelDiff < 0.02, $"max rel diff {diff.MaxRelDiff}");
        Assert.Equal(2, Numerics.Count(result.After, "onnx.ConvInteger"));
        Assert.Equal(1, Numerics.Count(result.After, "onnx.MatMulInteger"));
        Assert.Equal(0, Numerics.Count(result.After, "onnx.Conv") + Numerics.Count(result.After, "onnx.Gemm"));
        Assert.Equal(0, LargeFloatConstants(result.After));
    }

    [Fact]
    public void StaticQuantizationOfTheSmallCnnKeepsItsAnswersOnOtherInputs()
    {
        // Calibrated on random:16 (seed 0); compared on inputs of seed 7.
        var result = Numerics.RunPasses(SmallCnn(), "fold-bn,dce,quantize-int8{calibration=random:16}", seed: 7);
        var diff = Assert.Single(result.Differences);
        Assert.Equal(1.0, diff.Top1Agreement);
        Assert.True(diff.MaxRelDiff < 0.05, $"max rel diff {diff.MaxRelDiff}");
        var m = result.After;
        Assert.Equal(0, Numerics.Count(m, "onnx.Relu")); // absorbed into the Convs' output QuantizeLinear
        Assert.Equal(0, LargeFloatConstants(m));
        // Every Conv and Gemm reads dequantized values only: the input, an int8 weight, an int32 bias.
        foreach (var layer in m.AllOperations().Where(o => o.OpType is "Conv" or "Gemm"))
        {
            var sources = layer.Operands.Select(v => ((OpResult)v).Owner).ToList();
            Assert.All(sources, s => Assert.Equal("onnx.DequantizeLinear", s.Name));
            Assert.Equal(ElementType.I8, ((TensorType)sources[1].GetOperand(0).Type).Element);
            Assert.Equal(ElementType.I32, ((TensorType)sources[2].GetOperand(0).Type).Element);
            var user = Assert.Single(layer.Result.Users);
            Assert.Equal("onnx.QuantizeLinear", user.Name);
        }
    }

    /// <summary>
    /// mnist (opset 8, raised to 13) calibrated on 24 seeded-random .npy samples and compared on 40 other random
    /// inputs: measured top-1 39/40 (minmax), 38/40 (percentile), 37/40 (entropy, which clips uint8 ranges as TensorRT
    /// does: 256 levels), 38/40 (mse), 37/40 (auto); max relative error of the logits 0.10-0.17; random inputs are far from digits, so
    /// the bounds are looser than the benchmark's real-data targets.
    /// </summary>
    [SharedModelsTheory]
    [InlineData("minmax", 0.95, 0.25)]
    [InlineData("percentile", 0.95, 0.25)]
    [InlineData("entropy", 0.9, 0.25)]
    [InlineData("mse", 0.9, 0.25)]
    [InlineData("auto", 0.9, 0.25)]
    public void MnistCalibratedOnAnNpyFolderAgreesWithTheFloatModel(string method, double minTop1, double maxRelError)
    {
        using var dir = new TempDir();
        var module = Mnist();
        using (var probe = new OrtRunner(ModelProbes.ToOnnxBytes(module)))
            for (int i = 0; i < 24; i++)
                RandomInputs.For(probe.Inputs, seed: 1000 + i).Single().Value.Write(dir.File($"sample_{i:D3}.npy"));
        var before = ModelProbes.ToOnnxBytes(module);
        var pm = new PassManager { Services = TestRuntime.Services };
        pm.Passes.AddRange(PipelineParser.Parse($"canonicalize,fold-constants,quantize-int8{{calibration={dir.Path} method={method}}}"));
        pm.Run(module);
        var after = ModelProbes.ToOnnxBytes(module);

        // 40 inputs the calibration never saw.
        using var original = new OrtRunner(before);
        using var quantized = new OrtRunner(after);
        int agree = 0, n = 40;
        double worst = 0;
        for (int seed = 0; seed < n; seed++)
        {
            var inputs = RandomInputs.For(original.Inputs, seed);
            var name = original.OutputNames[0];
            var d = OutputDifference.Compare(name, original.Run(inputs)[name], quantized.Run(inputs)[quantized.OutputNames[0]]);
            if (d.Top1Agreement == 1.0) agree++;
            worst = Math.Max(worst, d.MaxRelDiff);
        }
        Assert.True(agree >= minTop1 * n && worst < maxRelError, $"{method}: top-1 agrees on {agree} of {n}, max rel diff {worst:E3}");
        Assert.True(worst < maxRelError, $"{method}: max rel diff {worst:E3}");
        Assert.Equal(13, OpsetUpgrade.CurrentOpset(module)); // raised from 8 for per-channel weights
        Assert.Equal(2, module.AllOperations().Count(o => o.Name == "onnx.DequantizeLinear" && o.GetInt("axis") == 0
                                                             && ((TensorType)o.GetOperand(0).Type).Rank == 4));
    }

    /// <summary>
    /// method=auto (the default): each activation gets the widest candidate within 25% of the smallest measured error, its range is the one
    /// the QDQ model uses, and the model it writes is no worse on the calibration data than min-max's within noise.
    /// </summary>
    [Fact]
    public void AutoPicksTheCandidateWithTheLeastErrorAndUsesItsRange()
    {
        using var dir = new TempDir();
        var report = dir.File("report.json");
        var module = SmallCnn();
        var before = ModelProbes.ToOnnxBytes(module);
        var pm = new PassManager { Notes = new StringWriter(), Services = TestRuntime.Services };
        pm.Passes.AddRange(PipelineParser.Parse($"fold-bn,dce,quantize-int8{{calibration=random:8 report={report}}}"));
        pm.Run(module);

        using var json = JsonDocument.Parse(File.ReadAllBytes(report));
        var root = json.RootElement;
        Assert.Equal("auto", root.GetProperty("method").GetString());
        var ranges = root.GetProperty("tensors").EnumerateArray().Where(t => t.GetProperty("kind").GetString() == "activation")
            .ToDictionary(t => t.GetProperty("name").GetString()!, t => t);
        var choices = root.GetProperty("auto").EnumerateArray().ToList();
        Assert.True(choices.Count >= 4, $"{choices.Count} choices");
        foreach (var c in choices)
        {
            var candidates = c.GetProperty("candidates").EnumerateArray().ToList();
            Assert.Contains(candidates, k => k.GetProperty("method").GetString() == "minmax");
            // the widest range whose error is within the margin (25%) of the least
            double least = candidates.Min(k => k.GetProperty("relative_squared_error").GetDouble());
            var best = candidates.Where(k => k.GetProperty("relative_squared_error").GetDouble() <= least * 1.25)
                .MaxBy(k => k.GetProperty("range")[1].GetDouble() - k.GetProperty("range")[0].GetDouble());
            Assert.Equal(best.GetProperty("method").GetString(), c.GetProperty("chosen").GetString());
            var t = ranges[c.GetProperty("tensor").GetString()!];
            Assert.Equal("auto: " + c.GetProperty("chosen").GetString(), t.GetProperty("method").GetString());
            Assert.Equal(best.GetProperty("range")[0].GetDouble(), t.GetProperty("range")[0].GetDouble());
            Assert.Equal(best.GetProperty("range")[1].GetDouble(), t.GetProperty("range")[1].GetDouble());
        }
        // The written model runs and agrees with the float one on inputs the calibration never saw.
        using var original = new OrtRunner(before);
        using var quantized = new OrtRunner(ModelProbes.ToOnnxBytes(module));
        for (int seed = 100; seed < 104; seed++)
        {
            var inputs = RandomInputs.For(original.Inputs, seed);
            var name = original.OutputNames[0];
            var d = OutputDifference.Compare(name, original.Run(inputs)[name], quantized.Run(inputs)[quantized.OutputNames[0]]);
            Assert.True(d.MaxRelDiff < 0.1, $"seed {seed}: max rel diff {d.MaxRelDiff:E3}");
        }
    }

    /// <summary>
    /// Long-tailed inputs (Gamma(2, 0.5) pixels, 0.2% of them 8 times brighter, as tests/lit's calibration-samples.py
    /// writes them): entropy cuts the input's range to a quarter of its max, as TensorRT would, and the classifier's
    /// output suffers for it; auto measures what each range does to the first conv and keeps what it needs. The report's
    /// per-layer SQNR (float against int8 on the calibration samples) shows it at the end of the network (measured:
    /// 44.5 dB against 42.6).
    /// </summary>
    [Fact]
    public void AutoKeepsTheRangeEntropyCutsWhenTheNextLayerNeedsIt()
    {
        using var dir = new TempDir();
        var random = new Random(7);
        float Exponential() => (float)-Math.Log(1 - random.NextDouble());
        for (int i = 0; i < 24; i++)
        {
            var values = new float[3 * 16 * 16];
            for (int k = 0; k < values.Length; k++)
            {
                values[k] = 0.5f * (Exponential() + Exponential());
                if (random.NextDouble() < 0.002) values[k] *= 8;
            }
            new NpyArray(ElementType.F32, [1, 3, 16, 16], System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray())
                .Write(dir.File($"sample_{i:D3}.npy"));
        }
        (double InputMax, double SeenMax, double LastSqnr) Run(string method)
        {
            var report = dir.File($"{method}.json");
            var pm = new PassManager { Notes = new StringWriter(), Services = TestRuntime.Services };
            pm.Passes.AddRange(PipelineParser.Parse($"fold-bn,dce,quantize-int8{{calibration={dir.Path} method={method} error-samples=24 histograms=true report={report}}}"));
            pm.Run(SmallCnn());
            using var json = JsonDocument.Parse(File.ReadAllBytes(report));
            var input = json.RootElement.GetProperty("tensors").EnumerateArray().First(t => t.GetProperty("name").GetString() == "input");
            var seen = json.RootElement.GetProperty("histograms").EnumerateArray().First(t => t.GetProperty("tensor").GetString() == "input");
            var gemm = json.RootElement.GetProperty("layers").EnumerateArray().First(l => l.GetProperty("op_type").GetString() == "Gemm");
            return (input.GetProperty("range")[1].GetDouble(), seen.GetProperty("range")[1].GetDouble(), gemm.GetProperty("sqnr_db").GetDouble());
        }
        var entropy = Run("entropy");
        var auto = Run("auto");
        Assert.True(entropy.InputMax < entropy.SeenMax / 2, $"entropy's input range ends at {entropy.InputMax} of {entropy.SeenMax}");
        Assert.True(auto.InputMax > entropy.InputMax * 1.5, $"auto's input range ends at {auto.InputMax}, entropy's at {entropy.InputMax}");
        Assert.True(auto.LastSqnr > entropy.LastSqnr + 1, $"the classifier's SQNR: auto {auto.LastSqnr:F1} dB, entropy {entropy.LastSqnr:F1} dB");
    }

    [Fact]
    public void TheReportListsRangesScalesAndLayerErrorsConsistently()
    {
        using var dir = new TempDir();
        var report = dir.File("report.json");
        var notes = new StringWriter();
        var pm = new PassManager { Notes = notes, Services = TestRuntime.Services };
        pm.Passes.AddRange(PipelineParser.Parse($"fold-bn,dce,quantize-int8{{calibration=random:6 method=minmax report={report}}}"));
        pm.Run(SmallCnn());

        using var json = JsonDocument.Parse(File.ReadAllBytes(report));
        var root = json.RootElement;
        Assert.Equal("static", root.GetProperty("mode").GetString());
        Assert.Equal(6, root.GetProperty("samples").GetInt32());
        var tensors = root.GetProperty("tensors").EnumerateArray().ToList();
        int activations = 0;
        foreach (var t in tensors.Where(t => t.GetProperty("kind").GetString() == "activation" && t.GetProperty("range")[0].ValueKind == JsonValueKind.Number))
        {
            activations++;
            double min = Math.Min(0, t.GetProperty("range")[0].GetDouble()), max = Math.Max(0, t.GetProperty("range")[1].GetDouble());
            double scale = t.GetProperty("scale").GetDouble();
            Assert.Equal((max - min) / 255, scale, 1e-6 * scale + 1e-12);
            Assert.Equal(Math.Round(-min / scale, MidpointRounding.ToEven), t.GetProperty("zero_point").GetInt32());
        }
        Assert.True(activations >= 4, $"{activations} activations");
        var weights = tensors.Where(t => t.GetProperty("kind").GetString() == "weight").ToList();
        Assert.Equal([8, 16, 10], weights.Select(w => w.GetProperty("scale").GetArrayLength()));
        foreach (var w in weights)
        {
            double absMax = Math.Max(-w.GetProperty("range")[0].GetDouble(), w.GetProperty("range")[1].GetDouble());
            Assert.Equal(absMax / 127, w.GetProperty("scale").EnumerateArray().Max(s => s.GetDouble()), 1e-6 * absMax);
        }
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["Conv", "Conv", "Gemm", "GlobalAveragePool"], layers.Select(l => l.GetProperty("op_type").GetString()).Order(StringComparer.Ordinal));
        var errors = layers.Select(l => l.GetProperty("relative_error").GetDouble()).ToList();
        Assert.All(errors, e => Assert.InRange(e, 1e-6, 0.1));
        Assert.Equal(errors.OrderByDescending(e => e), errors);
        // A layer's own error (its output's rounding and clipping alone) is at most about half a step of its range,
        // and never more than the error accumulated through the layers before it plus that.
        foreach (var l in layers)
        {
            double own = l.GetProperty("own_relative_error").GetDouble();
            Assert.InRange(own, 0, 1.0 / 255 + 1e-6);
            Assert.True(l.GetProperty("own_sqnr_db").GetDouble() > 20, $"{l.GetProperty("name")}: own SQNR {l.GetProperty("own_sqnr_db")}");
        }
        Assert.Contains("quantize-int8 report: static, minmax", notes.ToString());
    }

    [Fact]
    public void LayerErrorsUseAtMostErrorSamplesOfAFolder()
    {
        using var dir = new TempDir();
        var module = SmallCnn();
        using (var probe = new OrtRunner(ModelProbes.ToOnnxBytes(module)))
            for (int i = 0; i < 5; i++)
                RandomInputs.For(probe.Inputs, seed: 50 + i).Single().Value.Write(dir.File($"s{i}.npy"));
        var report = dir.File("r.json");
        var pm = new PassManager { Services = TestRuntime.Services };
        pm.Passes.AddRange(PipelineParser.Parse($"quantize-int8{{calibration={dir.Path} error-samples=2 report={report}}}"));
        pm.Run(module);

        using var json = JsonDocument.Parse(File.ReadAllBytes(report));
        Assert.Equal(5, json.RootElement.GetProperty("samples").GetInt32()); // calibration saw every file
        var layers = json.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.NotEmpty(layers);
        Assert.All(layers, l => Assert.Equal(2, l.GetProperty("samples").GetInt32()));
    }

    [Fact]
    public void CalibrationProgressIsPlainLinesWhenNotATerminal()
    {
        var notes = new StringWriter();
        var pm = new PassManager { Notes = notes, NotesIsTerminal = false, Services = TestRuntime.Services };
        pm.Passes.AddRange(PipelineParser.Parse("quantize-int8{calibration=random:20}"));
        pm.Run(SmallCnn());
        var lines = notes.ToString().Split('\n');
        Assert.Contains(lines, l => l.Contains("20/20"));
        Assert.DoesNotContain('\r', notes.ToString());
    }

    [Fact]
    public void StaticQuantizationWithoutAModelRunnerSaysSo()
    {
        var module = SmallCnn();
        var before = Mopt.Ir.Printing.MirPrinter.PrintToString(module);
        var pm = new PassManager(); // no services: nothing can run the model
        pm.Passes.AddRange(PipelineParser.Parse("quantize-int8{calibration=random:2}"));
        var e = Assert.Throws<MirException>(() => pm.Run(module));
        Assert.Equal("quantize-int8: static quantization needs ONNX Runtime, which is not available here", e.Message);
        Assert.Equal(before, Mopt.Ir.Printing.MirPrinter.PrintToString(module));
    }

    [Fact]
    public void BadCalibrationDataFailsAndWritesNothing()
    {
        using var dir = new TempDir();
        var output = dir.File("out.onnx");
        var missing = Mir.Opt(Mir.ExamplePath, "--quantize-int8=calibration=" + dir.File("nope"), "-o", output);
        Assert.Equal(1, missing.Exit);
        Assert.Contains($"calibration folder '{dir.File("nope")}' does not exist", missing.Stderr);

        Directory.CreateDirectory(dir.File("empty"));
        var empty = Mir.Opt(Mir.ExamplePath, "--quantize-int8=calibration=" + dir.File("empty"), "-o", output);
        Assert.Equal(1, empty.Exit);
        Assert.Contains("empty", empty.Stderr);
        Assert.DoesNotContain("   at ", empty.Stderr);

        Directory.CreateDirectory(dir.File("shape"));
        new NpyArray(ElementType.F32, [1, 3, 8, 8], new byte[3 * 64 * 4]).Write(dir.File("shape/x.npy"));
        var shape = Mir.Opt(Mir.ExamplePath, "--quantize-int8=calibration=" + dir.File("shape"), "-o", output, "--quant-report=" + dir.File("r.json"));
        Assert.Equal(1, shape.Exit);
        Assert.Contains("x.npy", shape.Stderr);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(dir.File("r.json")));
    }

    [Fact]
    public void ANonConstantConvWeightIsAnErrorUnlessExcluded()
    {
        var net = new TestNet(1, ("x", [1, 2, 4, 4]), ("w", [2, 2, 1, 1]));
        var y = net.Op("Conv", "dynamic_conv", [net[0], net[1]], [1, 2, 4, 4]);
        var module = net.Finish(y);
        var text = Mir.Print(module);

        var e = Assert.Throws<MirException>(() => Numerics.RunPasses(Mir.Parse(text), "quantize-int8"));
        Assert.Contains("the weight of Conv 'dynamic_conv' (input 1) is not constant (it comes from graph input #1)", e.Message);
        var result = Numerics.RunPasses(Mir.Parse(text), "quantize-int8{calibration=random:2 exclude=dynamic}");
        Assert.Equal(0.0, result.MaxRelDiff);
        Assert.Equal(0, Numerics.Count(result.After, "onnx.QuantizeLinear"));
    }
}
