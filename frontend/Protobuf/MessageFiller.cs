using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Mopt.Protobuf;

/// <summary>
/// Fills a message from its text in one pass over <see cref="TextScanner"/>'s tokens, field by field through its
/// descriptor, following grammar/ProtoText.g4's rules (textMessage, field, value, block, list, scalar): each name must be
/// a field of the message, each value of the field's kind; a wrong one is an error at its place. Text the grammar does
/// not accept throws <see cref="TextNotInGrammarException"/>, for the generated parser to report.
/// </summary>
internal sealed class MessageFiller(TextSource source)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly TextScanner _scan = new(source.Text);
    private readonly ArrayBufferWriter<byte> _bytes = new();
    /// <summary>The string tokens of the scalar just read (adjacent strings concatenate).</summary>
    private readonly List<(int Start, int End)> _strings = [];
    /// <summary>
    /// Each message type's fields by name, looked up by the name's characters (no string per field read). Built once
    /// per type for the process, as the descriptor it is made from is: built per parse it was 6% of reading landmark106's
    /// prototxt (a LayerParameter has 70 fields). Read-only once built, so parses on several threads share it.
    /// </summary>
    private static readonly ConditionalWeakTable<MessageDescriptor, FieldsByName> Fields = new();

    /// <summary>A message type's fields by name (the dictionary kept with its span lookup).</summary>
    private sealed class FieldsByName(MessageDescriptor descriptor)
    {
        public readonly Dictionary<string, FieldDescriptor>.AlternateLookup<ReadOnlySpan<char>> Lookup = Build(descriptor);

        private static Dictionary<string, FieldDescriptor>.AlternateLookup<ReadOnlySpan<char>> Build(MessageDescriptor descriptor)
        {
            var fields = new Dictionary<string, FieldDescriptor>(StringComparer.Ordinal);
            foreach (var f in descriptor.Fields.InDeclarationOrder()) fields[f.Name] = f;
            return fields.GetAlternateLookup<ReadOnlySpan<char>>();
        }
    }

    /// <summary>The last type looked up and its fields (the fields of one block are looked up one after another).</summary>
    private MessageDescriptor? _lastType;
    private FieldsByName? _lastFields;
    /// <summary>The non-repeated fields given so far in each open message, by nesting depth (reused: no lists per block).</summary>
    private readonly List<List<(FieldDescriptor Field, int At)>> _given = [];
    private int _depth;

    /// <summary>One scalar as the grammar reads it: its first character, a sign, and its (first) token.</summary>
    private readonly record struct Scalar(TextTokenKind Kind, int Start, bool Negative, int TokenStart, int TokenEnd);

    /// <summary>Fills <paramref name="message"/> from the whole text.</summary>
    public void Fill(IMessage message)
    {
        _scan.Next();
        FillFields(message);
        if (_scan.Kind != TextTokenKind.End) throw NotInGrammar();
    }

    /// <summary>The fields up to the end of the text or the block's closing bracket (not consumed).</summary>
    private void FillFields(IMessage message)
    {
        var descriptor = message.Descriptor;
        if (_given.Count == _depth) _given.Add([]);
        var given = _given[_depth++];
        given.Clear();
        // A message sets a handful of oneof members at most: a list scanned linearly.
        List<(OneofDescriptor Oneof, FieldDescriptor Field, int At)>? oneofs = null;
        while (_scan.Kind == TextTokenKind.Ident || _scan.Is('['))
        {
            var (field, name) = Resolve(descriptor);
            if (!field.IsRepeated)
            {
                CheckOnce(descriptor, field, name, given);
                if (field.RealContainingOneof is { } oneof)
                {
                    oneofs ??= [];
                    foreach (var other in oneofs)
                        if (other.Oneof == oneof)
                            throw source.ErrorAt(name, $"fields '{field.Name}' and '{other.Field.Name}' (at {source.At(other.At)}) of '{descriptor.FullName}' " +
                                $"are both in oneof '{oneof.Name}': give only one");
                    oneofs.Add((oneof, field, name));
                }
            }
            ReadValues(message, descriptor, field);
            if (_scan.Is(',') || _scan.Is(';')) _scan.Next();
        }
        _depth--;
    }

    /// <summary>What follows a field's name: <c>: value</c>, a block, or a list (each of its items).</summary>
    private void ReadValues(IMessage message, MessageDescriptor descriptor, FieldDescriptor field)
    {
        bool colon = _scan.Is(':');
        if (colon) _scan.Next();
        if (_scan.Is('['))
        {
            if (!field.IsRepeated)
                throw source.ErrorAt(_scan.Start, $"field '{field.Name}' of '{descriptor.FullName}' is not repeated: it takes one value, not a list");
            _scan.Next();
            if (!_scan.Is(']'))
            {
                Item(message, descriptor, field);
                while (_scan.Is(','))
                {
                    _scan.Next();
                    Item(message, descriptor, field);
                }
            }
            Expect(']');
        }
        else if (colon || IsBlockOpen())
        {
            Item(message, descriptor, field);
        }
        else
        {
            throw NotInGrammar();
        }
    }

    /// <summary>One value (a scalar or a block) given for <paramref name="field"/>.</summary>
    private void Item(IMessage message, MessageDescriptor descriptor, FieldDescriptor field)
    {
        if (field.IsMap)
        {
            if (!IsBlockOpen())
                throw source.ErrorAt(ReadScalar().Start, $"field '{field.Name}' of '{field.ContainingType.FullName}' is a map: write each entry as " +
                    $"'{field.Name} {{ key: ... value: ... }}'");
            AddMapEntry((IDictionary)field.Accessor.GetValue(message), field);
        }
        else if (field.IsRepeated)
        {
            ((IList)field.Accessor.GetValue(message)).Add(ValueOf(descriptor, field));
        }
        else if (IsMessage(field) && IsBlockOpen() && field.Accessor.GetValue(message) is IMessage existing)
        {
            Block(existing); // Merge into a message that already holds this field: C++'s merge semantics
        }
        else
        {
            field.Accessor.SetValue(message, ValueOf(descriptor, field));
        }
    }

    /// <summary>The field a name stands for in <paramref name="descriptor"/>, and where the name is (consumed).</summary>
    private (FieldDescriptor Field, int Name) Resolve(MessageDescriptor descriptor)
    {
        int at = _scan.Start;
        if (_scan.Is('['))
            throw source.ErrorAt(at, $"'{BracketedName()}' in message '{descriptor.FullName}': extensions and Any expansions are not supported");
        var field = Lookup(descriptor, _scan.Span)
            ?? throw source.ErrorAt(at, $"message '{descriptor.FullName}' has no field '{_scan.Span}'");
        _scan.Next();
        return (field, at);
    }

    private FieldDescriptor? Lookup(MessageDescriptor descriptor, ReadOnlySpan<char> name)
    {
        if (!ReferenceEquals(descriptor, _lastType))
        {
            _lastFields = FieldsOf(descriptor);
            _lastType = descriptor;
        }
        return _lastFields!.Lookup.TryGetValue(name, out var field) ? field : null;
    }

    /// <summary>
    /// The types this parse met and their fields, searched in order before the process-wide table: a prototxt nests a few
    /// types (a layer, its parameter, a filler) and moves between them at every block, and each table look-up reads a
    /// dependent handle through the runtime.
    /// </summary>
    private readonly List<(MessageDescriptor Type, FieldsByName Fields)> _met = [];

    private FieldsByName FieldsOf(MessageDescriptor descriptor)
    {
        foreach (var (type, fields) in _met)
            if (ReferenceEquals(type, descriptor)) return fields;
        var found = Fields.GetValue(descriptor, static d => new FieldsByName(d));
        _met.Add((descriptor, found));
        return found;
    }

    /// <summary><c>[a.b.C]</c> or <c>[type.googleapis.com/a.B]</c> as written, without blanks (consumed).</summary>
    private string BracketedName()
    {
        var text = new StringBuilder("[");
        _scan.Next();
        QualifiedName(text);
        if (_scan.Is('/'))
        {
            text.Append('/');
            _scan.Next();
            QualifiedName(text);
        }
        if (!_scan.Is(']')) throw NotInGrammar();
        _scan.Next();
        return text.Append(']').ToString();
    }

    private void QualifiedName(StringBuilder text)
    {
        while (true)
        {
            if (_scan.Kind != TextTokenKind.Ident) throw NotInGrammar();
            text.Append(_scan.Span);
            _scan.Next();
            if (!_scan.Is('.')) return;
            text.Append('.');
            _scan.Next();
        }
    }

    private void CheckOnce(MessageDescriptor descriptor, FieldDescriptor field, int name, List<(FieldDescriptor Field, int At)> given)
    {
        foreach (var (f, first) in given)
            if (f == field)
                throw source.ErrorAt(name, $"field '{field.Name}' of '{descriptor.FullName}' is not repeated and is already given at {source.At(first)}");
        given.Add((field, name));
    }

    /// <summary>The value at the scanner as the CLR type the field's accessor takes (consumed).</summary>
    private object ValueOf(MessageDescriptor descriptor, FieldDescriptor field)
    {
        bool block = IsBlockOpen();
        if (IsMessage(field))
        {
            if (!block)
            {
                var scalar = ReadScalar();
                throw source.ErrorAt(scalar.Start, $"field '{field.Name}' of '{descriptor.FullName}' is a message ({field.MessageType.FullName}): " +
                    $"write '{field.Name} {{ ... }}', not {Shown(scalar)}");
            }
            var message = NewMessage(field.MessageType);
            Block(message);
            return message;
        }
        if (block)
            throw source.ErrorAt(_scan.Start, $"field '{field.Name}' of '{descriptor.FullName}' is {Kind(field)}, not a message: write '{field.Name}: value'");
        return ScalarValue(descriptor, field, ReadScalar());
    }

    /// <summary><c>{ fields }</c> or <c>&lt; fields &gt;</c> into <paramref name="message"/> (consumed).</summary>
    private void Block(IMessage message)
    {
        char close = _scan.Is('{') ? '}' : '>';
        _scan.Next();
        FillFields(message);
        Expect(close);
    }

    private void AddMapEntry(IDictionary map, FieldDescriptor mapField)
    {
        var owner = mapField.ContainingType;
        var entry = mapField.MessageType;
        var keyField = entry.FindFieldByNumber(1);
        var valueField = entry.FindFieldByNumber(2);
        object? key = null, value = null;
        var given = new List<(FieldDescriptor Field, int At)>();
        char close = _scan.Is('{') ? '}' : '>';
        _scan.Next();
        while (_scan.Kind == TextTokenKind.Ident || _scan.Is('['))
        {
            int at = _scan.Start;
            var name = _scan.Is('[') ? BracketedName() : null;
            if (name is not null || Lookup(entry, _scan.Span) is not { } field)
                throw source.ErrorAt(at, $"an entry of map field '{mapField.Name}' of '{owner.FullName}' has only 'key' and 'value', not '{name ?? _scan.Span.ToString()}'");
            _scan.Next();
            CheckOnce(entry, field, at, given);
            bool colon = _scan.Is(':');
            if (colon) _scan.Next();
            if (_scan.Is('['))
                throw source.ErrorAt(_scan.Start, $"field '{field.Name}' of '{entry.FullName}' is not repeated: it takes one value, not a list");
            if (!colon && !IsBlockOpen()) throw NotInGrammar();
            var v = ValueOf(entry, field);
            if (field == keyField) key = v; else value = v;
            if (_scan.Is(',') || _scan.Is(';')) _scan.Next();
        }
        Expect(close);
        map[key ?? DefaultOf(keyField)] = value ?? DefaultOf(valueField);
    }

    /// <summary>The grammar's scalar: <c>STRING+</c>, <c>'-'? (INTEGER | FLOAT)</c> or <c>'-'? IDENT</c> (consumed).</summary>
    private Scalar ReadScalar()
    {
        int start = _scan.Start;
        if (_scan.Kind == TextTokenKind.String)
        {
            _strings.Clear();
            while (_scan.Kind == TextTokenKind.String)
            {
                _strings.Add((_scan.Start, _scan.End));
                _scan.Next();
            }
            return new Scalar(TextTokenKind.String, start, false, _strings[0].Start, _strings[0].End);
        }
        bool negative = _scan.Is('-');
        if (negative) _scan.Next();
        if (_scan.Kind is not (TextTokenKind.Integer or TextTokenKind.Float or TextTokenKind.Ident)) throw NotInGrammar();
        var scalar = new Scalar(_scan.Kind, start, negative, _scan.Start, _scan.End);
        _scan.Next();
        return scalar;
    }

    private object ScalarValue(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar)
    {
        switch (field.FieldType)
        {
            case FieldType.String:
            {
                if (PlainString(scalar) is { } plain) return plain;
                var bytes = StringBytes(descriptor, field, scalar);
                try { return StrictUtf8.GetString(bytes); }
                catch (DecoderFallbackException) { throw source.ErrorAt(scalar.Start, $"string field '{field.Name}' of '{descriptor.FullName}' is given bytes that are not UTF-8"); }
            }
            case FieldType.Bytes:
                return ByteString.CopyFrom(StringBytes(descriptor, field, scalar));
            case FieldType.Bool:
                // The scalar's whole text: a sign or quotes make it no bool.
                return scalar.Kind is TextTokenKind.String || scalar.Negative ? throw WrongKind(descriptor, field, scalar, "true or false") : Token(scalar) switch
                {
                    "true" or "True" or "t" or "1" => true,
                    "false" or "False" or "f" or "0" => false,
                    _ => throw WrongKind(descriptor, field, scalar, "true or false"),
                };
            case FieldType.Float or FieldType.Double:
                return Floating(descriptor, field, scalar);
            case FieldType.Enum:
                return EnumNumber(descriptor, field, scalar);
            default:
                return Integer(descriptor, field, scalar);
        }
    }

    /// <summary>
    /// A single quoted string without escapes or surrogates as it is written, or null: its UTF-8 bytes would decode back
    /// to the very same characters, so they are not made (most of a prototxt's strings: names, types, tops).
    /// </summary>
    private string? PlainString(Scalar scalar)
    {
        if (scalar.Kind != TextTokenKind.String || _strings.Count != 1) return null;
        var (start, end) = _strings[0];
        var content = source.Text.AsSpan(start + 1, end - start - 2);
        if (content.Contains('\\') || content.ContainsAnyInRange('\uD800', '\uDFFF')) return null;
        return content.ToString();
    }

    /// <summary>The bytes of one or more adjacent quoted strings (valid until the next call).</summary>
    private ReadOnlySpan<byte> StringBytes(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar)
    {
        if (scalar.Kind != TextTokenKind.String) throw WrongKind(descriptor, field, scalar, "a quoted string");
        _bytes.ResetWrittenCount();
        foreach (var (start, end) in _strings)
        {
            int bad = StringLiteral.Decode(source.Text.AsSpan(start, end - start), _bytes, out var error);
            if (bad >= 0) throw source.ErrorAt(start, error, bad);
        }
        return _bytes.WrittenSpan;
    }

    private object Floating(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar)
    {
        bool isFloat = field.FieldType == FieldType.Float;
        double value;
        if (scalar.Kind == TextTokenKind.Ident)
        {
            value = Token(scalar).ToLowerInvariant() switch
            {
                "inf" or "inff" or "infinity" or "infinityf" => double.PositiveInfinity,
                "nan" or "nanf" => double.NaN,
                _ => throw WrongKind(descriptor, field, scalar, "a number"),
            };
            if (isFloat) return (float)(scalar.Negative ? -value : value);
            return scalar.Negative ? -value : value;
        }
        if (scalar.Kind is not (TextTokenKind.Integer or TextTokenKind.Float)) throw WrongKind(descriptor, field, scalar, "a number");
        var text = TokenSpan(scalar);
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            if (!ulong.TryParse(text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
                throw OutOfRange(descriptor, field, scalar);
            value = hex;
            if (isFloat) return (float)(scalar.Negative ? -value : value);
            return scalar.Negative ? -value : value;
        }
        // Parsed straight to the field's own type: a float's shortest text reads back to the very same float.
        var digits = text.TrimEnd("fF");
        if (isFloat)
        {
            float f = float.Parse(digits, NumberStyles.Float, CultureInfo.InvariantCulture);
            return scalar.Negative ? -f : f;
        }
        value = double.Parse(digits, NumberStyles.Float, CultureInfo.InvariantCulture);
        return scalar.Negative ? -value : value;
    }

    private object EnumNumber(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar)
    {
        var type = field.EnumType;
        if (scalar is { Kind: TextTokenKind.Ident, Negative: false })
        {
            var name = Token(scalar);
            return type.FindValueByName(name)?.Number
                ?? throw source.ErrorAt(scalar.Start, $"enum '{type.FullName}' (field '{field.Name}' of '{descriptor.FullName}') has no value '{name}'");
        }
        // A number: open enums keep any int32, as the binary reader does.
        if (scalar.Kind != TextTokenKind.Integer) throw WrongKind(descriptor, field, scalar, $"a value name of enum '{type.FullName}'");
        long value = SignedMagnitude(descriptor, field, scalar);
        if (value is < int.MinValue or > int.MaxValue) throw OutOfRange(descriptor, field, scalar);
        return (int)value;
    }

    private object Integer(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar)
    {
        if (scalar.Kind != TextTokenKind.Integer) throw WrongKind(descriptor, field, scalar, "an integer");
        switch (field.FieldType)
        {
            case FieldType.UInt32 or FieldType.Fixed32:
            {
                ulong v = Magnitude(descriptor, field, scalar);
                if (scalar.Negative && v != 0 || v > uint.MaxValue) throw OutOfRange(descriptor, field, scalar);
                return (uint)v;
            }
            case FieldType.UInt64 or FieldType.Fixed64:
            {
                ulong v = Magnitude(descriptor, field, scalar);
                if (scalar.Negative && v != 0) throw OutOfRange(descriptor, field, scalar);
                return v;
            }
            case FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32:
            {
                long v = SignedMagnitude(descriptor, field, scalar);
                if (v is < int.MinValue or > int.MaxValue) throw OutOfRange(descriptor, field, scalar);
                return (int)v;
            }
            default:
                return SignedMagnitude(descriptor, field, scalar);
        }
    }

    /// <summary>A signed integer as a long (the magnitude may be up to 2^63 when negative).</summary>
    private long SignedMagnitude(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar)
    {
        ulong magnitude = Magnitude(descriptor, field, scalar);
        if (!scalar.Negative)
            return magnitude <= long.MaxValue ? (long)magnitude : throw OutOfRange(descriptor, field, scalar);
        if (magnitude > (ulong)long.MaxValue + 1) throw OutOfRange(descriptor, field, scalar);
        return unchecked((long)(0UL - magnitude));
    }

    /// <summary>The unsigned value of a decimal, hex (0x) or octal (leading 0) integer token.</summary>
    private ulong Magnitude(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar)
    {
        var text = TokenSpan(scalar);
        ulong value;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            if (!ulong.TryParse(text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value))
                throw OutOfRange(descriptor, field, scalar);
            return value;
        }
        if (text.Length > 1 && text[0] == '0')
        {
            value = 0;
            foreach (char c in text[1..])
            {
                if (c is < '0' or > '7')
                    throw source.ErrorAt(scalar.TokenStart, $"'{text}' is not an octal number (an integer with a leading 0 is octal)");
                if (value > ulong.MaxValue / 8) throw OutOfRange(descriptor, field, scalar);
                value = value * 8 + (ulong)(c - '0');
            }
            return value;
        }
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value)) throw OutOfRange(descriptor, field, scalar);
        return value;
    }

    private ProtoTextException WrongKind(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar, string wants) =>
        source.ErrorAt(scalar.Start, $"field '{field.Name}' of '{descriptor.FullName}' is {Kind(field)}: it takes {wants}, not {Shown(scalar)}");

    private ProtoTextException OutOfRange(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar) =>
        source.ErrorAt(scalar.Start, $"{Shown(scalar)} is out of range for field '{field.Name}' of '{descriptor.FullName}' ({Kind(field)})");

    /// <summary>A value as the error shows it: a string with its quotes (the first, when adjacent ones join), else in quotes with its sign; a long one is cut.</summary>
    private string Shown(Scalar scalar)
    {
        var text = scalar.Kind == TextTokenKind.String ? Token(scalar) : (scalar.Negative ? "-" : "") + Token(scalar);
        return text.Length > 40 ? $"{text[..37]}..." : (scalar.Kind == TextTokenKind.String ? text : $"'{text}'");
    }

    private ReadOnlySpan<char> TokenSpan(Scalar scalar) => source.Text.AsSpan(scalar.TokenStart, scalar.TokenEnd - scalar.TokenStart);
    private string Token(Scalar scalar) => source.Text.Substring(scalar.TokenStart, scalar.TokenEnd - scalar.TokenStart);

    private bool IsBlockOpen() => _scan.Is('{') || _scan.Is('<');

    private void Expect(char c)
    {
        if (!_scan.Is(c)) throw NotInGrammar();
        _scan.Next();
    }

    private TextNotInGrammarException NotInGrammar() => new(_scan.Start);

    /// <summary>The field's kind in words: "an int32", "a string", "an enum (tensorflow.DataType)".</summary>
    private static string Kind(FieldDescriptor field)
    {
        if (field.FieldType == FieldType.Enum) return $"an enum ({field.EnumType.FullName})";
        var name = field.FieldType.ToString().ToLowerInvariant();
        return (name[0] == 'i' ? "an " : "a ") + name;
    }

    private static bool IsMessage(FieldDescriptor field) => field.FieldType is FieldType.Message or FieldType.Group;

    /// <summary>A new, empty message of the type (through its parser: no reflection on the CLR type).</summary>
    internal static IMessage NewMessage(MessageDescriptor type) =>
        (type.Parser ?? throw new ArgumentException($"'{type.FullName}' has no parser (a map entry is not a message of its own)"))
        .ParseFrom(ReadOnlySpan<byte>.Empty);

    /// <summary>The value a field holds when its text leaves it out (a map entry without key or value).</summary>
    private static object DefaultOf(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 or FieldType.Enum => 0,
        FieldType.UInt32 or FieldType.Fixed32 => 0u,
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => 0L,
        FieldType.UInt64 or FieldType.Fixed64 => 0UL,
        FieldType.Float => 0f,
        FieldType.Double => 0d,
        FieldType.Bool => false,
        FieldType.String => "",
        FieldType.Bytes => ByteString.Empty,
        _ => NewMessage(field.MessageType),
    };
}
