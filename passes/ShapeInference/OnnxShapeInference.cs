using Mopt.Ir;

namespace Mopt.Passes.ShapeInference;

/// <summary>
/// A shape rule: the result types an operation's inputs and attributes prove, one entry per result (null for a
/// result it knows nothing about), or null when it knows nothing at all. A type may be partial: unranked,
/// <c>?</c> dims, or element type <c>none</c> meaning "element type not known". Inputs that cannot be valid
/// throw <see cref="ShapeError"/>.
/// </summary>
public delegate MirType?[]? ShapeRule(Operation op, ShapeContext ctx);

/// <summary>
/// ONNX shape inference: <see cref="InferResultTypes"/> gives what an <c>onnx.*</c> operation's inputs prove about
/// its results; <see cref="Refine"/> combines that with a declared type; <see cref="Apply"/> does both on one
/// operation. The rules live in one file per operator family beside this one.
/// </summary>
public static class OnnxShapeInference
{
    private static readonly Dictionary<string, ShapeRule> Rules = BuildRules();

    private static Dictionary<string, ShapeRule> BuildRules()
    {
        var rules = new Dictionary<string, ShapeRule>(StringComparer.Ordinal);
        ElementwiseShapes.Register(rules);
        ActivationShapes.Register(rules);
        ConvPoolShapes.Register(rules);
        MatMulShapes.Register(rules);
        ReductionShapes.Register(rules);
        ShapeOpShapes.Register(rules);
        SliceGatherShapes.Register(rules);
        QuantizationShapes.Register(rules);
        RecurrentShapes.Register(rules);
        return rules;
    }

    /// <summary>Every operation name a rule exists for, sorted.</summary>
    public static IReadOnlyList<string> CoveredOps { get; } = Rules.Keys.Order(StringComparer.Ordinal).ToArray();

    public static bool Covers(string opName) => Rules.ContainsKey(opName);

    /// <summary>
    /// The result types <paramref name="op"/>'s inputs prove (one entry per result, null where nothing is known),
    /// or null when there is no rule or the inputs say too little (<see cref="ShapeContext.Reason"/> says why).
    /// Throws <see cref="MirException"/> naming the operation when its inputs cannot be valid.
    /// </summary>
    public static IReadOnlyList<MirType?>? InferResultTypes(Operation op, ShapeContext ctx)
    {
        ctx.ClearReason();
        if (!Rules.TryGetValue(op.Name, out var rule)) return ctx.Unknown($"no shape rule for {op.Name}");
        MirType?[]? types;
        try
        {
            types = rule(op, ctx);
        }
        catch (ShapeError e)
        {
            throw new MirException($"shape inference: {Describe(op)}: {e.Message}", op.SourcePosition);
        }
        catch (OverflowException)
        {
            return ctx.Unknown("a dimension overflows 64 bits");
        }
        if (types is null) return null;
        if (types.Length != op.Results.Count)
            types = Enumerable.Range(0, op.Results.Count).Select(i => i < types.Length ? types[i] : null).ToArray();
        return types;
    }

    /// <summary>
    /// The declared type refined by the inferred one: an unranked shape takes the inferred rank, a <c>?</c> dim
    /// takes an inferred number, a placeholder element type (<c>none</c>) takes the inferred one; everything the
    /// declared type already knows stays. Throws <see cref="ShapeError"/> when the two contradict.
    /// Types other than tensors are left as declared (e.g. <c>none</c> for an absent optional output).
    /// </summary>
    public static MirType Refine(MirType declared, MirType? inferred)
    {
        if (declared is not TensorType d || inferred is not TensorType i) return declared;
        var element = d.Element;
        if (element == ElementType.None) element = i.Element;
        else if (i.Element != ElementType.None && i.Element != d.Element)
            throw new ShapeError($"declared element type {d.Element} but the inputs give {i.Element}");

        IReadOnlyList<long>? shape = d.Shape;
        if (i.Shape is { } inferredShape)
        {
            if (shape is null) shape = inferredShape;
            else if (shape.Count != inferredShape.Count)
                throw new ShapeError($"declared rank {shape.Count} ({d}) but the inputs give rank {inferredShape.Count} ({i})");
            else
            {
                var merged = new long[shape.Count];
                for (int k = 0; k < merged.Length; k++)
                {
                    long a = shape[k], b = inferredShape[k];
                    if (a >= 0 && b >= 0 && a != b)
                        throw new ShapeError($"declared {d} but the inputs give {i} (dim {k}: {a} vs {b})");
                    merged[k] = a >= 0 ? a : b;
                }
                shape = merged;
            }
        }
        var result = new TensorType(element, shape);
        return result == d ? declared : result;
    }

    /// <summary>
    /// Infers <paramref name="op"/>'s result types and refines the declared ones in place. Returns how many
    /// results changed, or -1 when nothing could be inferred. Throws <see cref="MirException"/> naming the
    /// operation when a declared type contradicts what the inputs prove.
    /// </summary>
    public static int Apply(Operation op, ShapeContext ctx)
    {
        var inferred = InferResultTypes(op, ctx);
        if (inferred is null) return -1;
        int changed = 0;
        for (int k = 0; k < op.Results.Count; k++)
        {
            var result = op.Results[k];
            MirType refined;
            try
            {
                refined = Refine(result.Type, inferred[k]);
            }
            catch (ShapeError e)
            {
                var which = op.Results.Count == 1 ? "result" : $"result #{k}";
                throw new MirException($"shape inference: {Describe(op)}: {which}: {e.Message}", op.SourcePosition);
            }
            if (refined == result.Type) continue;
            result.Type = refined;
            changed++;
        }
        return changed;
    }

    /// <summary><c>'onnx.Conv' at "Conv_0"</c>: how errors name an operation.</summary>
    public static string Describe(Operation op) =>
        op.Location.FirstName is { } name ? $"'{op.Name}' at \"{name}\"" : $"'{op.Name}'";
}
