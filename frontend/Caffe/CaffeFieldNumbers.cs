using System.Runtime.CompilerServices;
using Google.Protobuf.Reflection;
using Mopt.Ir;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// The fields of each message type met in one import, by number: protobuf's own FindFieldByNumber hashes the type and
/// the number in its pool for every field read (a sixth of reading a layer's attributes, measured on landmark106).
/// </summary>
internal sealed class CaffeFieldNumbers
{
    /// <summary>Enum values numbered 0 to this are found in an array, others asked of protobuf.</summary>
    private const int Indexed = 256;

    /// <summary>
    /// Each type's fields by number and each enum's value names, built once per process as the descriptors they are made
    /// from are (built per import they were 6% of importing MTCNN det1), read-only once built: imports on several threads
    /// share them, and the attributes, immutable, are shared by the modules.
    /// </summary>
    private static readonly ConditionalWeakTable<MessageDescriptor, CaffeMessageFields> FieldsByType = new();
    private static readonly ConditionalWeakTable<EnumDescriptor, StringAttr?[]> NamesByEnum = new();

    /// <summary>
    /// The types this import met, searched in order before the process-wide table: a net moves between a few types (a
    /// layer, its parameter, a filler) at every message, and each table look-up reads a dependent handle.
    /// </summary>
    private readonly List<CaffeMessageFields> _met = [];
    private readonly List<(EnumDescriptor Type, StringAttr?[] Names)> _metEnums = [];

    /// <summary>The fields of <paramref name="type"/> by number.</summary>
    public CaffeMessageFields Of(MessageDescriptor type)
    {
        foreach (var met in _met)
            if (ReferenceEquals(met.Type, type)) return met;
        var found = FieldsByType.GetValue(type, static t => new CaffeMessageFields(t));
        _met.Add(found);
        return found;
    }

    /// <summary>The name of <paramref name="type"/>'s value <paramref name="number"/> as an attribute, or null if it has none.</summary>
    public StringAttr? EnumName(EnumDescriptor type, int number)
    {
        var names = NamesOf(type);
        if ((uint)number < (uint)names.Length) return names[number];
        return number is >= 0 and < Indexed ? null : type.FindValueByNumber(number) is { } v ? new StringAttr(v.Name) : null;
    }

    private StringAttr?[] NamesOf(EnumDescriptor type)
    {
        foreach (var (met, names) in _metEnums)
            if (ReferenceEquals(met, type)) return names;
        var found = NamesByEnum.GetValue(type, static t => Names(t));
        _metEnums.Add((type, found));
        return found;
    }

    /// <summary>The enum's value names numbered 0 to <see cref="Indexed"/> as attributes, at their numbers (the first name of a number).</summary>
    private static StringAttr?[] Names(EnumDescriptor type)
    {
        int max = -1;
        foreach (var value in type.Values)
            if (value.Number is >= 0 and < Indexed) max = Math.Max(max, value.Number);
        var names = new StringAttr?[max + 1];
        foreach (var value in type.Values)
            if (value.Number is >= 0 and < Indexed) names[value.Number] ??= new StringAttr(value.Name);
        return names;
    }
}
