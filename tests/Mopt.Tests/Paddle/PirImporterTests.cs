using System.Runtime.InteropServices;
using Mopt.Backend.Runtime;
using Mopt.Frontend;
using Mopt.Frontend.Paddle;
using Mopt.Frontend.Paddle.Pir;
using Mopt.Ir;
using static Mopt.Tests.Paddle.PaddleTestProgram;
using P = Mopt.Tests.Paddle.PirTestProgram;

namespace Mopt.Tests.Paddle;

/// <summary>
/// Issue 14 item 2's last sentence: Paddle 3's PIR programs (.json + .pdiparams) import as the same paddle.* IR as the
/// legacy ProgramDesc of the same model, lower to ONNX with the same outputs, and every bad file is a clear error.
/// </summary>
public sealed class PirImporterTests
{
    private static readonly float[] ConvW = PaddleLoweringCheck.Values(11, 4 * 2 * 3 * 3);
    private static readonly float[] BnScale = [1.5f, 0.5f, 2f, 1f], BnBias = [0.1f, -0.2f, 0.3f, 0f], BnMean = [0.2f, -0.1f, 0f, 0.5f], BnVar = [1f, 2f, 0.5f, 4f];
    private static readonly float[] FcW = PaddleLoweringCheck.Values(12, 4 * 3), FcB = [0.5f, -0.5f, 1f];

    /// <summary>
    /// conv2d → batch_norm → relu → pool2d (2x2 max, its kernel size a full_int_array operand) → flatten → matmul → add,
    /// as PIR writes it; returns the value ids the legacy twin names its vars after.
    /// </summary>
    private static (P Pir, Dictionary<string, long> Ids) ConvNet()
    {
        var p = new P();
        var ids = new Dictionary<string, long>();
        long x = p.Data("x", "t_f32", [1, 2, 6, 6]);
        // Paddle writes the parameter ops first, in the order the program reads them.
        long w = p.Parameter("conv_w", 4, 2, 3, 3);
        // (batch_norm's in its legacy slots' name order: Bias, Mean, Scale, Variance)
        long bias = p.Parameter("bn_bias", 4), mean = p.Parameter("bn_mean", 4), scale = p.Parameter("bn_scale", 4), variance = p.Parameter("bn_var", 4);
        long fcW = p.Parameter("fc_w", 4, 3), fcB = p.Parameter("fc_b", 3);
        ids["conv2d"] = p.Op("1.conv2d", [x, w],
            [P.A.Ints32("strides", 1, 1), P.A.Ints32("paddings", 1, 1), P.A.Str("padding_algorithm", "EXPLICIT"), P.A.Ints32("dilations", 1, 1), P.A.I32("groups", 1), P.A.Str("data_format", "NCHW")],
            P.Type("t_f32", 1, 4, 6, 6))[0];
        var bn = p.Op("1.batch_norm_", [ids["conv2d"], mean, variance, scale, bias],
            [P.A.Bool("is_test", true), P.A.F32("momentum", 0.9f), P.A.F32("epsilon", 1e-5f), P.A.Str("data_format", "NCHW"), P.A.Bool("use_global_stats", false), P.A.Bool("trainable_statistics", false)],
            P.Type("t_f32", 1, 4, 6, 6), P.Type("t_f32", 4), P.Type("t_f32", 4), P.Type("t_f32", 4), P.Type("t_f32", 4), P.Type("t_ui8", 0));
        ids["batch_norm"] = bn[0];
        ids["relu"] = p.Op("1.relu", [bn[0]], [], P.Type("t_f32", 1, 4, 6, 6))[0];
        long ksize = p.FullIntArray(2, 2);
        ids["pool2d"] = p.Op("1.pool2d", [ids["relu"], ksize],
            [P.A.Ints32("strides", 2, 2), P.A.Ints32("paddings", 0, 0), P.A.Bool("ceil_mode", false), P.A.Bool("exclusive", true), P.A.Str("data_format", "NCHW"),
             P.A.Str("pooling_type", "max"), P.A.Bool("global_pooling", false), P.A.Bool("adaptive", true), P.A.Str("padding_algorithm", "EXPLICIT")],
            P.Type("t_f32", 1, 4, 2, 2))[0];
        // adaptive max to 1x1 after a 2x2 max: the global maximum of each channel's 3x3 maxima
        ids["pool2d_global"] = p.Op("1.pool2d", [ids["pool2d"], p.FullIntArray(1, 1)],
            [P.A.Ints32("strides", 1, 1), P.A.Ints32("paddings", 0, 0), P.A.Bool("ceil_mode", false), P.A.Bool("exclusive", true), P.A.Str("data_format", "NCHW"),
             P.A.Str("pooling_type", "avg"), P.A.Bool("global_pooling", true), P.A.Bool("adaptive", false), P.A.Str("padding_algorithm", "EXPLICIT")],
            P.Type("t_f32", 1, 4, 1, 1))[0];
        var flat = p.Op("1.flatten", [ids["pool2d_global"]], [P.A.I32("start_axis", 1), P.A.I32("stop_axis", 3)], P.Type("t_f32", 1, 4), P.Type("t_f32", 0, 1, 4, 1, 1));
        ids["flatten"] = flat[0];
        ids["matmul"] = p.Op("1.matmul", [flat[0], fcW], [P.A.Bool("transpose_x", false), P.A.Bool("transpose_y", false)], P.Type("t_f32", 1, 3))[0];
        ids["add"] = p.Op("1.add", [ids["matmul"], fcB], [], P.Type("t_f32", 1, 3))[0];
        p.Fetch(ids["add"], 0, $"add_{ids["add"]}", "t_f32", 1, 3);
        return (p, ids);
    }

