namespace Mopt.Ir;

/// <summary>
/// Result-type inference for any operation whose definition has a rule (<see cref="IInferTypes"/>):
/// <see cref="InferResultTypes"/> gives what its inputs prove; <see cref="Refine"/> combines that with a declared
/// type; <see cref="Apply"/> does both on one operation.
/// </summary>
public static class TypeInference
{
    /// <summary>
    /// The result types <paramref name="op"/>'s inputs prove (one entry per result, null where nothing is known),
    /// or null when its definition has no rule or the inputs say too little (<see cref="TypeInferenceContext.Reason"/>
    /// says why). Throws <see cref="MirException"/> naming the operation when its inputs cannot be valid.
    /// </summary>
    public static IReadOnlyList<MirType?>? InferResultTypes(Operation op, TypeInferenceContext context)
    {
        context.ClearReason();
        if (context.Dialects.Interface<IInferTypes>(op) is not { } rule) return context.Unknown($"no shape rule for {op.Name}");
        IReadOnlyList<MirType?>? types;
        try
        {
            types = rule.InferResultTypes(op, context);
        }
        catch (ShapeError e)
        {
            throw new MirException($"shape inference: {Describe(op)}: {e.Message}", op.SourcePosition);
        }
        catch (OverflowException)
        {
            return context.Unknown("a dimension overflows 64 bits");
        }
        if (types is null) return null;
        if (types.Count != op.Results.Count)
            types = Enumerable.Range(0, op.Results.Count).Select(i => i < types.Count ? types[i] : null).ToArray();
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
        // Most often the inputs prove nothing new: then no new type (and no text of it to compare) is made.
        if (PrintsAs(d, element, shape)) return declared;
        // An op just made with an unranked result (a lowering's) takes the inferred type itself, not a copy of it.
        if (element == i.Element && ReferenceEquals(shape, i.Shape)) return i;
        return new TensorType(element, shape);
    }

    /// <summary>
    /// Whether a tensor of <paramref name="element"/> and <paramref name="shape"/> is written as <paramref name="type"/> is
    /// (types compare by their text, where every dynamic dim is <c>?</c>).
    /// </summary>
    private static bool PrintsAs(TensorType type, ElementType element, IReadOnlyList<long>? shape)
    {
        if (element != type.Element) return false;
        if (type.Shape is not { } own) return shape is null;
        if (shape is null || shape.Count != own.Count) return false;
        for (int k = 0; k < own.Count; k++)
            if (own[k] != shape[k] && (own[k] >= 0 || shape[k] >= 0)) return false;
        return true;
    }

    /// <summary>
    /// Infers <paramref name="op"/>'s result types and refines the declared ones in place. Returns how many
    /// results changed, or -1 when nothing could be inferred. Throws <see cref="MirException"/> naming the
    /// operation when a declared type contradicts what the inputs prove.
    /// </summary>
    public static int Apply(Operation op, TypeInferenceContext context)
    {
        var inferred = InferResultTypes(op, context);
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
