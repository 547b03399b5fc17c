using Mopt.Dialects.Mo;
using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>
/// The dynamic int8 rewrite (as ONNX Runtime's <c>quantize_dynamic</c>): weights become 8-bit constants; each
/// activation is quantized while the model runs by DynamicQuantizeLinear (uint8, its own range per run), the integer
/// op accumulates in int32, and one multiply by x_scale·w_scale brings the result back to float.
/// <code>
/// Before: %y = "onnx.Conv"(%x, %w, %b)
/// After:  %q:3 = "onnx.DynamicQuantizeLinear"(%x)                      (shared by every reader of %x)
///         %i  = "onnx.ConvInteger"(%q#0, %w_q, %q#2, %w_zp)             (int32)
///         %s  = "onnx.Mul"(%q#1, %w_scale)                              (per output channel: [1, M, 1, 1])
///         %y  = "onnx.Add"("onnx.Mul"("onnx.Cast"(%i), %s), %b')        (b' = b as [1, M, 1, 1])
/// </code>
/// y = (x_q - x_zp)·(w_q - w_zp)·x_scale·w_scale + b. Applies to Conv (constant weight), MatMul with a constant
/// 2-D B [K, N], Gemm with transA = 0 and a constant 2-D B (transB folded into the constant, alpha into the scale,
/// beta·C into the bias, which must be constant when present). Activations must be float32. Weights are int8,
/// symmetric (zero point 0), per output channel (the axis the op's <see cref="IWeightLayout"/> gives: Conv axis 0,
/// B's column) or per tensor; ONNX Runtime's CPU kernels
/// take uint8 activations with int8 weights for both ConvInteger and MatMulInteger.
/// </summary>
internal sealed class DynamicQuantization
{
    private readonly MirModule _module;
    private readonly PassContext _context;
    private readonly bool _perChannel;
    private readonly ConvForm _convForm;
    private readonly Dictionary<Value, Operation> _dynamicQuantized = new();
    private readonly HashSet<string> _freedBlobs = new(StringComparer.Ordinal);

    /// <summary>How a Conv is quantized without calibration data.</summary>
    public enum ConvForm
    {
        /// <summary>
        /// <c>Conv(x, Cast(W_q) · w_scale)</c>: int8 in the file; ONNX Runtime folds the Cast and Mul of constants when it
        /// loads the model, so the Conv runs at float speed.
        /// </summary>
        WeightOnly,
        /// <summary><c>Conv(x, DequantizeLinear(W_q, w_scale, 0))</c>: the QDQ spelling; ONNX Runtime keeps the
        /// DequantizeLinear (for its QDQ fusions) and runs it at every inference.</summary>
        DequantizeLinear,
        /// <summary>ConvInteger on the dynamically quantized input, as ONNX Runtime's quantize_dynamic writes.</summary>
        Integer,
    }

    public DynamicQuantization(MirModule module, PassContext context, bool perChannel, ConvForm convForm = ConvForm.Integer)
    {
        _module = module;
        _context = context;
        _perChannel = perChannel;
        _convForm = convForm;
    }

    /// <summary>The Convs and ConvTransposes given weight-only int8 (float compute, int8 weights in the file).</summary>
    public int WeightOnly { get; private set; }

    /// <summary>The weight tensors quantized, for the report.</summary>
    public List<TensorRecord> Weights { get; } = new();

    /// <summary>Rewrites each of <paramref name="ops"/> it can; returns how many it rewrote.</summary>
    public int Run(IEnumerable<Operation> ops)
    {
        int done = 0;
        foreach (var op in ops)
        {
            bool rewritten = op.OpType switch
            {
                "Conv" => _convForm == ConvForm.Integer ? RewriteConv(op) : RewriteConvWeightOnly(op),
                // ONNX has no integer ConvTranspose: its weight is int8 either way, its compute float.
                "ConvTranspose" => RewriteConvWeightOnly(op),
                "MatMul" => RewriteMatMul(op),
                "Gemm" => RewriteGemm(op),
                _ => false,
            };
            if (rewritten) { done++; _context.Count($"{op.OpType} quantized"); }
        }
        _module.RemoveUnreferencedBlobs(_freedBlobs);
        return done;
    }

