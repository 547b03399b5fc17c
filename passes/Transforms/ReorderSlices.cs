using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--reorder-slices</c>: a Slice that follows element-wise operations is moved ahead of them, so that they work on
/// the sliced (smaller) tensor. Repeated until the Slice meets an operation it does not commute with.
/// <code>
/// Before: %r = "onnx.Relu"(%x) : (tensor&lt;1x8x32x32xf32&gt;) ; %s = "onnx.Slice"(%r, ...) -> tensor&lt;1x8x16x16xf32&gt;
/// After:  %s0 = "onnx.Slice"(%x, ...) -> tensor&lt;1x8x16x16xf32&gt; ; %s = "onnx.Relu"(%s0) -> tensor&lt;1x8x16x16xf32&gt;
/// </code>
/// The Slice moves above an operation P when all of these hold (otherwise it stays; when P is one of the kinds below
/// the reason is recorded):
/// <list type="bullet">
/// <item>P is in the Slice's block, has one result, and the Slice is its only reader (else P would have to stay too);</item>
/// <item>P is element-wise unary (Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Abs, Neg, Exp, Log, Sqrt,
/// Reciprocal, Floor, Ceil, Round, Sign, Erf, Softplus, Softsign, Elu, Selu, Celu, ThresholdedRelu, Gelu, Mish,
/// trigonometric and hyperbolic functions, Not, IsNaN, IsInf, Cast, CastLike), or a Clip whose min and max are
/// absent, attributes, constants or rank-0 values: any Slice commutes, its parameters need not be known;</item>
/// <item>or P is Add, Sub, Mul, Div, Pow or PRelu with exactly one constant operand C (the other one, X, is sliced):
/// C's rank is at most X's and P's result has X's rank; the sliced axes must be known (constant or attribute). On each
/// sliced axis where C has 1 entry (or no axis) nothing else is needed. Where C has more, X's dimension must be
/// static and equal to it, and C is sliced the same way into a new constant (that needs constant starts, ends and
/// steps);</item>
/// <item>or P is an inference BatchNormalization (one result, <c>training_mode</c> 0, not <c>spatial = 0</c>,
/// <c>is_test = 1</c> before opset 7): when the
/// Slice does not cut the channel axis 1 it moves as is; when it does, scale, bias, mean and variance must be
/// constants of shape [C] and are sliced the same way.</item>
/// </list>
/// A Crop expressed as a Slice (several spatial axes) is handled the same. The new Slice keeps the old Slice's
/// location, the moved operation its own; the moved operation replaces the old Slice through the rewriter, which
/// hands it the Slice's result names and erases the old Slice, P and the constants nothing reads any more. Each move
/// is a rewrite of the greedy driver, and the new Slice is tried again at once.
/// </summary>
public sealed class ReorderSlices : Pass
{
    public override string Name => "reorder-slices";
    public override string Summary => "Move a Slice ahead of the element-wise and per-channel operations before it, so they work on less data";

    private static readonly HashSet<string> Unary = new(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Abs", "Neg", "Exp", "Log", "Sqrt",
        "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Erf", "Softplus", "Softsign", "Elu", "Selu", "Celu",
        "ThresholdedRelu", "Gelu", "Mish", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh",
        "Acosh", "Atanh", "Not", "IsNaN", "IsInf", "Cast", "CastLike", "Clip", "BitwiseNot",
    };

    private static readonly HashSet<string> PerChannelBinary = new(StringComparer.Ordinal) { "Add", "Sub", "Mul", "Div", "Pow", "PRelu" };

    public override void Run(MirModule module, PassContext context)
    {
        if (GreedyPatternRewriteDriver.Apply(module, [new MoveSliceUp()], context, Name) == 0) context.MarkAllPreserved();
    }

    /// <summary>Moves one Slice above its input's producer; the new Slice is tried again by the driver.</summary>
    private sealed class MoveSliceUp : RewritePattern
    {
        public override string Name => "Slice moved up";
        public override string? Root => "onnx.Slice";

        public override bool MatchAndRewrite(Operation slice, PatternRewriter rewriter) => new Mover(rewriter, slice).TryMove();
    }

    private sealed class Mover(PatternRewriter rewriter, Operation slice)
    {
        private readonly MirModule _module = rewriter.Module;
        private Operation _producer = null!;

