using Google.Protobuf;
using Mopt.Protobuf;
using Xunit;

namespace Mopt.Tests.Protobuf;

/// <summary>
/// <see cref="WireReader"/> against Google.Protobuf's own encoder: tags and varints of every length read back as written
/// (the one-byte ones by the in-place path, longer ones by the loop), and malformed bytes (a field number 0, a varint
/// cut off or longer than 10 bytes, a tag over 32 bits) refused the same way on both paths.
/// </summary>
public sealed class WireReaderTests
{
    [Fact]
    public void TagsAndVarintsReadBackAsGoogleProtobufWritesThem()
    {
        var random = new Random(13);
        var values = new List<ulong> { 0, 1, 127, 128, 255, 300, 16_383, 16_384, uint.MaxValue, ulong.MaxValue, unchecked((ulong)long.MinValue) };
        for (int i = 0; i < 200; i++) values.Add((ulong)random.NextInt64() >> random.Next(64));
        int[] numbers = [1, 2, 15, 16, 2047, 2048, 536_870_911];

        var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        foreach (var number in numbers)
            foreach (var value in values)
            {
                output.WriteTag(number, WireFormat.WireType.Varint);
                output.WriteUInt64(value);
            }
        output.Flush();

        var input = new WireReader(stream.ToArray());
        foreach (var number in numbers)
            foreach (var value in values)
            {
                uint tag = input.Tag();
                Assert.Equal(number, WireFormat.GetTagFieldNumber(tag));
                Assert.Equal(WireFormat.WireType.Varint, WireFormat.GetTagWireType(tag));
                Assert.Equal(value, input.Varint());
            }
        Assert.True(input.AtEnd);
    }

    [Theory]
    [InlineData(new byte[] { 0x00 }, "field number 0")] // one byte, field 0
    [InlineData(new byte[] { 0x07 }, "field number 0")] // one byte, field 0 with wire type 7
    [InlineData(new byte[] { 0x80, 0x00 }, "field number 0")] // two bytes, field 0
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x10 }, "more than 32 bits")]
    [InlineData(new byte[] { 0x88 }, "cut off")]
    [InlineData(new byte[] { }, "cut off")]
    public void MalformedTagsAreRefused(byte[] bytes, string why)
    {
        var e = Assert.Throws<MalformedWireException>(() => new WireReader(bytes).Tag());
        Assert.Contains(why, e.Message);
    }

    [Theory]
    [InlineData(new byte[] { }, "cut off")]
    [InlineData(new byte[] { 0x80 }, "cut off")]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, "longer than 10 bytes")]
    public void MalformedVarintsAreRefused(byte[] bytes, string why)
    {
        var e = Assert.Throws<MalformedWireException>(() => new WireReader(bytes).Varint());
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void AOneByteVarintAdvancesOneByte()
    {
        var input = new WireReader([0x08, 0x05, 0x10, 0x96, 0x01]);
        Assert.Equal(8u, input.Tag());
        Assert.Equal(1, input.Position);
        Assert.Equal(5ul, input.Varint());
        Assert.Equal(2, input.Position);
        Assert.Equal(16u, input.Tag());
        Assert.Equal(150ul, input.Varint());
        Assert.True(input.AtEnd);
    }
}
