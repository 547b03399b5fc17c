using System.Runtime.InteropServices;
using System.Xml.Linq;
using Mopt.Backend.Charts;
using Mopt.Backend.Runtime;
using Mopt.Ir;
using Mopt.Passes;
using Mopt.Passes.Pruning;
using static Mopt.Tests.Passes.TestNet;

namespace Mopt.Tests.Passes;

/// <summary>
/// --prune-sensitivity on a hand-built classifier whose predictions can be worked out by hand:
/// <code>
/// x [1,4,1,1] -> conv1 (1x1, diag(4, 3, 2, 0)) -> Relu -> Flatten -> Gemm (identity)   = out0, logits relu(4x0, 3x1, 2x2, 0)
///             -> conva (1x1, 2 channels) -> Relu -> convb (1x1, 3 channels)        = out1 (a graph output: convb is skipped)
/// </code>
/// Each sample lifts one channel k (x[k] = 1 + i/10, the others -0.5), so its prediction is k. l1 ranks conv1's channels
/// 3 (all zeros), 2, 1, 0: at 0.25 the zero channel goes (nothing changes), at 0.5 channel 2 too (the samples of class 2
/// now predict 0), at 0.75 everything predicts 0. conva has 2 channels: at 0.25 prune-channels removes none.
/// </summary>
public sealed class PruneSensitivityTests
{
    private static readonly int[] Classes = [0, 1, 2, 0, 1, 2, 2, 0, 1, 0]; // 4 of class 0, 3 of 1, 3 of 2
    private static readonly int[] Labels = [0, 1, 2, 1, 1, 2, 2, 1, 1, 0];  // samples 3 and 7 mislabelled: baseline top-1 0.8

    private static MirModule Net()
    {
        var n = new TestNet(7, ("x", [1, 4, 1, 1]));
        double[] diag = [4, 3, 2, 0];
        var c1 = n.Op("Conv", "conv1", [n[0], n.Const("conv1.weight", [4, 4, 1, 1], i => i % 5 == 0 ? diag[i / 5] : 0)], [1, 4, 1, 1], Ints("kernel_shape", 1, 1));
        var r1 = n.Op("Relu", "relu1", [c1], [1, 4, 1, 1]);
        var f = n.Op("Flatten", "flatten", [r1], [1, 4], Int("axis", 1));
        var g = n.Op("Gemm", "fc", [f, n.Const("fc.weight", [4, 4], i => i % 5 == 0 ? 1 : 0), n.Const("fc.bias", [4], _ => 0)], [1, 4], Int("transB", 1));
        var ca = n.Op("Conv", "conva", [n[0], n.Const("conva.weight", [2, 4, 1, 1], i => i < 4 ? 1 : 0.5)], [1, 2, 1, 1], Ints("kernel_shape", 1, 1));
        var ra = n.Op("Relu", "relua", [ca], [1, 2, 1, 1]);
        var cb = n.Op("Conv", "convb", [ra, n.Random("convb.weight", [3, 2, 1, 1])], [1, 3, 1, 1], Ints("kernel_shape", 1, 1));
        return n.Finish(g, cb);
    }

    /// <summary>The samples as one batch file [10,4,1,1] (split into 10 samples), and the labels as .npy.</summary>
    private static string WriteData(TempDir dir)
    {
        var data = Path.Combine(dir.Path, "data");
        Directory.CreateDirectory(data);
        var x = new float[Classes.Length * 4];
        for (int i = 0; i < Classes.Length; i++)
            for (int k = 0; k < 4; k++) x[i * 4 + k] = k == Classes[i] ? 1 + i / 10f : -0.5f;
        new NpyArray(ElementType.F32, [Classes.Length, 4, 1, 1], MemoryMarshal.AsBytes(x.AsSpan()).ToArray()).Write(Path.Combine(data, "all.npy"));
        var labels = Labels.Select(l => (long)l).ToArray();
        new NpyArray(ElementType.I64, [labels.Length], MemoryMarshal.AsBytes(labels.AsSpan()).ToArray()).Write(dir.File("labels.npy"));
        return data;
    }