    private bool RewriteConv(Operation conv)
    {
        var name = QuantGraph.OpName(conv);
        var view = new ConvOp(conv);
        var axes = Layout(conv);
        if (!ActivationOk(conv, view.X)) return false;
        var weight = WeightOf(conv, axes.WeightOperand, minRank: 3);
        if (weight is null) return false;
        var bias = OnnxViews.Optional(conv, axes.BiasOperand);
        ConstantTensor? biasValue = null;
        if (bias is not null && (biasValue = Constants.TryGet(bias, _module)) is null)
        {
            _context.Skip(conv, "its bias is not constant");
            return false;
        }
        if (conv.Result.Type is not TensorType { IsRanked: true } outType)
        {
            _context.Skip(conv, "its output rank is unknown (run --infer-shapes first)");
            return false;
        }

        var shape = weight.Type.Shape!;
        long m = shape[axes.OutputAxis];
        var values = weight.ToFloats();
        int? axis = _perChannel ? axes.OutputAxis : null;
        var (wParams, wData) = QuantMath.QuantizeTensor(values, shape, axis, QuantType.Int8, symmetric: true);
        Weights.Add(TensorRecord.ForWeight(QuantGraph.TensorName(view.W), values, wParams, QuantType.Int8, axis));

        var x = DynamicQuantize(view.X); // first: it may insert at the top of the block, which moves the builder's anchor
        var b = OpBuilder.Before(conv);
        var wq = Constants.Create(b, _module, new TensorType(QuantMath.ElementOf(QuantType.Int8), shape), wData,
            Location.Named(name + ".weight_quantized"), name + ".weight_quantized");
        var wzp = QuantGraph.ZeroPoints(b, _module, QuantType.Int8, [wParams[0].ZeroPoint], [], name + ".weight_zero_point");
        var attrs = conv.Attributes.Where(a => a.Name != MoDialect.OutputsAttr);
        var integer = b.Create("onnx.ConvInteger", [x.Results[0], wq, x.Results[2], wzp], [outType.WithElement(ElementType.I32)], attrs,
            Location.Named(name + "_quant")).Result;
        var scaleShape = wParams.Length == 1 ? Array.Empty<long>() : QuantGraph.ChannelShape(m, outType.Rank);
        var final = Rescale(b, conv, integer, x.Results[1], wParams.Select(p => p.Scale).ToArray(), scaleShape, name);
        if (biasValue is not null)
        {
            var biasConst = QuantGraph.Floats(b, _module, biasValue.ToFloats(), QuantGraph.ChannelShape(biasValue.ElementCount, outType.Rank), name + ".bias_reshaped");
            final = b.Create("onnx.Add", [final, biasConst], [outType], null, Location.Named(name + "_bias_add")).Result;
        }
        Replace(conv, final, [axes.WeightOperand, axes.BiasOperand]);
        return true;
    }

    /// <summary>
    /// Weight-only int8: <c>Conv(x, W)</c> becomes <c>Conv(x, Cast(W_q) · w_scale)</c> (scale shaped [M, 1, ...] per
    /// output channel) or <c>Conv(x, DequantizeLinear(W_q, w_scale, 0))</c> (axis 0); both give W_q[m, ...] · w_scale[m]
    /// in float32, bit for bit. The activation and the bias stay float.
    /// </summary>
    private bool RewriteConvWeightOnly(Operation conv)
    {
        var axes = Layout(conv);
        var weight = WeightOf(conv, axes.WeightOperand, minRank: 3);
        if (weight is null) return false;
        if (weight.Type.Element != ElementType.F32)
        {
            _context.Skip(conv, $"its weight is {weight.Type}: DequantizeLinear gives float32, so only a float32 weight can be stored as int8");
            return false;
        }
        var name = QuantGraph.OpName(conv);
        var shape = weight.Type.Shape!.ToArray();
        var values = weight.ToFloats();
        int? axis = _perChannel ? axes.OutputAxis : null;
        var (wParams, wData) = QuantMath.QuantizeTensor(values, shape, axis, QuantType.Int8, symmetric: true);
        Weights.Add(TensorRecord.ForWeight(QuantGraph.TensorName(conv.GetOperand(axes.WeightOperand)), values, wParams, QuantType.Int8, axis));

        var b = OpBuilder.Before(conv);
        var wq = Constants.Create(b, _module, new TensorType(ElementType.I8, shape), wData,
            Location.Named(name + ".weight_quantized"), name + ".weight_quantized");
        Value dequantized;
        if (_convForm == ConvForm.DequantizeLinear)
        {
            var (scale, zero) = QuantGraph.Params(b, _module, wParams, QuantType.Int8, name + ".weight");
            dequantized = QuantGraph.Dequantize(b, wq, scale, zero, axis, name + ".weight_DequantizeLinear");
        }
        else
        {
            // Symmetric (zero point 0): W = float(W_q) · scale, the scale broadcast along the output-channel axis.
            var paramShape = wParams.Length == 1 ? Array.Empty<long>() : shape.Select((d, i) => i == axes.OutputAxis ? d : 1L).ToArray();
            var scale = QuantGraph.Floats(b, _module, wParams.Select(p => p.Scale).ToArray(), paramShape, name + ".weight_scale");
            var cast = b.Create("onnx.Cast", [wq], [weight.Type], [new NamedAttr("to", IntegerAttr.I64(1))], Location.Named(name + ".weight_cast")).Result;
            dequantized = b.Create("onnx.Mul", [cast, scale], [weight.Type], null, Location.Named(name + ".weight_dequantized")).Result;
        }
        var old = Constants.DefiningConstant(conv.GetOperand(axes.WeightOperand));
        conv.SetOperand(axes.WeightOperand, dequantized);
        QuantGraph.EraseIfUnused(old, _module, _freedBlobs);
        WeightOnly++;
        return true;
    }

