using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>The patterns of <see cref="OptimizeTransposes"/> (its doc comment gives each rule and its conditions).</summary>
internal static class TransposePushing
{
    private static readonly string[] Unary =
    [
        "Relu", "Sigmoid", "Tanh", "Elu", "Selu", "LeakyRelu", "Clip", "Sqrt", "Reciprocal", "Neg", "Exp", "Log", "Abs", "Ceil",
        "Floor", "Round", "Sign", "Erf", "Softplus", "Softsign", "HardSigmoid", "HardSwish", "Cast", "Identity", "Not", "IsNaN",
        "Sin", "Cos", "ThresholdedRelu", "Celu", "Mish",
    ];

    private static readonly string[] Binary =
        ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "PRelu", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor"];

    private static readonly string[] Reductions =
        ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"];

    public static IReadOnlyList<RewritePattern> Patterns()
    {
        var patterns = new List<RewritePattern> { new FoldTranspose(), new MergeSameTranspose() };
        patterns.AddRange(Unary.Select(n => new PushThroughElementwise("onnx." + n, unary: true)));
        patterns.AddRange(Binary.Select(n => new PushThroughElementwise("onnx." + n, unary: false)));
        patterns.Add(new PushThroughConcat());
        patterns.AddRange(Reductions.Select(n => new PushThroughReduction("onnx." + n)));
        patterns.Add(new PushThroughReduction("onnx.ArgMax"));
        patterns.Add(new PushThroughReduction("onnx.ArgMin"));
        patterns.Add(new PushThroughReduction("onnx.Squeeze"));
        patterns.Add(new PushThroughPad());
        patterns.Add(new PushThroughSoftmax("onnx.Softmax"));
        patterns.Add(new PushThroughSoftmax("onnx.LogSoftmax"));
        patterns.Add(new DropTransposeBeforeReshape());
        patterns.Add(new FoldTransposeIntoFlattenMatMul());
        return patterns;
    }

    /// <summary>The Transpose producing <paramref name="v"/> and its permutation, when it has a known one.</summary>
    public static (Operation Op, long[] Perm)? Transposed(Value v)
    {
        if (v is not OpResult { Owner: { Name: "onnx.Transpose", OperandCount: 1, Results.Count: 1 } t }) return null;
        var perm = t.ReadInts("perm")
            ?? (t.GetOperand(0).Type is TensorType { Shape: { } s } ? Enumerable.Range(0, s.Count).Reverse().Select(i => (long)i).ToArray() : null);
        return perm is not null && Permutation.IsValid(perm) ? (t, perm) : null;
    }

    /// <summary>Creates an op like <paramref name="op"/> on other operands (and attributes), typed by the shape rules.</summary>
    public static Operation Recreate(Operation op, IReadOnlyList<Value> operands, PatternRewriter rewriter, Func<NamedAttr, NamedAttr>? attr = null)
    {
        var element = (op.Result.Type as TensorType)?.Element ?? ElementType.F32;
        var created = rewriter.CreateLike(op, operands, [TensorType.Unranked(element)]);
        if (attr is not null)
            foreach (var a in op.Attributes.ToList())
                if (created.GetAttr(a.Name) is not null) { var changed = attr(a); created.SetAttr(changed.Name, changed.Value); }
        Infer(created, rewriter);
        return created;
    }

    public static void Infer(Operation op, PatternRewriter rewriter) =>
        TypeInference.Apply(op, new TypeInferenceContext(rewriter.Module, rewriter.Registry));

    /// <summary>Replaces <paramref name="op"/> by Transpose(<paramref name="value"/>, perm), or by the value when perm is the identity.</summary>
    public static void ReplaceWithTranspose(Operation op, Value value, IReadOnlyList<long> perm, Location location, PatternRewriter rewriter)
    {
        if (Permutation.IsIdentity(perm) && value.Type == op.Result.Type && value is OpResult { Owner: var owner } && owner != op)
        {
            rewriter.ReplaceOp(op, value);
            return;
        }
        var t = rewriter.Create("onnx.Transpose", [value], [TensorType.Unranked(((TensorType)value.Type).Element)],
            [new NamedAttr("perm", ArrayAttr.OfInts(perm))], location);
        Infer(t, rewriter);
        rewriter.ReplaceOp(op, t);
    }

