using Mopt.Ir;

namespace Mopt.Frontend.Caffe;

/// <summary>Reads a <c>.caffemodel</c> alone (a binary NetParameter holding both the layers and their blobs).</summary>
public sealed class CaffeModelReader : IModelReader
{
    public string Format => "Caffe model (.caffemodel)";
    public bool CanRead(string path) => FileNames.HasExtension(path, ".caffemodel");
    public MirModule Read(string path) => CaffeImporter.ImportFile(path);
}
