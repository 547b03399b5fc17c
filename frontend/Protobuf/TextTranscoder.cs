using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Mopt.Protobuf;

/// <summary>
/// Transcodes a message's text to its wire bytes (protobuf's binary encoding) in one pass over <see cref="TextScanner"/>'s
/// tokens, field by field through its descriptor, following grammar/ProtoText.g4's rules (textMessage, field, value,
/// block, list, scalar): each name must be a field of the message, each value of the field's kind; a wrong one is an
/// error at its place. Text the grammar does not accept throws <see cref="TextNotInGrammarException"/>, for the
/// generated parser to report. The bytes hold the fields in the text's order, a list's items one by one (unpacked), a
/// field given again written again (parsed, a message merges, a scalar is replaced): the generated parser then makes the
/// message, far faster than setting each field through reflection, and a reader of the wire (the Caffe importer's
/// layers) takes the bytes as they are.
/// </summary>
internal sealed class TextTranscoder(TextSource source)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly TextScanner _scan = new(source.Text);
    /// <summary>Decoded string literals with escapes (valid until the next one).</summary>
    private readonly ArrayBufferWriter<byte> _bytes = new();
    /// <summary>The wire bytes written so far: <c>_out[.._length]</c>, in an array of the shared pool (<see cref="Release"/>).</summary>
    private byte[] _out = ArrayPool<byte>.Shared.Rent(Math.Max(256, source.Text.Length / 2));
    private int _length;
    /// <summary>The string tokens of the scalar just read (adjacent strings concatenate).</summary>
    private readonly List<(int Start, int End)> _strings = [];
    /// <summary>
    /// Each message type's fields by name, looked up by the name's characters (no string per field read). Built once
    /// per type for the process, as the descriptor it is made from is: built per parse it was 6% of reading landmark106's
    /// prototxt (a LayerParameter has 70 fields). Read-only once built, so parses on several threads share it.
    /// </summary>
    private static readonly ConditionalWeakTable<MessageDescriptor, FieldsByName> Fields = new();

    /// <summary>A message type's fields by name (the dictionary kept with its span lookup).</summary>
    private sealed class FieldsByName
    {
        public readonly Dictionary<string, FieldDescriptor>.AlternateLookup<ReadOnlySpan<char>> Lookup;
        /// <summary>
        /// Each field at a slot of its name's length and three of its characters, compared whole: most names are told
        /// apart so, without hashing every character as the dictionary does (a tenth of reading a prototxt). A slot two
        /// names share is marked, and the dictionary decides.
        /// </summary>
        private readonly string?[] _names = new string?[SlotCount];
        private readonly FieldDescriptor?[] _fields = new FieldDescriptor?[SlotCount];
        private readonly bool[] _shared = new bool[SlotCount];
        private const int SlotCount = 512;

        public FieldsByName(MessageDescriptor descriptor)
        {
            Lookup = Build(descriptor);
            foreach (var field in descriptor.Fields.InDeclarationOrder())
            {
                int slot = Slot(field.Name);
                if (_names[slot] is null && !_shared[slot]) (_names[slot], _fields[slot]) = (field.Name, field);
                else (_shared[slot], _names[slot], _fields[slot]) = (true, null, null);
            }
        }

        public FieldDescriptor? Find(ReadOnlySpan<char> name)
        {
            int slot = Slot(name);
            if (_names[slot] is { } known) return name.SequenceEqual(known) ? _fields[slot] : null;
            return _shared[slot] && Lookup.TryGetValue(name, out var field) ? field : null;
        }

        private static int Slot(ReadOnlySpan<char> name) =>
            name.Length == 0 ? 0 : (((name.Length * 31 + name[0]) * 31 + name[^1]) * 31 + name[name.Length / 2]) & (SlotCount - 1);

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
    /// <summary>The deepest nesting of messages met (the generated parser's default recursion limit is 100).</summary>
    public int MaxDepth { get; private set; }

    /// <summary>One scalar as the grammar reads it: its first character, a sign, and its (first) token.</summary>
    private readonly record struct Scalar(TextTokenKind Kind, int Start, bool Negative, int TokenStart, int TokenEnd);

    /// <summary>The wire bytes of the whole text, a <paramref name="descriptor"/> message.</summary>
    public ReadOnlyMemory<byte> Transcode(MessageDescriptor descriptor)
    {
        _scan.Next();
        MessageFields(descriptor);
        if (_scan.Kind != TextTokenKind.End) throw NotInGrammar();
        return _out.AsMemory(0, _length);
    }

    /// <summary>The fields up to the end of the text or the block's closing bracket (not consumed).</summary>
    private void MessageFields(MessageDescriptor descriptor)
    {
        if (_given.Count == _depth) _given.Add([]);
        var given = _given[_depth++];
        MaxDepth = Math.Max(MaxDepth, _depth);
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
            ReadValues(descriptor, field);
            if (_scan.Is(',') || _scan.Is(';')) _scan.Next();
        }
        _depth--;
    }

    /// <summary>What follows a field's name: <c>: value</c>, a block, or a list (each of its items).</summary>
    private void ReadValues(MessageDescriptor descriptor, FieldDescriptor field)
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
                Item(descriptor, field);
                while (_scan.Is(','))
                {
                    _scan.Next();
                    Item(descriptor, field);
                }
            }
            Expect(']');
        }
        else if (colon || IsBlockOpen())
        {
            Item(descriptor, field);
        }
        else
        {
            throw NotInGrammar();
        }
    }

    /// <summary>One value (a scalar or a block) given for <paramref name="field"/>.</summary>
    private void Item(MessageDescriptor descriptor, FieldDescriptor field)
    {
        if (field.IsMap)
        {
            if (!IsBlockOpen())
                throw source.ErrorAt(ReadScalar().Start, $"field '{field.Name}' of '{field.ContainingType.FullName}' is a map: write each entry as " +
                    $"'{field.Name} {{ key: ... value: ... }}'");
            MapEntry(field);
        }
        // A message given again merges into the first when parsed (C++'s merge semantics), a scalar replaces it.
        else Value(descriptor, field);
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
        return _lastFields!.Find(name);
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

    /// <summary>The value at the scanner, written as the field's (consumed).</summary>
    private void Value(MessageDescriptor descriptor, FieldDescriptor field)
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
            if (field.FieldType == FieldType.Group)
            {
                Tag(field.FieldNumber, WireFormat.WireType.StartGroup);
                Block(field.MessageType);
                Tag(field.FieldNumber, WireFormat.WireType.EndGroup);
            }
            else
            {
                int at = OpenLength(field.FieldNumber);
                Block(field.MessageType);
                CloseLength(at);
            }
            return;
        }
        if (block)
            throw source.ErrorAt(_scan.Start, $"field '{field.Name}' of '{descriptor.FullName}' is {Kind(field)}, not a message: write '{field.Name}: value'");
        WriteScalar(descriptor, field, ReadScalar());
    }

    /// <summary><c>{ fields }</c> or <c>&lt; fields &gt;</c> of a <paramref name="type"/> message (consumed).</summary>
    private void Block(MessageDescriptor type)
    {
        char close = _scan.Is('{') ? '}' : '>';
        _scan.Next();
        MessageFields(type);
        Expect(close);
    }

    /// <summary>One entry of a map field: a message of its key (field 1) and value (field 2), either left out for its default.</summary>
    private void MapEntry(FieldDescriptor mapField)
    {
        var owner = mapField.ContainingType;
        var entry = mapField.MessageType;
        var given = new List<(FieldDescriptor Field, int At)>();
        char close = _scan.Is('{') ? '}' : '>';
        _scan.Next();
        int length = OpenLength(mapField.FieldNumber);
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
            Value(entry, field);
            if (_scan.Is(',') || _scan.Is(';')) _scan.Next();
        }
        Expect(close);
        CloseLength(length);
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

    /// <summary>The scalar written as the field's value: its tag, then the value in the field's encoding.</summary>
    private void WriteScalar(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar)
    {
        switch (field.FieldType)
        {
            case FieldType.String:
            {
                if (PlainString(scalar, out var plain))
                {
                    Tag(field.FieldNumber, WireFormat.WireType.LengthDelimited);
                    int count = Encoding.UTF8.GetByteCount(plain);
                    Varint((uint)count);
                    Encoding.UTF8.GetBytes(plain, Room(count));
                    _length += count;
                    return;
                }
                var bytes = StringBytes(descriptor, field, scalar);
                try { StrictUtf8.GetCharCount(bytes); }
                catch (DecoderFallbackException) { throw source.ErrorAt(scalar.Start, $"string field '{field.Name}' of '{descriptor.FullName}' is given bytes that are not UTF-8"); }
                Tag(field.FieldNumber, WireFormat.WireType.LengthDelimited);
                Delimited(bytes);
                return;
            }
            case FieldType.Bytes:
            {
                var bytes = StringBytes(descriptor, field, scalar);
                Tag(field.FieldNumber, WireFormat.WireType.LengthDelimited);
                Delimited(bytes);
                return;
            }
            case FieldType.Bool:
                // The scalar's whole text: a sign or quotes make it no bool.
                bool value = scalar.Kind is TextTokenKind.String || scalar.Negative ? throw WrongKind(descriptor, field, scalar, "true or false") : TokenSpan(scalar) switch
                {
                    "true" or "True" or "t" or "1" => true,
                    "false" or "False" or "f" or "0" => false,
                    _ => throw WrongKind(descriptor, field, scalar, "true or false"),
                };
                Tag(field.FieldNumber, WireFormat.WireType.Varint);
                Varint(value ? 1UL : 0UL);
                return;
            case FieldType.Float:
            {
                float f = (float)Floating(descriptor, field, scalar, isFloat: true);
                Tag(field.FieldNumber, WireFormat.WireType.Fixed32);
                BinaryPrimitives.WriteSingleLittleEndian(Room(4), f);
                _length += 4;
                return;
            }
            case FieldType.Double:
            {
                double d = Floating(descriptor, field, scalar, isFloat: false);
                Tag(field.FieldNumber, WireFormat.WireType.Fixed64);
                BinaryPrimitives.WriteDoubleLittleEndian(Room(8), d);
                _length += 8;
                return;
            }
            case FieldType.Enum:
            {
                int number = EnumNumber(descriptor, field, scalar);
                Tag(field.FieldNumber, WireFormat.WireType.Varint);
                Varint((ulong)(long)number); // a negative int32 as its 64-bit two's complement, as protobuf writes it
                return;
            }
            default:
                Integer(descriptor, field, scalar);
                return;
        }
    }

    /// <summary>
    /// A single quoted string without escapes or surrogates, its characters as written: their UTF-8 bytes are the
    /// value's (most of a prototxt's strings: names, types, tops).
    /// </summary>
    private bool PlainString(Scalar scalar, out ReadOnlySpan<char> content)
    {
        content = default;
        if (scalar.Kind != TextTokenKind.String || _strings.Count != 1) return false;
        var (start, end) = _strings[0];
        content = source.Text.Span.Slice(start + 1, end - start - 2);
        return !content.Contains('\\') && !content.ContainsAnyInRange('\uD800', '\uDFFF');
    }

    /// <summary>The bytes of one or more adjacent quoted strings (valid until the next call).</summary>
    private ReadOnlySpan<byte> StringBytes(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar)
    {
        if (scalar.Kind != TextTokenKind.String) throw WrongKind(descriptor, field, scalar, "a quoted string");
        _bytes.ResetWrittenCount();
        foreach (var (start, end) in _strings)
        {
            int bad = StringLiteral.Decode(source.Text.Span.Slice(start, end - start), _bytes, out var error);
            if (bad >= 0) throw source.ErrorAt(start, error, bad);
        }
        return _bytes.WrittenSpan;
    }

    /// <summary>The number, a float's exact value when <paramref name="isFloat"/> (parsed as a float: no double rounding).</summary>
    private double Floating(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar, bool isFloat)
    {
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

    private int EnumNumber(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar)
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

    /// <summary>An integer field's value, range-checked for its type, written in its encoding.</summary>
    private void Integer(MessageDescriptor descriptor, FieldDescriptor field, Scalar scalar)
    {
        if (scalar.Kind != TextTokenKind.Integer) throw WrongKind(descriptor, field, scalar, "an integer");
        ulong bits;
        switch (field.FieldType)
        {
            case FieldType.UInt32 or FieldType.Fixed32:
            {
                ulong v = Magnitude(descriptor, field, scalar);
                if (scalar.Negative && v != 0 || v > uint.MaxValue) throw OutOfRange(descriptor, field, scalar);
                bits = v;
                break;
            }
            case FieldType.UInt64 or FieldType.Fixed64:
            {
                ulong v = Magnitude(descriptor, field, scalar);
                if (scalar.Negative && v != 0) throw OutOfRange(descriptor, field, scalar);
                bits = v;
                break;
            }
            case FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32:
            {
                long v = SignedMagnitude(descriptor, field, scalar);
                if (v is < int.MinValue or > int.MaxValue) throw OutOfRange(descriptor, field, scalar);
                bits = field.FieldType == FieldType.SInt32 ? (uint)(((int)v << 1) ^ ((int)v >> 31)) : (ulong)v;
                break;
            }
            default:
            {
                long v = SignedMagnitude(descriptor, field, scalar);
                bits = field.FieldType == FieldType.SInt64 ? (ulong)((v << 1) ^ (v >> 63)) : (ulong)v;
                break;
            }
        }
        switch (field.FieldType)
        {
            case FieldType.Fixed32 or FieldType.SFixed32:
                Tag(field.FieldNumber, WireFormat.WireType.Fixed32);
                BinaryPrimitives.WriteUInt32LittleEndian(Room(4), (uint)bits);
                _length += 4;
                break;
            case FieldType.Fixed64 or FieldType.SFixed64:
                Tag(field.FieldNumber, WireFormat.WireType.Fixed64);
                BinaryPrimitives.WriteUInt64LittleEndian(Room(8), bits);
                _length += 8;
                break;
            default:
                Tag(field.FieldNumber, WireFormat.WireType.Varint);
                Varint(bits);
                break;
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

    private ReadOnlySpan<char> TokenSpan(Scalar scalar) => source.Text.Span.Slice(scalar.TokenStart, scalar.TokenEnd - scalar.TokenStart);
    private string Token(Scalar scalar) => new(TokenSpan(scalar));

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

    /// <summary>Gives the output's array back to the pool: the bytes <see cref="Transcode"/> returned are then gone.</summary>
    public void Release()
    {
        ArrayPool<byte>.Shared.Return(_out);
        _out = [];
        _length = 0;
    }

    /// <summary>At least <paramref name="count"/> free bytes at the end of the output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Room(int count)
    {
        if (_out.Length - _length < count) Grow(count);
        return _out.AsSpan(_length, count);
    }

    private void Grow(int count)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_out.Length * 2, _length + count));
        _out.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_out);
        _out = bigger;
    }

    private void Varint(ulong value)
    {
        // One byte (most tags, lengths and values of a prototxt) written in place.
        if (value < 0x80 && _length < _out.Length)
        {
            _out[_length++] = (byte)value;
            return;
        }
        var room = Room(10);
        int n = 0;
        while (value >= 0x80)
        {
            room[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        room[n++] = (byte)value;
        _length += n;
    }

    private void Tag(int number, WireFormat.WireType wire) => Varint(WireFormat.MakeTag(number, wire));

    private void Delimited(ReadOnlySpan<byte> bytes)
    {
        Varint((uint)bytes.Length);
        bytes.CopyTo(Room(bytes.Length));
        _length += bytes.Length;
    }

    /// <summary>A length-delimited field's tag and one byte for its length, which <see cref="CloseLength"/> fills in; returns where it is.</summary>
    private int OpenLength(int number)
    {
        Tag(number, WireFormat.WireType.LengthDelimited);
        Room(1);
        return _length++;
    }

    /// <summary>The length of what was written since <see cref="OpenLength"/>, the content moved up when it takes more than one byte.</summary>
    private void CloseLength(int at)
    {
        uint length = (uint)(_length - at - 1);
        int size = CodedOutputStream.ComputeRawVarint32Size(length);
        if (size > 1)
        {
            Room(size - 1);
            _out.AsSpan(at + 1, (int)length).CopyTo(_out.AsSpan(at + size));
            _length += size - 1;
        }
        for (int i = 0; i < size - 1; i++, length >>= 7) _out[at + i] = (byte)(length | 0x80);
        _out[at + size - 1] = (byte)length;
    }
}
