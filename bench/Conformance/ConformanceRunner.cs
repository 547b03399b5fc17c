using Google.Protobuf;
using Mopt.Onnx.Proto;
using Mopt.Tools.Opt;

namespace Mopt.Bench.Conformance;

/// <summary>Runs one test: ONNX Runtime on the original, then mopt's stages (in process), each result in ONNX Runtime.</summary>
public sealed class ConformanceRunner(ConformanceOptions options, string workDir)
{
    public List<StageResult> Results { get; } = new();

    /// <summary>Tests whose constant-input model folds to constants only: in mopt (fold stage) and in ONNX Runtime basic.</summary>
    public List<string> MoptFoldedAway { get; } = new();
    public List<string> OrtFoldedAway { get; } = new();
    public int FoldCompared { get; private set; }

    /// <summary>Per test ONNX Runtime passes: the opset of the default ONNX domain it imports.</summary>
    public Dictionary<string, long> OrtPassOpsets { get; } = new(StringComparer.Ordinal);

    public void Run(ConformanceTest test)
    {
        string dir = Path.Combine(workDir, test.Suite + "-" + test.Name);
        Directory.CreateDirectory(dir);
        try { RunIn(test, dir); }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private void RunIn(ConformanceTest test, string dir)
    {
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(test.Model)); }
        catch (InvalidProtocolBufferException e) { Add("ort", test, "runner: model.onnx is not a ModelProto: " + e.Message); return; }
        if (TestData.Unsupported(model) is { } why) { Add("ort", test, why); return; }
        var sets = new List<(List<(string Name, HostValue Value)> Inputs, List<HostValue> Expected)>();
        try { foreach (var set in test.DataSets) sets.Add((TestData.Inputs(model, set), TestData.Outputs(model, set))); }
        catch (Mopt.Ir.MirException e) { Add("ort", test, "runner: test data: " + FirstLine(e.Message)); return; }

        if (!Add("ort", test, Check(test.Model, sets))) return;
        OrtPassOpsets[test.Id] = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();
        string? Mopt(string[] args) => RunMopt(args)?.Replace(dir + "/", "");

        if (options.Stages.Contains("roundtrip"))
        {
            string o = Path.Combine(dir, "roundtrip.onnx");
            Add("roundtrip", test, Mopt([test.Model, "-o", o]) ?? Check(o, sets));
        }
        if (options.Stages.Contains("mir"))
        {
            string mir = Path.Combine(dir, "model.mir"), o = Path.Combine(dir, "mir.onnx");
            Add("mir", test, Mopt([test.Model, "-o", mir]) ?? Mopt([mir, "-o", o]) ?? Check(o, sets));
        }
        if (options.Stages.Contains("deploy"))
        {
            string o = Path.Combine(dir, "deploy.onnx");
            Add("deploy", test, Mopt([test.Model, "--pipeline=deploy", "-o", o]) ?? Check(o, sets));
        }
        if (options.Stages.Contains("fold")) Fold(test, model, sets, dir);
    }

    /// <summary>Per data set: the inputs as initializers, --fold-constants --dce, the result run with no inputs.</summary>
    private void Fold(ConformanceTest test, ModelProto model, List<(List<(string Name, HostValue Value)> Inputs, List<HostValue> Expected)> sets, string dir)
    {
        string? Mopt(string[] args) => RunMopt(args)?.Replace(dir + "/", "");
        string? error = null;
        for (int s = 0; s < test.DataSets.Count && error is null; s++)
        {
            string constant = Path.Combine(dir, $"constant{s}.onnx"), folded = Path.Combine(dir, $"folded{s}.onnx");
            File.WriteAllBytes(constant, WithConstantInputs(model, test.DataSets[s]).ToByteArray());
            var noInputs = new List<(List<(string Name, HostValue Value)>, List<HostValue>)> { ([], sets[s].Expected) };
            if (Check(constant, noInputs) is { } bad) { error = Categories.ConstantModel + bad; break; }
            error = Mopt([constant, "--fold-constants", "--dce", "-o", folded]) ?? Check(folded, noInputs);
            if (s != 0 || error is not null) continue;
            string ortBasic = Path.Combine(dir, "ort-basic.onnx");
            FoldCompared++;
            if (OnlyConstants(folded)) MoptFoldedAway.Add(test.Id);
            try
            {
                Ort.OptimizeBasic(constant, ortBasic);
                if (OnlyConstants(ortBasic)) OrtFoldedAway.Add(test.Id);
            }
            catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or InvalidProtocolBufferException) { }
        }
        Add("fold", test, error);
    }

    /// <summary>The model with the data set's inputs as initializers (still listed as graph inputs below IR version 4, as it requires).</summary>
    private static ModelProto WithConstantInputs(ModelProto model, string dataSet)
    {
        var m = model.Clone();
        var fed = TestData.FedInputs(m);
        var protos = TestData.Files(dataSet, "input");
        for (int i = 0; i < protos.Count && i < fed.Count; i++)
        {
            var t = protos[i].Clone();
            t.Name = fed[i].Name;
            if (t.DataType == 4 && fed[i].Type.TensorType.ElemType == 16) t.DataType = 16; // bfloat16 stored as uint16 (see TestData)
            m.Graph.Initializer.Add(t);
            if (m.IrVersion >= 4) m.Graph.Input.Remove(fed[i]);
        }
        return m;
    }

    private static bool OnlyConstants(string path) =>
        ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Node.All(n => n.OpType == "Constant" && n.Domain is "" or "ai.onnx");

    /// <summary>Runs the model in ONNX Runtime on every data set: null when all outputs match, else why not.</summary>
    private static string? Check(string path, IReadOnlyList<(List<(string Name, HostValue Value)> Inputs, List<HostValue> Expected)> sets)
    {
        foreach (var (inputs, expected) in sets)
        {
            List<(string Name, HostValue Value)> actual;
            try { actual = Ort.Run(path, inputs); }
            catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or InvalidOperationException or ArgumentException)
            {
                return "ORT: " + FirstLine(e.Message);
            }
            if (Compare.Outputs(expected, actual) is { } why) return why;
        }
        return null;
    }

    /// <summary>mopt-opt in this process: null on success, else the first line it wrote to stderr.</summary>
    private static string? RunMopt(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc;
        try { rc = OptTool.Run(args, stdout, stderr); }
        catch (Exception e) { return "mopt: crashed: " + e.GetType().Name + ": " + FirstLine(e.Message); }
        if (rc == 0) return null;
        var text = stderr.ToString();
        return "mopt: " + (text.Length == 0 ? $"exit {rc} with no message" : FirstLine(text));
    }

    private static string FirstLine(string s)
    {
        s = s.Trim();
        int nl = s.IndexOf('\n');
        return nl < 0 ? s : s[..nl].TrimEnd();
    }

    private bool Add(string stage, ConformanceTest test, string? error)
    {
        Results.Add(new StageResult(stage, test.Id, error, error is null ? null : Categories.Of(error)));
        return error is null;
    }
}
