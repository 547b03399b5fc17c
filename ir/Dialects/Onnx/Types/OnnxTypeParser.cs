using System.Globalization;
using System.Text;
using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>Reads the spellings <see cref="OnnxType.Spelling"/> writes.</summary>
internal sealed class OnnxTypeParser(string text)
{
    private int _at;

    /// <summary>The type <paramref name="spelling"/> spells, or null when it is not an ONNX type's spelling.</summary>
    public static OnnxType? TryParse(string spelling)
    {
        try
        {
            var parser = new OnnxTypeParser(spelling);
            var type = parser.ReadType();
            return parser.AtEnd ? type : null;
        }
        catch (FormatException) { return null; }
    }

    private bool AtEnd { get { SkipSpaces(); return _at == text.Length; } }

    private OnnxType ReadType()
    {
        SkipSpaces();
        if (TryWord("tensor<") || TryWord("!onnx.Tensor<"))
        {
            var (shape, element) = ReadShapeAndElement();
            Expect('>');
            return new OnnxTensorType(DataTypeNamed(element), shape);
        }
        if (TryWord("!onnx.Seq<"))
        {
            var inner = ReadType();
            Expect('>');
            return new OnnxSequenceType(inner);
        }
        if (TryWord("!onnx.Opt<"))
        {
            var inner = ReadType();
            Expect('>');
            return new OnnxOptionalType(inner);
        }
        if (TryWord("!onnx.Map<"))
        {
            SkipSpaces();
            var key = ReadWord();
            Expect(',');
            var value = ReadType();
            Expect('>');
            return new OnnxMapType(DataTypeNamed(key), value);
        }
        if (TryWord("!onnx.SparseTensor<"))
        {
            var (shape, element) = ReadShapeAndElement();
            Expect('>');
            return new OnnxSparseTensorType(DataTypeNamed(element), shape);
        }
        if (TryWord("!onnx.Opaque<"))
        {
            var domain = ReadString();
            Expect(',');
            var name = ReadString();
            Expect('>');
            return new OnnxOpaqueType(domain, name);
        }
        throw new FormatException();
    }

    private static int DataTypeNamed(string name) => OnnxDataTypes.DataTypeOfName(name) ?? throw new FormatException();

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
