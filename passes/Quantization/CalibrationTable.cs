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
public static class CalibrationTable
{
    public const string TensorRtHeader = "TRT-8601-EntropyCalibration2";

    /// <summary>TensorRT's scale for an activation record: amax / 127, amax from its calibrated range or, when tied to another tensor, from its parameters.</summary>
    public static float TensorRtScale(TensorRecord record, bool int8Activations)
    {
        float lo = record.Min, hi = record.Max;
        if (float.IsNaN(lo) || float.IsNaN(hi))
        {
            var p = record.Params[0];
            int qmin = int8Activations ? -128 : 0, qmax = int8Activations ? 127 : 255;
            lo = (qmin - p.ZeroPoint) * p.Scale;
            hi = (qmax - p.ZeroPoint) * p.Scale;
        }
        float amax = Math.Max(Math.Abs(lo), Math.Abs(hi));
        return amax / 127f;
    }

    /// <summary>Writes the activation records as TensorRT's calibration cache.</summary>
    public static void WriteTensorRt(IEnumerable<TensorRecord> records, bool int8Activations, Stream stream)
    {
        var text = new StringBuilder();
        text.Append(TensorRtHeader).Append('\n');
        foreach (var r in records.Where(r => r.Kind == "activation"))
        {
            uint bits = BitConverter.SingleToUInt32Bits(TensorRtScale(r, int8Activations));
            text.Append(r.Name).Append(": ").Append(bits.ToString("x8", CultureInfo.InvariantCulture)).Append('\n');
        }
        stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
    }
}
