using System.Globalization;
using System.Text;

namespace Mopt.Passes.Quantization;

/// <summary>
/// The activation ranges a calibration chose, as TensorRT's calibration cache (what <c>IInt8Calibrator::
/// writeCalibrationCache</c> writes and <c>trtexec --calib=FILE</c> reads), so an engine built from the float ONNX model
/// uses mopt's ranges without calibrating again:
/// <code>
/// TRT-8601-EntropyCalibration2
/// input: 3c010a14
/// conv1_output: 3d9fa5f2
/// </code>
/// The first line is TensorRT's version (8.6.1 as 8601) and calibrator; each other line is an ONNX tensor name, a
/// colon, a space and the 8 hex digits of the IEEE-754 float32 bits of amax / 127, where amax = max(|min|, |max|) of the
/// range chosen for that tensor (TensorRT's int8 is symmetric). A tensor whose range was tied to another's (the input and
/// output of a MaxPool) gets the range its quantization parameters represent.
/// </summary>
/// <remarks>A path ending in <c>.table</c> gets ncnn's int8 scale table instead (<see cref="WriteNcnn"/>).</remarks>
public static class CalibrationTable
{
    public const string TensorRtHeader = "TRT-8601-EntropyCalibration2";

    /// <summary>
    /// max(|min|, |max|) of an activation's range: the calibrated one or, for a tensor tied to another's range, the
    /// range its quantization parameters represent.
    /// </summary>
    public static float Amax(TensorRecord record, bool int8Activations)
    {
        float lo = record.Min, hi = record.Max;
        if (float.IsNaN(lo) || float.IsNaN(hi))
        {
            var p = record.Params[0];
            int qmin = int8Activations ? -128 : 0, qmax = int8Activations ? 127 : 255;
            lo = (qmin - p.ZeroPoint) * p.Scale;
            hi = (qmax - p.ZeroPoint) * p.Scale;
        }
        return Math.Max(Math.Abs(lo), Math.Abs(hi));
    }

    /// <summary>A layer ncnn quantizes (Convolution, ConvolutionDepthWise, InnerProduct): its node name, input and weight tensor names.</summary>
    public sealed record NcnnLayer(string Name, string Input, string Weight);

    /// <summary>Whether <paramref name="path"/> names an ncnn table (<c>.table</c>); else TensorRT's cache.</summary>
    public static bool IsNcnnTable(string path) => path.EndsWith(".table", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Writes ncnn's int8 scale table (what <c>ncnn2table</c> writes and <c>ncnn2int8</c> reads): first, for each layer,
    /// <c>NAME_param_0 s0 s1 ...</c>, one weight scale per output channel, s = 127 / max|W[c]| (ncnn multiplies by its
    /// scales: q = round(w · s)); then, for each layer, <c>NAME s</c>, the scale of its input blob, 127 / amax. Names are
    /// the ONNX node names, which ONNX-to-ncnn converters keep as layer names. Layers whose input or weight was not
    /// quantized are left out.
    /// </summary>
    public static void WriteNcnn(IReadOnlyList<NcnnLayer> layers, IEnumerable<TensorRecord> records, bool int8Activations, Stream stream)
    {
        var byName = new Dictionary<(string Kind, string Name), TensorRecord>();
        foreach (var r in records) byName.TryAdd((r.Kind, r.Name), r);
        var written = layers
            .Select(l => (l.Name, Input: byName.GetValueOrDefault(("activation", l.Input)), Weight: byName.GetValueOrDefault(("weight", l.Weight))))
            .Where(l => l.Input is not null && l.Weight is not null)
            .ToList();
        var text = new StringBuilder();
        foreach (var (name, _, weight) in written)
        {
            text.Append(name).Append("_param_0");
            foreach (var p in weight!.Params) text.Append(' ').Append(Format(p.Scale > 0 ? 1f / p.Scale : 0f));
            text.Append('\n');
        }
        foreach (var (name, input, _) in written)
        {
            float amax = Amax(input!, int8Activations);
            text.Append(name).Append(' ').Append(Format(amax > 0 ? 127f / amax : 0f)).Append('\n');
        }
        stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>Writes the activation records as TensorRT's calibration cache.</summary>
    public static void WriteTensorRt(IEnumerable<TensorRecord> records, bool int8Activations, Stream stream)
    {
        var text = new StringBuilder();
        text.Append(TensorRtHeader).Append('\n');
        foreach (var r in records.Where(r => r.Kind == "activation"))
        {
            uint bits = BitConverter.SingleToUInt32Bits(Amax(r, int8Activations) / 127f);
            text.Append(r.Name).Append(": ").Append(bits.ToString("x8", CultureInfo.InvariantCulture)).Append('\n');
        }
        stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
    }

    private static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
