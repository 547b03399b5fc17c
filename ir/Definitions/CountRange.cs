using System.Collections.Immutable;

namespace Mopt.Ir;

/// <summary>How many values an operation takes: at least <paramref name="Min"/>, at most <paramref name="Max"/> (null: no limit).</summary>
public sealed record CountRange(int Min, int? Max)
{
    public bool Contains(int count) => count >= Min && (Max is null || count <= Max);

    /// <summary>What the slots allow: every slot up to the last single one must be given; a variadic slot takes any number.</summary>
    public static CountRange Of(ReadOnlySpan<SlotDefinition> slots)
    {
        int min = 0;
        for (int i = 0; i < slots.Length; i++)
            if (slots[i].Arity == Arity.Single) min = i + 1;
        bool variadic = slots.Length > 0 && slots[^1].Arity == Arity.Variadic;
        return new CountRange(min, variadic ? null : slots.Length);
    }

    /// <inheritdoc cref="Of(ReadOnlySpan{SlotDefinition})"/>
    public static CountRange Of(ImmutableArray<SlotDefinition> slots) => Of(slots.AsSpan());

    /// <summary>"2", "1 to 3", "at least 1".</summary>
    public override string ToString() => Max is null ? $"at least {Min}" : Max == Min ? $"{Min}" : $"{Min} to {Max}";
}
