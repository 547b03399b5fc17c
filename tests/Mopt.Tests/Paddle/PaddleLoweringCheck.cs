using System.Runtime.InteropServices;
using Mopt.Backend.Runtime;
using Mopt.Ir;

namespace Mopt.Tests.Paddle;

/// <summary>
/// Lowers a test program with mopt-opt (to .onnx: the lowering runs implicitly) and runs it in ONNX Runtime; the tests
/// compare what comes out with Paddle's own kernels, transcribed in the tests (there is no Paddle runtime here).
/// </summary>
internal static class PaddleLoweringCheck
{
    public sealed record Tensor(long[] Shape, float[] Values);

    public static Dictionary<string, Tensor> Run(PaddleTestProgram program, params (string Name, long[] Shape, float[] Values)[] inputs)
    {
        using var dir = new TempDir();
        var model = program.Write(dir.Path);
        var onnx = dir.File("m.onnx");
        var (exit, _, stderr) = Mir.Opt([model, "-o", onnx]);
        Assert.True(exit == 0, $"mopt-opt {model} -o {onnx}: {stderr}");
        using var ort = new OrtRunner(File.ReadAllBytes(onnx));
        var feed = inputs.ToDictionary(i => i.Name, i => new NpyArray(ElementType.F32, i.Shape, MemoryMarshal.AsBytes(i.Values.AsSpan()).ToArray()));
        return ort.Run(feed).ToDictionary(kv => kv.Key, kv => new Tensor(kv.Value.Shape, kv.Value.Element == ElementType.F32
            ? MemoryMarshal.Cast<byte, float>(kv.Value.Data).ToArray()
            : kv.Value.Element == ElementType.I64 ? MemoryMarshal.Cast<byte, long>(kv.Value.Data).ToArray().Select(v => (float)v).ToArray()
            : kv.Value.Element == ElementType.I32 ? MemoryMarshal.Cast<byte, int>(kv.Value.Data).ToArray().Select(v => (float)v).ToArray()
            : throw new InvalidOperationException($"output {kv.Key} is {kv.Value.Element}")));
    }

    /// <summary>The error mopt-opt gives for a program it cannot lower (asserting exit 1 and no file written).</summary>
    public static string Error(PaddleTestProgram program)
    {
        using var dir = new TempDir();
        var model = program.Write(dir.Path);
        var onnx = dir.File("m.onnx");
        var (exit, _, stderr) = Mir.Opt([model, "-o", onnx]);
        Assert.Equal(1, exit);
        Assert.False(File.Exists(onnx), "a program that cannot be lowered must write nothing");
        return stderr;
    }

    public static float[] Values(int seed, long count, float low = -2, float high = 2) => Caffe.SeededValues.Uniform(seed, checked((int)count), low, high);

    public static void Close(Tensor actual, long[] shape, float[] expected, double tolerance = 1e-5)
    {
        Assert.Equal(shape, actual.Shape);
        Assert.Equal(expected.Length, actual.Values.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual.Values[i] - expected[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"element {i}: ONNX Runtime {actual.Values[i]}, Paddle's formula {expected[i]}");
    }
}
