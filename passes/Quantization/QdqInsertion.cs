using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>
/// The static int8 rewrite in ONNX's QDQ form, as ONNX Runtime's QDQ quantizer writes it and as ONNX Runtime
/// (QLinearConv, QLinearMatMul, ... at ORT_ENABLE_ALL) and TensorRT read it:
/// <code>
/// Before: %y = "onnx.Conv"(%x, %w, %b) ; %r = "onnx.Relu"(%y)
/// After:  %xq = "onnx.QuantizeLinear"(%x, %xs, %xz) ; %xd = "onnx.DequantizeLinear"(%xq, %xs, %xz)
///         %wd = "onnx.DequantizeLinear"(%w_int8, %ws) {axis = 0}               (per output channel)
///         %bd = "onnx.DequantizeLinear"(%b_int32, %xs·%ws) {axis = 0}
///         %y  = "onnx.Conv"(%xd, %wd, %bd) loc(fused["conv", "relu"])            (the Relu is absorbed)
///         %yq = "onnx.QuantizeLinear"(%y, %ys, %yz) ; %yd = "onnx.DequantizeLinear"(%yq, %ys, %yz)
/// </code>
/// Every float input and output of a chosen op (Conv, Gemm, MatMul, Add, pools, Concat) gets one Q→DQ pair, shared
/// by all its readers (graph inputs too; graph outputs read the DQ, so they stay float). Activations: uint8
/// asymmetric over the calibrated range (int8 symmetric with symmetric activations), scale = (max − min) / 255,
/// zero point = round(−min / scale). Weights (Conv W, Gemm B, a MatMul's constant input): int8 symmetric,
/// scale = max|w| / 127, per output channel (the axis the op's <see cref="IWeightLayout"/> gives: Conv axis 0, Gemm B
/// axis 0 when transB else 1, a 2-D MatMul B axis 1) or per tensor, with no zero point (0, ONNX's default). A Conv or Gemm bias: int32 with scale = x_scale · w_scale and no
/// zero point, so the integer kernel adds it exactly. Constant inputs of Add / Concat are quantized like activations, over their own values. A MaxPool's
/// output shares its input's parameters (max commutes with a monotonic map, so this is exact). A Relu (or Clip with
/// min 0) that is the only reader of a quantized op's output is absorbed with asymmetric activations: the output's
/// range is the Relu's, whose zero point is qmin, so the QuantizeLinear itself clips at 0 exactly as the Relu did.
/// A Conv or Gemm weight that is not constant is an error naming the node (exclude it to keep it float).
/// </summary>
internal sealed class QdqInsertion
{
    public sealed record Settings(bool PerChannel, bool SymmetricActivations, string Method);

    /// <summary>An activation that gets a Q/DQ pair; its range is read from <see cref="RangeSource"/> unless it shares another's.</summary>
    private sealed class Activation(Value value, Value rangeSource)
    {
        public Value Value { get; } = value;
        public Value RangeSource { get; set; } = rangeSource;
        public Value? SameAs { get; set; }
        public QuantParams? Params { get; set; }
        public Value? Dequantized { get; set; }
    }

    private sealed record WeightUse(Operation Op, int Index, int? Axis);
    /// <summary>A bias at operand <paramref name="Index"/>, scaled by the input's scale and the scales of the weight at operand <paramref name="WeightIndex"/>.</summary>
    private sealed record BiasUse(Operation Op, int Index, Value Input, int WeightIndex);

    private readonly MirModule _module;
    private readonly PassContext _context;
    private readonly Settings _settings;
    private readonly List<Operation> _ops = new();
    private readonly Dictionary<Operation, Operation> _absorbed = new();   // op -> the Relu/Clip it absorbs
    private readonly Dictionary<Value, Value> _canonical = new();          // an absorbed Relu's result -> the op's result
    private readonly Dictionary<Value, Activation> _activations = new();
    private readonly List<Value> _constantInputs = new();
    private readonly List<WeightUse> _weights = new();
    private readonly List<BiasUse> _biases = new();
    private readonly HashSet<string> _freedBlobs = new(StringComparer.Ordinal);

    public QdqInsertion(MirModule module, PassContext context, Settings settings)
    {
        _module = module;
        _context = context;
        _settings = settings;
    }

