using Mopt.Ir;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// Shape arithmetic shared by the rules. A shape is a <c>long[]</c> with <see cref="Dyn"/> (-1) for a dim that
/// is not known, or null when not even the rank is known. Unknown in, unknown out: a dim is a number only when
/// the inputs prove it.
/// </summary>
public static class ShapeMath
{
    public const long Dyn = TensorType.Dynamic;

    // ---- reading operands

    /// <summary>Operand <paramref name="index"/>, or null when the operand is missing or is ONNX's "no value".</summary>
    public static Value? Input(this Operation op, int index)
    {
        if (index >= op.OperandCount) return null;
        var v = op.GetOperand(index);
        if (v.Type == ElementType.None) return null;
        if (v is OpResult { Owner.Name: OnnxDialect.NoValueOp }) return null;
        return v;
    }

    public static bool HasInput(this Operation op, int index) => op.Input(index) is not null;

    /// <summary>The shape of a value (a copy), or null when it is not a ranked tensor.</summary>
    public static long[]? ShapeOf(Value? v) => v?.Type is TensorType { Shape: { } s } ? s.ToArray() : null;

    /// <summary>The element type of a value, or <c>none</c> when not known.</summary>
    public static ElementType ElemOf(Value? v) => v?.Type is TensorType t ? t.Element : ElementType.None;

    public static int? RankOf(Value? v) => v?.Type is TensorType { Shape: { } s } ? s.Count : null;

    /// <summary>The first known element type among the values (<c>none</c> when none is known).</summary>
    public static ElementType FirstElem(params Value?[] values) =>
        values.Select(ElemOf).FirstOrDefault(e => e != ElementType.None) ?? ElementType.None;

    // ---- attributes

    public static long[]? Ints(this Operation op, string name) => op.ReadInts(name); // malformed: an error naming the op
    public static double[]? Floats(this Operation op, string name) => ConstantValues.AttrFloats(op.GetAttr(name));
    public static long Int(this Operation op, string name, long defaultValue) => op.GetInt(name) ?? defaultValue;

    // ---- building results

    public static TensorType Tensor(ElementType element, long[]? shape) => new(element, shape);

    public static MirType?[] One(ElementType element, long[]? shape) => [new TensorType(element, shape)];

    /// <summary>The same type for every result of <paramref name="op"/>.</summary>
    public static MirType?[] All(Operation op, TensorType type) => Enumerable.Repeat<MirType?>(type, op.Results.Count).ToArray();

    // ---- dim arithmetic (-1 absorbs)

    public static long Mul(long a, long b) => a < 0 || b < 0 ? Dyn : checked(a * b);
    public static long Add(long a, long b) => a < 0 || b < 0 ? Dyn : checked(a + b);
    public static long Product(IEnumerable<long> dims)
    {
        long p = 1;
        foreach (var d in dims) p = Mul(p, d);
        return p;
    }

    /// <summary>Division rounding up, for non-negative numerators and positive divisors.</summary>
    public static long CeilDiv(long a, long b) => a >= 0 ? (a + b - 1) / b : -((-a) / b);

    /// <summary>Division rounding down (towards minus infinity).</summary>
    public static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>Whether <see cref="MergeDim"/> of the two would throw: both known and different (a caller builds its message only then).</summary>
    public static bool DimsConflict(long a, long b) => a >= 0 && b >= 0 && a != b;

    /// <summary>Two facts about one dim: equal when both known, else whichever is known.</summary>
    public static long MergeDim(long a, long b, string what)
    {
        if (a < 0) return b;
        if (b < 0 || a == b) return a;
        throw new ShapeError($"{what}: {a} vs {b}");
    }

    /// <summary>Merges two shapes that must be equal (null = unranked).</summary>
    public static long[]? MergeShapes(long[]? a, long[]? b, string what)
    {
        if (a is null) return b?.ToArray();
        if (b is null) return a.ToArray();
        if (a.Length != b.Length) throw new ShapeError($"{what}: rank {a.Length} vs rank {b.Length}");
        return a.Select((d, i) => MergeDim(d, b[i], $"{what}, dim {i}")).ToArray();
    }

    /// <summary>Whether every value is above zero (strides, dilations): a loop, not Any, as every Conv and Pool asks.</summary>
    public static bool AllPositive(long[] values)
    {
        foreach (long v in values)
            if (v <= 0) return false;
        return true;
    }

    /// <summary>
    /// Multidirectional (numpy) broadcasting. Right-aligned; in each position every known dim other than 1 must
    /// agree and is the result; a dynamic dim next to a known n != 1 is n (it can only be 1 or n); otherwise a
    /// dynamic dim stays dynamic. Null when any shape is unranked.
    /// </summary>
    public static long[]? Broadcast(IReadOnlyList<long[]?> shapes)
    {
        // Loops by index, no LINQ: every lowered Gemm, Add and Mul asks this.
        int rank = 0;
        for (int j = 0; j < shapes.Count; j++)
        {
            if (shapes[j] is not { } shape) return null;
            rank = Math.Max(rank, shape.Length);
        }
        var result = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long fixedDim = -2;
            bool anyDynamic = false;
            for (int j = 0; j < shapes.Count; j++)
            {
                var s = shapes[j]!;
                int k = i - (rank - s.Length);
                if (k < 0) continue;
                long d = s[k];
                if (d < 0) anyDynamic = true;
                else if (d != 1)
                {
                    if (fixedDim >= 0 && fixedDim != d)
                        throw new ShapeError($"shapes {string.Join(" and ", shapes.Select(Format))} cannot be broadcast ({fixedDim} vs {d})");
                    fixedDim = d;
                }
            }
            result[i] = fixedDim >= 0 ? fixedDim : anyDynamic ? Dyn : 1;
        }
        return result;
    }

    /// <summary>
    /// The length Slice gives along one axis of size <paramref name="dim"/>: a negative start or end has the dim
    /// added, then both are clamped ([0, dim] for a positive step; [0, dim-1] and [-1, dim-1] for a negative one).
    /// </summary>
    public static long SliceLength(long dim, long start, long end, long step) => AxisRange.Resolve(start, end, step, dim).Count;

    /// <summary>An axis in <c>[-rank, rank)</c> as a position in <c>[0, rank)</c>.</summary>
    public static int Axis(long axis, int rank, string what = "axis")
    {
        if (axis < -rank || axis >= rank) throw new ShapeError($"{what} {axis} is out of range for rank {rank}");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    public static string Format(long[]? shape) =>
        shape is null ? "[*]" : "[" + string.Join("x", shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
}
