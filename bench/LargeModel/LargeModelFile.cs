using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Mopt.Onnx.Proto;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Bench.LargeModel;

/// <summary>
/// Writes the benchmark's model without holding it: <c>layers</c> x (Gemm with a width x width weight (transB=1) and a
/// bias, BatchNormalization unless <c>batchNorm</c> is false, Relu) on an input [1, width], every initializer in <c>NAME.data</c> (ONNX external data,
/// 64 KiB-aligned as onnx's writer may place them), one weight buffer reused. Values are seeded: the same model every run.
/// </summary>
public static class LargeModelFile
{
    public static long Write(string path, int layers, int width, bool batchNorm = true, Action<int>? progress = null)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "mopt bench/LargeModel", Graph = new GraphProto { Name = "large" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        var g = model.Graph;
        g.Input.Add(ValueInfo("X", width));
        string dataName = Path.GetFileName(path) + ".data";
        var weight = new float[(long)width * width];
        var vector = new float[width];
        long offset = 0;
        using (var data = new FileStream(path + ".data", FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            void Initializer(string name, long[] dims, ReadOnlySpan<float> values)
            {
                var bytes = MemoryMarshal.AsBytes(values);
                long aligned = (offset + 65535) / 65536 * 65536;
                if (aligned > offset) data.Write(new byte[aligned - offset]);
                offset = aligned;
                data.Write(bytes);
                var t = new TensorProto { Name = name, DataType = (int)DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
                t.Dims.AddRange(dims);
                t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = dataName });
                t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(CultureInfo.InvariantCulture) });
                t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(CultureInfo.InvariantCulture) });
                g.Initializer.Add(t);
                offset += bytes.Length;
            }

            string x = "X";
            // Without BatchNormalization, He's initialization keeps the activations' scale through hundreds of Relus.
            float a = MathF.Sqrt((batchNorm ? 3f : 6f) / width);
            for (int l = 0; l < layers; l++)
            {
                var random = new Random(1000 + l);
                Fill(random, weight, -a, a);
                Initializer($"w{l}", [width, width], weight);
                Fill(random, vector, -0.05f, 0.05f); Initializer($"b{l}", [width], vector);
                string gemm = $"gemm{l}", bn = $"bn{l}", relu = l == layers - 1 ? "Y" : $"relu{l}";
                g.Node.Add(Node("Gemm", $"Gemm_{l}", [x, $"w{l}", $"b{l}"], gemm, new AttributeProto { Name = "transB", I = 1, Type = AttributeProto.Types.AttributeType.Int }));
                if (batchNorm)
                {
                    Fill(random, vector, 0.5f, 1.5f); Initializer($"gamma{l}", [width], vector);
                    Fill(random, vector, -0.1f, 0.1f); Initializer($"beta{l}", [width], vector);
                    Fill(random, vector, -0.1f, 0.1f); Initializer($"mean{l}", [width], vector);
                    Fill(random, vector, 0.5f, 1.5f); Initializer($"var{l}", [width], vector);
                    g.Node.Add(Node("BatchNormalization", $"BatchNormalization_{l}", [gemm, $"gamma{l}", $"beta{l}", $"mean{l}", $"var{l}"], bn,
                        new AttributeProto { Name = "epsilon", F = 1e-5f, Type = AttributeProto.Types.AttributeType.Float }));
                }
                g.Node.Add(Node("Relu", $"Relu_{l}", [batchNorm ? bn : gemm], relu));
                x = relu;
                progress?.Invoke(l);
            }
        }
        g.Output.Add(ValueInfo("Y", width));
        using (var file = File.Create(path)) model.WriteTo(file);
        return new FileInfo(path).Length + new FileInfo(path + ".data").Length;
    }

    /// <summary>Uniform values in [lo, hi), from the seeded generator (a weight of 26 M floats in ~0.1 s).</summary>
    private static void Fill(Random random, Span<float> values, float lo, float hi)
    {
        var bits = MemoryMarshal.AsBytes(values);
        random.NextBytes(bits);
        float scale = (hi - lo) / (1u << 24);
        for (int i = 0; i < values.Length; i++)
            values[i] = lo + (BinaryPrimitives.ReadUInt32LittleEndian(bits.Slice(i * 4, 4)) >> 8) * scale;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output, params AttributeProto[] attrs)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        n.Attribute.AddRange(attrs);
        return n;
    }

    private static ValueInfoProto ValueInfo(string name, int width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 1 });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } } };
    }
}
