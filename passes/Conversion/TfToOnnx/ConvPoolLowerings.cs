using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Convolutions and pools. ONNX computes them in NCHW: an NHWC op (TensorFlow's default data_format) is lowered with a
/// Transpose [0, 3, 1, 2] before and [0, 2, 3, 1] after, which --optimize-transposes then cancels between layers.
/// <code>
/// Conv2D(x, f[kh, kw, I, O])               → Conv(x, W[O, I, kh, kw]), group = C / I (1 unless grouped)
/// DepthwiseConv2dNative(x, f[kh, kw, C, M]) → Conv(x, W[C·M, 1, kh, kw]), group = C; W[c·M + m] = f[:, :, c, m]
/// MaxPool, AvgPool                          → MaxPool, AveragePool (count_include_pad = 0: TF averages over the
///                                             window's elements inside the input)
/// </code>
/// A constant filter is transposed once, here, by moving its bytes (perm [3, 2, 0, 1], depthwise [2, 3, 0, 1]); any
/// other filter gets a Transpose op. Padding: VALID is none; EXPLICIT takes explicit_paddings; SAME is TensorFlow's
/// pad_total = max((ceil(in / s) - 1)·s + (k - 1)·d + 1 - in, 0), pad_total / 2 at the start and the rest at the end,
/// written as pads when the spatial size is known, else as auto_pad = SAME_UPPER (the same rule, at run time).
/// </summary>
internal static class ConvPoolLowerings
{
    private static readonly long[] ToNchw = [0, 3, 1, 2];
    private static readonly long[] ToNhwc = [0, 2, 3, 1];

    public static void Register(Dictionary<string, Lowering> table)
    {
        table["Conv2D"] = l => Conv(l, depthwise: false);
        table["DepthwiseConv2dNative"] = l => Conv(l, depthwise: true);
        table["MaxPool"] = l => Pool(l, "MaxPool");
        table["AvgPool"] = l => Pool(l, "AveragePool");
    }

    private static IReadOnlyList<Value> Conv(OpLowering l, bool depthwise)
    {
        var x = l.Input(0);
        var f = l.Input(1);
        bool nhwc = l.ChannelsLast();
        CheckRank4(x);
        if (TypeOf(f).Shape is not [var kh, var kw, var fin, var fout] || kh < 0 || kw < 0 || fin < 0 || fout < 0)
            throw Blocked($"its filter has type {f.Type}; a static [height, width, in, out] shape is needed");
        var strides = Spatial(l, "strides", nhwc);
        var dilations = Spatial(l, "dilations", nhwc);
        var inDims = SpatialDims(x, nhwc);
        var attrs = new List<NamedAttr> { Attr("kernel_shape", [kh, kw]), Attr("strides", strides), Attr("dilations", dilations) };
        attrs.Add(Padding(l, [kh, kw], strides, dilations, inDims, nhwc));

        long group;
        Value w;
        long channels = ChannelDim(x, nhwc);
        if (depthwise)
        {
            if (channels >= 0 && channels != fin) throw Blocked($"the input has {channels} channels but the depthwise filter {fin}");
            group = fin;
            w = l.PermutedFilter(f, [2, 3, 0, 1], [fin * fout, 1, kh, kw]);
        }
        else
        {
            group = 1;
            if (channels >= 0 && channels != fin)
            {
                if (channels % fin != 0) throw Blocked($"the input has {channels} channels, not a multiple of the filter's {fin}");
                group = channels / fin;
            }
            w = l.PermutedFilter(f, [3, 2, 0, 1], [fout, fin, kh, kw]);
        }
        attrs.Add(Attr("group", group));
        var input = nhwc ? l.Transpose(x, ToNchw) : x;
        var conv = l.Emit("Conv", [input, w], attrs);
        return [nhwc ? l.Transpose(conv, ToNhwc) : conv];
    }

    private static IReadOnlyList<Value> Pool(OpLowering l, string onnxName)
    {
        var x = l.Input(0);
        bool nhwc = l.ChannelsLast();
        CheckRank4(x);
        var kernel = Spatial(l, "ksize", nhwc, required: true);
        var strides = Spatial(l, "strides", nhwc);
        var attrs = new List<NamedAttr> { Attr("kernel_shape", kernel), Attr("strides", strides) };
        attrs.Add(Padding(l, kernel, strides, [1, 1], SpatialDims(x, nhwc), nhwc));
        if (onnxName == "AveragePool") attrs.Add(Attr("count_include_pad", 0));
        var input = nhwc ? l.Transpose(x, ToNchw) : x;
        var pool = l.Emit(onnxName, [input], attrs);
        return [nhwc ? l.Transpose(pool, ToNhwc) : pool];
    }

    private static void CheckRank4(Value x)
    {
        if (RankOf(x) is int r && r != 4) throw Blocked($"its input has rank {r}, not 4");
    }

    /// <summary>The H and W entries of a 4-entry attribute in data_format order (1, 1 when absent); N and C must be 1.</summary>
    private static long[] Spatial(OpLowering l, string name, bool nhwc, bool required = false)
    {
        var values = l.Ints(name);
        if (values is null)
            return required ? throw Blocked($"it has no '{name}' attribute") : [1, 1];
        if (values.Length != 4) throw Blocked($"'{name}' is {Text(values)}, not 4 values");
        var (n, c, h, w) = nhwc ? (values[0], values[3], values[1], values[2]) : (values[0], values[1], values[2], values[3]);
        if (n != 1 || c != 1) throw Blocked($"'{name}' {Text(values)} acts on the batch or channel axis, which ONNX cannot");
        return [h, w];
    }

    private static long[] SpatialDims(Value x, bool nhwc) =>
        TypeOf(x).Shape is { Count: 4 } s ? (nhwc ? [s[1], s[2]] : [s[2], s[3]]) : [-1, -1];

    private static long ChannelDim(Value x, bool nhwc) => TypeOf(x).Shape is { Count: 4 } s ? s[nhwc ? 3 : 1] : -1;

    private static NamedAttr Padding(OpLowering l, long[] kernel, long[] strides, long[] dilations, long[] inDims, bool nhwc)
    {
        var padding = l.Str("padding", "");
        switch (padding)
        {
            case "VALID":
                return Attr("pads", [0, 0, 0, 0]);
            case "EXPLICIT":
                var e = l.Ints("explicit_paddings") ?? throw Blocked("padding EXPLICIT without explicit_paddings");
                if (e.Length != 8) throw Blocked($"explicit_paddings {Text(e)} is not 8 values");
                int hAxis = nhwc ? 1 : 2;
                return Attr("pads", [e[2 * hAxis], e[2 * hAxis + 2], e[2 * hAxis + 1], e[2 * hAxis + 3]]);
            case "SAME":
                return SamePads(kernel, strides, dilations, inDims) is { } pads ? Attr("pads", pads) : Attr("auto_pad", "SAME_UPPER");
            default:
                throw Blocked($"padding '{padding}' is not SAME, VALID or EXPLICIT");
        }
    }

    /// <summary>TensorFlow's SAME pads [h_begin, w_begin, h_end, w_end], or null when a spatial size is unknown.</summary>
    public static long[]? SamePads(long[] kernel, long[] strides, long[] dilations, long[] inDims)
    {
        if (inDims.Any(d => d < 0)) return null;
        var pads = new long[2 * kernel.Length];
        for (int i = 0; i < kernel.Length; i++)
        {
            long outSize = (inDims[i] + strides[i] - 1) / strides[i];
            long total = Math.Max((outSize - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - inDims[i], 0);
            pads[i] = total / 2;
            pads[i + kernel.Length] = total - total / 2;
        }
        return pads;
    }
}
