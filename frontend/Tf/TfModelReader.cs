using Mopt.Ir;

namespace Mopt.Frontend.Tf;

/// <summary>Reads TensorFlow frozen graphs (<c>.pb</c>, a binary GraphDef).</summary>
public sealed class TfModelReader(TfImportOptions? options = null) : IModelReader
{
    public string Format => "TensorFlow GraphDef (.pb)";
    public bool CanRead(string path) => FileNames.HasExtension(path, ".pb");
    public MirModule Read(string path) => TfImporter.ImportFile(path, options);
}
