using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Folding;

/// <summary>
/// Element-wise arithmetic, comparisons, logic, Where and Cast, with numpy broadcasting. Floats are computed in
/// double and rounded once to the element type, which gives the correctly rounded result for + - × ÷ √ and 1/x
/// (what ONNX Runtime computes in the type itself); integers wrap at their width, as in ONNX Runtime.
/// </summary>
internal static class ElementwiseOps
{
    // ------------------------------------------------------------------ arithmetic

    public static ConstantTensor Add(FoldRequest r) => Arithmetic(r, (a, b) => a + b, (a, b) => unchecked(a + b), null);
    public static ConstantTensor Sub(FoldRequest r) => Arithmetic(r, (a, b) => a - b, (a, b) => unchecked(a - b), null);
    public static ConstantTensor Mul(FoldRequest r) => Arithmetic(r, (a, b) => a * b, (a, b) => unchecked(a * b), null);

    public static ConstantTensor Div(FoldRequest r)
    {
        var type = r.Input(0).Type.Element;
        return Arithmetic(r, (a, b) => a / b, (a, b) =>
        {
            if (b == 0) throw new FoldException("integer division by zero");
            if (b == -1 && a == MinOf(type)) throw new FoldException("integer division overflows");
            return a / b;
        }, (a, b) => b == 0 ? throw new FoldException("integer division by zero") : a / b);
    }

    /// <summary>Mod: fmod=1 is C's fmod (sign of the dividend); fmod=0 (integers only) takes the divisor's sign.</summary>
    public static ConstantTensor Mod(FoldRequest r)
    {
        bool fmod = r.Int("fmod", 0) != 0;
        var type = r.Input(0).Type.Element;
        if (type.IsFloat && !fmod) throw new FoldException("Mod of floats needs fmod=1");
        return Arithmetic(r, (a, b) => a % b, (a, b) =>
        {
            if (b == 0) throw new FoldException("integer modulo by zero");
            if (b == -1) return 0;
            long m = a % b;
            return !fmod && m != 0 && (m < 0) != (b < 0) ? m + b : m;
        }, (a, b) => b == 0 ? throw new FoldException("integer modulo by zero") : a % b);
    }

    public static ConstantTensor Min(FoldRequest r) => Extremum(r, min: true);
    public static ConstantTensor Max(FoldRequest r) => Extremum(r, min: false);

    private static ConstantTensor Extremum(FoldRequest r, bool min)
    {
        var inputs = r.PresentInputs.ToList();
        var element = SameElement(inputs);
        var kind = Tensors.KindOf(element);
        return Tensors.Map(r, inputs, element, args =>
        {
            var best = args[0];
            for (int k = 1; k < args.Length; k++)
            {
                var x = args[k];
                bool less = kind switch
                {
                    NumKind.Float => double.IsNaN(x.F) || double.IsNaN(best.F)
                        ? throw FoldException.Unsupported("NaN in Min/Max (left to ONNX Runtime's convention)")
                        : x.F < best.F,
                    NumKind.Unsigned => (ulong)x.I < (ulong)best.I,
                    _ => x.I < best.I,
                };
                bool greater = kind switch
                {
                    NumKind.Float => x.F > best.F,
                    NumKind.Unsigned => (ulong)x.I > (ulong)best.I,
                    _ => x.I > best.I,
                };
                if (min ? less : greater) best = x;
            }
            return best;
        });
    }

    private static ConstantTensor Arithmetic(FoldRequest r, Func<double, double, double> f, Func<long, long, long> signed, Func<ulong, ulong, ulong>? unsigned)
    {
        var a = r.Input(0);
        var b = r.Input(1);
        var element = SameElement([a, b]);
        var kind = Tensors.KindOf(element);
        if (kind == NumKind.Bool) throw FoldException.Unsupported($"{r.Op.OpType} of bools");
        return Tensors.Map(r, [a, b], element, args => kind switch
        {
            NumKind.Float => Scalar.Float(f(args[0].F, args[1].F)),
            NumKind.Unsigned when unsigned is not null => Scalar.Int((long)unsigned((ulong)args[0].I, (ulong)args[1].I)),
            _ => Scalar.Int(signed(args[0].I, args[1].I)),
        });
    }

    private static long MinOf(ElementType t) => t.Kind == ElementKind.SignlessInt && t.BitWidth is > 1 and < 64 ? -(1L << (t.BitWidth - 1)) : long.MinValue;

    // ------------------------------------------------------------------ unary

    public static ConstantTensor Neg(FoldRequest r) => Unary(r, x => -x, x => unchecked(-x), allowUnsigned: false);
    public static ConstantTensor Abs(FoldRequest r) => Unary(r, Math.Abs, x => x < 0 ? unchecked(-x) : x, allowUnsigned: true);
    public static ConstantTensor Sqrt(FoldRequest r) => Unary(r, Math.Sqrt, null, allowUnsigned: false);
    public static ConstantTensor Reciprocal(FoldRequest r) => Unary(r, x => 1.0 / x, null, allowUnsigned: false);
    public static ConstantTensor Floor(FoldRequest r) => Unary(r, Math.Floor, null, allowUnsigned: false);
    public static ConstantTensor Ceil(FoldRequest r) => Unary(r, Math.Ceiling, null, allowUnsigned: false);

    private static ConstantTensor Unary(FoldRequest r, Func<double, double> f, Func<long, long>? integer, bool allowUnsigned)
    {
        var x = r.Input(0);
        var element = x.Type.Element;
        var kind = Tensors.KindOf(element);
        if (kind == NumKind.Bool || kind != NumKind.Float && integer is null || kind == NumKind.Unsigned && !allowUnsigned)
            throw FoldException.Unsupported($"{r.Op.OpType} of {element}");
        return Tensors.Map(r, [x], element, args => kind == NumKind.Float ? Scalar.Float(f(args[0].F)) : Scalar.Int(integer!(args[0].I)));
    }

