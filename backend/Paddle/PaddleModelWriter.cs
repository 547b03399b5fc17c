using System.Buffers.Binary;
using Google.Protobuf;
using Mopt.Ir;

namespace Mopt.Backend.Paddle;

/// <summary>
/// Writes a module in <c>paddle.*</c> as a Paddle inference model: <c>-o NAME.pdmodel</c> writes the ProgramDesc and
/// <c>NAME.pdiparams</c> beside it; <c>-o DIR/</c> writes <c>DIR/__model__</c> and <c>DIR/__params__</c>. The parameters
/// are LoDTensor records in sorted-name order, with no header (what Paddle's load_combine reads, and the second buffer
/// of Paddle Inference's SetModelBuffer). Both files are written to temporaries, then renamed together.
/// </summary>
public sealed class PaddleModelWriter : IModelWriter
{
    public string Format => "Paddle inference model (.pdmodel with the .pdiparams beside it, or DIR/ for __model__ and __params__)";

    public bool CanWrite(string path) => IsPdModel(path) || IsFolder(path);

    public void Write(MirModule module, Stream output, string finalPath) => output.Write(PaddleExporter.ToProgram(module, finalPath).Program.ToByteArray());

    public void WriteFiles(MirModule module, string path)
    {
        var program = PaddleExporter.ToProgram(module, path);
        string model, parameters;
        if (IsFolder(path))
        {
            Directory.CreateDirectory(path);
            (model, parameters) = (Path.Combine(path, "__model__"), Path.Combine(path, "__params__"));
        }
        else (model, parameters) = (path, Path.ChangeExtension(path, ".pdiparams"));
        var files = new List<(string, Action<Stream>)> { (model, s => s.Write(program.Program.ToByteArray())) };
        if (program.Parameters.Count > 0) files.Add((parameters, s => WriteParameters(program, s)));
        AtomicFile.WriteAll(files);
    }

    /// <summary>Each parameter's record: uint32 0, uint64 0 (no LoD), uint32 0, int32 size of the TensorDesc, the TensorDesc, the bytes.</summary>
    public static void WriteParameters(PaddleProgram program, Stream output)
    {
        Span<byte> header = stackalloc byte[20];
        foreach (var (name, tensor) in program.Parameters)
        {
            var desc = PaddleExporter.TensorDesc(tensor.Type, $"parameter '{name}'").ToByteArray();
            header.Clear();
            BinaryPrimitives.WriteInt32LittleEndian(header[16..], desc.Length);
            output.Write(header);
            output.Write(desc);
            output.Write(tensor.Bytes.Span);
        }
    }

    private static bool IsPdModel(string path) => FileNames.HasExtension(path, ".pdmodel");
    private static bool IsFolder(string path) => path.EndsWith('/') || path.EndsWith(Path.DirectorySeparatorChar) || Directory.Exists(path);
}