    /// <summary>
    /// A constant operand of an op whose Transposed inputs are undone: padded to <paramref name="rank"/> with leading 1s and
    /// transposed by the inverse of <paramref name="perm"/>. Null when it is not a constant of static shape and rank ≤ n.
    /// </summary>
    public static Value? UntransposedConstant(Value c, IReadOnlyList<long> perm, PatternRewriter rewriter, bool keepSingle)
    {
        if (Constants.DefiningConstant(c) is not { } op || Constants.TryGet(c, rewriter.Module) is not { } value) return null;
        var shape = value.Type.Shape!;
        if (shape.Count > perm.Count || value.Type.Element.IsPacked) return null;
        if (keepSingle && value.ElementCount == 1) return c;
        var padded = Enumerable.Repeat(1L, perm.Count - shape.Count).Concat(shape).ToArray();
        var inverse = Permutation.Inverse(perm);
        var type = new TensorType(value.Type.Element, Permutation.Apply(padded, inverse));
        var bytes = Permutation.Bytes(value.Bytes.Span, padded, inverse, value.Type.Element.ByteSize);
        var name = op.Location.FirstName ?? "const";
        return Constants.Create(rewriter.Builder, rewriter.Module, type, bytes, op.Location, name);
    }

    public static long Normalize(long axis, int rank) => axis < 0 ? axis + rank : axis;
}

/// <summary>Transpose(Transpose(a)) → one Transpose or none; identity Transposes go; Transpose(constant) → constant.</summary>
internal sealed class FoldTranspose : RewritePattern
{
    public override string Name => "Transposes folded";
    public override string? Root => "onnx.Transpose";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.OperandCount != 1 || op.Results.Count != 1 || TransposePushing.Transposed(op.Result) is not { Perm: var perm }) return false;
        var input = op.GetOperand(0);
        if (Permutation.IsIdentity(perm) && input.Type == op.Result.Type) { rewriter.ReplaceOp(op, input); return true; }
        if (TransposePushing.Transposed(input) is { } inner)
        {
            if (inner.Perm.Length != perm.Length) return false;
            var composed = Permutation.Compose(inner.Perm, perm);
            var source = inner.Op.GetOperand(0);
            if (Permutation.IsIdentity(composed))
            {
                if (source.Type != op.Result.Type) return rewriter.NotifyMatchFailure(op, "a cancelling Transpose pair would change the type its users see");
                rewriter.ReplaceOp(op, source);
                return true;
            }
            rewriter.ModifyInPlace(op, () =>
            {
                op.SetOperand(0, source);
                op.SetAttr("perm", ArrayAttr.OfInts(composed));
            }, absorbs: inner.Op);
            return true;
        }
        if (Constants.DefiningConstant(input) is { } constOp && Constants.TryGet(input, rewriter.Module) is { } value && !value.Type.Element.IsPacked
            && value.Type.Shape!.Count == perm.Length)
        {
            var type = new TensorType(value.Type.Element, Permutation.Apply(value.Type.Shape, perm));
            var bytes = Permutation.Bytes(value.Bytes.Span, value.Type.Shape, perm, value.Type.Element.ByteSize);
            var name = constOp.Location.FirstName ?? "const";
            var folded = Constants.Create(rewriter.Builder, rewriter.Module, type, bytes, constOp.Location, name);
            rewriter.ReplaceOp(op, folded);
            return true;
        }
        return false;
    }
}

