using System.Text;
using Google.Protobuf;
using Mopt.Backend.Tf;
using Mopt.Frontend.Tf;
using Mopt.Frontend.Tf.Checkpoints;
using Mopt.Ir;
using Mopt.Ir.Printing;
using Mopt.Tf.Proto;
using Mopt.Tools.Opt;

namespace Mopt.Tests.Tf;

/// <summary>
/// Freezing (--tf-checkpoint) on a real checkpoint, TensorFlow Serving's half_plus_two SavedModel (Data/checkpoints,
/// see its SOURCES.md): the tensor bundle reads with every checksum right, each variable becomes a Const holding exactly
/// the shard's bytes, nothing of the saver or the initializers stays, the frozen .pb re-imports; a resource variable
/// (VarHandleOp + ReadVariableOp) built over the same checkpoint freezes too; bad checkpoints are one clear error.
/// </summary>
public sealed class TfFreezeTests
{
    private static string Dir => Path.Combine(TestPaths.RepoRoot(), "tests", "Mopt.Tests", "Tf", "Data", "checkpoints", "half_plus_two");
    private static string SavedModelPath => Path.Combine(Dir, "saved_model.pb");
    private static string Prefix => Path.Combine(Dir, "variables", "variables");
    private static string Shard => Prefix + ".data-00000-of-00001";

    private static TfImportOptions Options(string outputs, string inputs = "x") =>
        new() { Outputs = outputs.Split(','), Inputs = inputs.Length == 0 ? [] : inputs.Split(','), Checkpoint = Prefix };

    [Fact]
    public void Crc32CIsCastagnoliAndMasksAsTensorFlowDoes()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789"))); // the standard check value
        Assert.Equal(Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")), Crc32C.Extend(Crc32C.Compute(Encoding.ASCII.GetBytes("1234")), Encoding.ASCII.GetBytes("56789")));
        Assert.Equal(0u, Crc32C.Compute([]));
        uint crc = 0x12345678;
        Assert.NotEqual(crc, Crc32C.Mask(crc));
        Assert.Equal(crc, Crc32C.Unmask(Crc32C.Mask(crc)));
    }

    [Fact]
    public void RealBundleReadsItsHeaderEntriesAndBytes()
    {
        // TensorFlow wrote this index's one data block (offset 0, 87 bytes) snappy-compressed: trailer type byte 1.
        Assert.Equal(1, File.ReadAllBytes(Prefix + ".index")[87]);
        var bundle = TensorBundle.Open(Prefix);
        Assert.Equal(1, bundle.Header.NumShards);
        Assert.Equal(["a", "a2", "b", "c", "c2"], bundle.Entries.Keys.Order(StringComparer.Ordinal));
        var shard = File.ReadAllBytes(Shard);
        var expected = new Dictionary<string, float> { ["a"] = 0.5f, ["a2"] = 0.5f, ["b"] = 2f, ["c"] = 3f, ["c2"] = 3f };
        foreach (var (key, entry) in bundle.Entries)
        {
            var bytes = bundle.Read(key);
            Assert.Equal(shard.AsSpan((int)entry.Offset, (int)entry.Size).ToArray(), bytes);
            Assert.Equal(expected[key], BitConverter.ToSingle(bytes));
        }
    }