    /// <summary>The same model as a legacy ProgramDesc, its vars named as the PIR importer names values (<c>op_id</c>).</summary>
    private static PaddleTestProgram LegacyConvNet(Dictionary<string, long> ids)
    {
        string N(string op) => $"{op}_{ids[op]}";
        long bn = ids["batch_norm"];
        return new PaddleTestProgram()
            .Feed("x", [1, 2, 6, 6])
            .Parameter("conv_w", [4, 2, 3, 3], ConvW).Parameter("bn_scale", [4], BnScale).Parameter("bn_bias", [4], BnBias)
            .Parameter("bn_mean", [4], BnMean).Parameter("bn_var", [4], BnVar).Parameter("fc_w", [4, 3], FcW).Parameter("fc_b", [3], FcB)
            .Var(N("conv2d"), [1, 4, 6, 6]).Var($"batch_norm_{bn}", [1, 4, 6, 6]).Var($"batch_norm_{bn + 1}", [4]).Var($"batch_norm_{bn + 2}", [4])
            .Var($"batch_norm_{bn + 3}", [4]).Var($"batch_norm_{bn + 4}", [4]).Var($"batch_norm_{bn + 5}", [0], element: Mopt.Paddle.Proto.VarType.Types.Type.Uint8)
            .Var(N("relu"), [1, 4, 6, 6]).Var(N("pool2d"), [1, 4, 2, 2]).Var($"pool2d_{ids["pool2d_global"]}", [1, 4, 1, 1]).Var(N("flatten"), [1, 4])
            .Var(N("matmul"), [1, 3]).Var(N("add"), [1, 3])
            .Add("conv2d", [("Input", ["x"]), ("Filter", ["conv_w"])], [("Output", [N("conv2d")])],
                A.Ints("strides", 1, 1), A.Ints("paddings", 1, 1), A.String("padding_algorithm", "EXPLICIT"), A.Ints("dilations", 1, 1), A.Int("groups", 1), A.String("data_format", "NCHW"))
            .Add("batch_norm", [("X", [N("conv2d")]), ("Mean", ["bn_mean"]), ("Variance", ["bn_var"]), ("Scale", ["bn_scale"]), ("Bias", ["bn_bias"])],
                [("Y", [$"batch_norm_{bn}"]), ("MeanOut", [$"batch_norm_{bn + 1}"]), ("VarianceOut", [$"batch_norm_{bn + 2}"]), ("SavedMean", [$"batch_norm_{bn + 3}"]),
                 ("SavedVariance", [$"batch_norm_{bn + 4}"]), ("ReserveSpace", [$"batch_norm_{bn + 5}"])],
                A.Bool("is_test", true), A.Float("momentum", 0.9f), A.Float("epsilon", 1e-5f), A.String("data_layout", "NCHW"), A.Bool("use_global_stats", false), A.Bool("trainable_statistics", false))
            .Add("relu", [("X", [$"batch_norm_{bn}"])], [("Out", [N("relu")])])
            .Add("pool2d", [("X", [N("relu")])], [("Out", [N("pool2d")])],
                A.Ints("ksize", 2, 2), A.Ints("strides", 2, 2), A.Ints("paddings", 0, 0), A.Bool("ceil_mode", false), A.Bool("exclusive", true), A.String("data_format", "NCHW"),
                A.String("pooling_type", "max"), A.Bool("global_pooling", false), A.Bool("adaptive", true), A.String("padding_algorithm", "EXPLICIT"))
            .Add("pool2d", [("X", [N("pool2d")])], [("Out", [$"pool2d_{ids["pool2d_global"]}"])],
                A.Ints("ksize", 1, 1), A.Ints("strides", 1, 1), A.Ints("paddings", 0, 0), A.Bool("ceil_mode", false), A.Bool("exclusive", true), A.String("data_format", "NCHW"),
                A.String("pooling_type", "avg"), A.Bool("global_pooling", true), A.Bool("adaptive", false), A.String("padding_algorithm", "EXPLICIT"))
            .Add("flatten_contiguous_range", [("X", [$"pool2d_{ids["pool2d_global"]}"])], [("Out", [N("flatten")])], A.Int("start_axis", 1), A.Int("stop_axis", 3))
            .Add("matmul_v2", [("X", [N("flatten")]), ("Y", ["fc_w"])], [("Out", [N("matmul")])], A.Bool("trans_x", false), A.Bool("trans_y", false))
            .Add("elementwise_add", [("X", [N("matmul")]), ("Y", ["fc_b"])], [("Out", [N("add")])], A.Int("axis", -1))
            .Fetch(N("add"));
    }

