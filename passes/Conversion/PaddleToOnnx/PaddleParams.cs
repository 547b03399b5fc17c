using Mopt.Dialects.Paddle;
using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Reads a <c>paddle.*</c> op for its lowering: its operands by input slot (<c>Input</c>, <c>Filter</c>; the importer puts
/// them in slot-name order and counts them in <c>paddle.inputs</c>), its results by output slot, and its attributes with
/// Paddle's defaults (an absent attribute is the OpMaker's default, as in the 2018 models that predate many of them).
/// </summary>
internal static class PaddleParams
{
    /// <summary>The operands of input slot <paramref name="slot"/> (none when the op lacks it).</summary>
    public static IReadOnlyList<Value> Slot(OpLowering l, string slot) => Range(l.Op, PaddleDialect.InputsAttr, slot, l.Op.OperandCount) is var (start, count)
        ? Enumerable.Range(start, count).Select(l.Op.GetOperand).ToList() : [];

    /// <summary>The one operand of a slot the op must have.</summary>
    public static Value Input(OpLowering l, string slot) => Slot(l, slot) switch
    {
        [var v] => v,
        var all => throw OpLowering.Blocked($"its input {slot} has {all.Count} values; one is lowered"),
    };

    /// <summary>The one operand of an optional slot, or null when it is absent or empty.</summary>
    public static Value? Optional(OpLowering l, string slot) => Slot(l, slot) switch
    {
        [] => null,
        [var v] => v,
        var all => throw OpLowering.Blocked($"its input {slot} has {all.Count} values; at most one is lowered"),
    };

    /// <summary>
    /// The replacement of every result: <paramref name="outputs"/> for their slots; a result of any other slot (batch_norm's
    /// running statistics, dropout's Mask) must be unused, as at inference, and is replaced by the first given value.
    /// </summary>
    public static IReadOnlyList<Value> Results(OpLowering l, params (string Slot, Value Value)[] outputs)
    {
        var op = l.Op;
        var values = new Value[op.Results.Count];
        if (op.GetAttr(PaddleDialect.OutputsAttr) is not DictionaryAttr slots) throw OpLowering.Blocked($"it has no {PaddleDialect.OutputsAttr}");
        int at = 0;
        foreach (var entry in slots.Entries)
        {
            int count = (int)((IntegerAttr)entry.Value).Value;
            var given = outputs.Where(o => o.Slot == entry.Name).Select(o => o.Value).ToList();
            for (int i = 0; i < count; i++, at++)
            {
                if (given.Count > 0)
                {
                    if (count != 1) throw OpLowering.Blocked($"its output {entry.Name} has {count} values; one is lowered");
                    values[at] = given[0];
                }
                else if (op.Results[at].HasUses)
                    throw OpLowering.Blocked($"its output {entry.Name} is read by another op; only inference (where it is not) is lowered");
                else values[at] = outputs[0].Value;
            }
        }
        if (at != values.Length) throw OpLowering.Blocked($"{PaddleDialect.OutputsAttr} counts {at} results, the op has {values.Length}");
        return values;
    }

    private static (int Start, int Count)? Range(Operation op, string attr, string slot, int total)
    {
        if (op.GetAttr(attr) is not DictionaryAttr slots) throw OpLowering.Blocked($"it has no {attr}");
        int at = 0;
        foreach (var entry in slots.Entries)
        {
            int count = entry.Value is IntegerAttr n ? (int)n.Value : throw OpLowering.Blocked($"{attr} holds {entry.Value} for {entry.Name}");
            if (entry.Name == slot) return at + count <= total ? (at, count) : throw OpLowering.Blocked($"{attr} counts more operands than it has");
            at += count;
        }
        return null;
    }

    public static long Int(OpLowering l, string name, long defaultValue) => l.Op.GetAttr(name) switch
    {
        null => defaultValue,
        IntegerAttr i => i.Value,
        BoolAttr b => b.Value ? 1 : 0,
        var other => throw OpLowering.Blocked($"attribute '{name}' is {other}, not an integer"),
    };

    public static long[] Ints(OpLowering l, string name, long[] defaultValue) => l.Op.GetAttr(name) switch
    {
        null => defaultValue,
        DenseArrayAttr d when !d.Type.IsFloat => d.Ints.ToArray(),
        ArrayAttr a => a.Elements.Select(e => e is IntegerAttr i ? i.Value : throw OpLowering.Blocked($"attribute '{name}' holds {e}, not integers")).ToArray(),
        IntegerAttr i => [i.Value],
        var other => throw OpLowering.Blocked($"attribute '{name}' is {other}, not integers"),
    };

    public static double Float(OpLowering l, string name, double defaultValue) => l.Op.GetAttr(name) switch
    {
        null => defaultValue,
        FloatAttr f => f.Value,
        IntegerAttr i => i.Value,
        var other => throw OpLowering.Blocked($"attribute '{name}' is {other}, not a float"),
    };

    public static double[] Floats(OpLowering l, string name) => l.Op.GetAttr(name) switch
    {
        null => [],
        DenseArrayAttr d => d.Floats.ToArray(),
        FloatAttr f => [f.Value],
        var other => throw OpLowering.Blocked($"attribute '{name}' is {other}, not floats"),
    };

    public static bool Bool(OpLowering l, string name, bool defaultValue) => l.Op.GetAttr(name) switch
    {
        null => defaultValue,
        BoolAttr b => b.Value,
        IntegerAttr i => i.Value != 0,
        var other => throw OpLowering.Blocked($"attribute '{name}' is {other}, not a bool"),
    };

    public static string Str(OpLowering l, string name, string defaultValue) => l.Op.GetAttr(name) switch
    {
        null => defaultValue,
        StringAttr s => s.Value,
        var other => throw OpLowering.Blocked($"attribute '{name}' is {other}, not a string"),
    };

    /// <summary>A layout attribute: NCHW (or AnyLayout, which Paddle reads as NCHW) is lowered, NHWC is not yet.</summary>
    public static void RequireNchw(OpLowering l, string name)
    {
        var layout = Str(l, name, "NCHW");
        if (layout is not ("NCHW" or "AnyLayout")) throw OpLowering.Blocked($"{name} {layout}: only NCHW is lowered");
    }

    /// <summary>The static shape of <paramref name="v"/>, or blocked naming <paramref name="what"/>.</summary>
    public static IReadOnlyList<long> Shape(Value v, string what) =>
        (v.Type as TensorType)?.Shape ?? throw OpLowering.Blocked($"{what} has an unknown rank");
}
