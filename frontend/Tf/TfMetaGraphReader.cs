using Google.Protobuf;
using Mopt.Frontend.Tf.Checkpoints;
using Mopt.Ir;
using Mopt.Tf.Proto;

namespace Mopt.Frontend.Tf;

/// <summary>
/// Reads a TensorFlow MetaGraphDef (<c>model.ckpt.meta</c>) or a SavedModel (<c>saved_model.pb</c>, its "serve"
/// graph). With a checkpoint (<see cref="TfImportOptions.Checkpoint"/>) the graph is frozen first (<see cref="TfFreezer"/>):
/// its variables become constants holding the checkpoint's tensors, named <c>tf.checkpoint_key</c>; without one the
/// graph is imported as it is, variables and all.
/// </summary>
public sealed class TfMetaGraphReader(TfImportOptions? options = null) : IModelReader
{
    private readonly TfImportOptions _options = options ?? TfImportOptions.Default;

    public string Format => "TensorFlow MetaGraphDef (.meta, saved_model.pb)";

    public bool CanRead(string path) =>
        FileNames.HasExtension(path, ".meta") || Path.GetFileName(path.AsSpan()) is "saved_model.pb";

    public MirModule Read(string path)
    {
        var meta = Parse(ReadBytes(path), path);
        if (_options.Checkpoint is not { } checkpoint) return TfImporter.Import(TfImporter.Check(meta.GraphDef, path), path, _options);
        var bundle = TensorBundle.Open(checkpoint);
        var (graph, keys) = TfFreezer.Freeze(TfImporter.Check(meta.GraphDef, path), bundle, _options, path);
        var module = TfImporter.Import(graph, path, _options);
        foreach (var op in module.MainFunction.Body.Operations)
            if (op.Name == "tf.Const" && op.Location.FirstName is { } name && keys.TryGetValue(name, out var key))
                op.SetAttr("tf.checkpoint_key", new StringAttr(key));
        return module;
    }

    private static byte[] ReadBytes(string path)
    {
        try { return WholeFile.Read(path); }
        catch (FileNotFoundException) { throw new MirException($"cannot read '{path}': file not found"); }
        catch (DirectoryNotFoundException) { throw new MirException($"cannot read '{path}': no such folder"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot read '{path}': {e.Message}"); }
    }

    /// <summary>The MetaGraphDef of a <c>.meta</c> file, or a SavedModel's graph tagged "serve" (or its only one).</summary>
    public static MetaGraphDef Parse(byte[] bytes, string name)
    {
        bool saved = Path.GetFileName(name) == "saved_model.pb";
        string what = saved ? "SavedModel" : "MetaGraphDef";
        if (bytes.Length == 0) throw new MirException($"'{name}': not a TensorFlow {what}: the file is empty");
        MetaGraphDef? meta;
        try
        {
            if (saved)
            {
                var model = SavedModel.Parser.ParseFrom(bytes);
                meta = model.MetaGraphs.Count == 1 ? model.MetaGraphs[0]
                    : model.MetaGraphs.FirstOrDefault(m => m.MetaInfoDef?.Tags.Contains("serve") == true)
                      ?? throw new MirException($"'{name}': the SavedModel has {model.MetaGraphs.Count} meta graphs and none tagged \"serve\"");
            }
            else meta = MetaGraphDef.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            var why = ProtobufErrors.Why(e, what);
            throw new MirException($"'{name}': not a TensorFlow {what}: {why}");
        }
        // Another protobuf (a GraphDef, say) may parse as a MetaGraphDef with no graph in it.
        if (meta.GraphDef is null || meta.GraphDef.Node.Count == 0)
            throw new MirException($"'{name}': not a TensorFlow {what}: it has no graph_def with nodes");
        return meta;
    }
}