    private QuantType ActivationType => _settings.SymmetricActivations ? QuantType.Int8 : QuantType.UInt8;

    /// <summary>The ops that will be quantized, in program order.</summary>
    public IReadOnlyList<Operation> Ops => _ops;

    /// <summary>The values whose calibration statistics give the ranges (float tensors of the model as it is now).</summary>
    public IReadOnlyList<Value> Probes =>
        _activations.Values.Where(a => a.SameAs is null).Select(a => a.RangeSource).Distinct().ToList();

    /// <summary>The float value each quantized op's output is compared with in the float model (the absorbed Relu's, if any).</summary>
    public IReadOnlyList<(Operation Op, Value FloatOutput)> LayerOutputs =>
        _ops.Where(op => _activations.ContainsKey(op.Results[0])).Select(op => (op, _activations[op.Results[0]].RangeSource)).ToList();

    /// <summary>The dequantized output of <paramref name="op"/> after <see cref="Apply"/>: what its readers see.</summary>
    public Value QuantizedOutput(Operation op) => _activations[op.Results[0]].Dequantized!;

    /// <summary>The parameters of <paramref name="op"/>'s output QuantizeLinear after <see cref="Apply"/>.</summary>
    public QuantParams OutputParams(Operation op) => _activations[op.Results[0]].Params!.Value;

    /// <summary>The tensor name the report gives the activation whose range <paramref name="probe"/> gives (after <see cref="Apply"/>: the written model's name).</summary>
    public string ActivationName(Value probe) =>
        QuantGraph.TensorName(_activations.Values.First(a => a.SameAs is null && a.RangeSource == probe).Value);

    /// <summary>The integer type activations are quantized to.</summary>
    public QuantType ActivationQuantType => ActivationType;

    /// <summary>Decides what to quantize; changes nothing. A non-constant Conv/Gemm weight is a <see cref="MirException"/>.</summary>
    public void Plan(IEnumerable<Operation> candidates)
    {
        foreach (var op in candidates)
            if (PlanOp(op)) _ops.Add(op);
        if (!_settings.SymmetricActivations)
            foreach (var op in _ops) TryAbsorb(op);
        foreach (var op in _ops) Collect(op);
    }

    private bool PlanOp(Operation op)
    {
        if (op.Results.Count != 1 || !QuantGraph.IsF32Tensor(op.Result))
        {
            _context.Skip(op, op.Results.Count != 1 ? $"it has {op.Results.Count} results" : $"its output is {op.Result.Type}, not float32");
            return false;
        }
        switch (op.OpType)
        {
            case "Conv":
            case "Gemm":
                if (!Constants.IsConstant(op.GetOperand(1))) throw QuantizeInt8.NotConstantWeight(op, 1);
                if (Constants.TryGet(op.GetOperand(1), _module) is not { Type.Element.IsFloat: true } w || (op.OpType == "Gemm" && w.Type.Rank != 2))
                    return Skip(op, "its weight is not a float tensor with a static shape");
                if (!QuantGraph.IsF32Tensor(op.GetOperand(0)) || Constants.IsConstant(op.GetOperand(0)))
                    return Skip(op, $"its input is {(Constants.IsConstant(op.GetOperand(0)) ? "a constant" : op.GetOperand(0).Type.ToString())}, not a float32 activation");
                return true;
            default:
                foreach (var v in op.Operands)
                    if (!OnnxViews.IsNoValue(v) && !QuantGraph.IsF32Tensor(v))
                        return Skip(op, $"an input is {v.Type}, not float32");
                if (op.Operands.All(v => Constants.IsConstant(v))) return Skip(op, "all its inputs are constants (fold it with --fold-constants)");
                return true;
        }
    }

    private bool Skip(Operation op, string reason)
    {
        _context.Skip(op, reason);
        return false;
    }