    /// <summary>The function's text (the module's attributes differ: the legacy file's version, the PIR file's).</summary>
    private static string Body(MirModule m) => string.Join('\n', Mir.Print(m).Split('\n').Skip(1));

    [Fact]
    public void ConvNetImportsAsItsLegacyTwinAndRunsTheSame()
    {
        var (pir, ids) = ConvNet();
        var legacy = LegacyConvNet(ids);
        using var dir = new TempDir();
        var legacyPath = legacy.Write(dir.Path, "legacy");
        var json = pir.Write(dir.Path, "model", readable: true);
        // The legacy program's combined parameters are the PIR program's too: both sorted by name (save_vars_pir, save_combine).
        File.Copy(Path.Combine(dir.Path, "legacy.pdiparams"), Path.Combine(dir.Path, "model.pdiparams"));

        var fromPir = ModelReaders.For(json).Read(json);
        var fromLegacy = PaddleImporter.ImportPath(legacyPath);
        Assert.Equal(Body(fromLegacy), Body(fromPir));
        Assert.Contains("paddle.pir_version = 1", Mir.Print(fromPir));
        Assert.DoesNotContain("full_int_array", Mir.Print(fromPir)); // the kernel sizes became ksize attributes

        var x = PaddleLoweringCheck.Values(13, 1 * 2 * 6 * 6);
        var expected = RunOnnx(legacyPath, dir, ("x", [1, 2, 6, 6], x));
        var actual = RunOnnx(json, dir, ("x", [1, 2, 6, 6], x));
        var name = $"add_{ids["add"]}";
        Assert.Equal(expected[name].Shape, actual[name].Shape);
        Assert.Equal(expected[name].Values, actual[name].Values);
        Assert.Contains(actual[name].Values, v => v != 0);
    }

