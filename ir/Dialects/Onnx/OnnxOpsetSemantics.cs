using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary><see cref="OnnxLegacy.Differs"/> at the module's stated opset (none stated: the current form, as the exporter writes it).</summary>
internal sealed class OnnxOpsetSemantics : IVersionedSemantics
{
    public string? Differs(Operation op, MirModule module) =>
        OnnxOpset.Stated(module) is long opset ? OnnxLegacy.Differs(op, opset) : null;

    public bool AllCurrent(MirModule module) => OnnxOpset.Stated(module) is not long opset || OnnxLegacy.AllCurrent(opset);
}