    private bool RewriteMatMul(Operation matmul)
    {
        if (!ActivationOk(matmul, matmul.GetOperand(0))) return false;
        if (!Constants.IsConstant(matmul.GetOperand(1)))
        {
            _context.Skip(matmul, "B is not constant (ONNX Runtime's dynamic quantization also leaves such MatMuls float)");
            return false;
        }
        var weight = WeightOf(matmul, 1, minRank: 2, maxRank: 2);
        if (weight is null || matmul.Result.Type is not TensorType { IsRanked: true } outType) return Skipped(matmul, weight);
        var name = QuantGraph.OpName(matmul);
        var x = DynamicQuantize(matmul.GetOperand(0));
        var b = OpBuilder.Before(matmul);
        var integer = MatMulInteger(b, x, weight.ToFloats(), weight.Type.Shape!.ToArray(), Layout(matmul).OutputAxis, QuantGraph.TensorName(matmul.GetOperand(1)),
            outType, name, alpha: 1f, out var xScale, out var wScales);
        var final = Rescale(b, matmul, integer, xScale, wScales, wScales.Length == 1 ? [] : [wScales.Length], name);
        Replace(matmul, final, [1]);
        return true;
    }

    private bool RewriteGemm(Operation gemm)
    {
        var view = new GemmOp(gemm);
        if (!ActivationOk(gemm, view.A)) return false;
        if (view.TransA != 0)
        {
            _context.Skip(gemm, "transA = 1 (A would need a transpose)");
            return false;
        }
        var axes = Layout(gemm);
        var weight = WeightOf(gemm, axes.WeightOperand, minRank: 2, maxRank: 2);
        if (weight is null || gemm.Result.Type is not TensorType { IsRanked: true } outType) return Skipped(gemm, weight);
        var c = OnnxViews.Optional(gemm, axes.BiasOperand);
        ConstantTensor? cValue = null;
        if (c is not null && (cValue = Constants.TryGet(c, _module)) is null)
        {
            _context.Skip(gemm, "its C (bias) is not constant");
            return false;
        }

        // B as [K, N]: a B whose output channels come first ([N, K], transB) is transposed once here, in the constant.
        var values = weight.ToFloats();
        long r = weight.Type.Shape![0], k = weight.Type.Shape![1];
        long[] shape = [r, k];
        if (axes.OutputAxis == 0)
        {
            var t = new float[values.Length];
            for (long i = 0; i < r; i++)
                for (long j = 0; j < k; j++) t[j * r + i] = values[i * k + j];
            values = t;
            shape = [k, r];
        }
        var name = QuantGraph.OpName(gemm);
        float alpha = (float)view.Alpha, beta = (float)view.Beta;
        var x = DynamicQuantize(view.A);
        var b = OpBuilder.Before(gemm);
        var integer = MatMulInteger(b, x, values, shape, outputAxis: 1, QuantGraph.TensorName(view.B), outType, name, alpha,
            out var xScale, out var wScales);
        var final = Rescale(b, gemm, integer, xScale, wScales, wScales.Length == 1 ? [] : [wScales.Length], name);
        if (cValue is not null)
        {
            var cs = cValue.ToFloats().Select(v => v * beta).ToArray();
            var biasConst = QuantGraph.Floats(b, _module, cs, cValue.Type.Shape!.ToArray(), name + ".bias_scaled");
            final = b.Create("onnx.Add", [final, biasConst], [outType], null, Location.Named(name + "_bias_add")).Result;
        }
        Replace(gemm, final, [axes.WeightOperand, axes.BiasOperand]);
        return true;
    }