    private static PassRun Run(MirModule module, string options)
    {
        var pm = new PassManager { Services = TestRuntime.Services };
        pm.Passes.Add(PassRegistry.Create("prune-sensitivity", options));
        return pm.Run(module).Single();
    }

    private static long Counter(PassRun run, string name) => run.Context.Counters.FirstOrDefault(kv => kv.Key == name).Value;

    [Fact]
    public void AgreementLossesAreTheHandComputedOnesAndTheModuleIsUnchanged()
    {
        using var dir = new TempDir();
        var data = WriteData(dir);
        var module = Net();
        var before = Mir.Print(module);
        var run = Run(module, $"data={data} ratios=0.25,0.5,0.75 workers=2 report={dir.File("sens.json")}");
        Assert.Equal(before, Mir.Print(module));
        Assert.True(run.Context.PreservedAll);

        var table = SensitivityTableFile.Read(dir.File("sens.json"));
        Assert.Equal(SensitivityTable.Agreement, table.Metric);
        Assert.Equal(1.0, table.Baseline);
        Assert.Equal(10, table.Samples);
        Assert.Equal("l1_norm", table.Criterion);
        // conv1: the zero channel alone costs nothing; then the 3 samples of class 2; then all but the 4 of class 0.
        Assert.Equal([0.0, 0.3, 0.6], table.Points("conv1.weight").Select(p => Math.Round(p.Loss!.Value, 12)));
        Assert.Equal([1.0, 0.7, 0.4], table.Points("conv1.weight").Select(p => Math.Round(p.MetricValue!.Value, 12)));
        // conva: no channel at 0.25 (recorded as such, not as a loss of 0); out0 does not read it, so 0 at 0.5 and 0.75.
        var conva = table.Points("conva.weight");
        Assert.True(conva[0].Unpruned);
        Assert.Equal([0.0, 0.0], conva.Skip(1).Select(p => p.Loss!.Value));
        // convb feeds a graph output: skipped with prune-channels' reason, no point.
        Assert.Equal("convb.weight", Assert.Single(table.Skipped).Key);
        Assert.NotEmpty(table.Skipped[0].Value);
        Assert.Empty(table.Points("convb.weight"));
        Assert.Equal(["conv1.weight", "conva.weight"], table.Layers);
        Assert.Equal(5, Counter(run, "points measured"));
        Assert.Equal(1, Counter(run, "points unpruned"));
        Assert.Equal(1, Counter(run, "layers skipped"));
    }

    [Fact]
    public void TopOneAgainstLabelsGivesTheRelativeDrop()
    {
        using var dir = new TempDir();
        var data = WriteData(dir);
        Run(Net(), $"data={data} labels={dir.File("labels.npy")} ratios=0.25,0.5,0.75 params=conv1\\.weight report={dir.File("sens.csv")}");
        var table = SensitivityTableFile.Read(dir.File("sens.csv"));
        Assert.Equal(SensitivityTable.Top1, table.Metric);
        Assert.Equal(0.8, table.Baseline, 12);
        // 0.5: the 3 class-2 samples (rightly labelled) now predict 0: 5/10; 0.75: only samples 0 and 9 (class 0, labelled 0) stay right.
        Assert.Equal([0.0, 0.375, 0.75], table.Points("conv1.weight").Select(p => Math.Round(p.Loss!.Value, 12)));
        Assert.Equal([0.8, 0.5, 0.2], table.Points("conv1.weight").Select(p => Math.Round(p.MetricValue!.Value, 12)));
        Assert.Equal(["conv1.weight"], table.Layers);
    }

