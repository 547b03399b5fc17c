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

    // Attributes through the IR's AttrReader (an attribute of the wrong kind is an error naming the op); a BOOLEAN may
    // also be an INT in Paddle's files (relu's is_test), which ReadInt reads alike.
    public static long Int(OpLowering l, string name, long defaultValue) => l.Op.ReadInt(name, defaultValue);
    public static long[] Ints(OpLowering l, string name, long[] defaultValue) => l.Op.ReadInts(name) ?? defaultValue;
    public static double Float(OpLowering l, string name, double defaultValue) => l.Op.ReadFloat(name, defaultValue);
    public static double[] Floats(OpLowering l, string name) => l.Op.ReadFloats(name) ?? [];
    public static bool Bool(OpLowering l, string name, bool defaultValue) => l.Op.ReadInt(name) is long v ? v != 0 : defaultValue;
    public static string Str(OpLowering l, string name, string defaultValue) => l.Op.ReadString(name, defaultValue);

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
