using Mopt.Backend.Caffe;
using Mopt.Backend.Onnx;
using Mopt.Backend.Paddle;
using Mopt.Backend.PaddleLite;
using Mopt.Backend.Tf;
using Mopt.Ir;
using Mopt.Ir.Printing;

namespace Mopt.Backend;

/// <summary>Writes a module in one target format.</summary>
public interface IModelWriter
{
    string Format { get; }
    bool CanWrite(string path);
    /// <summary>Writes the model to <paramref name="output"/> (a temporary file the caller renames when done).</summary>
    void Write(MirModule module, Stream output, string finalPath);

    /// <summary>Writes the model to <paramref name="path"/> and any file that goes with it, each complete or not there.</summary>
    void WriteFiles(MirModule module, string path) => AtomicFile.Write(path, stream => Write(module, stream, path));
}

public sealed class MirTextWriter(PrintOptions options) : IModelWriter
{
    public string Format => "MLIR text";
    public bool CanWrite(string path) => FileNames.IsMirText(path);
    public void Write(MirModule module, Stream output, string finalPath) => MirPrinter.Print(module, output, options);
}

public static class ModelWriters
{
    public static IModelWriter For(string path, PrintOptions printOptions) =>
        Find(path, printOptions)
        ?? throw new MirException($"'{path}': unknown output format (mopt writes {string.Join(", ", All(printOptions).Select(w => w.Format))}; chosen by extension)");

    /// <summary>The writer of <paramref name="path"/>'s format, or null: each is asked in turn, by extension before any look at the file system (a Paddle folder).</summary>
    public static IModelWriter? Find(string path, PrintOptions printOptions)
    {
        foreach (var writer in All(printOptions))
            if (writer.CanWrite(path)) return writer;
        return null;
    }

    private static IModelWriter[] All(PrintOptions printOptions) =>
        [new MirTextWriter(printOptions), new OnnxModelWriter(), new TfModelWriter(), new CaffeModelWriter(), new PaddleModelWriter(), new LiteModelWriter()];
}
