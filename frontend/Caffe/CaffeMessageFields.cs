using Google.Protobuf.Reflection;

namespace Mopt.Frontend.Caffe;

/// <summary>A message type's fields by number, read-only once built (shared by the imports of a process).</summary>
internal sealed class CaffeMessageFields
{
    /// <summary>
    /// Fields numbered below this are found in an array; the few above (LayerParameter's interp_param, 2143, and
    /// blob_share_mode's 1000s) in a short list, which keeps the arrays small (a few KB per type).
    /// </summary>
    private const int Indexed = 256;

    private readonly CaffeField?[] _byNumber;
    private readonly CaffeField[] _above;

    public CaffeMessageFields(MessageDescriptor type)
    {
        Type = type;
        int max = -1;
        var above = new List<CaffeField>();
        foreach (var field in type.Fields.InDeclarationOrder())
            if (field.FieldNumber < Indexed) max = Math.Max(max, field.FieldNumber);
        _byNumber = new CaffeField?[max + 1];
        foreach (var field in type.Fields.InDeclarationOrder())
        {
            if (field.FieldNumber < Indexed) _byNumber[field.FieldNumber] = new CaffeField(field);
            else above.Add(new CaffeField(field));
        }
        _above = [.. above];
    }

    public MessageDescriptor Type { get; }

    /// <summary>The field numbered <paramref name="number"/>, or null if the type has none.</summary>
    public CaffeField? Find(int number)
    {
        if ((uint)number < (uint)_byNumber.Length) return _byNumber[number];
        if (number < Indexed) return null;
        foreach (var field in _above)
            if (field.Number == number) return field;
        return null;
    }
}
