namespace Mopt.Frontend.PaddleLite;

/// <summary>
/// One field of a flatbuffers table as the schema declares it: its name (for messages), its slot (declaration order; a
/// union takes two), what it holds, and whether the schema marks it <c>(required)</c>.
/// </summary>
public sealed record FlatField(string Name, int Slot, FlatFieldKind Kind, int Size = 0, bool Required = false, FlatTableSchema? Table = null)
{
    public static FlatField Scalar(string name, int slot, int size) => new(name, slot, FlatFieldKind.Scalar, size);
    public static FlatField String(string name, int slot, bool required = false) => new(name, slot, FlatFieldKind.String, Required: required);
    public static FlatField Child(string name, int slot, FlatTableSchema table, bool required = false) => new(name, slot, FlatFieldKind.Table, Required: required, Table: table);
    public static FlatField Scalars(string name, int slot, int size) => new(name, slot, FlatFieldKind.ScalarVector, size);
    public static FlatField Strings(string name, int slot) => new(name, slot, FlatFieldKind.StringVector);
    public static FlatField Tables(string name, int slot, FlatTableSchema table) => new(name, slot, FlatFieldKind.TableVector, Table: table);
    /// <summary>A union with one member type (type id 1), as param.fbs's VariableDesc.</summary>
    public static FlatField Union(string name, int slot, FlatTableSchema member) => new(name, slot, FlatFieldKind.Union, Table: member);
}
