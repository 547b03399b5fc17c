using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// <c>--tf-remove-device</c>, the Graph Transform Tool's <c>remove_device</c>
/// (tensorflow/tools/graph_transforms/remove_device.cc): every node's device assignment is cleared, so the graph
/// runs wherever it is loaded.
/// <code>
/// Before: "tf.Conv2D"(%x, %w) {tf.device = "/device:GPU:0"} loc("conv")
/// After:  "tf.Conv2D"(%x, %w) loc("conv")
/// </code>
/// The inputs' (Placeholders') devices go too.
/// </summary>
public sealed class TfRemoveDevice : Pass
{
    public override string Name => "tf-remove-device";
    public override string Summary => "TensorFlow: clear every node's device (GTT remove_device)";

    public override void Run(MirModule module, PassContext context)
    {
        if (!TfGraph.Applies(module, Name)) return;
        var func = module.MainFunction;
        foreach (var op in func.Body.Operations)
            if (op.RemoveAttr(TfGraph.DeviceAttr)) context.Count("devices cleared");
        for (int i = 0; i < func.Arguments.Count; i++)
        {
            var attrs = func.ArgAttrs(i);
            if (attrs.Get(TfGraph.DeviceAttr) is null) continue;
            func.SetArgAttrs(i, DictionaryAttr.From(attrs.Entries.Where(e => e.Name != TfGraph.DeviceAttr)));
            context.Count("devices cleared");
        }
    }
}