    [Fact]
    public void TextLabelsWorkLikeNpyLabels()
    {
        using var dir = new TempDir();
        var data = WriteData(dir);
        var txt = dir.Write("labels.txt", string.Join("\n", Labels) + "\n");
        Run(Net(), $"data={data} labels={txt} ratios=0.5 params=conv1\\.weight report={dir.File("a.json")}");
        Run(Net(), $"data={data} labels={dir.File("labels.npy")} ratios=0.5 params=conv1\\.weight report={dir.File("b.json")}");
        Assert.Equal(File.ReadAllText(dir.File("b.json")), File.ReadAllText(dir.File("a.json")));
    }

    [Fact]
    public void OneWorkerAndTwoGiveTheSameTable()
    {
        using var dir = new TempDir();
        var data = WriteData(dir);
        Run(Net(), $"data={data} ratios=0.25,0.5,0.75 workers=1 report={dir.File("one.json")}");
        Run(Net(), $"data={data} ratios=0.25,0.5,0.75 workers=2 report={dir.File("two.json")}");
        Run(Net(), $"data=random:7 ratios=0.5,0.75 workers=1 report={dir.File("rand1.csv")}");
        Run(Net(), $"data=random:7 ratios=0.5,0.75 workers=3 report={dir.File("rand3.csv")}");
        Assert.Equal(File.ReadAllText(dir.File("one.json")), File.ReadAllText(dir.File("two.json")));
        Assert.Equal(File.ReadAllText(dir.File("rand1.csv")), File.ReadAllText(dir.File("rand3.csv")));
    }

    [Fact]
    public void AResumedRunMeasuresOnlyTheMissingPointsAndKeepsTheOthersAsWritten()
    {
        using var dir = new TempDir();
        var data = WriteData(dir);
        var report = dir.File("sens.json");
        // A partial table as an interrupted run leaves it: conv1 at 0.25 only (with a value no run would give), conva at 0.25.
        var partial = new SensitivityTable(SensitivityTable.Agreement, 1.0, 10, "l1_norm");
        partial.Set("conv1.weight", new SensitivityPoint(0.25, 0.123, 0.877));
        partial.Set("conva.weight", new SensitivityPoint(0.25000000001, null, null));
        AtomicFile.Write(report, s => SensitivityTableFile.Write(partial, "json", s));

        var run = Run(Net(), $"data={data} ratios=0.25,0.5,0.75 report={report}");
        Assert.Equal(2, Counter(run, "points reused"));
        Assert.Equal(4, Counter(run, "points measured")); // conv1 and conva at 0.5 and 0.75
        var table = SensitivityTableFile.Read(report);
        Assert.Equal(0.123, table.Get("conv1.weight", 0.25)!.Loss);
        Assert.Equal([0.123, 0.3, 0.6], table.Points("conv1.weight").Select(p => Math.Round(p.Loss!.Value, 12)));

        // Everything there: nothing measured again.
        var again = Run(Net(), $"data={data} ratios=0.25,0.5,0.75 report={report}");
        Assert.Equal(6, Counter(again, "points reused"));
        Assert.Equal(0, Counter(again, "points measured"));
    }

    [Theory]
    [InlineData("labels={labels}", "metric agreement, not top1")]
    [InlineData("criterion=geometry_median", "criterion l1_norm, not geometry_median")]
    [InlineData("data=random:3", "10 samples, not 3")]
    public void ATableMeasuredOtherwiseIsNotResumed(string change, string message)
    {
        using var dir = new TempDir();
        var data = WriteData(dir);
        var report = dir.File("sens.json");
        Run(Net(), $"data={data} ratios=0.5 params=conv1\\.weight report={report}");
        var written = File.ReadAllText(report);
        var options = $"data={data} ratios=0.5 params=conv1\\.weight report={report} " + change.Replace("{labels}", dir.File("labels.npy"));
        var e = Assert.Throws<MirException>(() => Run(Net(), options));
        Assert.Contains(message, e.Message);
        Assert.Contains("delete it or give another report=FILE", e.Message);
        Assert.Equal(written, File.ReadAllText(report));
    }