        /// <summary>True when the Slice moved above its input's producer.</summary>
        public bool TryMove()
        {
            if (slice.OperandCount < 1 || slice.Results.Count != 1) return false;
            if (slice.GetOperand(0) is not OpResult { Owner: var producer } || !producer.Name.StartsWith("onnx.", StringComparison.Ordinal)) return false;
            _producer = producer;
            var kind = producer.OpType;
            bool unary = Unary.Contains(kind), binary = PerChannelBinary.Contains(kind), bn = kind == "BatchNormalization";
            if (!unary && !binary && !bn) return false;
            if (producer.Parent != slice.Parent) return Skip("it is in another block");
            if (producer.Results.Count != 1) return Skip($"it has {producer.Results.Count} results");
            if (!OnnxFacts.OnlyUser(producer.Result, slice)) return Skip("its result has other users");
            if (slice.Result.Type is not TensorType sliceType) return false;
            if (producer.Result.Type is not TensorType producedType) return false;
            if (unary) return MoveAboveUnary(sliceType, producedType);
            if (binary) return MoveAboveBinary(sliceType, producedType);
            return MoveAboveBatchNorm(sliceType);
        }

        private bool MoveAboveUnary(TensorType sliceType, TensorType producedType)
        {
            if (_producer.OperandCount < 1) return false;
            if (_producer.OpType == "Clip")
            {
                for (int i = 1; i < _producer.OperandCount; i++)
                {
                    var bound = _producer.GetOperand(i);
                    if (OnnxFacts.IsAbsent(bound) || Constants.IsConstant(bound) || bound.Type is TensorType { Shape.Count: 0 }) continue;
                    return Skip("a Clip bound is neither constant nor a scalar");
                }
            }
            else if (_producer.OperandCount != 1 && _producer.OpType != "CastLike") return false;
            var x = _producer.GetOperand(0);
            if (x.Type is not TensorType xType) return false;
            var operands = _producer.Operands.ToArray();
            return Rebuild(new TensorType(xType.Element, sliceType.Shape), x, operands, 0, sliceType, producedType);
        }

        private bool MoveAboveBinary(TensorType sliceType, TensorType producedType)
        {
            if (_producer.OperandCount != 2) return false;
            bool c0 = Constants.IsConstant(_producer.GetOperand(0)), c1 = Constants.IsConstant(_producer.GetOperand(1));
            if (c0 && c1) return false; // constant folding's job
            if (!c0 && !c1) return Skip("neither operand is a constant");
            int dataIndex = c0 ? 1 : 0, constIndex = 1 - dataIndex;
            if (_producer.OpType == "PRelu" && dataIndex != 0) return Skip("the PRelu input is the constant");
            var x = _producer.GetOperand(dataIndex);
            var c = _producer.GetOperand(constIndex);
            if (x.Type is not TensorType { Shape: { } xShape } xType) return Skip("the sliced operand has an unknown rank");
            if (c.Type is not TensorType { Shape: { } cShape } || !((TensorType)c.Type).HasStaticShape) return Skip("the constant has no static shape");
            int rank = xShape.Count;
            if (cShape.Count > rank || producedType.Shape is not { } outShape || outShape.Count != rank)
                return Skip("broadcasting the constant changes the rank");
            if (sliceType.Shape is not { } sliceShape || sliceShape.Count != rank) return Skip("the Slice result has an unknown rank");
            if (SliceFacts.ReadAxes(slice, _module) is not { } rawAxes) return Skip("the sliced axes are not known");
            if (SliceFacts.NormalizeAxes(rawAxes, rank) is not { } axes) return false;

            int offset = rank - cShape.Count;
            var cut = new List<(int SliceIndex, int ConstAxis, long Dim)>();
            for (int i = 0; i < axes.Length; i++)
            {
                int a = (int)axes[i];
                long cDim = a >= offset ? cShape[a - offset] : 1;
                if (cDim == 1) continue;
                if (xShape[a] != cDim)
                    return Skip($"on sliced axis {a} the constant has {cDim} entries and the input dimension is {(xShape[a] < 0 ? "dynamic" : xShape[a].ToString(System.Globalization.CultureInfo.InvariantCulture))}");
                cut.Add((i, a - offset, cDim));
            }

            var newSliceShape = new long[rank];
            for (int i = 0; i < rank; i++) newSliceShape[i] = axes.Contains(i) ? sliceShape[i] : xShape[i];
            var newOperands = _producer.Operands.ToArray();
            if (cut.Count > 0)
            {
                if (SliceFacts.Read(slice, _module, out var why) is not { } spec) return Skip($"the constant must be sliced too and {why}");
                var perAxis = new AxisRange?[cShape.Count];
                foreach (var (sliceIndex, constAxis, dim) in cut)
                    perAxis[constAxis] = SliceFacts.Resolve(spec.Starts[sliceIndex], spec.Ends[sliceIndex], spec.Steps[sliceIndex], dim);
                if (SliceConstant(c, perAxis) is not { } sliced) return Skip("the constant cannot be read");
                newOperands[constIndex] = sliced;
            }
            return Rebuild(new TensorType(xType.Element, newSliceShape), x, newOperands, dataIndex, sliceType, producedType);
        }

