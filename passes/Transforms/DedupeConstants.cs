using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--dedupe-constants</c>: merges constants that hold the same tensor into the first one.
/// <code>
/// Before: %a = "onnx.Constant"() {value = dense_resource&lt;w1&gt; : tensor&lt;64xf32&gt;} loc("w1")
///         %b = "onnx.Constant"() {value = dense_resource&lt;w2&gt; : tensor&lt;64xf32&gt;} loc("w2")   ; same bytes as w1
/// After:  %a = "onnx.Constant"() {value = dense_resource&lt;w1&gt; : tensor&lt;64xf32&gt;} loc(fused["w1", "w2"])
///         (users of %b read %a; blob w2 is gone)
/// </code>
/// A constant is an operation whose definition says ConstantLike, with one result, no operands and no regions, whose
/// <see cref="IConstantLike"/> gives the tensor it holds (<c>onnx.Constant</c>'s <c>value</c>; other dialects'
/// constants alike), never an op name. Two constants are the same when their operation names, result types and value
/// types are equal and their element bytes are equal (bit for bit: 0.0 and -0.0 differ, equal NaNs are the same),
/// whether written as a splat, inline dense or a dense_resource blob; the bytes are hashed first and compared only on
/// equal hashes. The first constant must come before the other's uses: the same block or an enclosing one (a constant in one branch of an If is not merged
/// with one in the other). Functions are separate. The kept constant keeps its attributes and takes the other's
/// location too (fused); blobs no constant points at any more are removed.
/// </summary>
public sealed class DedupeConstants : Pass
{
    public override string Name => "dedupe-constants";
    public override string Summary => "Merge onnx.Constant operations holding identical tensors (type and bytes) into the first one";

    public override void Run(MirModule module, PassContext context)
    {
        var freed = new HashSet<string>(StringComparer.Ordinal);
        long merged = 0;
        foreach (var block in module.FunctionBlocks())
            Walk(block, new ScopedTable<Key>(null), module, context.Dialects, freed, ref merged);

        if (merged > 0) context.Count("constants merged", merged);
        if (freed.Count == 0) return;
        foreach (var (_, blob) in module.RemoveUnreferencedBlobs(freed))
        {
            context.Count("blobs removed");
            context.Count("blob bytes freed", blob.Data.Length);
        }
    }

    private static void Walk(Block block, ScopedTable<Key> scope, MirModule module, DialectRegistry dialects, HashSet<string> freed, ref long merged)
    {
        foreach (var op in block.Operations.ToList())
        {
            if (Identify(op, module, dialects) is { } key)
            {
                if (scope.Find(key) is { } first)
                {
                    op.Result.ReplaceAllUsesWith(first.Result);
                    first.Location = Location.Fuse(first.Location, op.Location);
                    if (dialects.Interface<IConstantLike>(op)?.ValueAttribute(op) is DenseResourceAttr res) freed.Add(res.Key);
                    op.Erase();
                    merged++;
                    continue;
                }
                scope.Add(key, op);
            }
            foreach (var inner in op.Regions.SelectMany(r => r.Blocks))
                Walk(inner, scope.Nested(), module, dialects, freed, ref merged);
        }
    }

    /// <summary>
    /// What a constant holds, in one canonical form: its types, and either one element (all elements equal) or
    /// all the bytes. Null for an operation that is not a readable tensor constant.
    /// </summary>
    private static Key? Identify(Operation op, MirModule module, DialectRegistry dialects)
    {
        if (op.Results.Count != 1 || op.OperandCount != 0 || op.Regions.Count != 0 || !dialects.Has(op, OpTraits.ConstantLike)) return null;
        TensorType type;
        ReadOnlyMemory<byte> data;
        switch (dialects.Interface<IConstantLike>(op)?.ValueAttribute(op))
        {
            case DenseElementsAttr dense:
                type = dense.Type;
                data = dense.Data;
                if (dense.IsSplat) return Key.Create(op, type, data, splat: true);
                break;
            case DenseResourceAttr res when module.Resources.Get(res.Key) is { } blob && blob.Data.Length == res.Type.ByteSize:
                type = res.Type;
                data = blob.Data;
                break;
            default:
                return null;
        }
        int size = type.Element.ByteSize;
        bool allEqual = data.Length > 0;
        var span = data.Span;
        for (int at = size; at < span.Length && allEqual; at += size)
            allEqual = span.Slice(at, size).SequenceEqual(span[..size]);
        return allEqual ? Key.Create(op, type, data[..size], splat: true) : Key.Create(op, type, data, splat: false);
    }

    private sealed class Key : IEquatable<Key>
    {
        private readonly string _types;
        private readonly bool _splat;
        private readonly ReadOnlyMemory<byte> _bytes;
        private readonly int _hash;

        private Key(string types, bool splat, ReadOnlyMemory<byte> bytes)
        {
            _types = types;
            _splat = splat;
            _bytes = bytes;
            var h = new HashCode();
            h.Add(types);
            h.Add(splat);
            h.AddBytes(bytes.Span);
            _hash = h.ToHashCode();
        }

        public static Key Create(Operation op, TensorType valueType, ReadOnlyMemory<byte> bytes, bool splat) =>
            new(op.Name + "|" + op.Result.Type.Text + "|" + valueType.Text, splat, bytes);

        public bool Equals(Key? other) =>
            other is not null && _hash == other._hash && _splat == other._splat && _types == other._types && _bytes.Span.SequenceEqual(other._bytes.Span);
        public override bool Equals(object? obj) => obj is Key k && Equals(k);
        public override int GetHashCode() => _hash;
    }

}
