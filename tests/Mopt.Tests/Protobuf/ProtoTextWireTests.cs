using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Mopt.Protobuf;

namespace Mopt.Tests.Protobuf;

/// <summary>
/// The text read through its wire bytes (<see cref="ProtoText.ToWire"/>, then the generated parser): the bytes parse to
/// the message <see cref="ProtoText.Parse{T}"/> makes, and a text nested deeper than the parser's default limit reads.
/// </summary>
public sealed class ProtoTextWireTests
{
    public static TheoryData<string> Kinds() => [.. ProtoTextSamples.All().Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TheWireBytesParseToTheMessageTheTextHolds(string kind)
    {
        var message = ProtoTextSamples.All().Single(s => s.Name == kind).Message;
        var text = ProtoText.Format(message);
        var wire = ProtoText.ToWire(message.Descriptor, text, kind);
        Assert.Equal(message, message.Descriptor.Parser.ParseFrom(wire));
        // lent bytes are the same bytes
        Assert.Equal(wire, ProtoText.WithWire(message.Descriptor, text, kind, 0, static (_, lent) => lent.ToArray()));
    }

    /// <summary>A Struct holding a Struct, <paramref name="levels"/> deep: three messages per level on the wire (Struct, a map entry, Value).</summary>
    private static string Nested(int levels, out Struct expected)
    {
        var text = new System.Text.StringBuilder();
        expected = new Struct { Fields = { ["leaf"] = Value.ForNumber(7) } };
        for (int i = 0; i < levels; i++) expected = new Struct { Fields = { ["s"] = Value.ForStruct(expected) } };
        for (int i = 0; i < levels; i++) text.Append("fields { key: \"s\" value { struct_value { ");
        text.Append("fields { key: \"leaf\" value { number_value: 7 } }");
        for (int i = 0; i < levels; i++) text.Append(" } } }");
        return text.ToString();
    }

    [Theory]
    [InlineData(10)]
    [InlineData(40)]
    [InlineData(150)]
    public void ATextNestedDeeperThanTheParsersDefaultLimitReads(int levels)
    {
        var text = Nested(levels, out var expected);
        Assert.Equal(expected, ProtoText.Parse<Struct>(text, "deep.pbtxt"));
    }
}
