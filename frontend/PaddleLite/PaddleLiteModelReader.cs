using Mopt.Frontend.Paddle;
using Mopt.Ir;

namespace Mopt.Frontend.PaddleLite;

/// <summary>Reads a Paddle-Lite <c>.nb</c> (meta_version 2 or 1) into <c>paddle.*</c>, through the Paddle importer (docs/formats/paddle.md).</summary>
public sealed class PaddleLiteModelReader : IModelReader
{
    public string Format => "Paddle-Lite model (.nb, meta_version 2 or 1)";
    public bool CanRead(string path) => LiteModelFile.IsLiteModel(path);
    public MirModule Read(string path) => PaddleImporter.Import(LiteModelFile.Read(path));
}
