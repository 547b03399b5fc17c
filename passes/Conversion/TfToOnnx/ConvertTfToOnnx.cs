using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// <c>--convert-tf-to-onnx</c> (and, implicitly, writing a <c>tf.*</c> module as <c>.onnx</c>): lowers every
/// <c>tf.*</c> op to <c>onnx.*</c> ops, then moves the NHWC ↔ NCHW transposes the lowering adds to the graph's edges
/// (<c>--optimize-transposes</c>).
/// <code>
/// Before: %f = "tf.Const"() {value = dense_resource&lt;w&gt; : tensor&lt;3x3x1x8xf32&gt;} loc("w")
///         %y = "tf.Conv2D"(%x, %f) {padding = "SAME", strides = [1, 1, 1, 1]} : (tensor&lt;1x28x28x1xf32&gt;, tensor&lt;3x3x1x8xf32&gt;) -> !tf.tensor loc("conv")
/// After:  %t = "onnx.Transpose"(%x) {perm = [0, 3, 1, 2]} : (...) -> tensor&lt;1x1x28x28xf32&gt;
///         %w = "onnx.Constant"() {value = dense_resource&lt;w_1&gt; : tensor&lt;8x1x3x3xf32&gt;} loc("w")     (bytes moved once, HWIO → OIHW)
///         %c = "onnx.Conv"(%t, %w) {pads = [1, 1, 1, 1], ...} : (...) -> tensor&lt;1x8x28x28xf32&gt; loc("conv")
///         %y = "onnx.Transpose"(%c) {perm = [0, 2, 3, 1]} : (...) -> tensor&lt;1x28x28x8xf32&gt;
/// </code>
/// Ops are lowered in program order, so each one's inputs already have ONNX types, and the onnx shape rules type its
/// results. The op table is in the *Lowerings.cs files beside this one (docs/formats/tensorflow.md lists it). An op with
/// no lowering, or whose lowering needs what the graph does not give (a non-constant axis, an unknown rank), is an error
/// naming every such node and why, and nothing is written; no node is ever dropped. Outputs and inputs keep their
/// TensorFlow names (<c>mo.name</c>); the module states opset 17 unless it states one.
/// </summary>
public sealed class ConvertTfToOnnx : Pass
{
    public override string Name => "convert-tf-to-onnx";
    public override string Summary => "Lower a TensorFlow graph (tf.*) to ONNX (onnx.*), NHWC ops in NCHW with transposes at the edges";

    private readonly PassOption<bool> _optimizeTransposes = new("optimize-transposes",
        "then run --optimize-transposes, which leaves the layout transposes at the graph's edges", true);

    public override IReadOnlyList<PassOption> Options => [_optimizeTransposes];

    /// <summary>The opset a lowered module states (Softmax's single axis needs 13; 17 is what ONNX Runtime runs everywhere).</summary>
    public const long Opset = 17;

    private static readonly Dictionary<string, Lowering> Table = BuildTable();

    private static Dictionary<string, Lowering> BuildTable()
    {
        var table = new Dictionary<string, Lowering>(StringComparer.Ordinal);
        ShapeLowerings.Register(table);
        ElementwiseLowerings.Register(table);
        ConvPoolLowerings.Register(table);
        MatMulNormLowerings.Register(table);
        ReductionLowerings.Register(table);
        ConcatPadLowerings.Register(table);
        StridedSliceLowering.Register(table);
        return table;
    }

    /// <summary>The TensorFlow op types this pass lowers.</summary>
    public static IEnumerable<string> LoweredOps => Table.Keys;

    /// <summary>True when the module has <c>tf.*</c> ops: writing it as ONNX needs this pass first.</summary>
    public static bool Needed(MirModule module) => module.AllOperations().Any(IsTf);

    private static bool IsTf(Operation op) => op.Name.StartsWith("tf.", StringComparison.Ordinal);

    public override void Run(MirModule module, PassContext context)
    {
        var tfOps = module.AllOperations().Where(IsTf).ToList();
        if (tfOps.Count == 0) return;
        var unknown = tfOps.Where(op => !Table.ContainsKey(op.OpType)).ToList();
        if (unknown.Count > 0)
            throw Failure(unknown.Select(op => $"{NodeText(op)}: no ONNX lowering for this op type"));

        if (OnnxOpset.Stated(module) is { } stated && stated < 13)
            throw new MirException($"cannot lower to ONNX opset {stated}: the TensorFlow lowering needs opset 13 or later");
        module.Op.SetAttr(OnnxOpset.OpsetAttr, IntegerAttr.I64(OnnxOpset.Stated(module) ?? Opset));

        var blocked = new Dictionary<Operation, string>();
        var types = new TypeInferenceContext(module, context.Dialects);
        var patterns = tfOps.Select(op => op.OpType).Distinct().Select(name => (RewritePattern)new LowerTfOp(name, Table[name], blocked, types)).ToList();
        GreedyPatternRewriteDriver.Apply(module, patterns, context, Name);

        var left = module.AllOperations().Where(IsTf).ToList();
        if (left.Count > 0)
            throw Failure(left.Select(op => $"{NodeText(op)}: " + (blocked.TryGetValue(op, out var why) ? why : WaitingFor(op))));
        foreach (var func in module.Functions) func.UpdateType();
        if (_optimizeTransposes.Value) new OptimizeTransposes().Run(module, context);
    }

    private static string NodeText(Operation op) => $"node '{op.Location.FirstName ?? "?"}' ({op.OpType})";

    private static string WaitingFor(Operation op) =>
        op.Operands.FirstOrDefault(v => v.Type is not TensorType) is { } v ? $"its input {LowerTfOp.Describe(v)} is not lowered" : "not lowered";

    private static MirException Failure(IEnumerable<string> lines)
    {
        var list = lines.ToList();
        return new MirException(list.Count == 1
            ? $"cannot lower to ONNX: {list[0]}"
            : $"cannot lower to ONNX ({list.Count} nodes):\n  " + string.Join("\n  ", list));
    }
}