    [Fact]
    public void RealSavedModelFreezesToConstsOfTheCheckpointBytes()
    {
        var module = new TfMetaGraphReader(Options("y,y2,y3", "x,x2")).Read(SavedModelPath);
        var ops = module.MainFunction.Body.Operations.ToList();
        Assert.DoesNotContain(ops, o => o.Name is "tf.VariableV2" or "tf.Assign" or "tf.RestoreV2" or "tf.SaveV2" or "tf.NoOp" or "tf.ParseExample");
        Assert.DoesNotContain(ops, o => o.Location.FirstName?.StartsWith("save/", StringComparison.Ordinal) == true);

        var bundle = TensorBundle.Open(Prefix);
        var shard = File.ReadAllBytes(Shard);
        var frozen = ops.Where(o => o.GetAttr("tf.checkpoint_key") is not null).ToList();
        Assert.Equal(["a", "b", "c", "a2", "c2"], frozen.Select(o => ((StringAttr)o.GetAttr("tf.checkpoint_key")!).Value));
        foreach (var c in frozen)
        {
            var entry = bundle.Entries[((StringAttr)c.GetAttr("tf.checkpoint_key")!).Value];
            var value = (DenseResourceAttr)c.GetAttr("value")!;
            Assert.Equal(new TensorType(ElementType.F32, []), value.Type);
            Assert.Equal(shard.AsSpan((int)entry.Offset, (int)entry.Size).ToArray(), module.Resources[value.Key].Data.ToArray());
        }

        // The frozen graph as a .pb re-imports to the same IR (less the checkpoint keys, which are mopt's bookkeeping).
        var graph = TfExporter.ToGraphDef(module, "frozen.pb");
        Assert.DoesNotContain(graph.Node, n => n.Op is "VariableV2" or "Assign" or "RestoreV2");
        var again = TfImporter.Import(GraphDef.Parser.ParseFrom(graph.ToByteArray()), "frozen.pb",
            new TfImportOptions { Outputs = ["y", "y2", "y3"] });
        foreach (var c in frozen) c.RemoveAttr("tf.checkpoint_key");
        Assert.Equal(MirPrinter.PrintToString(module), MirPrinter.PrintToString(again));
    }

    /// <summary>y = x * a through a resource variable: a VarHandleOp whose shared_name is the checkpoint key, read twice.</summary>
    private static MetaGraphDef ResourceGraph(string sharedName)
    {
        var g = new GraphDef { Versions = new VersionDef { Producer = 27 } };
        var x = new NodeDef { Name = "x", Op = "Placeholder" };
        x.Attr["dtype"] = new AttrValue { Type = DataType.DtFloat };
        var handle = new NodeDef { Name = "handle", Op = "VarHandleOp" };
        handle.Attr["dtype"] = new AttrValue { Type = DataType.DtFloat };
        handle.Attr["shape"] = new AttrValue { Shape = new TensorShapeProto() };
        handle.Attr["shared_name"] = new AttrValue { S = ByteString.CopyFromUtf8(sharedName) };
        g.Node.Add(x);
        g.Node.Add(handle);
        foreach (var name in new[] { "handle/Read/ReadVariableOp", "mul/ReadVariableOp" })
        {
            var read = new NodeDef { Name = name, Op = "ReadVariableOp", Input = { "handle" } };
            read.Attr["dtype"] = new AttrValue { Type = DataType.DtFloat };
            g.Node.Add(read);
        }
        var mul = new NodeDef { Name = "y", Op = "Mul", Input = { "x", "mul/ReadVariableOp" } };
        mul.Attr["T"] = new AttrValue { Type = DataType.DtFloat };
        g.Node.Add(mul);
        var init = new NodeDef { Name = "init", Op = "AssignVariableOp", Input = { "handle", "handle/Read/ReadVariableOp" } };
        init.Attr["dtype"] = new AttrValue { Type = DataType.DtFloat };
        g.Node.Add(init);
        return new MetaGraphDef { GraphDef = g };
    }

    [Fact]
    public void ResourceVariableReadBecomesTheConstOfItsSharedName()
    {
        using var tmp = new TempDir();
        var meta = tmp.File("resource.meta");
        File.WriteAllBytes(meta, ResourceGraph("b").ToByteArray());
        var module = new TfMetaGraphReader(Options("y", "")).Read(meta);
        var ops = module.MainFunction.Body.Operations.Where(o => o.Name != FuncOp.ReturnOpName).ToList();
        Assert.Equal(["tf.Const", "tf.Mul"], ops.Select(o => o.Name));
        Assert.Equal("mul/ReadVariableOp", ops[0].Location.FirstName);
        Assert.Equal("b", ((StringAttr)ops[0].GetAttr("tf.checkpoint_key")!).Value);
        var value = (DenseResourceAttr)ops[0].GetAttr("value")!;
        Assert.Equal(2f, BitConverter.ToSingle(module.Resources[value.Key].Data.Span));
    }

