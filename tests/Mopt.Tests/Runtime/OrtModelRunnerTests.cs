using System.Runtime.InteropServices;
using Mopt.Backend.Runtime;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Passes.Quantization;

namespace Mopt.Tests.Runtime;

/// <summary>
/// The calibration runner: probes read the values ONNX Runtime computes, every model sees the same samples, and
/// calibration folders are split into samples or refused with a message naming the file.
/// </summary>
public sealed class OrtModelRunnerTests
{
    private static string AddRelu(string inputType, string bias = "1.0") => $$"""
        module {
          func.func @main(%x: {{inputType}} {mo.name = "x"}) -> ({{inputType}} {mo.name = "y"}) {
            %c = "onnx.Constant"() {value = dense<[{{bias}}, -2.0, 3.0]> : tensor<3xf32>} : () -> tensor<3xf32> loc("c")
            %0 = "onnx.Add"(%x, %c) {mo.outputs = ["sum"]} : ({{inputType}}, tensor<3xf32>) -> {{inputType}} loc("add")
            %1 = "onnx.Relu"(%0) {mo.outputs = ["y"]} : ({{inputType}}) -> {{inputType}} loc("relu")
            %2 = "onnx.Mul"(%1, %1) {mo.outputs = ["y"]} : ({{inputType}}, {{inputType}}) -> {{inputType}} loc("square")
            return %2 : {{inputType}}
          }
        }
        """;

    private const string TwoInputs = """
        module {
          func.func @main(%a: tensor<1x3xf32> {mo.name = "a"}, %b: tensor<1x3xf32> {mo.name = "b"}) -> (tensor<1x3xf32> {mo.name = "y"}) {
            %0 = "onnx.Sub"(%a, %b) {mo.outputs = ["diff"]} : (tensor<1x3xf32>, tensor<1x3xf32>) -> tensor<1x3xf32> loc("sub")
            %1 = "onnx.Abs"(%0) : (tensor<1x3xf32>) -> tensor<1x3xf32> loc("abs")
            return %1 : tensor<1x3xf32>
          }
        }
        """;

    private static ProbedModel Probed(MirModule module, params string[] opLocations) =>
        new(module, [module.MainFunction.Arguments[0], .. opLocations.Select(l => module.AllOperations().Single(o => o.Location.FirstName == l).Results[0])]);

