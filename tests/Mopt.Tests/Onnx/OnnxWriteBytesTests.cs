using Google.Protobuf;
using Mopt.Backend.Onnx;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using static Mopt.Tests.Onnx.OnnxTestSupport;

namespace Mopt.Tests.Onnx;

/// <summary>
/// What <see cref="OnnxExporter.Write"/> puts in a file (the model written straight from its parts, OnnxModelMessage)
/// is byte for byte the assembled <see cref="OnnxExporter.ToModel(MirModule)"/> serialized by protobuf.
/// </summary>
public sealed class OnnxWriteBytesTests
{
    private static void AssertSameBytes(MirModule module, string what)
    {
        var expected = OnnxExporter.ToModel(module).ToByteArray();
        using var stream = new MemoryStream();
        OnnxExporter.Write(module, stream, "/nonexistent/model.onnx");
        Assert.True(expected.AsSpan().SequenceEqual(stream.ToArray()), $"{what}: written bytes differ from ToModel's ({stream.Length} vs {expected.Length})");
    }

    [Fact]
    public void EveryExportableLitModuleIsWrittenAsToModelSerializesIt()
    {
        int written = 0;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot(), "tests", "lit"), "*.mir", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            MirModule module;
            try
            {
                module = MirReader.ParseText(File.ReadAllText(file), file);
                OnnxExporter.ToModel(module);
            }
            catch (MirException) { continue; } // not a module ONNX can hold (another dialect, a bad-input test)
            AssertSameBytes(module, file);
            written++;
        }
        Assert.True(written >= 20, $"only {written} lit modules could be written as ONNX");
    }

    [SharedModelsTheory]
    [MemberData(nameof(OnnxRealModelTests.Models), MemberType = typeof(OnnxRealModelTests))]
    public void RealModelsAreWrittenAsToModelSerializesThem(string relative)
    {
        var path = Path.Combine(OnnxModels, relative);
        AssertSameBytes(OnnxImporter.ImportFile(path), relative);
    }
}
