using System.Runtime.InteropServices;
using Mopt.Backend.Runtime;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Onnx.Proto;

namespace Mopt.Bench.Quantize;

/// <summary>How a model's input is scaled: what a pixel in [0, 1] becomes.</summary>
public enum InputStyle
{
    /// <summary>RGB normalized with ImageNet's mean and std per channel (torchvision models: the zoo).</summary>
    ImageNet,
    /// <summary>White digit-like strokes on black in [0, 255], framed as MNIST's (connxr_mnist, whose test data is 0..255).</summary>
    Digits,
    /// <summary>A [0, 1] luminance image (connxr_super_resolution, whose test data is in [0.07, 1]).</summary>
    Unit,
    /// <summary>(255 p - 127) / 128, UltraFace's preprocessing.</summary>
    Centered,
    /// <summary>Standard normal noise: a model the benchmark knows nothing about.</summary>
    Normal,
}

/// <summary>One model input as the benchmark feeds it.</summary>
public sealed record InputSpec(string Name, ElementType Element, long[] Shape);

/// <summary>
/// Smooth random images: three octaves of bilinearly interpolated uniform noise on grids of 2, 4 and 8 cells (amplitudes 1,
/// 1/2, 1/4), a shared luminance plus a weaker per-channel part, stretched to [0, 1] per image, then scaled as the model's
/// input expects. Low-frequency content like a photo's, so that activations and their ranges look like real ones, not like
/// white noise's. The same seed gives the same bytes on every machine (System.Random with a seed is stable).
/// </summary>
public static class Inputs
{
    private static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f], ImageNetStd = [0.229f, 0.224f, 0.225f];

    /// <summary><paramref name="count"/> samples, each one array per input (symbolic dimensions as 1).</summary>
    public static List<Dictionary<string, NpyArray>> Generate(IReadOnlyList<InputSpec> inputs, InputStyle style, int count, int seed)
    {
        var random = new Random(seed);
        var samples = new List<Dictionary<string, NpyArray>>(count);
        for (int s = 0; s < count; s++)
        {
            var sample = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
            foreach (var input in inputs)
            {
                var shape = input.Shape.Select(d => d < 0 ? 1 : d).ToArray();
                if (input.Element != ElementType.F32)
                    throw new BenchException($"input '{input.Name}' is {input.Element}; the benchmark generates f32 inputs only");
                var values = shape.Length == 4 && style != InputStyle.Normal ? Image(random, shape, style) : Noise(random, shape);
                sample[input.Name] = new NpyArray(ElementType.F32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
            }
            samples.Add(sample);
        }
        return samples;
    }

    /// <summary>
    /// Writes the samples as a calibration folder mopt-opt reads: one <c>sample_NNN.npy</c> per sample for a model with one
    /// input, else one <c>sample_NNN/</c> folder per sample holding <c>INPUT_NAME.npy</c> per input.
    /// </summary>
    public static void WriteCalibrationFolder(string dir, IReadOnlyList<Dictionary<string, NpyArray>> samples)
    {
        Directory.CreateDirectory(dir);
        for (int i = 0; i < samples.Count; i++)
        {
            if (samples[i].Count == 1)
            {
                samples[i].Values.Single().Write(Path.Combine(dir, $"sample_{i:D3}.npy"));
                continue;
            }
            string sub = Directory.CreateDirectory(Path.Combine(dir, $"sample_{i:D3}")).FullName;
            foreach (var (name, array) in samples[i]) array.Write(Path.Combine(sub, name + ".npy"));
        }
    }

    /// <summary>
    /// The inputs of each <c>test_data_set_*</c> beside a real model (ONNX TensorProto <c>input_N.pb</c>, in input order);
    /// a set whose tensors do not fit the model's inputs is left out.
    /// </summary>
    public static List<Dictionary<string, NpyArray>> TestDataSets(string modelPath, IReadOnlyList<InputSpec> inputs)
    {
        var result = new List<Dictionary<string, NpyArray>>();
        string folder = Path.GetDirectoryName(modelPath)!;
        foreach (var set in Directory.EnumerateDirectories(folder, "test_data_set_*").Order(StringComparer.Ordinal))
        {
            var sample = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
            for (int i = 0; i < inputs.Count; i++)
            {
                string file = Path.Combine(set, $"input_{i}.pb");
                if (!File.Exists(file)) break;
                var proto = TensorProto.Parser.ParseFrom(File.ReadAllBytes(file));
                using var reader = new OnnxTensorReader(null, file);
                var data = reader.Read(proto, $"tensor in {file}");
                // a symbolic dimension is 1 in the benchmark; data of the same element count takes the input's shape
                // (super_resolution's test input is stored as 224x224 for a ?x1x224x224 input)
                var shape = inputs[i].Shape.Select(d => d < 0 ? 1 : d).ToArray();
                if (data.Type.Element != inputs[i].Element || data.Type.ElementCount != shape.Aggregate(1L, (a, b) => a * b)) break;
                sample[inputs[i].Name] = new NpyArray(data.Type.Element, shape, data.Bytes.ToArray());
            }
            if (sample.Count == inputs.Count) result.Add(sample);
        }
        return result;
    }

    private static float[] Noise(Random random, long[] shape)
    {
        var v = new float[shape.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < v.Length; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            v[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return v;
    }

    /// <summary>N x C x H x W images in the model's scale.</summary>
    private static float[] Image(Random random, long[] shape, InputStyle style)
    {
        int n = (int)shape[0], c = (int)shape[1], h = (int)shape[2], w = (int)shape[3];
        var result = new float[(long)n * c * h * w];
        for (int b = 0; b < n; b++)
        {
            var luminance = SmoothField(random, h, w);
            for (int ch = 0; ch < c; ch++)
            {
                var own = c > 1 ? SmoothField(random, h, w) : null;
                var plane = new float[h * w];
                for (int i = 0; i < plane.Length; i++) plane[i] = own is null ? luminance[i] : 0.7f * luminance[i] + 0.3f * own[i];
                Stretch(plane);
                for (int i = 0; i < plane.Length; i++)
                    result[((long)b * c + ch) * h * w + i] = Scale(plane[i], style, ch) * Frame(style, i / w, i % w, h, w);
            }
        }
        return result;
    }

    private static float Scale(float p, InputStyle style, int channel) => style switch
    {
        InputStyle.ImageNet => (p - ImageNetMean[channel % 3]) / ImageNetStd[channel % 3],
        // a contour band of the smooth field: curved strokes about 2 pixels wide with soft edges, white on black, as MNIST's
        InputStyle.Digits => 255f * Math.Clamp(2f * (1f - Math.Abs(p - 0.5f) / 0.1f), 0f, 1f),
        InputStyle.Unit => p,
        InputStyle.Centered => (255f * p - 127f) / 128f,
        _ => p,
    };

    /// <summary>MNIST centres its digits in a 20x20 box of the 28x28 image: a black frame of 1/7 of the size around the strokes.</summary>
    private static float Frame(InputStyle style, int y, int x, int h, int w)
    {
        if (style != InputStyle.Digits) return 1;
        int by = h / 7, bx = w / 7;
        return y < by || y >= h - by || x < bx || x >= w - bx ? 0 : 1;
    }

    /// <summary>Octaves of bilinear value noise: grids of 2, 4 and 8 cells with amplitudes 1, 1/2, 1/4.</summary>
    private static float[] SmoothField(Random random, int h, int w)
    {
        var field = new float[h * w];
        double amplitude = 1;
        foreach (int cells in new[] { 2, 4, 8 })
        {
            var grid = new double[(cells + 1) * (cells + 1)];
            for (int i = 0; i < grid.Length; i++) grid[i] = random.NextDouble();
            for (int y = 0; y < h; y++)
            {
                double gy = (double)y / Math.Max(1, h - 1) * cells;
                int y0 = Math.Min((int)gy, cells - 1);
                double fy = gy - y0;
                for (int x = 0; x < w; x++)
                {
                    double gx = (double)x / Math.Max(1, w - 1) * cells;
                    int x0 = Math.Min((int)gx, cells - 1);
                    double fx = gx - x0;
                    double top = grid[y0 * (cells + 1) + x0] * (1 - fx) + grid[y0 * (cells + 1) + x0 + 1] * fx;
                    double bottom = grid[(y0 + 1) * (cells + 1) + x0] * (1 - fx) + grid[(y0 + 1) * (cells + 1) + x0 + 1] * fx;
                    field[y * w + x] += (float)(amplitude * (top * (1 - fy) + bottom * fy));
                }
            }
            amplitude /= 2;
        }
        return field;
    }

    /// <summary>Stretches the plane to [0, 1] (a photo uses its whole range).</summary>
    private static void Stretch(float[] plane)
    {
        float min = plane.Min(), max = plane.Max();
        float span = max > min ? max - min : 1;
        for (int i = 0; i < plane.Length; i++) plane[i] = (plane[i] - min) / span;
    }
}