    private static NpyArray Floats(long[] shape, params float[] values) =>
        new(ElementType.F32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    private static float[] Sequence(int n, float start = 0, float step = 1) => Enumerable.Range(0, n).Select(i => start + step * i).ToArray();

    /// <summary>Runs and keeps every observation (sample index, per model → per probe values).</summary>
    private static (int Count, List<(int Sample, IReadOnlyList<IReadOnlyList<float[]>> Values)> Seen, List<(int, int)> Progress) Run(
        IReadOnlyList<ProbedModel> models, CalibrationSource source, int? maxSamples = null)
    {
        var seen = new List<(int, IReadOnlyList<IReadOnlyList<float[]>>)>();
        var progress = new List<(int, int)>();
        int count = new OrtModelRunner().Run(models, source, (i, v) => seen.Add((i, v)), (d, t) => progress.Add((d, t)), maxSamples);
        return (count, seen, progress);
    }

    [Fact]
    public void ProbesGiveTheValuesOfADirectRun()
    {
        using var dir = new TempDir();
        var x = Floats([2, 3], 0.5f, -4, 1, -3, 2, -1);
        System.IO.File.WriteAllBytes(dir.File("000.npy"), x.ToBytes());

        var module = MirReader.ParseText(AddRelu("tensor<2x3xf32>"));
        var (count, seen, progress) = Run([Probed(module, "add", "relu", "square")], new CalibrationSource.Folder(dir.Path));

        using var direct = new OrtRunner(ModelProbes.WithOutputs(module, ["sum", "y"]));
        var expected = direct.Run(new Dictionary<string, NpyArray> { ["x"] = x }, ["sum", "y"]);
        Assert.Equal(1, count);
        var probes = seen.Single().Values.Single();
        Assert.Equal(4, probes.Count);
        Assert.Equal([0.5f, -4, 1, -3, 2, -1], probes[0]); // the graph input itself
        Assert.Equal(RandomInputs.ToDoubles(expected["sum"]), probes[1].Select(v => (double)v));
        Assert.Equal([1.5f, 0, 4, 0, 0, 2], probes[2]); // relu(x + c)
        Assert.Equal(RandomInputs.ToDoubles(expected["y"]), probes[3].Select(v => (double)v));
        Assert.Equal([(1, 1)], progress);
    }

    [Fact]
    public void AtMostMaxSamplesRunAndProgressCountsToThem()
    {
        using var dir = new TempDir();
        System.IO.File.WriteAllBytes(dir.File("batch.npy"), Floats([5, 3], Sequence(15)).ToBytes());
        var module = MirReader.ParseText(AddRelu("tensor<1x3xf32>"));
        var (count, seen, progress) = Run([Probed(module, "add")], new CalibrationSource.Folder(dir.Path), maxSamples: 2);

        Assert.Equal(2, count);
        Assert.Equal([(1, 2), (2, 2)], progress);
        Assert.Equal([3f, 4f, 5f], seen[1].Values[0][0]); // the second row of the batch
        Assert.Equal(4, Run([Probed(module, "add")], new CalibrationSource.Random(4), maxSamples: 10).Count);
    }

    [Fact]
    public void EveryModelGetsTheSameInputs()
    {
        var first = MirReader.ParseText(AddRelu("tensor<2x3xf32>", bias: "1.0"));
        var second = MirReader.ParseText(AddRelu("tensor<2x3xf32>", bias: "11.0"));
        var (count, seen, progress) = Run([Probed(first, "add"), Probed(second, "add")], new CalibrationSource.Random(3, Seed: 5));

        Assert.Equal(3, count);
        Assert.Equal([0, 1, 2], seen.Select(s => s.Sample));
        Assert.Equal([(1, 3), (2, 3), (3, 3)], progress);
        foreach (var (_, values) in seen)
        {
            Assert.Equal(values[0][0], values[1][0]);
            // The models differ only in the first bias (1 vs 11): so do the sums, by exactly 10 in column 0.
            for (int i = 0; i < 6; i++) Assert.Equal(i % 3 == 0 ? 10f : 0f, values[1][1][i] - values[0][1][i], 4);
        }
        Assert.NotEqual(seen[0].Values[0][0], seen[1].Values[0][0]);
    }

    [Fact]
    public void RandomSamplesAreDeterministicPerSeedAndIndex()
    {
        var module = MirReader.ParseText(AddRelu("tensor<?x3xf32>"));
        var (_, a, _) = Run([Probed(module, "relu")], new CalibrationSource.Random(4, Seed: 9));
        var (_, b, _) = Run([Probed(module, "relu")], new CalibrationSource.Random(2, Seed: 9));
        var (_, other, _) = Run([Probed(module, "relu")], new CalibrationSource.Random(2, Seed: 10));

        Assert.Equal(4, a.Count);
        Assert.Equal(3, a[0].Values[0][0].Length); // the symbolic batch is 1
        for (int i = 0; i < 2; i++) Assert.Equal(a[i].Values[0][0], b[i].Values[0][0]);
        Assert.NotEqual(a[0].Values[0][0], other[0].Values[0][0]);
        Assert.Equal(4, a.Select(s => string.Join(",", s.Values[0][0])).Distinct().Count());
    }

    [Fact]
    public void BatchFilesAreSplitIntoSamples()
    {
        using var dir = new TempDir();
        // [4,2,3] for an input [2,3]: four samples; then [1,2,3]: one more.
        System.IO.File.WriteAllBytes(dir.File("a.npy"), Floats([4, 2, 3], Sequence(24)).ToBytes());
        System.IO.File.WriteAllBytes(dir.File("b.npy"), Floats([1, 2, 3], Sequence(6, 100)).ToBytes());
        var module = MirReader.ParseText(AddRelu("tensor<2x3xf32>"));
        var (count, seen, progress) = Run([Probed(module)], new CalibrationSource.Folder(dir.Path));
        Assert.Equal(5, count);
        Assert.Equal(Sequence(6, 6), seen[1].Values[0][0]);
        Assert.Equal(Sequence(6, 100), seen[4].Values[0][0]);
        Assert.Equal(5, progress[0].Item2);

        // [5,3] for an input [1,3]: five samples of [1,3].
        using var rows = new TempDir();
        System.IO.File.WriteAllBytes(rows.File("rows.npy"), Floats([5, 3], Sequence(15)).ToBytes());
        var (rowCount, rowSeen, _) = Run([Probed(MirReader.ParseText(AddRelu("tensor<1x3xf32>")), "add")], new CalibrationSource.Folder(rows.Path));
        Assert.Equal(5, rowCount);
        Assert.Equal([13f, 11, 17], rowSeen[4].Values[0][1]); // row 4 is 12, 13, 14; plus 1, -2, 3

        // A symbolic batch takes the file as it is: one run of five rows.
        var (asIs, asIsSeen, _) = Run([Probed(MirReader.ParseText(AddRelu("tensor<?x3xf32>")))], new CalibrationSource.Folder(rows.Path));
        Assert.Equal(1, asIs);
        Assert.Equal(15, asIsSeen[0].Values[0][0].Length);
    }

    [Fact]
    public void SeveralInputsReadOneSubfolderPerSample()
    {
        using var dir = new TempDir();
        for (int s = 0; s < 2; s++)
        {
            var sample = Directory.CreateDirectory(dir.File($"s{s}")).FullName;
            System.IO.File.WriteAllBytes(Path.Combine(sample, "a.npy"), Floats([1, 3], 1, 2, 3 + s).ToBytes());
            System.IO.File.WriteAllBytes(Path.Combine(sample, "b.npy"), Floats([1, 3], 3, 2, 1).ToBytes());
        }
        var module = MirReader.ParseText(TwoInputs);
        var (count, seen, _) = Run([Probed(module, "sub")], new CalibrationSource.Folder(dir.Path));
        Assert.Equal(2, count);
        Assert.Equal([-2f, 0, 2], seen[0].Values[0][1]);
        Assert.Equal([-2f, 0, 3], seen[1].Values[0][1]);

        System.IO.File.Delete(Path.Combine(dir.File("s1"), "b.npy"));
        var e = Assert.Throws<MirException>(() => Run([Probed(module, "sub")], new CalibrationSource.Folder(dir.Path)));
        Assert.Equal($"{dir.File("s1")}: no b.npy for input 'b' (each sample folder needs a, b)", e.Message);
    }

    [Fact]
    public void BadCalibrationDataIsAnErrorNamingTheFile()
    {
        var model = Probed(MirReader.ParseText(AddRelu("tensor<1x1x2x3xf32>")));
        string Error(string path) => Assert.Throws<MirException>(() => Run([model], new CalibrationSource.Folder(path))).Message;

        using var dir = new TempDir();
        var missing = dir.File("nope");
        Assert.Equal($"calibration folder '{missing}' does not exist", Error(missing));
        System.IO.File.WriteAllText(dir.File("readme.txt"), "not a sample");
        Assert.Equal($"calibration folder '{dir.Path}' has no .npy files", Error(dir.Path));

        System.IO.File.WriteAllBytes(dir.File("001.npy"), Floats([1, 1, 2, 3], Sequence(6)).ToBytes());
        var wrongShape = dir.File("003.npy");
        System.IO.File.WriteAllBytes(wrongShape, Floats([1, 3, 2, 3], Sequence(18)).ToBytes());
        Assert.Equal($"{wrongShape}: shape [1,3,2,3] does not match input 'x' [1,1,2,3]", Error(dir.Path));

        System.IO.File.Delete(wrongShape);
        var doubles = dir.File("002.npy");
        System.IO.File.WriteAllBytes(doubles, new NpyArray(ElementType.F64, [1, 1, 2, 3], new byte[48]).ToBytes());
        var dtype = Error(dir.Path);
        Assert.StartsWith($"{doubles}: dtype f64 does not match input 'x' f32; mopt does not convert", dtype);
        Assert.Contains(".astype(np.float32)", dtype);
    }

    [Fact]
    public void OnlyFloatTensorsCanBeProbed()
    {
        var module = MirReader.ParseText("""
            module {
              func.func @main(%x: tensor<2x3xf32> {mo.name = "x"}) -> (tensor<2xi64> {mo.name = "s"}) {
                %0 = "onnx.Shape"(%x) : (tensor<2x3xf32>) -> tensor<2xi64> loc("shape")
                return %0 : tensor<2xi64>
              }
            }
            """);
        var probe = module.AllOperations().Single(o => o.Name == "onnx.Shape").Results[0];
        var e = Assert.Throws<MirException>(() => new OrtModelRunner().Run([new ProbedModel(module, [probe])], new CalibrationSource.Random(1), (_, _) => { }));
        Assert.Contains("type tensor<2xi64>: only float tensors are probed", e.Message);
    }
}