/// <summary>U(T(a)) → T(U(a)); B(T(a), T(b) or constant) → T(B(a, b or constant')).</summary>
internal sealed class PushThroughElementwise(string root, bool unary) : RewritePattern
{
    public override string Name => "Transposes moved past element-wise ops";
    public override string? Root => root;

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.Results.Count != 1 || op.OperandCount == 0) return false;
        int count = unary ? 1 : op.OperandCount;
        if (!unary && count != 2) return false;
        (Operation Op, long[] Perm)? first = null;
        for (int i = 0; i < count; i++)
            if (TransposePushing.Transposed(op.GetOperand(i)) is { } t) { first = t; break; }
        if (first is not { } moved) return false;
        var perm = moved.Perm;
        // A unary op's extra operands (Clip's bounds) must be scalars: they do not see the layout.
        for (int i = count; i < op.OperandCount; i++)
            if (!OnnxFacts.IsAbsent(op.GetOperand(i)) && op.GetOperand(i).Type is not TensorType { Shape.Count: 0 }) return false;
        var operands = op.Operands.ToList();
        var made = new List<Operation>();
        for (int i = 0; i < count; i++)
        {
            var v = op.GetOperand(i);
            if (TransposePushing.Transposed(v) is { } t)
            {
                if (!t.Perm.SequenceEqual(perm)) return rewriter.NotifyMatchFailure(op, "its inputs are transposed differently");
                operands[i] = t.Op.GetOperand(0);
                continue;
            }
            if (Constants.DefiningConstant(v) is null || (v.Type as TensorType)?.Shape is not { } s || s.Count > perm.Length)
                return Undo(made, rewriter, op, "another input is neither transposed the same way nor a constant of lower rank");
            var c = TransposePushing.UntransposedConstant(v, perm, rewriter, keepSingle: true);
            if (c is null) return Undo(made, rewriter, op, "a constant input could not be transposed");
            if (c != v) made.Add(((OpResult)c).Owner);
            operands[i] = c;
        }
        var created = TransposePushing.Recreate(op, operands, rewriter);
        TransposePushing.ReplaceWithTranspose(op, created.Result, perm, moved.Op.Location, rewriter);
        return true;
    }

    private static bool Undo(List<Operation> made, PatternRewriter rewriter, Operation op, string reason)
    {
        foreach (var m in made) if (m.Parent is not null && m.IsUnused) rewriter.EraseOp(m);
        return rewriter.NotifyMatchFailure(op, $"Transpose not moved past it: {reason}");
    }
}

/// <summary>Concat(T(a1), T(a2), ...) {axis = k} → T(Concat(a1, a2, ...) {axis = p[k]}).</summary>
internal sealed class PushThroughConcat : RewritePattern
{
    public override string Name => "Transposes moved past Concat";
    public override string? Root => "onnx.Concat";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.Results.Count != 1 || op.OperandCount == 0 || op.ReadInt("axis") is not long axis) return false;
        var perms = op.Operands.Select(TransposePushing.Transposed).ToList();
        if (perms.FirstOrDefault(p => p is not null) is not { } moved) return false;
        var perm = moved.Perm;
        if (perms.Any(p => p is null || !p.Value.Perm.SequenceEqual(perm))) return rewriter.NotifyMatchFailure(op, "Transpose not moved past it: not every input is transposed the same way");
        long newAxis = perm[TransposePushing.Normalize(axis, perm.Length)];
        var operands = perms.Select(p => p!.Value.Op.GetOperand(0)).ToList();
        var created = TransposePushing.Recreate(op, operands, rewriter, a => a.Name == "axis" ? new NamedAttr("axis", IntegerAttr.I64(newAxis)) : a);
        TransposePushing.ReplaceWithTranspose(op, created.Result, perm, moved.Op.Location, rewriter);
        return true;
    }
}