    [Fact]
    public void CheckpointWithoutTheVariableIsAnErrorNamingBoth()
    {
        using var tmp = new TempDir();
        var meta = tmp.File("resource.meta");
        File.WriteAllBytes(meta, ResourceGraph("nope").ToByteArray());
        var e = Assert.Throws<MirException>(() => new TfMetaGraphReader(Options("y", "")).Read(meta));
        Assert.Equal($"checkpoint '{Prefix}' has no tensor 'nope' (needed by VarHandleOp node 'handle')", e.Message);
    }

    /// <summary>Runs mopt-opt in process; checks exit 1, one line, no trace, no output file; returns the line.</summary>
    private static string Fails(TempDir tmp, params string[] args)
    {
        var output = tmp.File("out.pb");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int status = OptTool.Run([.. args, "-o", output], stdout, stderr);
        var text = stderr.ToString().TrimEnd('\n');
        Assert.Equal(1, status);
        Assert.DoesNotContain('\n', text);
        Assert.DoesNotContain("Exception", text);
        Assert.DoesNotContain("internal error", text);
        Assert.False(File.Exists(output), "no output file is written");
        return text;
    }

    /// <summary>A copy of the real checkpoint in <paramref name="tmp"/>, with <paramref name="damage"/> applied to its shard or index.</summary>
    private static string DamagedCopy(TempDir tmp, Action<string, string> damage)
    {
        var prefix = tmp.File("variables");
        File.Copy(Prefix + ".index", prefix + ".index");
        File.Copy(Shard, prefix + ".data-00000-of-00001");
        damage(prefix + ".index", prefix + ".data-00000-of-00001");
        return prefix;
    }

    [Fact]
    public void DamagedCheckpointsAreOneClearError()
    {
        using var tmp = new TempDir();
        var flipped = DamagedCopy(tmp, (_, data) => { var b = File.ReadAllBytes(data); b[1] ^= 1; File.WriteAllBytes(data, b); });
        Assert.Matches(@"^error: checkpoint '.*variables': tensor 'a': its bytes in '.*variables.data-00000-of-00001' do not match their crc32c \(the file is corrupt\)$",
            Fails(tmp, SavedModelPath, $"--tf-checkpoint={flipped}", "--tf-outputs=y", "--tf-inputs=x"));

        using var tmp2 = new TempDir();
        var index = DamagedCopy(tmp2, (idx, _) => { var b = File.ReadAllBytes(idx); b[10] ^= 0x40; File.WriteAllBytes(idx, b); });
        Assert.Matches(@"^error: '.*variables.index': not a TensorFlow checkpoint index: the data block at offset 0 does not match its crc32c",
            Fails(tmp2, SavedModelPath, $"--tf-checkpoint={index}", "--tf-outputs=y", "--tf-inputs=x"));

        using var tmp3 = new TempDir();
        var cut = DamagedCopy(tmp3, (idx, _) => File.WriteAllBytes(idx, File.ReadAllBytes(idx)[..40]));
        Assert.Matches(@"^error: '.*variables.index': not a TensorFlow checkpoint index: the file is truncated",
            Fails(tmp3, SavedModelPath, $"--tf-checkpoint={cut}", "--tf-outputs=y", "--tf-inputs=x"));

        var graph = tmp3.File("graph.pb");
        Assert.Equal($"mopt-opt: error: --tf-checkpoint freezes a MetaGraphDef (.meta or saved_model.pb), not '{graph}'",
            Fails(tmp3, graph, $"--tf-checkpoint={Prefix}"));
    }
}