    /// <summary>A Relu, or a Clip from exactly 0, that alone reads the op's output and can be replaced by the output's QuantizeLinear.</summary>
    private void TryAbsorb(Operation op)
    {
        if (op.OpType is not ("Conv" or "Gemm" or "MatMul" or "Add")) return;
        var output = op.Result;
        if (output.Uses.Count != 1 || output.Uses[0].Owner is not { } user || user.GetOperand(0) != output) return;
        bool clipsAtZero = user.OpType switch
        {
            "Relu" => true,
            "Clip" => new ClipOp(user).Min is { } min && Constants.TryGet(min, _module, 1) is { } m && m.ToFloats() is [0f]
                      || new ClipOp(user).MinAttribute == 0.0,
            _ => false,
        };
        if (!clipsAtZero || user.Results.Count != 1 || !QuantGraph.IsF32Tensor(user.Result)) return;
        _absorbed[op] = user;
        _canonical[user.Result] = output;
    }

    private Value Canonical(Value v) => _canonical.GetValueOrDefault(v, v);

    private void Collect(Operation op)
    {
        var layout = _context.Dialects.Interface<IWeightLayout>(op)?.WeightAxesOf(op);
        switch (op.OpType)
        {
            case "Conv":
            {
                var axes = layout!;
                AddActivation(op.GetOperand(0));
                _weights.Add(new WeightUse(op, axes.WeightOperand, _settings.PerChannel ? axes.OutputAxis : null));
                if (OnnxViews.Optional(op, axes.BiasOperand) is { } b && Constants.IsConstant(b))
                    _biases.Add(new BiasUse(op, axes.BiasOperand, Canonical(op.GetOperand(0)), axes.WeightOperand));
                break;
            }
            case "Gemm":
            {
                var axes = layout!;
                var gemm = new GemmOp(op);
                AddActivation(gemm.A);
                _weights.Add(new WeightUse(op, axes.WeightOperand, _settings.PerChannel ? axes.OutputAxis : null));
                // C of shape [N] or [1, N] (what MatMul + Add exporters give): both broadcast over the rows alike, so it becomes an int32 [N].
                if (gemm.C is { } c && Constants.TryGet(c, _module) is { } cv
                    && (cv.Type.Rank == 1 || (cv.Type.Rank == 2 && cv.Type.Shape![0] == 1)) && gemm.Beta == 1.0 && gemm.Alpha == 1.0)
                    _biases.Add(new BiasUse(op, axes.BiasOperand, Canonical(gemm.A), axes.WeightOperand));
                break;
            }
            case "MatMul":
                for (int i = 0; i < 2; i++)
                {
                    var v = op.GetOperand(i);
                    if (!Constants.IsConstant(v)) AddActivation(v);
                    else
                    {
                        int rank = Constants.TryGet(v, _module)?.Type.Rank ?? 0;
                        // Per column of B [K, N]; a constant A, or a B of another rank, per tensor.
                        bool perColumn = _settings.PerChannel && layout is { } axes && i == axes.WeightOperand && rank == 2;
                        _weights.Add(new WeightUse(op, i, perColumn ? layout!.OutputAxis : null));
                    }
                }
                break;
            default:
                foreach (var v in op.Operands)
                {
                    if (OnnxViews.IsNoValue(v)) continue;
                    if (Constants.IsConstant(v)) { if (!_constantInputs.Contains(v)) _constantInputs.Add(v); }
                    else AddActivation(v);
                }
                break;
        }
        var output = AddActivation(op.Result);
        if (_absorbed.TryGetValue(op, out var relu)) output.RangeSource = relu.Result;
        if (op.OpType == "MaxPool") output.SameAs = Canonical(op.GetOperand(0));
    }

    private Activation AddActivation(Value v)
    {
        var c = Canonical(v);
        if (!_activations.TryGetValue(c, out var a)) _activations[c] = a = new Activation(c, v);
        return a;
    }

