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
/// The op table is in the *Lowerings.cs files beside this one (docs/formats/tensorflow.md lists it); what every lowering
/// to ONNX shares (program order, errors naming each blocked node, the opset) is <see cref="ConvertToOnnx"/>. Outputs
/// and inputs keep their TensorFlow names (<c>mo.name</c>).
/// </summary>
public sealed class ConvertTfToOnnx : ConvertToOnnx
{
    public override string Name => "convert-tf-to-onnx";
    public override string Summary => "Lower a TensorFlow graph (tf.*) to ONNX (onnx.*), NHWC ops in NCHW with transposes at the edges";

    private readonly PassOption<bool> _optimizeTransposes = new("optimize-transposes",
        "then run --optimize-transposes, which leaves the layout transposes at the graph's edges", true);

    public override IReadOnlyList<PassOption> Options => [_optimizeTransposes];

    protected override bool AfterLoweringKeepsTypes => !_optimizeTransposes.Value;

    private static readonly Dictionary<string, Lowering> Ops = BuildTable();

    /// <summary>The dialect this pass lowers, with its dot.</summary>
    internal const string DialectPrefix = "tf.";

    protected override string Prefix => DialectPrefix;
    protected override string SourceName => "TensorFlow";
    private protected override IReadOnlyDictionary<string, Lowering> Table => Ops;

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
    public static IEnumerable<string> LoweredOps => Ops.Keys;

    /// <summary>True when the module has <c>tf.*</c> ops: writing it as ONNX needs this pass first.</summary>
    public static bool Needed(MirModule module) => Has(module, DialectPrefix);

    protected override void AfterLowering(MirModule module, PassContext context)
    {
        if (_optimizeTransposes.Value) new OptimizeTransposes().Run(module, context);
    }
}