/// <summary>
/// R(T(a)) {axes} → T'(R(a) {p[axes]}): T' = p with keepdims; without, p less the reduced axes, renumbered.
/// For Reduce*, ArgMax/ArgMin (axis) and Squeeze (axes as an attribute or a constant input).
/// </summary>
internal sealed class PushThroughReduction(string root) : RewritePattern
{
    public override string Name => "Transposes moved past reductions";
    public override string? Root => root;

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.Results.Count != 1 || op.OperandCount == 0 || TransposePushing.Transposed(op.GetOperand(0)) is not { } moved) return false;
        var perm = moved.Perm;
        int n = perm.Length;
        bool squeeze = op.Name == "onnx.Squeeze", arg = op.Name is "onnx.ArgMax" or "onnx.ArgMin";
        bool axesInput = !arg && op.OperandCount > 1;
        long[]? axes = arg ? [op.ReadInt("axis", 0)]
            : axesInput ? (OnnxFacts.IsAbsent(op.GetOperand(1)) ? null : OnnxFacts.ConstInts(op.GetOperand(1), rewriter.Module))
            : op.ReadInts("axes");
        if (axes is null && axesInput && !OnnxFacts.IsAbsent(op.GetOperand(1))) return rewriter.NotifyMatchFailure(op, "Transpose not moved past it: its axes are not a constant");
        if (axes is null || axes.Length == 0)
        {
            if (squeeze || op.ReadInt("noop_with_empty_axes", 0) != 0) return rewriter.NotifyMatchFailure(op, "Transpose not moved past it: it names no axes");
            axes = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
        }
        axes = axes.Select(a => TransposePushing.Normalize(a, n)).ToArray();
        if (axes.Any(a => a < 0 || a >= n)) return false;
        var newAxes = axes.Select(a => perm[a]).ToArray();
        bool keep = !squeeze && op.ReadInt("keepdims", 1) != 0;

        var operands = op.Operands.ToList();
        operands[0] = moved.Op.GetOperand(0);
        if (axesInput) operands[1] = Constants.CreateInt64s(rewriter.Builder, rewriter.Module, newAxes, op.Location, "axes");
        var created = TransposePushing.Recreate(op, operands, rewriter, a => a.Name switch
        {
            "axis" => new NamedAttr("axis", IntegerAttr.I64(newAxes[0])),
            "axes" => new NamedAttr("axes", ArrayAttr.OfInts(newAxes)),
            _ => a,
        });
        long[] after;
        if (keep) after = perm;
        else
        {
            var removed = newAxes.ToHashSet();
            after = perm.Where((_, k) => !axes.Contains(k)).Select(v => v - removed.Count(r => r < v)).ToArray();
        }
        TransposePushing.ReplaceWithTranspose(op, created.Result, after, moved.Op.Location, rewriter);
        return true;
    }
}

/// <summary>Pad(T(a), pads) → T(Pad(a, pads permuted)), with constant pads and no axes input.</summary>
internal sealed class PushThroughPad : RewritePattern
{
    public override string Name => "Transposes moved past Pad";
    public override string? Root => "onnx.Pad";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.Results.Count != 1 || op.OperandCount < 2 || TransposePushing.Transposed(op.GetOperand(0)) is not { } moved) return false;
        if (op.OperandCount > 3 && !OnnxFacts.IsAbsent(op.GetOperand(3))) return rewriter.NotifyMatchFailure(op, "Transpose not moved past it: it has an axes input");
        var perm = moved.Perm;
        int n = perm.Length;
        if (OnnxFacts.ConstInts(op.GetOperand(1), rewriter.Module) is not { } pads || pads.Length != 2 * n)
            return rewriter.NotifyMatchFailure(op, "Transpose not moved past it: its pads are not a constant of 2 × rank values");
        var newPads = new long[2 * n];
        for (int k = 0; k < n; k++) { newPads[perm[k]] = pads[k]; newPads[n + perm[k]] = pads[n + k]; }
        var operands = op.Operands.ToList();
        operands[0] = moved.Op.GetOperand(0);
        operands[1] = Constants.CreateInt64s(rewriter.Builder, rewriter.Module, newPads, op.Location, "pads");
        var created = TransposePushing.Recreate(op, operands, rewriter);
        TransposePushing.ReplaceWithTranspose(op, created.Result, perm, moved.Op.Location, rewriter);
        return true;
    }
}

