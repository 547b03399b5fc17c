using Mopt.Frontend.Caffe;
using Mopt.Frontend.Onnx;
using Mopt.Frontend.Paddle;
using Mopt.Frontend.Paddle.Pir;
using Mopt.Frontend.PaddleLite;
using Mopt.Frontend.Tf;
using Mopt.Ir;
using Mopt.Ir.Parsing;

namespace Mopt.Frontend;

/// <summary>Reads one source format into a module.</summary>
public interface IModelReader
{
    /// <summary>The format's name in messages, e.g. "ONNX".</summary>
    string Format { get; }
    bool CanRead(string path);
    MirModule Read(string path);
}

/// <summary>The .mir text: the IR itself.</summary>
public sealed class MirTextReader : IModelReader
{
    public string Format => "MLIR text";
    public bool CanRead(string path) => path == "-" || FileNames.IsMirText(path);

    public MirModule Read(string path)
    {
        if (path != "-") return MirReader.ParseFile(path);
        using var stdin = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        using var source = Mopt.Grammar.SourceText.FromBytes("<stdin>", buffer.ToArray());
        return MirReader.Parse(source);
    }
}

/// <summary>Picks the reader for an input path by its extension (or folder layout).</summary>
public static class ModelReaders
{
    private static readonly IModelReader[] Readers = [new MirTextReader(), new OnnxModelReader(), new TfMetaGraphReader(), new TfModelReader(), new CaffeModelReader(), new CaffePrototxtReader(), new PaddleModelReader(), new PirModelReader(), new PaddleLiteModelReader()];

    public static IReadOnlyList<IModelReader> All => Readers;

    public static IModelReader For(string path)
    {
        // A loop over the array: asked once per run, where a LINQ search made an enumerator and a closure.
        foreach (var reader in Readers)
            if (reader.CanRead(path)) return reader;
        throw new MirException($"'{path}': unknown input format (mopt reads {string.Join(", ", Readers.Select(r => r.Format))})");
    }
}
