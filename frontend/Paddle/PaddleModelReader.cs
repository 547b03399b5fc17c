using Mopt.Ir;

namespace Mopt.Frontend.Paddle;

/// <summary>Reads a Paddle inference model: a folder, its <c>__model__</c> or <c>model</c>, or a <c>.pdmodel</c> (docs/formats/paddle.md).</summary>
public sealed class PaddleModelReader : IModelReader
{
    public string Format => "Paddle inference model (folder, __model__, or .pdmodel with .pdiparams)";
    public bool CanRead(string path) => PaddleModelFiles.IsPaddleModel(path);
    public MirModule Read(string path) => PaddleImporter.ImportPath(path);
}
