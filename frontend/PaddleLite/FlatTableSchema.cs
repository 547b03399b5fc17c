namespace Mopt.Frontend.PaddleLite;

/// <summary>
/// A flatbuffers table type: its name, its fields, and the slot of the string that names one instance in messages
/// (an op's <c>type</c>, a var's <c>name</c>), if it has one.
/// </summary>
public sealed class FlatTableSchema(string name, int? labelSlot, params FlatField[] fields)
{
    public string Name { get; } = name;
    public int? LabelSlot { get; } = labelSlot;
    public IReadOnlyList<FlatField> Fields { get; } = fields;
}