    /// <summary>Lowers a model with mopt-opt (to .onnx) and runs it in ONNX Runtime; float and int64 inputs.</summary>
    private static Dictionary<string, (long[] Shape, double[] Values)> RunOnnx(string model, TempDir dir, params (string Name, long[] Shape, object Values)[] inputs)
    {
        var onnx = dir.File(Path.GetFileNameWithoutExtension(model) + Guid.NewGuid().ToString("N") + ".onnx");
        var (exit, _, stderr) = Mir.Opt([model, "-o", onnx]);
        Assert.True(exit == 0, $"mopt-opt {model} -o {onnx}: {stderr}");
        using var ort = new OrtRunner(File.ReadAllBytes(onnx));
        var feed = inputs.ToDictionary(i => i.Name, i => i.Values switch
        {
            float[] f => new NpyArray(ElementType.F32, i.Shape, MemoryMarshal.AsBytes(f.AsSpan()).ToArray()),
            long[] l => new NpyArray(ElementType.I64, i.Shape, MemoryMarshal.AsBytes(l.AsSpan()).ToArray()),
            _ => throw new ArgumentException("float[] or long[]"),
        });
        return ort.Run(feed).ToDictionary(kv => kv.Key, kv => (kv.Value.Shape, kv.Value.Element == ElementType.F32
            ? MemoryMarshal.Cast<byte, float>(kv.Value.Data).ToArray().Select(v => (double)v).ToArray()
            : kv.Value.Element == ElementType.I64 ? MemoryMarshal.Cast<byte, long>(kv.Value.Data).ToArray().Select(v => (double)v).ToArray()
            : throw new InvalidOperationException($"output {kv.Key} is {kv.Value.Element}")));
    }

    // ------------------------------------------------------------------ the ops PIR brings

    /// <summary>thresholded_relu (Paddle: x > threshold ? x : value), then scale by a full operand, as the real file has them.</summary>
    [Theory]
    [InlineData(1.0, 0.0, 3.0)]
    [InlineData(0.5, -2.0, 0.5)]
    public void ThresholdedReluThenScaleIsPaddles(double threshold, double value, double factor)
    {
        var p = new P();
        long x = p.Data("x", "t_f32", [2, 3]);
        long t = p.Op("1.thresholded_relu", [x], [P.A.F32("threshold", (float)threshold), P.A.F32("value", (float)value)], P.Type("t_f32", 2, 3))[0];
        long s = p.Full([1], factor);
        long y = p.Op("1.scale", [t, s], [P.A.F32("bias", 0.25f), P.A.Bool("bias_after_scale", true)], P.Type("t_f32", 2, 3))[0];
        p.Fetch(y, 0, "y", "t_f32", 2, 3);
        using var dir = new TempDir();
        float[] input = [-1f, 0.5f, 1f, 1.5f, 2f, 0.75f];
        var output = RunOnnx(p.Write(dir.Path), dir, ("x", [2, 3], input))["y"];
        Assert.Equal([2L, 3], output.Shape);
        for (int i = 0; i < input.Length; i++)
        {
            double relu = input[i] > (float)threshold ? input[i] : (float)value;
            Assert.Equal(factor * relu + 0.25, output.Values[i], 5);
        }
    }

    /// <summary>An if on equal(a, 1) with two int64 results per branch, as the real ifelse file has it; scale on int64.</summary>
    [Theory]
    [InlineData(1L, 7L)]
    [InlineData(0L, 7L)]
    [InlineData(2L, -3L)]
    public void IfElseOnInt64ScalarsIsPaddles(long a, long b)
    {
        var p = new P();
        long x = p.Data("a", "t_i64", [], "int64");
        long y = p.Data("b", "t_i64", [], "int64");
        long one = p.Full([], 1, "int64", "t_i64");
        long cond = p.Op("1.equal", [x, one], [], P.Type("t_bool"))[0];
        var outs = p.If(cond, [P.Type("t_i64"), P.Type("t_i64")],
            then => then.Yield(Scale(then, y, 2), Scale(then, y, 5)),
            otherwise => otherwise.Yield(Scale(otherwise, y, 3), y));
        p.Fetch(outs[0], 0, "first", "t_i64");
        p.Fetch(outs[1], 1, "second", "t_i64");
        using var dir = new TempDir();
        var json = p.Write(dir.Path);
        var text = Mir.Print(ModelReaders.For(json).Read(json));
        Assert.Contains("\"paddle.if\"", text);
        Assert.Contains("mo.yield", text);
        var result = RunOnnx(json, dir, ("a", [], new[] { a }), ("b", [], new[] { b }));
        Assert.Equal(a == 1 ? 2 * b : 3 * b, result["first"].Values.Single());
        Assert.Equal(a == 1 ? 5 * b : b, result["second"].Values.Single());
    }

