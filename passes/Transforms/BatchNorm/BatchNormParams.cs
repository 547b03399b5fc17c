using Mopt.Ir;

namespace Mopt.Passes.BatchNorm;

/// <summary>
/// Reads an inference-mode <c>onnx.BatchNormalization</c> with constant parameters as a per-channel affine map:
/// <code>
/// y = scale * (x - mean) / sqrt(var + epsilon) + B   =   s * x + t
/// s = scale / sqrt(var + epsilon),   t = B - mean * s          (per channel, axis 1; in double)
/// </code>
/// Refused (with the reason): training mode (more than one result, <c>training_mode = 1</c>, <c>is_test = 0</c>),
/// <c>spatial = 0</c> (per-element statistics), a parameter that is not a constant float tensor of C elements,
/// an input that is not a float tensor or whose channel dimension is known and is not C, a rank below 2, and
/// <c>var + epsilon</c> that is not positive and finite.
/// </summary>
internal static class BatchNormParams
{
    public const string OpName = "onnx.BatchNormalization";
    public const double DefaultEpsilon = 1e-5;

    private static readonly string[] ParamNames = ["scale", "B", "input_mean", "input_var"];

    public static ChannelAffine? TryRead(Operation bn, MirModule module, out string reason)
    {
        reason = "";
        if (bn.OperandCount != 5)
        {
            reason = $"has {bn.OperandCount} operands, not 5 (X, scale, B, mean, var)";
            return null;
        }
        if (bn.Results.Count != 1)
        {
            reason = $"training mode: {bn.Results.Count} outputs (running or saved statistics)";
            return null;
        }
        // Training mode, by the module's opset (is_test before 7, spatial before 9, training_mode from 14).
        if (OnnxLegacy.BatchNormTraining(bn, OnnxOpset.Of(module)) is { } training)
        {
            reason = training;
            return null;
        }

        var x = bn.GetOperand(0);
        if (x.Type is not TensorType xt || !xt.Element.IsFloat)
        {
            reason = $"input is {x.Type}, not a float tensor";
            return null;
        }
        if (xt.IsRanked && xt.Rank < 2)
        {
            reason = $"input {xt} has no channel axis (rank below 2)";
            return null;
        }

        // The parameters stay bytes: only s and t, computed from them below, are arrays.
        ConstantTensor scaleT = null!, biasT = null!, meanT = null!, varT = null!;
        for (int i = 0; i < 4; i++)
        {
            if (FloatData.TryGet(bn.GetOperand(i + 1), module, ParamNames[i], out var why) is not { } tensor)
            {
                reason = why!;
                return null;
            }
            switch (i)
            {
                case 0: scaleT = tensor; break;
                case 1: biasT = tensor; break;
                case 2: meanT = tensor; break;
                default: varT = tensor; break;
            }
        }
        int channels = checked((int)scaleT.ElementCount);
        ConstantTensor[] others = [biasT, meanT, varT];
        for (int i = 1; i < 4; i++)
            if (others[i - 1].ElementCount != channels)
            {
                reason = $"{ParamNames[i]} has {others[i - 1].ElementCount} elements but scale has {channels}";
                return null;
            }
        if (xt.IsRanked && xt.Shape![1] >= 0 && xt.Shape[1] != channels)
        {
            reason = $"input {xt} has {xt.Shape[1]} channels but the parameters have {channels}";
            return null;
        }

        double epsilon = bn.ReadFloat("epsilon") ?? DefaultEpsilon;
        var s = new double[channels];
        var t = new double[channels];
        // float32 parameters (every model's) are read in place; others are widened to double first.
        bool ok = scaleT.Type.Element == ElementType.F32 && biasT.Type.Element == ElementType.F32
                  && meanT.Type.Element == ElementType.F32 && varT.Type.Element == ElementType.F32
            ? Compute(FloatData.Floats(scaleT), FloatData.Floats(biasT), FloatData.Floats(meanT), FloatData.Floats(varT), epsilon, s, t, out reason)
            : Compute<double>(FloatData.Read(scaleT), FloatData.Read(biasT), FloatData.Read(meanT), FloatData.Read(varT), epsilon, s, t, out reason);
        return ok ? new ChannelAffine(s, t) : null;
    }

    /// <summary>s and t per channel, in double (each parameter widened exactly); false with the reason for a bad variance.</summary>
    private static bool Compute<T>(ReadOnlySpan<T> scale, ReadOnlySpan<T> bias, ReadOnlySpan<T> mean, ReadOnlySpan<T> variance, double epsilon,
        Span<double> s, Span<double> t, out string reason) where T : System.Numerics.IFloatingPoint<T>
    {
        for (int c = 0; c < s.Length; c++)
        {
            double denominator = double.CreateTruncating(variance[c]) + epsilon;
            if (!(denominator > 0) || double.IsInfinity(denominator))
            {
                reason = $"var + epsilon = {denominator} for channel {c} is not a positive number";
                return false;
            }
            s[c] = double.CreateTruncating(scale[c]) / Math.Sqrt(denominator);
            t[c] = double.CreateTruncating(bias[c]) - double.CreateTruncating(mean[c]) * s[c];
        }
        reason = "";
        return true;
    }
}
