using Mopt.Ir;

namespace Mopt.Frontend.Paddle.Pir;

/// <summary>
/// Reads a Paddle 3 PIR inference program: <c>NAME.json</c> (with <c>NAME.pdiparams</c> beside it when it has
/// parameters). <c>.json</c> is a generic extension: a JSON file whose first key is not base_code (or program) is left
/// to other readers (docs/formats/paddle.md).
/// </summary>
public sealed class PirModelReader : IModelReader
{
    public string Format => "Paddle PIR program (.json whose base_code.magic is \"pir\", with .pdiparams)";

    public bool CanRead(string path) =>
        FileNames.HasExtension(path, ".json") && File.Exists(path) && PirJson.LooksLikePir(path);

    public MirModule Read(string path) => PirImporter.ImportPath(path);
}
