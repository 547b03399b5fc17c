using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using Mopt.Onnx.Proto;
using static Mopt.Bench.BenchSupport;

namespace Mopt.Bench.LargeModel;

/// <summary>
/// A model larger than this machine's memory (~30 GB of external data): mopt-opt round-trips it and runs
/// --pipeline=quantize-weights on it. Checked: a sample of the round trip's tensors byte for byte, and the quantized
/// model in ONNX Runtime against the float model computed here layer by layer (the float model itself does not fit).
/// </summary>
public static class HugeModelBench
{
    public static int Run(LargeModelOptions o)
    {
        string mopt = o.Tool.MoptPath(RepoRoot());
        if (!File.Exists(mopt)) throw new BenchException($"'{mopt}' not found");
        string dir = Directory.CreateDirectory(o.Tool.Dir!).FullName;
        string model = Path.Combine(dir, "huge.onnx"), rt = Path.Combine(dir, "huge.rt.onnx"), q = Path.Combine(dir, "huge.q8.onnx");
        try
        {
            var clock = Stopwatch.StartNew();
            // Gemm + Relu, as a large language model's layers are (no BatchNormalization): quantize-weights' fold-bn would
            // otherwise make a second 30 GB of weights, which no 24 GB machine holds (see bench/README.md).
            long size = LargeModelFile.Write(model, o.Layers, o.Width, batchNorm: false, progress: l => { if (l % 20 == 19) Console.Error.Write('.'); });
            Console.Error.WriteLine();
            long memory = TotalMemory();
            Console.WriteLine($"model:  {o.Layers} x (Gemm {o.Width}x{o.Width} + Relu), {size / 1e9:F1} GB in external data; " +
                              $"this machine has {memory / 1e9:F1} GB of memory; written in {clock.Elapsed.TotalSeconds:F0} s");

            var roundTrip = RunTool(mopt, [model, .. o.Tool.MoptArgs, "-o", rt], o.Tool.MoptEnv, "mopt-opt round trip", _ => o.Tool.MoptArgs.Count > 0);
            long rtSize = new FileInfo(rt).Length + new FileInfo(rt + ".data").Length;
            var (compared, bytes) = CompareSample(model, rt);
            Console.WriteLine($"round trip:  wall {roundTrip.Wall:F1} s, cpu {roundTrip.Cpu:F1} s, peak RSS {roundTrip.PeakMiB:F0} MiB " +
                              $"({roundTrip.PeakMiB * 1048576 / size:F3}x the model); wrote {rtSize / 1e9:F1} GB; " +
                              $"{compared} tensors ({bytes / 1e9:F1} GB) compared byte for byte: identical");
            File.Delete(rt);
            File.Delete(rt + ".data");

            var quantize = RunTool(mopt, [model, "--pipeline=quantize-weights", .. o.Tool.MoptArgs, "-o", q], o.Tool.MoptEnv, "mopt-opt --pipeline=quantize-weights", _ => o.Tool.MoptArgs.Count > 0);
            long qSize = new FileInfo(q).Length + (File.Exists(q + ".data") ? new FileInfo(q + ".data").Length : 0);
            Console.WriteLine($"quantize-weights:  wall {quantize.Wall:F1} s, cpu {quantize.Cpu:F1} s, peak RSS {quantize.PeakMiB:F0} MiB " +
                              $"({quantize.PeakMiB * 1048576 / size:F3}x the model); wrote {qSize / 1e9:F1} GB ({(double)size / qSize:F2}x smaller)");

            if (o.Check)
            {
                var input = new float[o.Width];
                var random = new Random(7);
                for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
                clock.Restart();
                var reference = Reference(model, o.Layers, o.Width, input);
                var got = LargeModelBench.RunModel(q, input);
                double diff = LargeModelBench.MaxRelativeDifference(got, reference);
                Console.WriteLine($"quantized model in ONNX Runtime against the float model (computed here layer by layer): max relative difference {diff:E2} ({clock.Elapsed.TotalSeconds:F0} s)");
            }
            return 0;
        }
        finally
        {
            if (!o.Tool.Keep)
                foreach (var f in new[] { model, rt, q })
                {
                    File.Delete(f);
                    File.Delete(f + ".data");
                }
        }
    }

