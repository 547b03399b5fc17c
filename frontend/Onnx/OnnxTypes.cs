using System.Globalization;
using System.Text;
using Mopt.Ir;
using Mopt.Onnx.Proto;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Frontend.Onnx;

/// <summary>
/// ONNX types ⇄ IR types, shared by the importer and the exporter.
/// Tensors of an element type the IR has become <c>tensor&lt;...&gt;</c>; everything else becomes a dialect type
/// whose spelling this class reads back on export:
/// <c>!onnx.Tensor&lt;2x?xstring&gt;</c> (a tensor of an element type the IR lacks: string, complex64, f8E4M3FN, ...),
/// <c>!onnx.Seq&lt;T&gt;</c>, <c>!onnx.Map&lt;K, T&gt;</c>, <c>!onnx.Opt&lt;T&gt;</c>, <c>!onnx.SparseTensor&lt;2x3xf32&gt;</c>,
/// <c>!onnx.Opaque&lt;"domain", "name"&gt;</c>.
/// </summary>
public static class OnnxTypes
{
    /// <summary>The IR element type of an ONNX <c>TensorProto.DataType</c>, or null when the IR has none.</summary>
    public static ElementType? ElementOf(int dataType) => (DataType)dataType switch
    {
        DataType.Float => ElementType.F32,
        DataType.Uint8 => ElementType.UI8,
        DataType.Int8 => ElementType.I8,
        DataType.Uint16 => ElementType.UI16,
        DataType.Int16 => ElementType.I16,
        DataType.Int32 => ElementType.I32,
        DataType.Int64 => ElementType.I64,
        DataType.Bool => ElementType.I1,
        DataType.Float16 => ElementType.F16,
        DataType.Double => ElementType.F64,
        DataType.Uint32 => ElementType.UI32,
        DataType.Uint64 => ElementType.UI64,
        DataType.Bfloat16 => ElementType.BF16,
        _ => null,
    };

    /// <summary>The ONNX data type of an IR element type, or null (index, none).</summary>
    public static int? DataTypeOf(ElementType element) => element.Name switch
    {
        "f32" => (int)DataType.Float,
        "ui8" => (int)DataType.Uint8,
        "i8" => (int)DataType.Int8,
        "ui16" => (int)DataType.Uint16,
        "i16" => (int)DataType.Int16,
        "i32" => (int)DataType.Int32,
        "i64" => (int)DataType.Int64,
        "i1" => (int)DataType.Bool,
        "f16" => (int)DataType.Float16,
        "f64" => (int)DataType.Double,
        "ui32" => (int)DataType.Uint32,
        "ui64" => (int)DataType.Uint64,
        "bf16" => (int)DataType.Bfloat16,
        _ => null,
    };

    private static readonly (DataType Type, string Name)[] ExtraElementNames =
    [
        (DataType.String, "string"), (DataType.Complex64, "complex64"), (DataType.Complex128, "complex128"),
        (DataType.Float8E4M3Fn, "f8E4M3FN"), (DataType.Float8E4M3Fnuz, "f8E4M3FNUZ"), (DataType.Float8E5M2, "f8E5M2"),
        (DataType.Float8E5M2Fnuz, "f8E5M2FNUZ"), (DataType.Uint4, "ui4"), (DataType.Int4, "i4"),
        (DataType.Float4E2M1, "f4E2M1FN"), (DataType.Float8E8M0, "f8E8M0FNU"),
    ];

    /// <summary>The element name used in types and messages: f32, i64, ..., string, complex64, f8E4M3FN, ...</summary>
    public static string ElementName(int dataType)
    {
        if (ElementOf(dataType) is { } e) return e.Name;
        foreach (var (t, n) in ExtraElementNames)
            if ((int)t == dataType) return n;
        return $"dtype{dataType.ToString(CultureInfo.InvariantCulture)}";
    }

