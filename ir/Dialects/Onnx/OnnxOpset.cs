using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>The default-domain ONNX operator set a module is written in: the one place that reads it.</summary>
public static class OnnxOpset
{
    /// <summary>What a module that names no opset is taken to be written in (the ONNX exporter's default).</summary>
    public const long Default = 17;

    public const string OpsetAttr = "onnx.opset";
    public const string OpsetImportAttr = "onnx.opset_import";

    /// <summary>
    /// <c>onnx.opset</c>, else the default domain's entry of <c>onnx.opset_import</c>, else <see cref="Default"/>. A
    /// present but malformed attribute is an error naming it, never a guess.
    /// </summary>
    public static long Of(MirModule module) => Stated(module) ?? Default;

    /// <summary>The opset the module states (<c>onnx.opset</c>, else <c>onnx.opset_import</c>'s default domain), or null when it states none.</summary>
    public static long? Stated(MirModule module)
    {
        if (module.Op.ReadInt(OpsetAttr) is long v) return v;
        if (module.Op.GetAttr(OpsetImportAttr) is { } imports)
        {
            if (imports is not DictionaryAttr d) throw AttrReader.Malformed(module.Op, OpsetImportAttr, "a dictionary of domain to version", imports);
            switch (d.Get("") ?? d.Get("ai.onnx"))
            {
                case null: break;
                case IntegerAttr i: return i.Value;
                case var other: throw AttrReader.Malformed(module.Op, OpsetImportAttr, "a dictionary of integer versions", other);
            }
        }
        return null;
    }
}
