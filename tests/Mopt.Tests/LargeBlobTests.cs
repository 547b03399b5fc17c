using System.Text;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;

namespace Mopt.Tests;

/// <summary>Large weights stay bytes: an 8 MB blob is read into a byte buffer and printed back byte for byte.</summary>
public sealed class LargeBlobTests
{
    private const int Elements = 2 * 1024 * 1024; // 8 MB of f32

    private static byte[] Weights()
    {
        var bytes = new byte[Elements * 4];
        new Random(42).NextBytes(bytes);
        return bytes;
    }

    private static string ModuleText(byte[] weights, uint alignment = 4)
    {
        var sb = new StringBuilder(weights.Length * 2 + 1000);
        sb.Append($$"""
            module {
              func.func @main() -> tensor<{{Elements}}xf32> {
                %0 = "onnx.Constant"() {value = dense_resource<big.weight> : tensor<{{Elements}}xf32>} : () -> tensor<{{Elements}}xf32> loc("big.weight")
                return %0 : tensor<{{Elements}}xf32>
              }
            }

            {-#
              dialect_resources: {
                builtin: {
                  big.weight: "0x
            """);
        sb.Append(Convert.ToHexString(BitConverter.GetBytes(alignment)));
        sb.Append(Convert.ToHexString(weights));
        sb.Append("\"\n    }\n  }\n#-}\n\n");
        return sb.ToString();
    }

    [Fact]
    public void EightMegabyteBlobIsReadAsTheBytesThatWereWritten()
    {
        var weights = Weights();
        using var dir = new TempDir();
        var path = dir.Write("big.mir", ModuleText(weights, alignment: 64));

        var module = MirReader.ParseFile(path);
        var blob = module.Resources["big.weight"];
        Assert.Equal(weights.Length, blob.Data.Length);
        Assert.Equal(64u, blob.Alignment);
        Assert.True(blob.Data.Span.SequenceEqual(weights), "blob bytes differ from what was written");

        var attr = module.MainFunction.Body.Operations[0].GetAttr<DenseResourceAttr>("value")!;
        Assert.Equal("big.weight", attr.Key);
        Assert.Equal((long)weights.Length, attr.Type.ByteSize);
    }

    [Fact]
    public void PrinterStreamsTheBlobBackByteIdentically()
    {
        var weights = Weights();
        var text = ModuleText(weights);
        using var dir = new TempDir();
        var input = dir.Write("big.mir", text);
        var module = MirReader.ParseFile(input);

        var output = dir.File("out.mir");
        using (var stream = File.Create(output)) MirPrinter.Print(module, stream);
        var written = File.ReadAllBytes(output);
        var original = File.ReadAllBytes(input);
        Assert.Equal(original.Length, written.Length);
        Assert.True(written.AsSpan().SequenceEqual(original), "the printed file differs from the file that was read");

        // And the string printer agrees with the stream printer.
        Assert.Equal(text, MirPrinter.PrintToString(module));
    }

    [Fact]
    public void ParsingABlobDoesNotTurnItIntoAString()
    {
        var weights = Weights();
        using var dir = new TempDir();
        var path = dir.Write("big.mir", ModuleText(weights));
        MirReader.ParseFile(path); // warm up (JIT, pools)

        long before = GC.GetAllocatedBytesForCurrentThread();
        var module = MirReader.ParseFile(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(weights.Length, module.Resources["big.weight"].Data.Length);
        // The file is 16 MB of hex (32 MB as a .NET string); the blob itself is 8 MB. Allow little more than that.
        Assert.True(allocated < 20L * 1024 * 1024, $"parsing a 16 MB file allocated {allocated / (1024 * 1024)} MB");
    }

    [Fact]
    public void BlobOfWrongSizeForItsTypeIsRefused()
    {
        var weights = Weights();
        var text = ModuleText(weights[..^4]);
        var e = Assert.Throws<MirException>(() => MirReader.ParseText(text, "short.mir"));
        Assert.Contains($"blob 'big.weight' holds {weights.Length - 4} bytes but tensor<{Elements}xf32> needs {weights.Length}", e.Message);
        Assert.Equal(3, e.Position!.Line);
    }
}