    private static long TotalMemory()
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    private static Dictionary<string, (long Offset, long Length)> Locations(string path)
    {
        using var file = File.OpenRead(path);
        var m = ModelProto.Parser.ParseFrom(file);
        var result = new Dictionary<string, (long, long)>();
        foreach (var t in m.Graph.Initializer)
        {
            if (t.DataLocation != TensorProto.Types.DataLocation.External) throw new BenchException($"'{path}': initializer '{t.Name}' is not in external data");
            long offset = 0, length = 0;
            foreach (var kv in t.ExternalData)
            {
                if (kv.Key == "offset") offset = long.Parse(kv.Value, CultureInfo.InvariantCulture);
                if (kv.Key == "length") length = long.Parse(kv.Value, CultureInfo.InvariantCulture);
            }
            result[t.Name] = (offset, length);
        }
        return result;
    }

    /// <summary>Every small tensor and every tenth weight of the round trip against the original, byte for byte.</summary>
    private static (int Tensors, long Bytes) CompareSample(string original, string roundTrip)
    {
        var a = Locations(original);
        var b = Locations(roundTrip);
        if (a.Count != b.Count) throw new BenchException($"the round trip has {b.Count} initializers, the original {a.Count}");
        using var fa = File.OpenHandle(original + ".data");
        using var fb = File.OpenHandle(roundTrip + ".data");
        var ba = new byte[1 << 22];
        var bb = new byte[1 << 22];
        int n = 0, weights = 0;
        long total = 0;
        foreach (var (name, (offset, length)) in a)
        {
            if (length > 1 << 20 && weights++ % 10 != 0) continue;
            if (!b.TryGetValue(name, out var other) || other.Length != length) throw new BenchException($"'{name}' differs in the round trip");
            for (long at = 0; at < length; at += ba.Length)
            {
                int chunk = (int)Math.Min(ba.Length, length - at);
                RandomAccess.Read(fa, ba.AsSpan(0, chunk), offset + at);
                RandomAccess.Read(fb, bb.AsSpan(0, chunk), other.Offset + at);
                if (!ba.AsSpan(0, chunk).SequenceEqual(bb.AsSpan(0, chunk))) throw new BenchException($"'{name}' differs in the round trip");
            }
            n++;
            total += length;
        }
        return (n, total);
    }

    /// <summary>The float model's output, one weight in memory at a time: relu(x W^T + b) per layer.</summary>
    private static float[] Reference(string model, int layers, int width, float[] input)
    {
        var at = Locations(model);
        using var data = File.OpenHandle(model + ".data");
        var w = new float[(long)width * width];
        float[] Vec(string name)
        {
            var v = new float[width];
            RandomAccess.Read(data, MemoryMarshal.AsBytes(v.AsSpan()), at[name].Offset);
            return v;
        }
        var x = (float[])input.Clone();
        var y = new float[width];
        for (int l = 0; l < layers; l++)
        {
            var bytes = MemoryMarshal.AsBytes(w.AsSpan());
            for (int done = 0; done < bytes.Length;)
                done += RandomAccess.Read(data, bytes[done..], at[$"w{l}"].Offset + done);
            float[] b = Vec($"b{l}");
            Parallel.For(0, width, j =>
            {
                var row = new ReadOnlySpan<float>(w, j * width, width);
                var sum = Vector<float>.Zero;
                int i = 0;
                for (; i <= width - Vector<float>.Count; i += Vector<float>.Count)
                    sum += new Vector<float>(row[i..]) * new Vector<float>(x, i);
                float s = Vector.Sum(sum);
                for (; i < width; i++) s += row[i] * x[i];
                y[j] = MathF.Max(s + b[j], 0);
            });
            (x, y) = (y, x);
        }
        return x;
    }
}