    /// <summary>
    /// IntArray operands: reshape's shape from a full_int_array, transpose's perm an attribute, concat's vector from
    /// builtin.combine with its axis from a full, split's vector handed out by builtin.split.
    /// </summary>
    [Fact]
    public void ReshapeTransposeConcatSplitAreTheLegacyOps()
    {
        var p = new P();
        long x = p.Data("x", "t_f32", [2, 6]);
        var reshaped = p.Op("1.reshape", [x, p.FullIntArray(3, 4)], [], P.Type("t_f32", 3, 4), P.Type("t_f32", 0, 2, 6));
        long t = p.Op("1.transpose", [reshaped[0]], [P.A.Ints32("perm", 1, 0)], P.Type("t_f32", 4, 3))[0];
        long both = p.Op("0.combine", [t, t], [], new System.Text.Json.Nodes.JsonObject
        {
            ["#"] = "0.t_vec", ["D"] = new System.Text.Json.Nodes.JsonArray(P.Type("t_f32", 4, 3), P.Type("t_f32", 4, 3)),
        })[0];
        long cat = p.Op("1.concat", [both, p.Full([1], 1, "int32", "t_i32")], [], P.Type("t_f32", 4, 6))[0];
        long parts = p.Op("1.split", [cat, p.FullIntArray(2, 4), p.Full([1], 1, "int32", "t_i32")], [], new System.Text.Json.Nodes.JsonObject
        {
            ["#"] = "0.t_vec", ["D"] = new System.Text.Json.Nodes.JsonArray(P.Type("t_f32", 4, 2), P.Type("t_f32", 4, 4)),
        })[0];
        var pieces = p.Op("0.split", [parts], [], P.Type("t_f32", 4, 2), P.Type("t_f32", 4, 4));
        p.Fetch(pieces[0], 0, "a", "t_f32", 4, 2);
        p.Fetch(pieces[1], 1, "b", "t_f32", 4, 4);
        using var dir = new TempDir();
        var json = p.Write(dir.Path);
        var text = Mir.Print(ModelReaders.For(json).Read(json));
        Assert.Contains("\"paddle.reshape2\"(%arg0) {mo.outputs = [\"reshape_", text);
        Assert.Contains("shape = array<i32: 3, 4>", text);
        var concat = text.Split('\n').Single(l => l.Contains("\"paddle.concat\""));
        Assert.Contains("axis = 1 : i32", concat); // the full operand
        Assert.Contains("paddle.inputs = {X = 2 : i32}", concat); // the combined vector
        Assert.Contains("sections = array<i32: 2, 4>", text);
        var x0 = PaddleLoweringCheck.Values(21, 12);
        var result = RunOnnx(json, dir, ("x", [2, 6], x0));
        // x as 3x4, transposed to 4x3 (t[i][j] = x[j*4+i]), concatenated with itself to 4x6, split into columns 0-1 and 2-5
        for (int i = 0; i < 4; i++)
        {
            float T(int j) => x0[(j % 3) * 4 + i];
            Assert.Equal([T(0), T(1)], result["a"].Values.Skip(i * 2).Take(2).Select(v => (float)v));
            Assert.Equal([T(2), T(3), T(4), T(5)], result["b"].Values.Skip(i * 4).Take(4).Select(v => (float)v));
        }
    }

