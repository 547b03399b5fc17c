using Mopt.Ir;

namespace Mopt.Frontend.Paddle.Pir;

/// <summary>
/// The <c>.pdiparams</c> beside a PIR <c>.json</c>: the records of the program's <c>builtin.parameter</c> ops in
/// sorted-name order (save_vars_pir; Python's <c>sorted</c>, ordinal), back to back, no names (docs/formats/paddle.md).
/// It must hold exactly those, each of the type its parameter op declares, to its last byte.
/// </summary>
public static class PirParameters
{
    /// <summary>The parameters by name; none (and no file needed) when <paramref name="declared"/> is empty.</summary>
    public static Dictionary<string, PaddleTensorRecord> Read(string jsonPath, SortedDictionary<string, TensorType> declared)
    {
        if (declared.Count == 0) return new Dictionary<string, PaddleTensorRecord>(StringComparer.Ordinal);
        var path = ParamsPath(jsonPath);
        if (!File.Exists(path))
            throw new MirException($"{jsonPath}: the program has {declared.Count} parameters ('{declared.Keys.First()}' first) but there is no {Path.GetFileName(path)} beside it");
        return PaddleModelFiles.ReadCombined(path, declared, (name, type, record, file) =>
        {
            if (!SameType(record.Type, type))
                throw new MirException($"parameter '{name}' in {file} is {record.Type}, but the program declares it {type}");
        }, "program");
    }

    /// <summary><c>NAME.pdiparams</c> for <c>NAME.json</c>.</summary>
    public static string ParamsPath(string jsonPath) => Path.ChangeExtension(jsonPath, ".pdiparams");

    private static bool SameType(TensorType saved, TensorType declared)
    {
        if (!ReferenceEquals(saved.Element, declared.Element) || saved.Shape is null || declared.Shape is null || saved.Shape.Count != declared.Shape.Count) return false;
        for (int i = 0; i < saved.Shape.Count; i++)
            if (declared.Shape[i] != TensorType.Dynamic && declared.Shape[i] != saved.Shape[i]) return false;
        return true;
    }
}
