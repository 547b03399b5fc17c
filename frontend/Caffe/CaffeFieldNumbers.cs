using Google.Protobuf.Reflection;
using Mopt.Ir;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// The fields of each message type met in one import, by number: protobuf's own FindFieldByNumber hashes the type and
/// the number in its pool for every field read (a sixth of reading a layer's attributes, measured on landmark106).
/// </summary>
internal sealed class CaffeFieldNumbers
{
    /// <summary>
    /// Fields numbered below this are found in an array; the few above (LayerParameter's interp_param, 2143, and
    /// blob_share_mode's 1000s) are asked of protobuf, which keeps the arrays small (a few KB per import).
    /// </summary>
    private const int Indexed = 256;

    private readonly Dictionary<MessageDescriptor, FieldDescriptor?[]> _byType = new(ReferenceEqualityComparer.Instance);
    /// <summary>The type last asked about and its fields (a message's fields are read one after another).</summary>
    private MessageDescriptor? _lastType;
    private FieldDescriptor?[] _lastFields = [];
    /// <summary>Each enum type's value names as attributes, by number (a few small enums: one attribute per name per import).</summary>
    private readonly Dictionary<EnumDescriptor, StringAttr?[]> _enumNames = new(ReferenceEqualityComparer.Instance);

    /// <summary>The field numbered <paramref name="number"/> of <paramref name="type"/>, or null if it has none.</summary>
    public FieldDescriptor? Find(MessageDescriptor type, int number)
    {
        if (!ReferenceEquals(type, _lastType))
        {
            if (!_byType.TryGetValue(type, out var fields)) _byType[type] = fields = Index(type);
            _lastType = type;
            _lastFields = fields;
        }
        var byNumber = _lastFields;
        return (uint)number < (uint)byNumber.Length ? byNumber[number] : number < Indexed ? null : type.FindFieldByNumber(number);
    }

    /// <summary>The name of <paramref name="type"/>'s value <paramref name="number"/> as an attribute, or null if it has none.</summary>
    public StringAttr? EnumName(EnumDescriptor type, int number)
    {
        if (!_enumNames.TryGetValue(type, out var names))
        {
            int max = -1;
            foreach (var value in type.Values)
                if (value.Number is >= 0 and < Indexed) max = Math.Max(max, value.Number);
            names = new StringAttr?[max + 1];
            foreach (var value in type.Values)
                if (value.Number is >= 0 and < Indexed) names[value.Number] ??= new StringAttr(value.Name);
            _enumNames[type] = names;
        }
        if ((uint)number < (uint)names.Length) return names[number];
        return number is >= 0 and < Indexed ? null : type.FindValueByNumber(number) is { } v ? new StringAttr(v.Name) : null;
    }

    /// <summary>The type's fields numbered below <see cref="Indexed"/>, at their numbers.</summary>
    private static FieldDescriptor?[] Index(MessageDescriptor type)
    {
        int max = -1;
        foreach (var field in type.Fields.InDeclarationOrder())
            if (field.FieldNumber < Indexed) max = Math.Max(max, field.FieldNumber);
        var byNumber = new FieldDescriptor?[max + 1];
        foreach (var field in type.Fields.InDeclarationOrder())
            if (field.FieldNumber < Indexed) byNumber[field.FieldNumber] = field;
        return byNumber;
    }
}