    private static long Scale(P p, long x, double factor) =>
        p.Op("1.scale", [x, p.Full([1], factor)], [P.A.F32("bias", 0), P.A.Bool("bias_after_scale", true)], P.Type("t_i64"))[0];

    /// <summary>Every attribute kind §4.3 lists comes in, each in the form the legacy importer gives its AttrType.</summary>
    [Fact]
    public void AttributesOfEveryKindImport()
    {
        var p = new P();
        long x = p.Data("x", "t_f32", [2]);
        long y = p.Op("1.relu", [x],
        [
            P.A.I32("i32", -3), P.A.I64("i64", 1L << 40), P.A.F32("f32", 0.5f), P.A.F64("f64", 0.25), P.A.Bool("bool", true), P.A.Str("str", "s"),
            P.A.Ints32("ints", 1, 2), P.A.Ints64("longs", 3, 4), P.A.IntArray("intarray", 5, 6), P.A.DType("dtype", "int64"),
            P.A.Raw("nan", "0.a_f32", null), P.A.Raw("index", "0.a_index", 7), P.A.Raw("layout", "1.a_layout", "NHWC"),
            P.A.Raw("scalar", "1.a_scalar", new System.Text.Json.Nodes.JsonArray("float64", 1.5)),
            P.A.Raw("c64", "0.a_c64", new System.Text.Json.Nodes.JsonArray(1, -1)),
            P.A.Raw("type", "0.a_type", P.Type("t_i32", 3)),
            P.A.Raw("bools", "0.a_array", new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["#"] = "0.a_bool", ["D"] = false })),
            P.A.Raw("strs", "0.a_array", new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["#"] = "0.a_str", ["D"] = "u" })),
            P.A.Raw("tensor_name", "0.a_tensor_name", "t"),
        ], P.Type("t_f32", 2))[0];
        p.Fetch(y, 0, "y", "t_f32", 2);
        using var dir = new TempDir();
        var json = p.Write(dir.Path);
        // NaN is written as "VD", not "D".
        File.WriteAllText(json, File.ReadAllText(json).Replace("{\"#\":\"0.a_f32\",\"D\":null}", "{\"#\":\"0.a_f32\",\"VD\":\"NaN\"}"));
        var text = Mir.Print(ModelReaders.For(json).Read(json));
        foreach (var expected in new[]
        {
            "i32 = -3 : i32", "i64 = 1099511627776 : i64", "f32 = 5.000000e-01 : f32", "f64 = 2.500000e-01 : f64", "bool = true", "str = \"s\"",
            "ints = array<i32: 1, 2>", "longs = array<i64: 3, 4>", "intarray = array<i64: 5, 6>", "dtype = 3 : i32", "nan = 0x7FC00000 : f32",
            "index = 7 : i64", "layout = \"NHWC\"", "scalar = {scalar = 1.500000e+00 : f64}", "c64 = array<f32: 1.000000e+00, -1.000000e+00>",
            "type = tensor<3xi32>", "bools = array<i1: false>", "strs = [\"u\"]", "tensor_name = \"t\"",
        })
            Assert.Contains(expected, text);
    }

    // ------------------------------------------------------------------ bad input

    private static string Error(string model)
    {
        using var dir = new TempDir();
        var onnx = dir.File("m.onnx");
        var (exit, _, stderr) = Mir.Opt([model, "-o", onnx]);
        Assert.Equal(1, exit);
        Assert.False(File.Exists(onnx), "a bad model must write nothing");
        Assert.DoesNotContain("internal error", stderr);
        return stderr;
    }

    private static string ErrorOf(P program, Action<string>? edit = null, byte[]? parameters = null)
    {
        using var dir = new TempDir();
        var json = program.Write(dir.Path);
        edit?.Invoke(json);
        if (parameters is not null) File.WriteAllBytes(Path.ChangeExtension(json, ".pdiparams"), parameters);
        return Error(json);
    }

    private static P Relu(Action<P>? more = null)
    {
        var p = new P();
        long x = p.Data("x", "t_f32", [2]);
        long y = p.Op("1.relu", [x], [], P.Type("t_f32", 2))[0];
        more?.Invoke(p);
        p.Fetch(y, 0, "y", "t_f32", 2);
        return p;
    }

    [Fact]
    public void NotJsonIsAnErrorAtItsLineAndColumn()
    {
        var e = ErrorOf(Relu(), json => File.WriteAllText(json, "{\n  \"base_code\": {\"magic\": \"pir\",\n  oops }"));
        Assert.Matches(@"model\.json:3:3: error: not valid JSON", e);
        Assert.Contains("  oops }", e);
    }

    [Fact]
    public void NotPirIsAnError()
    {
        Assert.Contains("not a Paddle PIR program: base_code.magic is 'onnx', Paddle writes 'pir'", ErrorOf(new P { Magic = "onnx" }));
        Assert.Contains("not a Paddle PIR program: the file holds a JSON array", ErrorOf(Relu(), json => File.WriteAllText(json, "[1, 2]")));
        Assert.Contains("PIR version 9; mopt reads versions 0 to 4", ErrorOf(new P { Version = 9 }));
    }

    [Fact]
    public void OtherJsonIsLeftToOtherReaders()
    {
        using var dir = new TempDir();
        var other = dir.File("report.json");
        File.WriteAllText(other, "{\"layers\": []}");
        var e = Assert.Throws<MirException>(() => ModelReaders.For(other));
        Assert.Contains("unknown input format", e.Message);
        Assert.Contains("Paddle PIR program", e.Message);
        var pir = Relu().Write(dir.Path);
        Assert.IsType<PirModelReader>(ModelReaders.For(pir));
    }

    [Fact]
    public void UnknownOpIsNamedWithItsIndex()
    {
        var p = new P();
        long x = p.Data("x", "t_f32", [2]);
        long y = p.Op("1.frobnicate", [x], [], P.Type("t_f32", 2))[0];
        p.Fetch(y, 0, "y", "t_f32", 2);
        Assert.Contains("model.json: op 2 (1.frobnicate): no paddle op for PIR op '1.frobnicate'", ErrorOf(p));
    }

    [Fact]
    public void UndefinedValueIsNamedById()
    {
        var p = new P();
        p.Data("x", "t_f32", [2]);
        long y = p.Op("1.relu", [42], [], P.Type("t_f32", 2))[0];
        p.Fetch(y, 0, "y", "t_f32", 2);
        Assert.Contains("op 2 (1.relu): reads value %42, which no op before it defines", ErrorOf(p));
    }

    [Fact]
    public void ReadingADroppedXShapeIsAnError()
    {
        var p = new P();
        long x = p.Data("x", "t_f32", [2, 3]);
        var flat = p.Op("1.flatten", [x], [P.A.I32("start_axis", 0), P.A.I32("stop_axis", 1)], P.Type("t_f32", 6), P.Type("t_f32", 0, 2, 3));
        p.Fetch(flat[1], 0, "y", "t_f32", 0, 2, 3);
        Assert.Contains($"reads value %{flat[1]}, the flatten's result 1 (XShape, for training), which mopt drops", ErrorOf(p));
    }

    [Fact]
    public void RuntimeKernelSizeIsAnError()
    {
        var p = new P();
        long x = p.Data("x", "t_f32", [1, 1, 4, 4]);
        long k = p.Data("k", "t_i64", [2], "int64");
        long y = p.Op("1.pool2d", [x, k], [P.A.Str("pooling_type", "max")], P.Type("t_f32", 1, 1, 2, 2))[0];
        p.Fetch(y, 0, "y", "t_f32", 1, 1, 2, 2);
        Assert.Contains($"its kernel_size (value %{k}) is computed at run time; the legacy pool2d takes it only as a constant", ErrorOf(p));
    }

    private static P WithParameters()
    {
        var p = new P();
        long x = p.Data("x", "t_f32", [2]);
        long a = p.Parameter("a", 2), b = p.Parameter("b", 2);
        long s = p.Op("1.add", [x, a], [], P.Type("t_f32", 2))[0];
        long y = p.Op("1.multiply", [s, b], [], P.Type("t_f32", 2))[0];
        p.Fetch(y, 0, "y", "t_f32", 2);
        return p;
    }

    private static byte[] Record(long[] dims, params float[] values) =>
        PaddleModelFilesTests.Record(Mopt.Paddle.Proto.VarType.Types.Type.Fp32, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    [Fact]
    public void ParametersAreReadInSortedNameOrder()
    {
        using var dir = new TempDir();
        var json = WithParameters().Write(dir.Path);
        File.WriteAllBytes(Path.ChangeExtension(json, ".pdiparams"), [.. Record([2], 1, 2), .. Record([2], 10, 20)]);
        var result = RunOnnx(json, dir, ("x", [2], new[] { 0.5f, -1f }))["y"];
        Assert.Equal([15.0, 20], result.Values); // (x + a) * b with a = [1, 2], b = [10, 20]
    }

    [Fact]
    public void BadParametersAreNamedErrors()
    {
        Assert.Contains("the program has 2 parameters ('a' first) but there is no model.pdiparams beside it", ErrorOf(WithParameters()));
        Assert.Contains("the file ends after 1 of the program's 2 parameters; 'b' (and any after it in sorted order) is missing", ErrorOf(WithParameters(), parameters: Record([2], 1, 2)));
        Assert.Contains("parameter 'b' in model.pdiparams is tensor<3xf32>, but the program declares it tensor<2xf32>", ErrorOf(WithParameters(), parameters: [.. Record([2], 1, 2), .. Record([3], 1, 2, 3)]));
        var both = (byte[])[.. Record([2], 1, 2), .. Record([2], 10, 20)];
        Assert.Contains("'b' in model.pdiparams", ErrorOf(WithParameters(), parameters: both[..^3]));
        Assert.Contains("(truncated)", ErrorOf(WithParameters(), parameters: both[..^3]));
        Assert.Contains("4 bytes remain after the program's 2 parameters", ErrorOf(WithParameters(), parameters: [.. both, 1, 2, 3, 4]));
    }

    [Fact]
    public void FetchColumnsMustNumberFromZero()
    {
        var p = new P();
        long x = p.Data("x", "t_f32", [2]);
        p.Fetch(x, 1, "y", "t_f32", 2);
        Assert.Contains("the fetch ops' col attributes are 1; Paddle numbers them 0..0", ErrorOf(p));
    }

    // ------------------------------------------------------------------ the real files (Paddle2ONNX history)

    [PirExtraModelsFact]
    public void RealThresholdedReluFileRunsAsPaddleComputesIt()
    {
        var json = Path.Combine(PirExtraModelsFactAttribute.Folder!, "thresholded_relu", "model.json");
        using var dir = new TempDir();
        // relu(x) = x > 1 ? x : 0, then scale 1.0 (data "0" is a float32 scalar)
        foreach (var x in new[] { -2f, 0.5f, 1f, 1.25f, 3f })
        {
            var y = RunOnnx(json, dir, ("0", [], new[] { x }))["fetch_name_0"];
            Assert.Empty(y.Shape);
            Assert.Equal(x > 1f ? x : 0f, y.Values.Single());
        }
    }

    [PirExtraModelsFact]
    public void RealIfElseFileRunsAsPaddleComputesIt()
    {
        var json = Path.Combine(PirExtraModelsFactAttribute.Folder!, "ifelse", "model.json");
        using var dir = new TempDir();
        // if a == 1: (b * 1, b * 2) else (b * 3, b * 4); each then scaled by 1.0
        foreach (var (a, b) in new[] { (1L, 5L), (0L, 5L), (7L, -2L), (1L, 0L) })
        {
            var result = RunOnnx(json, dir, ("0", [], new[] { a }), ("1", [], new[] { b }));
            Assert.Equal(a == 1 ? b : 3 * b, result["fetch_name_0"].Values.Single());
            Assert.Equal(a == 1 ? 2 * b : 4 * b, result["fetch_name_1"].Values.Single());
        }
    }
}