        private bool MoveAboveBatchNorm(TensorType sliceType)
        {
            if (_producer.OperandCount != 5) return false;
            if (OnnxLegacy.BatchNormTraining(_producer, OnnxOpset.Of(_module)) is { } training) return Skip(training);
            var x = _producer.GetOperand(0);
            if (x.Type is not TensorType { Shape: { Count: >= 2 } xShape } xType) return Skip("the input rank is unknown");
            if (SliceFacts.ReadAxes(slice, _module) is not { } rawAxes) return Skip("the sliced axes are not known");
            if (SliceFacts.NormalizeAxes(rawAxes, xShape.Count) is not { } axes) return false;
            var newOperands = _producer.Operands.ToArray();
            int channelIndex = Array.IndexOf(axes, 1L);
            if (channelIndex >= 0)
            {
                if (SliceFacts.Read(slice, _module, out var why) is not { } spec) return Skip($"it cuts the channel axis and {why}");
                for (int k = 1; k <= 4; k++)
                {
                    var p = _producer.GetOperand(k);
                    if (Constants.TryGet(p, _module) is not { Type.Shape: [var channels] } || channels < 0)
                        return Skip("it cuts the channel axis and a BatchNormalization parameter is not a constant of shape [C]");
                }
                var done = new Dictionary<Value, Value>(); // one parameter often feeds several inputs
                for (int k = 1; k <= 4; k++)
                {
                    var p = _producer.GetOperand(k);
                    if (!done.TryGetValue(p, out var sliced))
                    {
                        long channels = ((TensorType)p.Type).Shape![0];
                        var range = SliceFacts.Resolve(spec.Starts[channelIndex], spec.Ends[channelIndex], spec.Steps[channelIndex], channels);
                        done[p] = sliced = SliceConstant(p, [range])!;
                    }
                    newOperands[k] = sliced;
                }
            }
            return Rebuild(new TensorType(xType.Element, sliceType.Shape), x, newOperands, 0, sliceType, (TensorType)_producer.Result.Type);
        }

        /// <summary>A new constant: <paramref name="c"/> taken along each axis by <paramref name="perAxis"/>, before the Slice.</summary>
        private Value? SliceConstant(Value c, AxisRange?[] perAxis)
        {
            if (Constants.TryGet(c, _module) is not { } tensor) return null;
            var bytes = SliceFacts.Gather(tensor.Bytes.Span, tensor.Type.Shape!, tensor.Type.Element.ByteSize, perAxis, out var shape);
            var constOp = Constants.DefiningConstant(c)!;
            var type = new TensorType(tensor.Type.Element, shape);
            rewriter.Count("constants sliced");
            return Constants.Create(rewriter.Builder, _module, type, bytes, Location.Fuse(constOp.Location, slice.Location),
                (constOp.Location.FirstName ?? "const") + "_sliced");
        }

        /// <summary>
        /// Writes <c>P'(Slice'(x), others)</c> before the old Slice and replaces the Slice by it: P' takes the Slice's
        /// result names, the new Slice carries the Slice's location; the Slice, P and the constants nothing reads any
        /// more are erased by the rewriter.
        /// </summary>
        private bool Rebuild(TensorType newSliceType, Value x, Value[] producerOperands, int dataIndex, TensorType sliceType, TensorType producedType)
        {
            var newSlice = rewriter.CreateLike(slice, [x, .. slice.Operands.Skip(1)], [newSliceType]);
            producerOperands[dataIndex] = newSlice.Result;
            var moved = rewriter.CreateLike(_producer, producerOperands, [new TensorType(producedType.Element, sliceType.Shape)]);
            rewriter.ReplaceOp(slice, moved);
            return true;
        }

        private bool Skip(string reason) => rewriter.NotifyMatchFailure(slice, $"not moved above {_producer.OpType}: {reason}");
    }
}
