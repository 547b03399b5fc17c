namespace Mopt.Frontend.PaddleLite;

/// <summary>What a flatbuffers table field holds, as its verifier checks it.</summary>
public enum FlatFieldKind
{
    /// <summary>A scalar stored in the table (bool, int, long, float, an enum), of <see cref="FlatField.Size"/> bytes.</summary>
    Scalar,
    String,
    Table,
    /// <summary>A vector of scalars of <see cref="FlatField.Size"/> bytes each.</summary>
    ScalarVector,
    StringVector,
    TableVector,
    /// <summary>A union: its type byte in this slot, its table in the next one.</summary>
    Union,
}