    private static int? DataTypeOfName(string name)
    {
        if (ElementType.TryGet(name) is { } e) return DataTypeOf(e);
        foreach (var (t, n) in ExtraElementNames)
            if (n == name) return (int)t;
        if (name.StartsWith("dtype", StringComparison.Ordinal) && int.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int v)) return v;
        return null;
    }

    // ------------------------------------------------------------------ ONNX → IR

    /// <summary>
    /// The IR type of an ONNX type; null when <paramref name="type"/> says nothing (absent, or an undefined element type).
    /// <paramref name="dimParams"/> gets the symbolic dimension names of a tensor (one per dim, "" where none), or null
    /// when it has none.
    /// </summary>
    public static MirType? FromTypeProto(TypeProto? type, out string[]? dimParams)
    {
        dimParams = null;
        if (type is null) return null;
        switch (type.ValueCase)
        {
            case TypeProto.ValueOneofCase.TensorType:
            {
                var t = type.TensorType;
                if (!t.HasElemType || t.ElemType == 0) return null;
                long[]? shape = null;
                if (t.Shape is { } s)
                {
                    shape = new long[s.Dim.Count];
                    for (int i = 0; i < shape.Length; i++)
                    {
                        var d = s.Dim[i];
                        if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue >= 0) shape[i] = d.DimValue;
                        else
                        {
                            shape[i] = TensorType.Dynamic;
                            if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam && d.DimParam.Length > 0)
                            {
                                dimParams ??= new string[shape.Length];
                                dimParams[i] = d.DimParam;
                            }
                        }
                    }
                    if (dimParams is not null)
                        for (int i = 0; i < dimParams.Length; i++) dimParams[i] ??= "";
                }
                return TensorOf(t.ElemType, shape);
            }
            case TypeProto.ValueOneofCase.SequenceType:
                return new OpaqueType($"!onnx.Seq<{SpellingOf(type.SequenceType.ElemType)}>");
            case TypeProto.ValueOneofCase.OptionalType:
                return new OpaqueType($"!onnx.Opt<{SpellingOf(type.OptionalType.ElemType)}>");
            case TypeProto.ValueOneofCase.MapType:
                return new OpaqueType($"!onnx.Map<{ElementName(type.MapType.KeyType)}, {SpellingOf(type.MapType.ValueType)}>");
            case TypeProto.ValueOneofCase.SparseTensorType:
            {
                var t = type.SparseTensorType;
                return new OpaqueType($"!onnx.SparseTensor<{ShapePrefix(t.Shape)}{ElementName(t.ElemType)}>");
            }
            case TypeProto.ValueOneofCase.OpaqueType:
                return new OpaqueType($"!onnx.Opaque<{Quote(type.OpaqueType.Domain)}, {Quote(type.OpaqueType.Name)}>");
            default:
                return null;
        }
    }

    /// <summary><c>tensor&lt;...&gt;</c> of an ONNX data type, or <c>!onnx.Tensor&lt;...&gt;</c> when the IR lacks the element type.</summary>
    public static MirType TensorOf(int dataType, IReadOnlyList<long>? shape)
    {
        if (ElementOf(dataType) is { } e) return new TensorType(e, shape);
        var sb = new StringBuilder("!onnx.Tensor<");
        AppendShape(sb, shape);
        return new OpaqueType(sb.Append(ElementName(dataType)).Append('>').ToString());
    }

    private static string SpellingOf(TypeProto? type) =>
        FromTypeProto(type, out _)?.Text ?? "tensor<*xf32>";

    private static string ShapePrefix(TensorShapeProto? shape)
    {
        if (shape is null) return "*x";
        var sb = new StringBuilder();
        foreach (var d in shape.Dim)
            sb.Append(d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue >= 0
                ? d.DimValue.ToString(CultureInfo.InvariantCulture) : "?").Append('x');
        return sb.ToString();
    }

    private static void AppendShape(StringBuilder sb, IReadOnlyList<long>? shape)
    {
        if (shape is null) { sb.Append("*x"); return; }
        foreach (var d in shape) sb.Append(d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture)).Append('x');
    }

    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            if (c is '"' or '\\') sb.Append('\\').Append(c);
            else if (c < 0x20 || c > 0x7E || c is '<' or '>') sb.Append('_');
            else sb.Append(c);
        }
        return sb.Append('"').ToString();
    }

    // ------------------------------------------------------------------ IR → ONNX

    /// <summary>The ONNX type of an IR type, or null when it has no ONNX form. <paramref name="dimParams"/> names symbolic dims.</summary>
    public static TypeProto? ToTypeProto(MirType type, IReadOnlyList<string>? dimParams = null)
    {
        switch (type)
        {
            case TensorType t:
                if (DataTypeOf(t.Element) is not int dt) return null;
                return TensorTypeProto(dt, t.Shape, dimParams);
            case OpaqueType o:
                try
                {
                    var reader = new SpellingReader(o.Spelling);
                    var result = reader.ReadType();
                    if (!reader.AtEnd) return null;
                    if (dimParams is not null && result.TensorType?.Shape is { } shape && shape.Dim.Count == dimParams.Count)
                        for (int i = 0; i < dimParams.Count; i++)
                            if (shape.Dim[i].ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && dimParams[i].Length > 0)
                                shape.Dim[i].DimParam = dimParams[i];
                    return result;
                }
                catch (FormatException) { return null; }
            default:
                return null;
        }
    }

    private static TypeProto TensorTypeProto(int dataType, IReadOnlyList<long>? shape, IReadOnlyList<string>? dimParams)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = dataType };
        if (shape is not null) tensor.Shape = ShapeProto(shape, dimParams);
        return new TypeProto { TensorType = tensor };
    }

    private static TensorShapeProto ShapeProto(IReadOnlyList<long> shape, IReadOnlyList<string>? dimParams)
    {
        var s = new TensorShapeProto();
        for (int i = 0; i < shape.Count; i++)
        {
            var d = new TensorShapeProto.Types.Dimension();
            if (shape[i] >= 0) d.DimValue = shape[i];
            else if (dimParams is not null && i < dimParams.Count && dimParams[i].Length > 0) d.DimParam = dimParams[i];
            s.Dim.Add(d);
        }
        return s;
    }

    /// <summary>The element type inside <c>!onnx.Seq&lt;T&gt;</c> or <c>!onnx.Opt&lt;T&gt;</c>, as an IR type.</summary>
    public static MirType? InnerType(MirType type)
    {
        if (type is not OpaqueType o) return null;
        if (ToTypeProto(o) is not { } tp) return null;
        var inner = tp.ValueCase switch
        {
            TypeProto.ValueOneofCase.SequenceType => tp.SequenceType.ElemType,
            TypeProto.ValueOneofCase.OptionalType => tp.OptionalType.ElemType,
            _ => null,
        };
        return FromTypeProto(inner, out _);
    }

    /// <summary>Reads the spellings <see cref="FromTypeProto"/> writes.</summary>
    private sealed class SpellingReader(string text)
    {
        private int _at;

        public bool AtEnd { get { SkipSpaces(); return _at == text.Length; } }

        public TypeProto ReadType()
        {
            SkipSpaces();
            if (TryWord("tensor<"))
            {
                var (shape, elem) = ReadShapeAndElement();
                Expect('>');
                return TensorTypeProto(DataTypeOfName(elem) ?? throw new FormatException(), shape, null);
            }
            if (TryWord("!onnx.Tensor<"))
            {
                var (shape, elem) = ReadShapeAndElement();
                Expect('>');
                return TensorTypeProto(DataTypeOfName(elem) ?? throw new FormatException(), shape, null);
            }
            if (TryWord("!onnx.Seq<"))
            {
                var inner = ReadType();
                Expect('>');
                return new TypeProto { SequenceType = new TypeProto.Types.Sequence { ElemType = inner } };
            }
            if (TryWord("!onnx.Opt<"))
            {
                var inner = ReadType();
                Expect('>');
                return new TypeProto { OptionalType = new TypeProto.Types.Optional { ElemType = inner } };
            }
            if (TryWord("!onnx.Map<"))
            {
                SkipSpaces();
                var key = ReadWord();
                Expect(',');
                var value = ReadType();
                Expect('>');
                return new TypeProto { MapType = new TypeProto.Types.Map { KeyType = DataTypeOfName(key) ?? throw new FormatException(), ValueType = value } };
            }
            if (TryWord("!onnx.SparseTensor<"))
            {
                var (shape, elem) = ReadShapeAndElement();
                Expect('>');
                var sparse = new TypeProto.Types.SparseTensor { ElemType = DataTypeOfName(elem) ?? throw new FormatException() };
                if (shape is not null) sparse.Shape = ShapeProto(shape, null);
                return new TypeProto { SparseTensorType = sparse };
            }
            if (TryWord("!onnx.Opaque<"))
            {
                var domain = ReadString();
                Expect(',');
                var name = ReadString();
                Expect('>');
                return new TypeProto { OpaqueType = new TypeProto.Types.Opaque { Domain = domain, Name = name } };
            }
            throw new FormatException();
        }

        private (List<long>? Shape, string Element) ReadShapeAndElement()
        {
            SkipSpaces();
            List<long>? shape = new();
            if (TryWord("*x")) shape = null;
            while (true)
            {
                int start = _at;
                if (_at < text.Length && text[_at] == '?') { _at++; }
                else while (_at < text.Length && char.IsAsciiDigit(text[_at])) _at++;
                if (_at > start && _at < text.Length && text[_at] == 'x' && shape is not null)
                {
                    var dim = text.AsSpan(start, _at - start);
                    shape.Add(dim is "?" ? TensorType.Dynamic : long.Parse(dim, CultureInfo.InvariantCulture));
                    _at++;
                    continue;
                }
                _at = start;
                break;
            }
            return (shape, ReadWord());
        }

        private string ReadWord()
        {
            int start = _at;
            while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] == '_')) _at++;
            if (_at == start) throw new FormatException();
            return text[start.._at];
        }

        private string ReadString()
        {
            SkipSpaces();
            Expect('"');
            var sb = new StringBuilder();
            while (_at < text.Length && text[_at] != '"')
            {
                if (text[_at] == '\\' && _at + 1 < text.Length) _at++;
                sb.Append(text[_at++]);
            }
            Expect('"');
            return sb.ToString();
        }

        private bool TryWord(string word)
        {
            if (string.CompareOrdinal(text, _at, word, 0, word.Length) != 0) return false;
            _at += word.Length;
            return true;
        }

        private void Expect(char c)
        {
            SkipSpaces();
            if (_at >= text.Length || text[_at] != c) throw new FormatException();
            _at++;
        }

        private void SkipSpaces()
        {
            while (_at < text.Length && text[_at] == ' ') _at++;
        }
    }
}
