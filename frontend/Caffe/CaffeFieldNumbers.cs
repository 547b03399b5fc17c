using Google.Protobuf.Reflection;

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

    /// <summary>The field numbered <paramref name="number"/> of <paramref name="type"/>, or null if it has none.</summary>
    public FieldDescriptor? Find(MessageDescriptor type, int number)
    {
        if (!_byType.TryGetValue(type, out var byNumber)) _byType[type] = byNumber = Index(type);
        return (uint)number < (uint)byNumber.Length ? byNumber[number] : number < Indexed ? null : type.FindFieldByNumber(number);
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