/// <summary>Softmax(T(a)) {axis = k} → T(Softmax(a) {axis = p[k]}) from opset 13 (one axis, not a flattening).</summary>
internal sealed class PushThroughSoftmax(string root) : RewritePattern
{
    public override string Name => "Transposes moved past Softmax";
    public override string? Root => root;

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.Results.Count != 1 || op.OperandCount != 1 || TransposePushing.Transposed(op.GetOperand(0)) is not { } moved) return false;
        if (OnnxOpset.Of(rewriter.Module) < 13) return rewriter.NotifyMatchFailure(op, "Transpose not moved past it: before opset 13 its axis flattens");
        var perm = moved.Perm;
        long axis = perm[TransposePushing.Normalize(op.ReadInt("axis", -1), perm.Length)];
        var created = TransposePushing.Recreate(op, [moved.Op.GetOperand(0)], rewriter, a => a.Name == "axis" ? new NamedAttr("axis", IntegerAttr.I64(axis)) : a);
        if (created.GetAttr("axis") is null) created.SetAttr("axis", IntegerAttr.I64(axis));
        TransposePushing.ReplaceWithTranspose(op, created.Result, perm, moved.Op.Location, rewriter);
        return true;
    }
}

/// <summary>
/// Reshape(T(a), shape) → Reshape(a, shape) when T moves only axes of size 1 (the other axes, known or not, keep their
/// order, so the elements are in the same order in memory) and the shape is a constant without 0 (a 0 copies an input
/// dimension, which would change).
/// </summary>
internal sealed class DropTransposeBeforeReshape : RewritePattern
{
    public override string Name => "Transposes of 1-sized axes dropped before Reshape";
    public override string? Root => "onnx.Reshape";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.Results.Count != 1 || op.OperandCount != 2 || TransposePushing.Transposed(op.GetOperand(0)) is not { } moved) return false;
        var input = moved.Op.GetOperand(0);
        if (input.Type is not TensorType { Shape: { } shape } || shape.Count != moved.Perm.Length) return false;
        var kept = moved.Perm.Where(p => shape[(int)p] != 1).ToList();
        for (int i = 1; i < kept.Count; i++)
            if (kept[i] < kept[i - 1]) return rewriter.NotifyMatchFailure(op, "Transpose kept before it: it reorders the elements");
        if (OnnxFacts.ConstInts(op.GetOperand(1), rewriter.Module) is not { } target || (target.Contains(0) && op.ReadInt("allowzero", 0) == 0))
            return rewriter.NotifyMatchFailure(op, "Transpose kept before it: its shape is not a constant without 0");
        rewriter.ModifyInPlace(op, () => op.SetOperand(0, input));
        return true;
    }
}

