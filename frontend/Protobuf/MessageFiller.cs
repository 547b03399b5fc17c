using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using Antlr4.Runtime;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mopt.Grammar;
using static Mopt.Grammar.ProtoTextParser;

namespace Mopt.Protobuf;

/// <summary>
/// Fills a message from the parse tree of its text, field by field through its descriptor: each name must be a field
/// of the message, each value of the field's kind; a wrong one is an error at its place.
/// </summary>
internal sealed class MessageFiller(TextSource source)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ArrayBufferWriter<byte> _bytes = new();

    /// <summary>One value written for a field: a scalar or a <c>{ ... }</c> block.</summary>
    private readonly record struct Item(ScalarContext? Scalar, BlockContext? Block)
    {
        public IToken Start => Scalar?.Start ?? Block!.Start;
    }

    public void Fill(IMessage message, IReadOnlyList<FieldContext> fields)
    {
        var descriptor = message.Descriptor;
        // A message sets a handful of fields: lists scanned linearly cost less than two dictionaries per block.
        var given = new List<(FieldDescriptor Field, IToken At)>();
        List<(OneofDescriptor Oneof, FieldDescriptor Field, IToken At)>? oneofs = null;
        foreach (var f in fields)
        {
            var (field, name) = Resolve(descriptor, f);
            if (!field.IsRepeated)
            {
                CheckOnce(descriptor, field, name, given);
                if (field.RealContainingOneof is { } oneof)
                {
                    oneofs ??= [];
                    foreach (var other in oneofs)
                        if (other.Oneof == oneof)
                            throw source.ErrorAt(name, $"fields '{field.Name}' and '{other.Field.Name}' (at {At(other.At)}) of '{descriptor.FullName}' " +
                                $"are both in oneof '{oneof.Name}': give only one");
                    oneofs.Add((oneof, field, name));
                }
            }
            var items = Items(descriptor, field, f);
            if (field.IsMap)
            {
                var map = (IDictionary)field.Accessor.GetValue(message);
                foreach (var item in items) AddMapEntry(map, field, item);
            }
            else if (field.IsRepeated)
            {
                var list = (IList)field.Accessor.GetValue(message);
                foreach (var item in items) list.Add(ValueOf(descriptor, field, item));
            }
            else if (IsMessage(field) && items[0].Block is { } block && field.Accessor.GetValue(message) is IMessage existing)
            {
                Fill(existing, block.field()); // Merge into a message that already holds this field: C++'s merge semantics
            }
            else
            {
                field.Accessor.SetValue(message, ValueOf(descriptor, field, items[0]));
            }
        }
    }

    /// <summary>The field a name stands for in <paramref name="descriptor"/>, and the name's token.</summary>
    private (FieldDescriptor Field, IToken Name) Resolve(MessageDescriptor descriptor, FieldContext f)
    {
        if (f.fieldName() is BracketedNameContext bracketed)
            throw source.ErrorAt(bracketed.Start,
                $"'{bracketed.GetText()}' in message '{descriptor.FullName}': extensions and Any expansions are not supported");
        var name = ((PlainNameContext)f.fieldName()).IDENT().Symbol;
        var field = descriptor.FindFieldByName(name.Text)
            ?? throw source.ErrorAt(name, $"message '{descriptor.FullName}' has no field '{name.Text}'");
        return (field, name);
    }

    private void CheckOnce(MessageDescriptor descriptor, FieldDescriptor field, IToken name, List<(FieldDescriptor Field, IToken At)> given)
    {
        foreach (var (f, first) in given)
            if (f == field)
                throw source.ErrorAt(name, $"field '{field.Name}' of '{descriptor.FullName}' is not repeated and is already given at {At(first)}");
        given.Add((field, name));
    }

    /// <summary>What is written after a field's name: one value, or each value of a <c>[a, b]</c> list.</summary>
    private List<Item> Items(MessageDescriptor descriptor, FieldDescriptor field, FieldContext f)
    {
        var list = f.list() ?? f.value()?.list();
        if (list is null)
        {
            var block = f.block() ?? f.value()?.block();
            return [new Item(block is null ? f.value()!.scalar() : null, block)];
        }
        if (!field.IsRepeated)
            throw source.ErrorAt(list.Start, $"field '{field.Name}' of '{descriptor.FullName}' is not repeated: it takes one value, not a list");
        return [.. list.listItem().Select(i => new Item(i.scalar(), i.block()))];
    }

    /// <summary>The value of <paramref name="item"/> as the CLR type the field's accessor takes.</summary>
    private object ValueOf(MessageDescriptor descriptor, FieldDescriptor field, Item item)
    {
        if (IsMessage(field))
        {
            if (item.Block is not { } block)
                throw source.ErrorAt(item.Start, $"field '{field.Name}' of '{descriptor.FullName}' is a message ({field.MessageType.FullName}): " +
                    $"write '{field.Name} {{ ... }}', not {Shown(item.Scalar!)}");
            var message = NewMessage(field.MessageType);
            Fill(message, block.field());
            return message;
        }
        if (item.Block is { } notMessage)
            throw source.ErrorAt(notMessage.open, $"field '{field.Name}' of '{descriptor.FullName}' is {Kind(field)}, not a message: write '{field.Name}: value'");
        return Scalar(descriptor, field, item.Scalar!);
    }

    private void AddMapEntry(IDictionary map, FieldDescriptor mapField, Item item)
    {
        var owner = mapField.ContainingType;
        if (item.Block is not { } block)
            throw source.ErrorAt(item.Start, $"field '{mapField.Name}' of '{owner.FullName}' is a map: write each entry as " +
                $"'{mapField.Name} {{ key: ... value: ... }}'");
        var entry = mapField.MessageType;
        var keyField = entry.FindFieldByNumber(1);
        var valueField = entry.FindFieldByNumber(2);
        object? key = null, value = null;
        var given = new List<(FieldDescriptor Field, IToken At)>();
        foreach (var f in block.field())
        {
            if (f.fieldName() is not PlainNameContext plain || entry.FindFieldByName(plain.IDENT().GetText()) is not { } field)
                throw source.ErrorAt(f.Start, $"an entry of map field '{mapField.Name}' of '{owner.FullName}' has only 'key' and 'value', not '{f.fieldName().GetText()}'");
            CheckOnce(entry, field, f.Start, given);
            var v = ValueOf(entry, field, Items(entry, field, f)[0]);
            if (field == keyField) key = v; else value = v;
        }
        map[key ?? DefaultOf(keyField)] = value ?? DefaultOf(valueField);
    }

    private object Scalar(MessageDescriptor descriptor, FieldDescriptor field, ScalarContext scalar)
    {
        switch (field.FieldType)
        {
            case FieldType.String:
            {
                var bytes = StringBytes(descriptor, field, scalar);
                try { return StrictUtf8.GetString(bytes); }
                catch (DecoderFallbackException) { throw source.ErrorAt(scalar.Start, $"string field '{field.Name}' of '{descriptor.FullName}' is given bytes that are not UTF-8"); }
            }
            case FieldType.Bytes:
                return ByteString.CopyFrom(StringBytes(descriptor, field, scalar));
            case FieldType.Bool:
                return scalar.GetText() switch
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

    /// <summary>The bytes of one or more adjacent quoted strings (valid until the next call).</summary>
    private ReadOnlySpan<byte> StringBytes(MessageDescriptor descriptor, FieldDescriptor field, ScalarContext scalar)
    {
        if (scalar is not StringScalarContext strings) throw WrongKind(descriptor, field, scalar, "a quoted string");
        _bytes.ResetWrittenCount();
        foreach (var child in strings.children)
        {
            if (child is not Antlr4.Runtime.Tree.ITerminalNode node) continue;
            int bad = StringLiteral.Decode(node.Symbol.Text, _bytes, out var error);
            if (bad >= 0) throw source.ErrorAt(node.Symbol, error, bad);
        }
        return _bytes.WrittenSpan;
    }

    private object Floating(MessageDescriptor descriptor, FieldDescriptor field, ScalarContext scalar)
    {
        bool isFloat = field.FieldType == FieldType.Float;
        bool negative;
        double value;
        if (scalar is IdentScalarContext ident)
        {
            negative = ident.sign is not null;
            value = ident.IDENT().GetText().ToLowerInvariant() switch
            {
                "inf" or "inff" or "infinity" or "infinityf" => double.PositiveInfinity,
                "nan" or "nanf" => double.NaN,
                _ => throw WrongKind(descriptor, field, scalar, "a number"),
            };
            if (isFloat) return (float)(negative ? -value : value);
            return negative ? -value : value;
        }
        if (scalar is not NumberScalarContext number) throw WrongKind(descriptor, field, scalar, "a number");
        negative = number.sign is not null;
        var text = number.number.Text;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            if (!ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
                throw OutOfRange(descriptor, field, scalar);
            value = hex;
            if (isFloat) return (float)(negative ? -value : value);
            return negative ? -value : value;
        }
        // Parsed straight to the field's own type: a float's shortest text reads back to the very same float.
        var digits = text.AsSpan().TrimEnd("fF");
        if (isFloat)
        {
            float f = float.Parse(digits, NumberStyles.Float, CultureInfo.InvariantCulture);
            return negative ? -f : f;
        }
        value = double.Parse(digits, NumberStyles.Float, CultureInfo.InvariantCulture);
        return negative ? -value : value;
    }

    private object EnumNumber(MessageDescriptor descriptor, FieldDescriptor field, ScalarContext scalar)
    {
        var type = field.EnumType;
        if (scalar is IdentScalarContext { sign: null } ident)
        {
            var name = ident.IDENT().GetText();
            return type.FindValueByName(name)?.Number
                ?? throw source.ErrorAt(ident.Start, $"enum '{type.FullName}' (field '{field.Name}' of '{descriptor.FullName}') has no value '{name}'");
        }
        // A number: open enums keep any int32, as the binary reader does.
        if (scalar is not NumberScalarContext { number.Type: ProtoTextLexer.INTEGER } number)
            throw WrongKind(descriptor, field, scalar, $"a value name of enum '{type.FullName}'");
        long value = SignedMagnitude(descriptor, field, number);
        if (value is < int.MinValue or > int.MaxValue) throw OutOfRange(descriptor, field, scalar);
        return (int)value;
    }

    private object Integer(MessageDescriptor descriptor, FieldDescriptor field, ScalarContext scalar)
    {
        if (scalar is not NumberScalarContext { number.Type: ProtoTextLexer.INTEGER } number)
            throw WrongKind(descriptor, field, scalar, "an integer");
        switch (field.FieldType)
        {
            case FieldType.UInt32 or FieldType.Fixed32:
            {
                ulong v = Magnitude(descriptor, field, number);
                if (number.sign is not null && v != 0 || v > uint.MaxValue) throw OutOfRange(descriptor, field, scalar);
                return (uint)v;
            }
            case FieldType.UInt64 or FieldType.Fixed64:
            {
                ulong v = Magnitude(descriptor, field, number);
                if (number.sign is not null && v != 0) throw OutOfRange(descriptor, field, scalar);
                return v;
            }
            case FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32:
            {
                long v = SignedMagnitude(descriptor, field, number);
                if (v is < int.MinValue or > int.MaxValue) throw OutOfRange(descriptor, field, scalar);
                return (int)v;
            }
            default:
                return SignedMagnitude(descriptor, field, number);
        }
    }

    /// <summary>A signed integer as a long (the magnitude may be up to 2^63 when negative).</summary>
    private long SignedMagnitude(MessageDescriptor descriptor, FieldDescriptor field, NumberScalarContext number)
    {
        ulong magnitude = Magnitude(descriptor, field, number);
        if (number.sign is null)
            return magnitude <= long.MaxValue ? (long)magnitude : throw OutOfRange(descriptor, field, number);
        if (magnitude > (ulong)long.MaxValue + 1) throw OutOfRange(descriptor, field, number);
        return unchecked((long)(0UL - magnitude));
    }

    /// <summary>The unsigned value of a decimal, hex (0x) or octal (leading 0) integer token.</summary>
    private ulong Magnitude(MessageDescriptor descriptor, FieldDescriptor field, NumberScalarContext number)
    {
        var text = number.number.Text;
        ulong value;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            if (!ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value))
                throw OutOfRange(descriptor, field, number);
            return value;
        }
        if (text.Length > 1 && text[0] == '0')
        {
            value = 0;
            foreach (char c in text.AsSpan(1))
            {
                if (c is < '0' or > '7')
                    throw source.ErrorAt(number.number, $"'{text}' is not an octal number (an integer with a leading 0 is octal)");
                if (value > ulong.MaxValue / 8) throw OutOfRange(descriptor, field, number);
                value = value * 8 + (ulong)(c - '0');
            }
            return value;
        }
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value)) throw OutOfRange(descriptor, field, number);
        return value;
    }

    private ProtoTextException WrongKind(MessageDescriptor descriptor, FieldDescriptor field, ScalarContext scalar, string wants) =>
        source.ErrorAt(scalar.Start, $"field '{field.Name}' of '{descriptor.FullName}' is {Kind(field)}: it takes {wants}, not {Shown(scalar)}");

    private ProtoTextException OutOfRange(MessageDescriptor descriptor, FieldDescriptor field, ScalarContext scalar) =>
        source.ErrorAt(scalar.Start, $"{Shown(scalar)} is out of range for field '{field.Name}' of '{descriptor.FullName}' ({Kind(field)})");

    /// <summary>A value as the error shows it (a long string is cut).</summary>
    private static string Shown(ScalarContext scalar)
    {
        var text = scalar is StringScalarContext ? scalar.Start.Text : scalar.GetText();
        return text.Length > 40 ? $"{text[..37]}..." : (scalar is StringScalarContext ? text : $"'{text}'");
    }

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

    private static string At(IToken token) => $"{token.Line}:{token.Column + 1}";
}