    [Fact]
    public void LabelsOfAnotherCountAreAnErrorAndNothingIsWritten()
    {
        using var dir = new TempDir();
        var data = WriteData(dir);
        var txt = dir.Write("labels.txt", "0\n1\n2\n");
        var e = Assert.Throws<MirException>(() => Run(Net(), $"data={data} labels={txt} report={dir.File("sens.json")} chart={dir.File("sens.svg")}"));
        Assert.Contains($"labels '{txt}' has 3 labels but data={data} has 10 samples", e.Message);
        Assert.False(File.Exists(dir.File("sens.json")));
        Assert.False(File.Exists(dir.File("sens.svg")));
    }

    [Theory]
    [InlineData("ratios=0.5,1", "ratios=0.5,1: '1' is not a ratio in (0, 1)")]
    [InlineData("ratios=0", "'0' is not a ratio in (0, 1)")]
    [InlineData("params=conv(", "is not a valid regular expression: insufficient closing parentheses at offset 5")]
    [InlineData("params=nothing", "matches no Conv weight; Conv weights are named e.g. 'conv1.weight', 'conva.weight', 'convb.weight'")]
    [InlineData("criterion=l2", "criterion=l2: pass 'prune-channels': option 'criterion' accepts l1_norm, geometry_median or bn_scale")]
    [InlineData("report={dir}/sens.txt", "the table is written as .json or .csv, not '.txt'")]
    [InlineData("chart={dir}/sens.jpg", "charts are drawn as .svg or .png, not '.jpg'")]
    public void BadOptionsAreClearErrors(string options, string message)
    {
        using var dir = new TempDir();
        var data = WriteData(dir);
        var e = Assert.Throws<PipelineException>(() => Run(Net(), $"data={data} " + options.Replace("{dir}", dir.Path)));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void BadDataAndLabelsAreClearErrors()
    {
        using var dir = new TempDir();
        WriteData(dir);
        Assert.Contains("data folder", Assert.Throws<MirException>(() => Run(Net(), $"data={dir.File("none")}")).Message);
        var bad = dir.Write("bad.txt", "0\nzwei\n");
        var e = Assert.Throws<MirException>(() => Run(Net(), $"data=random:2 labels={bad}"));
        Assert.Equal($"{bad}:2:1: error: a label is an integer, not 'zwei'", e.Format().Split('\n')[0]);
        Assert.Contains("labels file", Assert.Throws<MirException>(() => Run(Net(), $"data=random:2 labels={dir.File("missing.txt")}")).Message);
    }

    [Fact]
    public void WithoutDataThePassDoesNothing()
    {
        var module = Net();
        var run = Run(module, "");
        Assert.True(run.Context.PreservedAll);
        Assert.Empty(run.Context.Counters);
    }

    [Fact]
    public void CsvAndJsonRoundTrip()
    {
        var table = new SensitivityTable(SensitivityTable.Top1, 0.9712, 500, "geometry_median");
        table.Set("conv1_weights", new SensitivityPoint(0.1, 0.0, 0.9712));
        table.Set("conv1_weights", new SensitivityPoint(0.30000000000000004, 0.0123456789, 0.959));
        table.Set("conv1_weights", new SensitivityPoint(0.2, null, null));
        table.Set("a,\"quoted\" name", new SensitivityPoint(0.5, -0.01, 0.98));
        table.Skip("dw_weights", "group = 8: depthwise, \"never alone\", skipped");
        foreach (var format in new[] { "json", "csv" })
        {
            using var dir = new TempDir();
            var path = dir.File("t." + format);
            AtomicFile.Write(path, s => SensitivityTableFile.Write(table, format, s));
            var back = SensitivityTableFile.Read(path);
            Assert.Equal((table.Metric, table.Baseline, table.Samples, table.Criterion), (back.Metric, back.Baseline, back.Samples, back.Criterion));
            Assert.Equal(table.Layers, back.Layers);
            foreach (var layer in table.Layers) Assert.Equal(table.Points(layer), back.Points(layer));
            Assert.Equal(table.Skipped, back.Skipped);
            Assert.Equal(0.3, back.Points("conv1_weights")[2].Ratio);
            // Written again, the same bytes.
            var again = dir.File("again." + format);
            AtomicFile.Write(again, s => SensitivityTableFile.Write(back, format, s));
            Assert.Equal(File.ReadAllText(path), File.ReadAllText(again));
        }
    }

    [Fact]
    public void TheCsvHasTheDocumentedColumns()
    {
        using var dir = new TempDir();
        var data = WriteData(dir);
        Run(Net(), $"data={data} ratios=0.25,0.5 report={dir.File("sens.csv")}");
        var lines = File.ReadAllLines(dir.File("sens.csv"));
        Assert.Equal("# prune-sensitivity metric=agreement baseline=1 samples=10 criterion=l1_norm", lines[0]);
        Assert.Equal("layer,ratio,loss,metric_value", lines[1]);
        Assert.Contains("conv1.weight,0.25,0,1", lines);
        Assert.Contains("conv1.weight,0.5,0.3,0.7", lines);
        Assert.Contains("conva.weight,0.25,,", lines);
        Assert.StartsWith("# skipped,convb.weight,", lines[^1]);
    }

    [Fact]
    public void TheSvgChartHasALinePerLayerWithItsLegend()
    {
        using var dir = new TempDir();
        var data = WriteData(dir);
        var svg = dir.File("sens.svg");
        Run(Net(), $"data={data} ratios=0.25,0.5,0.75 chart={svg}");
        var doc = XDocument.Load(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", doc.Root!.Name);
        var texts = doc.Descendants(ns + "text").Select(t => t.Value.Trim()).ToList();
        // The two measured layers each have a legend entry and a line of their colour; the skipped one has neither.
        Assert.Contains("conv1.weight", texts);
        Assert.Contains("conva.weight", texts);
        Assert.DoesNotContain("convb.weight", texts);
        var strokes = doc.Descendants(ns + "path").Select(p => (string?)p.Attribute("stroke")).OfType<string>().Select(s => s.ToLowerInvariant()).ToHashSet();
        Assert.Contains(ScottPlotChartWriter.ColorOf(0), strokes);
        Assert.Contains(ScottPlotChartWriter.ColorOf(1), strokes);
        Assert.DoesNotContain(ScottPlotChartWriter.ColorOf(2), strokes);
    }

    [Fact]
    public void ThePngChartIsAPng()
    {
        using var dir = new TempDir();
        var data = WriteData(dir);
        var png = dir.File("sens.png");
        Run(Net(), $"data={data} ratios=0.25,0.5 chart={png}");
        var bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.True(bytes.Length > 10_000, $"a {bytes.Length}-byte PNG is too small to hold a chart");
    }

    [Fact]
    public void TheToolRunsTheAnalysisAndFailsCleanlyOnBadLabels()
    {
        using var dir = new TempDir();
        var data = WriteData(dir);
        var model = dir.Write("net.mir", Mir.Print(Net()));
        var (exit, _, stderr) = Mir.Opt(model, $"--prune-sensitivity=data={data} labels={dir.File("labels.npy")} ratios=0.25,0.5 report={dir.File("s.json")} chart={dir.File("s.svg")}", "-o", dir.File("out.mir"));
        Assert.True(exit == 0, stderr);
        Assert.Contains("prune-sensitivity: baseline top1 0.8 on 10 samples", stderr);
        Assert.True(File.Exists(dir.File("s.json")) && File.Exists(dir.File("s.svg")));

        var txt = dir.Write("labels.txt", "1\n2\n");
        (exit, _, stderr) = Mir.Opt(model, $"--prune-sensitivity=data={data} labels={txt} report={dir.File("t.json")}", "-o", dir.File("out2.mir"));
        Assert.Equal(1, exit);
        Assert.Contains("has 2 labels but data=", stderr);
        Assert.False(File.Exists(dir.File("t.json")));
        Assert.False(File.Exists(dir.File("out2.mir")));
    }
}
