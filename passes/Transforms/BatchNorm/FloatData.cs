using Mopt.Ir;

namespace Mopt.Passes.BatchNorm;

/// <summary>Constant tensors as doubles and back: folding computes in double and writes the tensor's own type.</summary>
internal static class FloatData
{
    public static double[] Read(ConstantTensor tensor)
    {
        var element = tensor.Type.Element;
        if (!element.IsFloat) throw new ArgumentException($"{tensor.Type} is not a float tensor");
        int size = element.ByteSize;
        var span = tensor.Bytes.Span;
        var result = new double[tensor.ElementCount];
        if (element == ElementType.F32)
        {
            // The common case, on every weight of a model: a straight widening loop, no per-element dispatch.
            var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(span);
            for (int i = 0; i < result.Length; i++) result[i] = floats[i];
            return result;
        }
        for (int i = 0; i < result.Length; i++) result[i] = ElementCodec.ReadFloat(span.Slice(i * size, size), element);
        return result;
    }

    /// <summary>A float32 tensor's values, in place (no copy).</summary>
    public static ReadOnlySpan<float> Floats(ConstantTensor tensor) =>
        tensor.Type.Element == ElementType.F32
            ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.Bytes.Span)
            : throw new ArgumentException($"{tensor.Type} is not a float32 tensor");

    /// <summary>A float constant's values, or null (with why) when the value is not a constant float tensor.</summary>
    public static double[]? TryRead(Value value, MirModule module, string what, out ConstantTensor? tensor, out string? reason)
    {
        tensor = TryGet(value, module, what, out reason);
        return tensor is null ? null : Read(tensor);
    }

    /// <summary>A float constant (its bytes, not read), or null (with why) when the value is not a constant float tensor.</summary>
    public static ConstantTensor? TryGet(Value value, MirModule module, string what, out string? reason)
    {
        var tensor = Constants.TryGet(value, module);
        reason = null;
        if (tensor is null)
        {
            reason = $"{what} not constant";
            return null;
        }
        if (!tensor.Type.Element.IsFloat)
        {
            reason = $"{what} is {tensor.Type}, not a float tensor";
            return null;
        }
        return tensor;
    }

    /// <summary>"Relu_3" or "onnx.Relu" (an op without a name): how skip reasons name an operation.</summary>
    public static string NameOf(Operation op) => op.Location.FirstName ?? op.Name;

    /// <summary>"onnx.Relu Relu_3": how skip reasons name another user of a value.</summary>
    public static string Describe(Operation op) => op.Location.FirstName is { } n ? $"{op.Name} {n}" : op.Name;
}
