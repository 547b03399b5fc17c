using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// <c>--tf-round-weights='num-steps=256'</c>, the Graph Transform Tool's <c>round_weights</c>
/// (tensorflow/tools/graph_transforms/round_weights.cc): each float Const of 16 elements or more keeps its shape and
/// type but holds only num-steps distinct values, so the file compresses far better.
/// <code>
/// Before: %w = "tf.Const"() {dtype = f32, value = dense_resource&lt;w&gt; : tensor&lt;784x10xf32&gt;} loc("w")
/// After:  %w = "tf.Const"() {dtype = f32, value = dense_resource&lt;w_1&gt; : tensor&lt;784x10xf32&gt;} loc("w")
/// </code>
/// Exactly as TensorFlow, in float arithmetic: min and max of the values (when equal: max = min + 1 if |min| &lt;
/// 1e-6, 2·min if min &gt; 0, else min = 2·max); width = (max - min) / num_steps; each value v becomes
/// min + width · (floor((v - min) / width) + 0.5), the middle of its bucket (the maximum lands half a bucket above
/// max, as in TensorFlow). Unlike mopt's <c>--round-weights</c> (levels that include min and max), this is
/// TensorFlow's bucket-centre rounding, for graphs that must match what transform_graph writes.
/// </summary>
public sealed class TfRoundWeights : Pass
{
    private readonly PassOption<int> _numSteps = new("num-steps", "how many distinct values each Const keeps", 256, valid: n => n >= 1);
    private readonly PassOption<long> _minSize = new("min-size", "the fewest elements a Const must have to be rounded (TensorFlow: 16)", 16, valid: n => n >= 0);

    public override string Name => "tf-round-weights";
    public override string Summary => "TensorFlow: round float Consts to num-steps bucket centres, still floats (GTT round_weights)";
    public override IReadOnlyList<PassOption> Options => [_numSteps, _minSize];

    public TfRoundWeights Configure(GttTransform t)
    {
        if (t.One("num_steps") is { } n) _numSteps.Parse(n);
        return this;
    }

    public override void Run(MirModule module, PassContext context)
    {
        if (!TfGraph.Applies(module, Name)) return;
        var released = new List<string>();
        foreach (var op in module.MainFunction.Body.Operations)
        {
            if (op.Name != TfDialect.ConstOp || TfGraph.ConstValue(op.Result, module) is not { Type.Element: var e } value || e != ElementType.F32) continue;
            if (value.ElementCount < _minSize.Value) continue;
            var rounded = Round(value.ToFloats(), _numSteps.Value);
            if (op.GetAttr("value") is { } old) released.AddRange(old.ResourceKeys());
            var bytes = new byte[rounded.Length * 4];
            Buffer.BlockCopy(rounded, 0, bytes, 0, bytes.Length);
            op.SetAttr("value", TfGraph.ValueAttr(module, value.Type, bytes, TfGraph.NodeName(op) ?? "rounded"));
            context.Count("Consts rounded");
        }
        module.RemoveUnreferencedBlobs(released);
    }

    public static float[] Round(float[] values, int numSteps)
    {
        float min = float.MaxValue, max = 1.17549435e-38f; // std::numeric_limits<float>::min(), as TensorFlow starts
        foreach (var v in values)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        if (min == max)
        {
            if (Math.Abs(min) < 0.000001f) max = min + 1.0f;
            else if (min > 0) max = 2.0f * min;
            else min = 2.0f * max;
        }
        float width = (max - min) / numSteps;
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            int bucket = (int)MathF.Floor((values[i] - min) / width);
            result[i] = min + width * (bucket + 0.5f);
        }
        return result;
    }
}