    /// <summary>
    /// Rewrites the module: absorbs Relus, inserts the Q/DQ pairs with ranges from <paramref name="rangeOf"/> (the
    /// calibrated [min, max] of each probe), quantizes weights, biases and constant inputs. Returns what it chose.
    /// </summary>
    /// <param name="methodOf">The method a probe's range came from, when not the settings' one (method=auto).</param>
    public List<TensorRecord> Apply(Func<Value, (float Min, float Max)> rangeOf, Func<Value, string?>? methodOf = null)
    {
        var records = new List<TensorRecord>();
        foreach (var (op, relu) in _absorbed)
        {
            op.Location = Location.Fuse(op.Location, relu.Location);
            relu.Result.ReplaceAllUsesWith(op.Result);
            relu.Erase();
            _context.Count("activations absorbed");
        }

        foreach (var a in _activations.Values.Where(a => a.SameAs is null))
        {
            var (min, max) = rangeOf(a.RangeSource);
            a.Params = QuantMath.ForRange(min, max, ActivationType, _settings.SymmetricActivations);
            records.Add(new TensorRecord(QuantGraph.TensorName(a.Value), "activation", min, max, [a.Params.Value], QuantGraph.TypeName(ActivationType),
                methodOf?.Invoke(a.RangeSource) ?? _settings.Method, null));
        }
        foreach (var a in _activations.Values.Where(a => a.SameAs is not null))
        {
            var source = a;
            while (source.SameAs is { } next && next != source.Value) source = _activations[next];
            a.Params = source.Params;
            records.Add(new TensorRecord(QuantGraph.TensorName(a.Value), "activation", float.NaN, float.NaN, [a.Params!.Value], QuantGraph.TypeName(ActivationType),
                $"same as {QuantGraph.TensorName(source.Value)}", null));
        }
        foreach (var a in _activations.Values) InsertPair(a);

        foreach (var c in _constantInputs) records.Add(QuantizeConstantInput(c));
        var weightParams = new Dictionary<Value, QuantParams[]>();
        var quantizedWeights = new Dictionary<(Value, int?), Value>();
        foreach (var use in _weights) records.AddRange(QuantizeWeight(use, weightParams, quantizedWeights));
        foreach (var bias in _biases) records.Add(QuantizeBias(bias, weightParams));

        foreach (var op in _ops) _context.Count($"{op.OpType} quantized");
        _module.RemoveUnreferencedBlobs(_freedBlobs);
        return records;
    }

    /// <summary>x → QuantizeLinear → DequantizeLinear; every reader of x (but the Q) reads the DQ.</summary>
    private void InsertPair(Activation a)
    {
        var name = QuantGraph.TensorName(a.Value);
        var b = QuantGraph.AfterDefinition(a.Value);
        var (scale, zero) = QuantGraph.Params(b, _module, [a.Params!.Value], ActivationType, name);
        var q = QuantGraph.QuantizeValue(b, a.Value, scale, zero, ActivationType, name + "_QuantizeLinear");
        var dq = QuantGraph.Dequantize(b, q, scale, zero, null, name + "_DequantizeLinear");
        foreach (var use in a.Value.Uses.ToArray())
            if (use.Owner != ((OpResult)q).Owner) use.Set(dq);
        a.Dequantized = dq;
        _context.Count("tensors quantized");
    }

    /// <summary>A constant input of Add/Concat: quantized like an activation over its own values, then dequantized.</summary>
    private TensorRecord QuantizeConstantInput(Value c)
    {
        var op = Constants.DefiningConstant(c)!;
        var value = Constants.TryGet(c, _module)!;
        var name = QuantGraph.TensorName(c);
        var values = value.ToFloats();
        var (p, data) = QuantMath.QuantizeTensor(values, value.Type.Shape!, null, ActivationType, _settings.SymmetricActivations);
        var b = OpBuilder.After(op);
        var q = Constants.Create(b, _module, value.Type.WithElement(QuantMath.ElementOf(ActivationType)), data, Location.Named(name + "_quantized"), name + "_quantized");
        var (scale, zero) = QuantGraph.Params(b, _module, p, ActivationType, name);
        var dq = QuantGraph.Dequantize(b, q, scale, zero, null, name + "_DequantizeLinear");
        c.ReplaceAllUsesWith(dq);
        QuantGraph.EraseIfUnused(op, _module, _freedBlobs);
        var (min, max) = QuantMath.MinMax(values);
        return new TensorRecord(name, "constant", min, max, p, QuantGraph.TypeName(ActivationType), "minmax", null);
    }