    // ------------------------------------------------------------------ comparisons and logic

    public static ConstantTensor Equal(FoldRequest r) => Compare(r, c => c == 0);
    public static ConstantTensor Less(FoldRequest r) => Compare(r, c => c < 0);
    public static ConstantTensor LessOrEqual(FoldRequest r) => Compare(r, c => c <= 0);
    public static ConstantTensor Greater(FoldRequest r) => Compare(r, c => c > 0);
    public static ConstantTensor GreaterOrEqual(FoldRequest r) => Compare(r, c => c >= 0);

    /// <summary><paramref name="test"/> gets -1, 0 or 1 (a &lt;, =, &gt; b); any comparison with NaN is false.</summary>
    private static ConstantTensor Compare(FoldRequest r, Func<int, bool> test)
    {
        var a = r.Input(0);
        var b = r.Input(1);
        var kind = Tensors.KindOf(SameElement([a, b]));
        return Tensors.Map(r, [a, b], ElementType.I1, args => kind switch
        {
            NumKind.Float => Scalar.Bool(!double.IsNaN(args[0].F) && !double.IsNaN(args[1].F) && test(args[0].F.CompareTo(args[1].F))),
            NumKind.Unsigned => Scalar.Bool(test(((ulong)args[0].I).CompareTo((ulong)args[1].I))),
            _ => Scalar.Bool(test(args[0].I.CompareTo(args[1].I))),
        });
    }

    public static ConstantTensor Not(FoldRequest r) => Logic(r, 1, args => !args[0].IsTrue);
    public static ConstantTensor And(FoldRequest r) => Logic(r, 2, args => args[0].IsTrue && args[1].IsTrue);
    public static ConstantTensor Or(FoldRequest r) => Logic(r, 2, args => args[0].IsTrue || args[1].IsTrue);
    public static ConstantTensor Xor(FoldRequest r) => Logic(r, 2, args => args[0].IsTrue != args[1].IsTrue);

    private static ConstantTensor Logic(FoldRequest r, int arity, Func<Scalar[], bool> f)
    {
        var inputs = Enumerable.Range(0, arity).Select(r.Input).ToList();
        if (inputs.Any(t => !t.Type.Element.IsBool)) throw FoldException.Unsupported($"{r.Op.OpType} of non-bool tensors");
        return Tensors.Map(r, inputs, ElementType.I1, args => Scalar.Bool(f(args)));
    }

    public static ConstantTensor Where(FoldRequest r)
    {
        var cond = r.Input(0);
        if (!cond.Type.Element.IsBool) throw FoldException.Unsupported("Where's condition is not bool");
        var x = r.Input(1);
        var y = r.Input(2);
        var element = SameElement([x, y]);
        return Tensors.Map(r, [cond, x, y], element, args => args[0].IsTrue ? args[1] : args[2]);
    }

    private static ElementType SameElement(IReadOnlyList<ConstantTensor> inputs)
    {
        var e = inputs[0].Type.Element;
        if (inputs.Any(t => t.Type.Element != e))
            throw new FoldException($"inputs of different element types ({string.Join(", ", inputs.Select(t => t.Type.Element.Name))})");
        return e;
    }

    // ------------------------------------------------------------------ Cast

    public static ConstantTensor Cast(FoldRequest r)
    {
        long to = OnnxLegacy.CastTarget(r.Op) ?? -1;
        var target = OnnxDataTypes.ElementOf(to) ?? throw FoldException.Unsupported($"Cast to ONNX data type {to}");
        return CastTo(r, r.Input(0), target);
    }

    public static ConstantTensor CastLike(FoldRequest r) => CastTo(r, r.Input(0), r.Input(1).Type.Element);

    /// <summary>
    /// Float to integer truncates toward zero; NaN, infinities and values out of the target's range are left to
    /// the fallback (C++ leaves them undefined). Integers to f16/bf16 go through f32, as ONNX Runtime does.
    /// </summary>
    public static ConstantTensor CastTo(FoldRequest r, ConstantTensor x, ElementType target)
    {
        var source = x.Type.Element;
        if (source == target) return x;
        var from = Tensors.KindOf(source);
        var to = Tensors.KindOf(target);
        return Tensors.Map(r, [x], target, args =>
        {
            var v = args[0];
            if (to == NumKind.Bool) return Scalar.Bool(from == NumKind.Float ? v.F != 0 || double.IsNaN(v.F) : v.I != 0);
            if (from == NumKind.Float)
            {
                if (to == NumKind.Float) return v;
                double t = Math.Truncate(v.F);
                if (double.IsNaN(t) || !InRange(target, t)) throw FoldException.Unsupported($"Cast of {v.F} to {target} is out of range");
                return Scalar.Int(to == NumKind.Unsigned && t >= 9223372036854775808.0 ? unchecked((long)(ulong)t) : (long)t);
            }
            if (to != NumKind.Float) return v; // integer to integer: the low bits, written by the element writer
            bool unsignedSource = from == NumKind.Unsigned;
            return target.Name switch
            {
                "f64" => Scalar.Float(unsignedSource ? (double)(ulong)v.I : v.I),
                _ => Scalar.Float(unsignedSource ? (float)(ulong)v.I : (float)v.I),
            };
        });
    }

    private static bool InRange(ElementType target, double t)
    {
        int bits = target.BitWidth;
        if (target.Kind == ElementKind.UnsignedInt) return t >= 0 && t < Math.Pow(2, bits);
        return t >= -Math.Pow(2, bits - 1) && t < Math.Pow(2, bits - 1);
    }
}
