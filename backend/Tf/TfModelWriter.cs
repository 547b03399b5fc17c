using Mopt.Ir;

namespace Mopt.Backend.Tf;

/// <summary>Writes a module still in <c>tf.*</c> as a binary GraphDef (<c>.pb</c>).</summary>
public sealed class TfModelWriter : IModelWriter
{
    public string Format => "TensorFlow GraphDef (.pb)";
    public bool CanWrite(string path) => FileNames.HasExtension(path, ".pb");
    public void Write(MirModule module, Stream output, string finalPath) => TfExporter.Write(module, output, finalPath);
}