    private IEnumerable<TensorRecord> QuantizeWeight(WeightUse use, Dictionary<Value, QuantParams[]> weightParams, Dictionary<(Value, int?), Value> done)
    {
        var w = use.Op.GetOperand(use.Index);
        var key = (w, use.Axis);
        if (done.TryGetValue(key, out var existing))
        {
            use.Op.SetOperand(use.Index, existing);
            yield break;
        }
        var constant = Constants.DefiningConstant(w)!;
        var value = Constants.TryGet(w, _module)!;
        var name = QuantGraph.TensorName(w);
        var values = value.ToFloats();
        var (p, data) = QuantMath.QuantizeTensor(values, value.Type.Shape!, use.Axis, QuantType.Int8, symmetric: true);
        var b = OpBuilder.After(constant);
        var q = Constants.Create(b, _module, value.Type.WithElement(ElementType.I8), data, Location.Named(name + "_quantized"), name + "_quantized");
        // Symmetric int8: every zero point is 0, ONNX's default, so a Conv's is not stored; ONNX Runtime only fuses
        // DQ → Gemm/MatMul → Q into QGemm/QLinearMatMul when the weight's zero point is there.
        long[] scaleShape = p.Length == 1 ? [] : [p.Length];
        var scale = QuantGraph.Floats(b, _module, p.Select(x => x.Scale).ToArray(), scaleShape, name + "_scale");
        var zeroPoint = ConvOp.Is(use.Op) ? null : QuantGraph.ZeroPoints(b, _module, QuantType.Int8, new int[p.Length], scaleShape, name + "_zero_point");
        var dq = QuantGraph.Dequantize(b, q, scale, zeroPoint, use.Axis, name + "_DequantizeLinear");
        done[key] = dq;
        weightParams[dq] = p;
        use.Op.SetOperand(use.Index, dq);
        QuantGraph.EraseIfUnused(constant, _module, _freedBlobs);
        _context.Count("weights quantized");
        yield return TensorRecord.ForWeight(name, values, p, QuantType.Int8, use.Axis);
    }

    /// <summary>The bias as int32 with scale x_scale · w_scale[c] and zero point 0 (what QLinearConv adds to its accumulator).</summary>
    private TensorRecord QuantizeBias(BiasUse use, Dictionary<Value, QuantParams[]> weightParams)
    {
        var bias = use.Op.GetOperand(use.Index);
        var constant = Constants.DefiningConstant(bias)!;
        var value = Constants.TryGet(bias, _module)!;
        var name = QuantGraph.TensorName(bias);
        float xScale = _activations[use.Input].Params!.Value.Scale;
        var wParams = weightParams[use.Op.GetOperand(use.WeightIndex)];
        var values = value.ToFloats();
        var p = new QuantParams[wParams.Length == 1 ? 1 : values.Length];
        if (wParams.Length != 1 && wParams.Length != values.Length)
            throw new MirException($"quantize-int8: {use.Op.OpType} '{QuantGraph.OpName(use.Op)}' has {values.Length} bias values but {wParams.Length} weight channels");
        var q = new int[values.Length];
        bool clamped = false;
        for (int i = 0; i < values.Length; i++)
        {
            float s = xScale * wParams[wParams.Length == 1 ? 0 : i].Scale;
            if (wParams.Length != 1 || i == 0) p[wParams.Length == 1 ? 0 : i] = new QuantParams(s, 0);
            double r = Math.Round(values[i] / (double)s, MidpointRounding.ToEven);
            clamped |= r > int.MaxValue || r < int.MinValue;
            q[i] = (int)Math.Clamp(r, int.MinValue, int.MaxValue);
        }
        if (clamped) _context.Note($"quantize-int8: warning: bias '{name}' of '{QuantGraph.OpName(use.Op)}' overflows int32 at scale x_scale·w_scale and was clamped");
        var b = OpBuilder.Before(use.Op);
        var qc = QuantGraph.Int32s(b, _module, q, [values.Length], name + "_quantized");
        long[] shape = p.Length == 1 ? [] : [p.Length];
        var scale = QuantGraph.Floats(b, _module, p.Select(x => x.Scale).ToArray(), shape, name + "_scale");
        var dq = QuantGraph.Dequantize(b, qc, scale, null, p.Length == 1 ? null : 0, name + "_DequantizeLinear");
        use.Op.SetOperand(use.Index, dq);
        QuantGraph.EraseIfUnused(constant, _module, _freedBlobs);
        var (min, max) = QuantMath.MinMax(values);
        return new TensorRecord(name, "bias", min, max, p, "int32", "x_scale*w_scale", p.Length == 1 ? null : 0);
    }
}