    /// <summary>
    /// MatMulInteger of the dynamically quantized input <paramref name="x"/> and the int8 B [K, N] (per column, its
    /// <paramref name="outputAxis"/>, when per-channel).
    /// </summary>
    private Value MatMulInteger(OpBuilder b, Operation x, float[] values, long[] shape, int outputAxis, string weightName,
        TensorType outType, string name, float alpha, out Value xScale, out float[] wScales)
    {
        int? axis = _perChannel ? outputAxis : null;
        var (wParams, wData) = QuantMath.QuantizeTensor(values, shape, axis, QuantType.Int8, symmetric: true);
        Weights.Add(TensorRecord.ForWeight(weightName, values, wParams, QuantType.Int8, axis));
        var wq = Constants.Create(b, _module, new TensorType(ElementType.I8, shape), wData, Location.Named(name + ".weight_quantized"), name + ".weight_quantized");
        var wzp = QuantGraph.ZeroPoints(b, _module, QuantType.Int8, [0], [], name + ".weight_zero_point");
        xScale = x.Results[1];
        wScales = wParams.Select(p => p.Scale * alpha).ToArray();
        return b.Create("onnx.MatMulInteger", [x.Results[0], wq, x.Results[2], wzp], [outType.WithElement(ElementType.I32)], null,
            Location.Named(name + "_quant")).Result;
    }

    /// <summary>float(integer) · (x_scale · w_scale): the int32 accumulator back in float.</summary>
    private Value Rescale(OpBuilder b, Operation op, Value integer, Value xScale, float[] wScales, long[] scaleShape, string name)
    {
        var outType = (TensorType)op.Result.Type;
        var cast = b.Create("onnx.Cast", [integer], [outType], [new NamedAttr("to", IntegerAttr.I64(1))], Location.Named(name + "_cast")).Result;
        var w = QuantGraph.Floats(b, _module, wScales, scaleShape, name + ".weight_scale");
        var scales = b.Create("onnx.Mul", [xScale, w], [new TensorType(ElementType.F32, scaleShape)], null, Location.Named(name + "_scales_mul")).Result;
        return b.Create("onnx.Mul", [cast, scales], [outType], null, Location.Named(name + "_output_scale_mul")).Result;
    }

    /// <summary>The shared DynamicQuantizeLinear of <paramref name="x"/> (made once, right after x is defined).</summary>
    private Operation DynamicQuantize(Value x)
    {
        if (_dynamicQuantized.TryGetValue(x, out var existing)) return existing;
        var type = (TensorType)x.Type;
        var name = QuantGraph.TensorName(x);
        var op = QuantGraph.AfterDefinition(x).Create("onnx.DynamicQuantizeLinear", [x],
            [type.WithElement(ElementType.UI8), new TensorType(ElementType.F32, []), new TensorType(ElementType.UI8, [])], null,
            Location.Named(name + "_QuantizeLinear"));
        _dynamicQuantized[x] = op;
        return op;
    }

    /// <summary>The op's result now comes from <paramref name="final"/>, which takes its output name; old weights go.</summary>
    private void Replace(Operation op, Value final, int[] constantOperands)
    {
        if (op.GetAttr(MoDialect.OutputsAttr) is { } names && final is OpResult r) r.Owner.SetAttr(MoDialect.OutputsAttr, names);
        op.Result.ReplaceAllUsesWith(final);
        var constants = constantOperands.Where(i => i >= 0 && i < op.OperandCount).Select(i => Constants.DefiningConstant(op.GetOperand(i))).ToList();
        op.Erase();
        foreach (var c in constants) QuantGraph.EraseIfUnused(c, _module, _freedBlobs);
    }

    /// <summary>Where the weight of a Conv, Gemm or MatMul is and which axis holds its output channels (its definition says).</summary>
    private WeightAxes Layout(Operation op) =>
        _context.Dialects.Interface<IWeightLayout>(op)?.WeightAxesOf(op)
        ?? throw new MirException($"quantize-int8: {op.OpType} '{QuantGraph.OpName(op)}' has no weight layout (its operands or their rank are not known)");

    private bool ActivationOk(Operation op, Value x)
    {
        if (QuantGraph.IsF32Tensor(x) && !Constants.IsConstant(x)) return true;
        _context.Skip(op, Constants.IsConstant(x) ? "its input is a constant (fold it with --fold-constants)" : $"its input is {x.Type}, not a float32 tensor");
        return false;
    }

    /// <summary>The constant float weight at <paramref name="index"/>; a weight that is not constant is an error.</summary>
    private ConstantTensor? WeightOf(Operation op, int index, int minRank, int maxRank = int.MaxValue)
    {
        var w = op.GetOperand(index);
        if (!Constants.IsConstant(w)) throw QuantizeInt8.NotConstantWeight(op, index);
        var value = Constants.TryGet(w, _module);
        if (value is null || !value.Type.Element.IsFloat || value.Type.Rank < minRank || value.Type.Rank > maxRank)
        {
            _context.Skip(op, $"its weight {w.Type} is not a float tensor of rank {(maxRank == int.MaxValue ? $"{minRank} or more" : $"{minRank}")} with a static shape");
            return null;
        }
        return value;
    }

    private bool Skipped(Operation op, ConstantTensor? weight)
    {
        if (weight is not null) _context.Skip(op, "its output rank is unknown (run --infer-shapes first)");
        return false;
    }
}
