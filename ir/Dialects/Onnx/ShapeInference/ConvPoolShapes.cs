using Mopt.Ir;
using static Mopt.Dialects.Onnx.ShapeInference.ShapeMath;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// Conv (and ConvInteger, QLinearConv), ConvTranspose, MaxPool/AveragePool/LpPool and the global pools.
/// Spatial output sizes follow the ONNX operator documentation:
/// <code>
/// NOTSET:       floor((in + pad_begin + pad_end - ((k - 1) * dilation + 1)) / stride) + 1   (ceil with ceil_mode)
/// VALID:        as NOTSET with zero pads
/// SAME_UPPER/SAME_LOWER: ceil(in / stride)
/// ConvTranspose: stride * (in - 1) + output_padding + ((k - 1) * dilation + 1) - pad_begin - pad_end,
///                in * stride with SAME_* (less when the kernel is smaller than the stride), or output_shape
/// </code>
/// With ceil_mode a last window that would start in the end padding is dropped, as ONNX Runtime and PyTorch do.
/// </summary>
internal static class ConvPoolShapes
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["onnx.Conv"] = (op, ctx) => Conv(op, ctx, 0, 1, null);
        rules["onnx.ConvInteger"] = (op, ctx) => Conv(op, ctx, 0, 1, ElementType.I32);
        rules["onnx.QLinearConv"] = (op, ctx) => Conv(op, ctx, 0, 3, ElemOf(op.Input(7)));
        rules["onnx.ConvTranspose"] = ConvTranspose;
        rules["onnx.MaxPool"] = Pool;
        rules["onnx.AveragePool"] = Pool;
        rules["onnx.LpPool"] = Pool;
        rules["onnx.GlobalAveragePool"] = GlobalPool;
        rules["onnx.GlobalMaxPool"] = GlobalPool;
        rules["onnx.GlobalLpPool"] = GlobalPool;
    }

    /// <summary>The attributes that shape a sliding window, checked against the number of spatial dims.</summary>
    private sealed record Window(long[] Kernel, long[] Strides, long[] Dilations, long[] Pads, string AutoPad)
    {
        public static Window Read(Operation op, int spatial, long[] kernel)
        {
            var strides = op.Ints("strides") ?? Ones(spatial);
            var dilations = op.Ints("dilations") ?? Ones(spatial);
            var pads = op.Ints("pads") ?? new long[2 * spatial];
            if (kernel.Length != spatial) throw new ShapeError($"kernel_shape has {kernel.Length} values for {spatial} spatial dims");
            if (strides.Length != spatial) throw new ShapeError($"strides has {strides.Length} values for {spatial} spatial dims");
            if (dilations.Length != spatial) throw new ShapeError($"dilations has {dilations.Length} values for {spatial} spatial dims");
            if (pads.Length != 2 * spatial) throw new ShapeError($"pads has {pads.Length} values for {spatial} spatial dims (needs {2 * spatial})");
            if (!AllPositive(strides)) throw new ShapeError("strides must be positive");
            if (!AllPositive(dilations)) throw new ShapeError("dilations must be positive");
            var autoPad = op.GetString("auto_pad") ?? "NOTSET";
            if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
                throw new ShapeError($"auto_pad '{autoPad}' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER");
            return new Window(kernel, strides, dilations, pads, autoPad);
        }

        // A loop, not LINQ: every lowered Conv and Pool reads its window.
        private static long[] Ones(int n)
        {
            var ones = new long[n];
            Array.Fill(ones, 1L);
            return ones;
        }

        /// <summary>The output size of spatial dim <paramref name="i"/> for an input of size <paramref name="input"/>.</summary>
        public long Output(int i, long input, bool ceilMode)
        {
            if (input < 0) return Dyn;
            long stride = Strides[i];
            if (AutoPad is "SAME_UPPER" or "SAME_LOWER") return CeilDiv(input, stride);
            if (Kernel[i] < 0) return Dyn;
            long padBegin = AutoPad == "VALID" ? 0 : Pads[i];
            long padEnd = AutoPad == "VALID" ? 0 : Pads[i + Kernel.Length];
            long effectiveKernel = checked((Kernel[i] - 1) * Dilations[i] + 1);
            long span = checked(input + padBegin + padEnd - effectiveKernel);
            if (span < 0)
                throw new ShapeError($"spatial dim {i}: the window ({effectiveKernel}) is larger than the padded input ({input + padBegin + padEnd})");
            long output = (ceilMode ? CeilDiv(span, stride) : span / stride) + 1;
            if (ceilMode && (output - 1) * stride >= input + padBegin) output--;
            return output;
        }
    }

    /// <summary>X [N, C, D1..Dn], W [M, C/group, k1..kn] → [N, M, out1..outn].</summary>
    private static MirType?[]? Conv(Operation op, ShapeContext ctx, int xIndex, int wIndex, ElementType? resultElement)
    {
        var x = op.Input(xIndex);
        var w = op.Input(wIndex);
        var xs = ShapeOf(x);
        var ws = ShapeOf(w);
        var kernelAttr = op.Ints("kernel_shape");
        if (SpatialRank(op, xs, ws, kernelAttr) is not int spatial) return ctx.Unknown("neither the input, the weight nor kernel_shape gives the rank");
        long group = op.Int("group", 1);
        if (group <= 0) throw new ShapeError($"group {group} must be positive");
        if (xs is not null && ws is not null && xs[1] >= 0 && ws[1] >= 0 && xs[1] != ws[1] * group)
            throw new ShapeError($"input has {xs[1]} channels but the weight expects {ws[1]} x group {group} = {ws[1] * group}");

        var kernel = KernelShape(kernelAttr, ws, spatial);
        var window = Window.Read(op, spatial, kernel);
        var shape = new long[spatial + 2];
        shape[0] = xs?[0] ?? Dyn;
        shape[1] = ws?[0] ?? Dyn;
        for (int i = 0; i < spatial; i++) shape[2 + i] = window.Output(i, xs?[2 + i] ?? Dyn, ceilMode: false);
        return One(resultElement ?? ElemOf(x), shape);
    }

    /// <summary>X [N, C, D1..Dn], W [C, M/group, k1..kn] → [N, M, out1..outn].</summary>
    private static MirType?[]? ConvTranspose(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var w = op.Input(1);
        var xs = ShapeOf(x);
        var ws = ShapeOf(w);
        var kernelAttr = op.Ints("kernel_shape");
        if (SpatialRank(op, xs, ws, kernelAttr) is not int spatial) return ctx.Unknown("neither the input, the weight nor kernel_shape gives the rank");
        long group = op.Int("group", 1);
        if (group <= 0) throw new ShapeError($"group {group} must be positive");
        if (xs is not null && ws is not null && xs[1] >= 0 && ws[0] >= 0 && xs[1] != ws[0])
            throw new ShapeError($"input has {xs[1]} channels but the weight has {ws[0]}");

        var kernel = KernelShape(kernelAttr, ws, spatial);
        var window = Window.Read(op, spatial, kernel);
        var outputPadding = op.Ints("output_padding") ?? new long[spatial];
        if (outputPadding.Length != spatial) throw new ShapeError($"output_padding has {outputPadding.Length} values for {spatial} spatial dims");
        var outputShape = op.Ints("output_shape");
        if (outputShape is not null && outputShape.Length < spatial)
            throw new ShapeError($"output_shape has {outputShape.Length} values for {spatial} spatial dims");

        var shape = new long[spatial + 2];
        shape[0] = xs?[0] ?? Dyn;
        shape[1] = ws is null ? Dyn : Mul(ws[1], group);
        for (int i = 0; i < spatial; i++)
        {
            if (outputShape is not null) { shape[2 + i] = outputShape[outputShape.Length - spatial + i]; continue; }
            long input = xs?[2 + i] ?? Dyn;
            long stride = window.Strides[i];
            if (input < 0) shape[2 + i] = Dyn;
            else if (kernel[i] < 0) shape[2 + i] = Dyn;
            else if (window.AutoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                // Padded towards in * stride; when the kernel is smaller than the stride no padding is removed.
                // With output_padding the ONNX reference and ONNX Runtime disagree, so that is left unknown.
                long effectiveKernel = checked((kernel[i] - 1) * window.Dilations[i] + 1);
                shape[2 + i] = outputPadding[i] != 0 ? Dyn
                    : effectiveKernel >= stride ? checked(input * stride) : checked(stride * (input - 1) + effectiveKernel);
            }
            else
            {
                long pads = window.AutoPad == "VALID" ? 0 : window.Pads[i] + window.Pads[i + spatial];
                long size = checked(stride * (input - 1) + outputPadding[i] + (kernel[i] - 1) * window.Dilations[i] + 1 - pads);
                if (size < 0) throw new ShapeError($"spatial dim {i}: the output size {size} is negative");
                shape[2 + i] = size;
            }
        }
        return One(ElemOf(x), shape);
    }

    /// <summary>MaxPool, AveragePool, LpPool: [N, C, out1..outn]; MaxPool's Indices has the same shape, int64.</summary>
    private static MirType?[]? Pool(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        if (op.Ints("kernel_shape") is not { } kernel) return ctx.Unknown("no kernel_shape attribute");
        int spatial = kernel.Length;
        if (xs is not null && xs.Length != spatial + 2)
            throw new ShapeError($"kernel_shape has {spatial} values but the input has rank {xs.Length}");
        var window = Window.Read(op, spatial, kernel);
        bool ceilMode = op.Int("ceil_mode", 0) != 0;
        var shape = new long[spatial + 2];
        shape[0] = xs?[0] ?? Dyn;
        shape[1] = xs?[1] ?? Dyn;
        for (int i = 0; i < spatial; i++) shape[2 + i] = window.Output(i, xs?[2 + i] ?? Dyn, ceilMode);
        var result = new MirType?[op.Results.Count];
        result[0] = Tensor(ElemOf(x), shape);
        if (result.Length > 1) result[1] = Tensor(ElementType.I64, shape);
        return result;
    }

    /// <summary>[N, C, 1, ..., 1].</summary>
    private static MirType?[]? GlobalPool(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        if (ShapeOf(x) is not { } xs) return ctx.Unknown("input has no rank");
        if (xs.Length < 2) throw new ShapeError($"input has rank {xs.Length}, needs at least 2");
        return One(ElemOf(x), xs.Select((d, i) => i < 2 ? d : 1).ToArray());
    }

    private static int? SpatialRank(Operation op, long[]? xs, long[]? ws, long[]? kernelAttr)
    {
        if (xs is not null && ws is not null && xs.Length != ws.Length)
            throw new ShapeError($"input has rank {xs.Length} but the weight has rank {ws.Length}");
        int? rank = xs?.Length ?? ws?.Length;
        if (rank is int r)
        {
            if (r < 3) throw new ShapeError($"input has rank {r}, needs at least 3 (N, C and a spatial dim)");
            return r - 2;
        }
        if (kernelAttr is not null) return kernelAttr.Length;
        if (op.Ints("strides") is { } strides) return strides.Length;
        if (op.Ints("dilations") is { } dilations) return dilations.Length;
        return null;
    }

    private static long[] KernelShape(long[]? kernelAttr, long[]? ws, int spatial)
    {
        if (kernelAttr is null) return ws is null ? Enumerable.Repeat(Dyn, spatial).ToArray() : ws[2..];
        if (ws is not null && kernelAttr.Length == spatial)
            for (int i = 0; i < spatial; i++)
                if (DimsConflict(kernelAttr[i], ws[2 + i])) MergeDim(kernelAttr[i], ws[2 + i], $"kernel_shape and the weight's dim {2 + i}");
        return kernelAttr;
    }
}