/// <summary>
/// MatMul(Reshape(T(a), [n, K]), W[K, M]) → MatMul(Reshape(a, [n, K]), W') with W' = W's rows reordered, when T keeps
/// the batch axis first (p[0] = 0), a's other axes are static with product K, W is a constant and the Transpose and the
/// Reshape have no other reader: flattening an NHWC map for a fully connected layer, done on NCHW with the weights'
/// rows moved once (row j of W' is the row of W that the element at flat position j of a met).
/// </summary>
internal sealed class FoldTransposeIntoFlattenMatMul : RewritePattern
{
    public override string Name => "Transposes folded into the weights of a flattening MatMul";
    public override string? Root => "onnx.MatMul";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.Results.Count != 1 || op.OperandCount != 2) return false;
        if (op.GetOperand(0) is not OpResult { Owner: { Name: "onnx.Reshape", OperandCount: 2 } reshape } || !OnnxFacts.OnlyUser(reshape.Result, op)) return false;
        if (TransposePushing.Transposed(reshape.GetOperand(0)) is not { } moved || !OnnxFacts.OnlyUser(moved.Op.Result, reshape)) return false;
        var perm = moved.Perm;
        var input = moved.Op.GetOperand(0);
        bool Fail(string why) => rewriter.NotifyMatchFailure(op, $"Transpose not folded into its weights: {why}");
        if (perm.Length < 2 || perm[0] != 0) return false;
        if (input.Type is not TensorType { Shape: { } shape } || shape.Count != perm.Length || shape.Skip(1).Any(d => d < 0))
            return Fail("the transposed map has no static shape");
        long k = shape.Skip(1).Aggregate(1L, (x, y) => x * y);
        var target = OnnxFacts.ConstInts(reshape.GetOperand(1), rewriter.Module);
        if (target is not [var n, var kk] || kk != k || !(n == -1 || n == 0 || (shape[0] >= 0 && n == shape[0])))
            return Fail("the Reshape does not flatten it to [batch, K]");
        if (Constants.DefiningConstant(op.GetOperand(1)) is not { } wOp || Constants.TryGet(op.GetOperand(1), rewriter.Module) is not { } w
            || w.Type.Shape is not [var rows, var cols] || rows != k || w.Type.Element.IsPacked)
            return Fail("the weights are not a constant [K, M]");

        // σ(j): the flat position in T(a) (batch left out) of the element at flat position j of a.
        var inner = shape.Skip(1).ToArray();
        var transposedInner = perm.Skip(1).Select(p => shape[(int)p]).ToArray();
        var tStrides = new long[inner.Length];
        for (long s = 1, d = inner.Length - 1; d >= 0; d--) { tStrides[d] = s; s *= transposedInner[d]; }
        // a's inner axis i sits at position pos[i] of T(a)'s inner axes.
        var pos = new int[inner.Length];
        for (int q = 1; q < perm.Length; q++) pos[perm[q] - 1] = q - 1;
        int rowBytes = checked((int)(cols * w.Type.Element.ByteSize));
        var bytes = new byte[w.Bytes.Length];
        var index = new long[inner.Length];
        for (long j = 0; j < k; j++)
        {
            long source = 0;
            for (int i = 0; i < inner.Length; i++) source += index[i] * tStrides[pos[i]];
            w.Bytes.Span.Slice((int)(source * rowBytes), rowBytes).CopyTo(bytes.AsSpan((int)(j * rowBytes), rowBytes));
            for (int i = inner.Length - 1; i >= 0; i--)
            {
                if (++index[i] < inner[i]) break;
                index[i] = 0;
            }
        }
        var weights = Constants.Create(rewriter.Builder, rewriter.Module, w.Type, bytes, wOp.Location, wOp.Location.FirstName ?? "weights");
        var flat = rewriter.CreateLike(reshape, [input, reshape.GetOperand(1)], [reshape.Result.Type]);
        var matmul = rewriter.CreateLike(op, [flat.Result, weights], [op.Result.Type]);
        rewriter.ReplaceOp(op, matmul);
        return true;
    }
}

/// <summary>
/// Two Transposes of the same value by the same perm (an input read by several NHWC convolutions): the later one's
/// readers read the earlier one. Skipped when the later one names its result (mo.outputs), which would be lost.
/// </summary>
internal sealed class MergeSameTranspose : RewritePattern
{
    public override string Name => "duplicate Transposes merged";
    public override string? Root => "onnx.Transpose";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.OperandCount != 1 || op.Results.Count != 1 || op.Parent is not { } block || op.GetAttr("mo.outputs") is not null) return false;
        if (TransposePushing.Transposed(op.Result) is not { Perm: var perm }) return false;
        int at = block.IndexOf(op);
        foreach (var use in op.GetOperand(0).Uses)
        {
            var other = use.Owner;
            if (other == op || other.Parent != block || block.IndexOf(other) > at || other.Results.Count != 1 || other.Result.Type != op.Result.Type) continue;
            if (TransposePushing.Transposed(other.Result) is { Perm: var otherPerm } && otherPerm.SequenceEqual(perm))
            {
                rewriter.ReplaceOp(op, other.Result);
                return true;
            }
        }
        return false;
    }
}
