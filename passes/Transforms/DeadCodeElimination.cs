using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--dce</c>: removes operations whose results nothing reads and that have no side effects, then the
/// resource blobs no constant points at any more.
/// <code>
/// Before: %0 = "onnx.Constant"() {value = dense_resource&lt;w&gt;} ; (no use of %0)
/// After:  (gone, and blob w with it)
/// </code>
/// Only operations known to be pure are removed: ONNX, TensorFlow, Caffe and Paddle operators (minus the
/// stateful ones below). An operation with no results, or of a dialect mopt does not know, is kept.
/// </summary>
public sealed class DeadCodeElimination : Pass
{
    private static readonly HashSet<string> PureDialects = new(StringComparer.Ordinal) { "onnx", "tf", "caffe", "paddle", "mo" };

    /// <summary>Operations of those dialects that act on the world, so are kept even when unused.</summary>
    private static readonly HashSet<string> Stateful = new(StringComparer.Ordinal)
    {
        "tf.Assert", "tf.Print", "tf.PrintV2", "tf.Save", "tf.SaveV2", "tf.WriteFile", "tf.Assign",
        "tf.AssignVariableOp", "tf.AssignAddVariableOp", "tf.AssignSubVariableOp", "tf.NoOp",
        "paddle.feed", "paddle.fetch", "paddle.save", "paddle.print",
    };

    public override string Name => "dce";
    public override string Summary => "Remove unused side-effect-free operations and unused resource blobs";

    public override void Run(MirModule module, PassContext context)
    {
        foreach (var func in module.Op.Walk().Where(o => o.Name == FuncOp.OpName).ToList())
            foreach (var block in func.Regions.SelectMany(r => r.Blocks))
                SweepBlock(block, context);

        foreach (var (_, blob) in module.RemoveUnreferencedBlobs())
        {
            context.Count("blobs removed");
            context.Count("blob bytes freed", blob.Data.Length);
        }
    }

    private void SweepBlock(Block block, PassContext context)
    {
        // Users come after their producers: one backward sweep removes whole dead chains.
        for (int i = block.Operations.Count - 1; i >= 0; i--)
        {
            var op = block.Operations[i];
            foreach (var inner in op.Regions.SelectMany(r => r.Blocks)) SweepBlock(inner, context);
            if (!op.IsUnused || op.Results.Count == 0) continue;
            if (!IsPure(op))
            {
                context.Log($"kept unused {op.Name} ({op.Location.FirstName ?? "unnamed"}): it may have side effects");
                continue;
            }
            op.Erase();
            context.Count("operations removed");
        }
    }

    /// <summary>Known to have no effect but its results (CSE relies on the same rule).</summary>
    internal static bool IsPure(Operation op) => PureDialects.Contains(op.Dialect) && !Stateful.Contains(op.Name);


}
