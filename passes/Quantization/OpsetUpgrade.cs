using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>
/// Raises a module's <c>ai.onnx</c> opset (from 1 or later) to at least a given version, up to 21, so that a pass
/// can use newer operators (DequantizeLinear needs 10, its per-channel <c>axis</c> 13, int4/uint4 and
/// <c>block_size</c> 21, numpy broadcasting 7), as onnx's version_converter does for the operators it knows.
/// <code>
/// Before (opset 11):  %y = "onnx.Unsqueeze"(%x) {axes = [0]}
/// After  (opset 13):  %a = "onnx.Constant"() {value = dense&lt;0&gt; : tensor&lt;1xi64&gt;}
///                     %y = "onnx.Unsqueeze"(%x, %a)
/// Before (opset 13):  %m = "onnx.ReduceMean"(%x) {axes = [2, 3], keepdims = 1}
/// After  (opset 21):  %a = "onnx.Constant"() {value = dense&lt;[2, 3]&gt; : tensor&lt;2xi64&gt;}
///                     %m = "onnx.ReduceMean"(%x, %a) {keepdims = 1}
/// </code>
/// From opsets 1 to 6 (<see cref="PlanLegacy"/>): <c>consumed_inputs</c> is dropped (6); Add, Sub, Mul, Div, Pow,
/// And, Or, Xor, Equal, Greater and Less lose <c>broadcast</c>/<c>axis</c> (7; a B aligned at an axis before A's
/// last dimensions is reshaped with trailing ones first); Gemm loses <c>broadcast</c> (7); BatchNormalization and
/// Dropout lose <c>is_test = 1</c> (7; training mode is refused); Reshape's <c>shape</c> becomes an input (5);
/// Concat without <c>axis</c> gets 1 (4); Cast-1's type name becomes its code (6); Pad-1's <c>paddings</c> becomes
/// <c>pads</c> (2); LpPool's and GlobalLpPool's float <c>p</c> becomes an integer (2); Upsample-1's height and width
/// scales become <c>scales</c> (7); Tile-1 and PRelu's slope of another rank are refused.
/// Every default-domain operation is checked against each version between the old and the new opset at which its
/// schema changed (onnx/docs/Changelog.md):
/// <list type="bullet">
/// <item>only types widened or an optional attribute/input was added with the old behaviour as default: kept
/// (Reshape's allowzero 14, RNN/GRU/LSTM's layout 14, Shape's start/end 15, ScatterElements/ScatterND's reduction
/// 16 and 18, LpPool's ceil_mode 18, Pad's axes 18, Resize's antialias/axes 18, AveragePool's dilations 19, Cast's
/// saturate 19, QuantizeLinear/DequantizeLinear's block_size 21, the int4/uint4 types of 21, ...);</item>
/// <item>an attribute became an input (Slice 10, TopK 10, Pad 11, Clip 11, Dropout 12, Squeeze, Unsqueeze,
/// ReduceSum and Split 13, the other Reduce* 18): the attribute becomes a constant input;</item>
/// <item>a default changed: the old one is written out (RoiAlign's coordinate_transformation_mode 16:
/// output_half_pixel; Split 18 with neither a split input nor num_outputs: num_outputs = its result count);
/// a value was renamed: renamed (GridSample's mode 20: bilinear → linear, bicubic → cubic);</item>
/// <item>the meaning changed: kept when the old meaning equals the new one for this operation (Softmax, LogSoftmax and
/// Hardmax at 13 only when they work on the last axis of a known rank; BatchNormalization at 9 only with
/// spatial = 1 and at 14 only without its training outputs; ConvTranspose only without auto_pad SAME_*), refused
/// otherwise (Upsample, Resize before 11, Scan before 9, Scatter, MeanVarianceNormalization before 9,
/// GroupNormalization at 21, whose scale and bias went from one per group to one per channel, DFT at 20, whose axis
/// became an input with another default);</item>
/// <item>an operator this table does not know, another dialect (tf, caffe, paddle) or a <c>mo.*</c> operation other
/// than a block terminator (an op whose definition says Terminator): refused.</item>
/// </list>
/// The IR version is raised with the opset when it is too old for it (opset 13 needs IR 7, 15 IR 8, 19 IR 9, 21
/// IR 10); initializers that IR 3 had to list as graph inputs are then written as plain initializers.
/// Subgraphs (If, Loop) are checked the same way. Nothing changes unless every operation can be upgraded (except
/// that shape inference may refine result types first, when a Softmax's rank is not yet known).
/// </summary>
public static class OpsetUpgrade
{
    /// <summary>The highest opset this upgrade knows the changes up to.</summary>
    public const int HighestTarget = 21;

    /// <summary>The lowest opset it starts from (the ONNX importer's lowest).</summary>
    public const int LowestSource = 1;

    /// <summary>The default-domain opset of the module (17, the exporter's default, when the module names none).</summary>
    public static int CurrentOpset(MirModule module) => (int)OnnxOpset.Of(module);

    /// <summary>
    /// Raises the opset to <paramref name="minimumOpset"/> when it is lower, rewriting what changed form. False, with
    /// the reason naming the operation, when an operation's meaning changed in a way it cannot rewrite; the module is
    /// then left untouched.
    /// </summary>
    public static bool TryUpgrade(MirModule module, int minimumOpset, PassContext context, out string? whyNot)
    {
        int from = CurrentOpset(module);
        whyNot = null;
        if (from >= minimumOpset) return true;
        if (minimumOpset > HighestTarget)
        {
            whyNot = $"mopt raises opsets only up to {HighestTarget}, not to {minimumOpset}";
            return false;
        }
        if (from < LowestSource)
        {
            whyNot = $"opset {from} is older than {LowestSource}, the oldest mopt upgrades from";
            return false;
        }

        if (module.AllOperations().Any(op => NeedsRank(op, from, minimumOpset)))
        {
            // Softmax's and legacy broadcasting's checks need ranks: shape inference only refines types, so it is safe to run.
            var infer = new InferShapes();
            infer.SetOptions("on-conflict=keep");
            infer.Run(module, new PassContext());
        }

        var rewrites = new List<Action>();
        var problems = new List<string>();
        foreach (var op in module.AllOperations())
        {
            var problem = Plan(op, from, minimumOpset, module, context.Dialects, rewrites);
            if (problem is not null) problems.Add($"{Describe(op)}: {problem}");
        }
        if (problems.Count > 0)
        {
            whyNot = $"cannot raise opset {from} to {minimumOpset}: " + string.Join("; ", problems.Take(3))
                     + (problems.Count > 3 ? $"; and {problems.Count - 3} more" : "");
            return false;
        }

        foreach (var rewrite in rewrites) rewrite();
        SetOpset(module, minimumOpset);
        context.Log($"opset raised from {from} to {minimumOpset} ({rewrites.Count} operations rewritten)");
        return true;
    }

    private static bool NeedsRank(Operation op, int from, int to)
    {
        static bool Unranked(Value v) => v.Type is not TensorType { Shape: not null };
        if (from < 13 && to >= 13 && (SoftmaxOp.Is(op) || LogSoftmaxOp.Is(op) || HardmaxOp.Is(op)))
            return op.OperandCount > 0 && Unranked(op.GetOperand(0));
        return from < 7 && to >= 7 && op.Dialect == OnnxDialect.Name && OnnxLegacy.LegacyBroadcastOps.Contains(op.OpType)
               && op.OperandCount == 2 && op.GetAttr("axis") is not null && op.Operands.Any(Unranked);
    }

    private static void SetOpset(MirModule module, int opset)
    {
        var m = module.Op;
        m.SetAttr(OnnxOpset.OpsetAttr, IntegerAttr.I64(opset));
        // The exporter writes opset_import's entries; the default domain's must follow.
        if (m.GetAttr(OnnxOpset.OpsetImportAttr) is DictionaryAttr imports)
        {
            var entries = imports.Entries.Select(e => e.Name is "ai.onnx" or "" ? new NamedAttr(e.Name, IntegerAttr.I64(opset)) : e).ToList();
            if (!entries.Any(e => e.Name is "ai.onnx" or "")) entries.Insert(0, new NamedAttr("ai.onnx", IntegerAttr.I64(opset)));
            m.SetAttr(OnnxOpset.OpsetImportAttr, DictionaryAttr.From(entries));
        }
        // An opset needs a file format (IR version) that knows it: opset 10 came with IR 5, 11 with 6, 12 to 14 with 7,
        // 15 to 18 with 8, 19 and 20 with 9, 21 (and int4/uint4) with 10.
        long neededIr = opset switch { <= 9 => 4, 10 => 5, 11 => 6, <= 14 => 7, <= 18 => 8, <= 20 => 9, _ => 10 };
        if (m.ReadInt("onnx.ir_version") is long ir && ir < neededIr)
        {
            m.SetAttr("onnx.ir_version", IntegerAttr.I64(neededIr));
            // Before IR 4 every initializer had to be listed as an input too; from 4 that would make it an input a
            // caller may override, which runtimes then stop treating as a constant.
            if (ir < 4) m.RemoveAttr("onnx.initializers_as_inputs");
        }
    }

    private static string Describe(Operation op) => $"{op.OpType} '{op.Location.FirstName ?? op.Name}'";

    /// <summary>Checks one operation; adds the rewrite it needs, or returns why it cannot be upgraded.</summary>
    private static string? Plan(Operation op, int from, int to, MirModule module, DialectRegistry dialects, List<Action> rewrites)
    {
        if (dialects.Has(op, OpTraits.Terminator)) return null;
        if (op.Dialect == "mo") return $"the mo dialect's {op.OpType} is bookkeeping mopt cannot check";
        if (op.Dialect != "onnx") return $"the {op.Dialect} dialect is not ONNX; lower it first";
        var type = op.OpType;
        if (type.Contains('.')) return null; // another domain (com.microsoft.*): not versioned by ai.onnx
        bool Crosses(int version) => from < version && to >= version;
        if (from < 7 && PlanLegacy(op, from, to, module, rewrites) is { } legacy) return legacy;

        switch (type)
        {
            case "Slice" when Crosses(10):
                return AttributesToInputs(op, module, rewrites, ["starts", "ends", "axes"], required: 2);
            case "TopK" when Crosses(10):
                if (new TopKOp(op).KAttribute is not long k) return "it has no k attribute";
                rewrites.Add(() => { op.RemoveAttr("k"); op.AddOperand(Int64s(op, module, [k], "k")); });
                return null;
            case "Pad" when Crosses(11):
                return PadToInputs(op, module, rewrites);
            case "Clip" when Crosses(11):
                return ClipToInputs(op, module, rewrites);
            case "Dropout" when Crosses(12) || Crosses(10):
                // Before 10 the mask had the input's type; in inference only the output is defined the same way.
                if (op.Results.Count > 1 && op.Results[1].HasUses && from < 10) return "its mask output is used and changed type at opset 10";
                if (Crosses(12) && op.ReadFloat("ratio") is double ratio) // only when given: the default needs no input
                    rewrites.Add(() =>
                    {
                        op.RemoveAttr("ratio");
                        op.AddOperand(FloatScalar(op, module, (float)ratio, "ratio"));
                    });
                return null;
            case "Squeeze" or "Unsqueeze" or "ReduceSum" when Crosses(13):
                return AxesToInput(op, module, rewrites, axesRequired: type == "Unsqueeze");
            case "ReduceMean" or "ReduceMax" or "ReduceMin" or "ReduceProd" or "ReduceL1" or "ReduceL2" or "ReduceLogSum"
                or "ReduceLogSumExp" or "ReduceSumSquare" when Crosses(18):
                return AxesToInput(op, module, rewrites, axesRequired: false);
            case "Split" when Crosses(13) || Crosses(18):
                return SplitUpgrade(op, module, rewrites, Crosses(13), Crosses(18));
            case "Softmax" or "LogSoftmax" or "Hardmax" when Crosses(13):
                return LastAxisOnly(op, rewrites);
            case "BatchNormalization" when Crosses(9) || Crosses(14):
                // From 14 the extra outputs are running statistics of training mode, not the old mean/var/saved ones.
                if (Crosses(14) && op.Results.Count > 1) return "its training outputs (mean, var, saved mean and var) changed meaning at opset 14";
                if (!Crosses(9)) return null;
                if (new BatchNormalizationOp(op).Spatial != 1) return "spatial = 0 has no equivalent from opset 9";
                rewrites.Add(() => op.RemoveAttr("spatial"));
                return null;
            case "RoiAlign" when Crosses(16):
                // RoiAlign-10 did not shift the input coordinates; 16 made the half-pixel shift the default.
                if (op.GetAttr("coordinate_transformation_mode") is null)
                    rewrites.Add(() => op.SetAttr("coordinate_transformation_mode", new StringAttr("output_half_pixel")));
                return null;
            case "GridSample" when Crosses(20):
                return GridSampleModes(op, rewrites);
            case "GroupNormalization" when Crosses(21):
                return "its scale and bias went from one value per group to one per channel at opset 21";
            case "DFT" when Crosses(20):
                return "its axis became an input, with another default, at opset 20";
            case "ConvTranspose" when Crosses(11):
                // ConvTranspose's SAME_UPPER/SAME_LOWER were swapped in runtimes for years (onnxruntime#12537); explicit pads are safe.
                return new ConvTransposeOp(op).AutoPad is "NOTSET" or "VALID" ? null : $"its auto_pad {new ConvTransposeOp(op).AutoPad} is read differently by runtimes of different versions";
            case "MeanVarianceNormalization" when Crosses(9):
                return "before opset 9 it was an experimental operator with other attributes";
            case "Upsample" when Crosses(10):
                return "Upsample is deprecated from opset 10 (Resize replaces it with other coordinates)";
            case "Resize" when Crosses(11):
                return "Resize changed its coordinate mapping and inputs at opset 11";
            case "Scan" when Crosses(9):
                return "Scan-8 has a batch axis that Scan-9 does not";
            case "Scatter" when Crosses(11):
                return "Scatter is deprecated from opset 11";
            case "Slice" or "TopK" or "Pad" or "Clip" or "Dropout" or "Squeeze" or "Unsqueeze" or "ReduceSum" or "Split"
                or "Softmax" or "LogSoftmax" or "Hardmax" or "BatchNormalization" or "Upsample" or "Resize" or "Scan" or "Scatter"
                or "ReduceMean" or "ReduceMax" or "ReduceMin" or "ReduceProd" or "ReduceL1" or "ReduceL2" or "ReduceLogSum"
                or "ReduceLogSumExp" or "ReduceSumSquare" or "RoiAlign" or "GridSample" or "GroupNormalization" or "DFT":
                return null; // no breaking version between from and to
        }
        return Unchanged.Contains(type)
            ? null
            : $"mopt does not know whether {type} changed between opset {from} and {to}";
    }

    /// <summary>
    /// Operators whose versions from 7 (or their first) to 21 only add types, accept negative axes, or add an
    /// attribute or input whose default is the old behaviour.
    /// </summary>
    private static readonly HashSet<string> Unchanged = new(StringComparer.Ordinal)
    {
        "Constant", "NoValue", "Identity", "Cast", "Shape", "Size", "Reshape", "Flatten", "Transpose", "Concat", "Gather",
        "GatherElements", "GatherND", "ScatterElements", "ScatterND", "Expand", "Tile", "Where", "NonZero", "OneHot",
        "ConstantOfShape", "Range", "Compress", "DepthToSpace", "SpaceToDepth", "EyeLike", "Unique", "CumSum",
        "ReverseSequence",
        "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Neg", "Abs", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil",
        "Round", "Sign", "Erf", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Tanh", "Asinh", "Acosh",
        "Atanh", "Sum", "Max", "Min", "Mean", "Not", "And", "Or", "Xor", "Equal", "Greater", "Less", "GreaterOrEqual",
        "LessOrEqual", "IsNaN", "IsInf", "BitShift",
        "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "Softplus", "Softsign", "Shrink",
        "Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "MaxUnpool",
        "MaxRoiPool", "RoiAlign", "LRN", "InstanceNormalization", "LpNormalization", "MeanVarianceNormalization",
        "Gemm", "MatMul", "Einsum", "Det", "ArgMax", "ArgMin",
        "RNN", "GRU", "LSTM", "NonMaxSuppression",
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger",
        "MatMulInteger",
        "If", "Loop",
        // Introduced at 14 to 20 and unchanged (or only widened) up to 21.
        "HardSwish", "Trilu", "CastLike", "Bernoulli", "LayerNormalization", "Mish", "Gelu", "BitwiseAnd", "BitwiseOr",
        "BitwiseXor", "BitwiseNot", "CenterCropPad", "Col2Im", "DeformConv", "AffineGrid", "BlackmanWindow", "HannWindow",
        "HammingWindow", "STFT", "MelWeightMatrix", "Optional", "OptionalGetElement", "OptionalHasElement",
    };

    /// <summary>The changes of opsets 2 to 7 (the operators' first standard forms): adds the rewrites, or returns why one cannot be made.</summary>
    private static string? PlanLegacy(Operation op, int from, int to, MirModule module, List<Action> rewrites)
    {
        bool Crosses(int version) => from < version && to >= version;
        var type = op.OpType;
        // consumed_inputs went at 6 (an opset-6 model that still has it is read the same: it never changed results).
        if (to >= 6 && op.GetAttr("consumed_inputs") is not null) rewrites.Add(() => op.RemoveAttr("consumed_inputs"));
        if (OnnxLegacy.LegacyBroadcastOps.Contains(type) && Crosses(7)) return BroadcastToNumpy(op, module, rewrites);
        switch (type)
        {
            case "Gemm" when Crosses(7):
                // Gemm-7 broadcasts C unidirectionally, which is what broadcast = 1 meant; without it C had the full shape.
                rewrites.Add(() => op.RemoveAttr("broadcast"));
                return null;
            case "PRelu" when Crosses(7):
                return OnnxLegacy.Differs(op, from);
            case "BatchNormalization" or "Dropout" when Crosses(7):
                if (op.ReadInt("is_test") != 1) return "without is_test = 1 it is in training mode, which has no equivalent from opset 7";
                if (type == "Dropout" && op.Results.Count > 1 && op.Results[1].HasUses) return "its mask output is used";
                rewrites.Add(() => op.RemoveAttr("is_test"));
                return null;
            case "Reshape" when Crosses(5):
                if (op.OperandCount > 1) return null;
                if (op.ReadInts("shape") is not { } shape) return "it has no shape attribute";
                rewrites.Add(() => { op.RemoveAttr("shape"); op.AddOperand(Int64s(op, module, shape, "shape")); });
                return null;
            case "Concat" when Crosses(4):
                if (op.GetAttr("axis") is null) rewrites.Add(() => op.SetAttr("axis", IntegerAttr.I64(1)));
                return null;
            case "Cast" when Crosses(6):
                if (op.GetAttr("to") is not StringAttr name) return null;
                if (OnnxLegacy.DataTypeNamed(name.Value) is not long code) return $"its target type '{name.Value}' is not an ONNX data type";
                rewrites.Add(() => op.SetAttr("to", IntegerAttr.I64(code)));
                return null;
            case "Pad" when Crosses(2):
                if (op.ReadInts("paddings") is not { } paddings) return "it has no paddings attribute";
                if (!Crosses(11)) rewrites.Add(() => { op.RemoveAttr("paddings"); op.SetAttr("pads", ArrayAttr.OfInts(paddings)); });
                return null; // PadToInputs reads paddings when it also crosses 11
            case "LpPool" or "GlobalLpPool" when Crosses(2):
                if (op.ReadFloat("p") is not double p) return null;
                if (p != Math.Floor(p)) return $"its p = {p} is not an integer, as from opset 2";
                rewrites.Add(() => op.SetAttr("p", IntegerAttr.I64((long)p)));
                return null;
            case "Split" when Crosses(2) && op.OperandCount > 1:
                // Split-1's split input is Split-13's again; the attribute form between is not written.
                return to >= 13 ? null : "its split input has no form between opsets 2 and 12";
            case "Upsample" when Crosses(7):
                if (Crosses(9)) return "Upsample-1 is converted only to Upsample-7 (scales attribute)";
                if (OnnxLegacy.UpsampleScales(op) is not { } scales) return "it has no height_scale and width_scale";
                rewrites.Add(() =>
                {
                    op.RemoveAttr("height_scale");
                    op.RemoveAttr("width_scale");
                    op.SetAttr("scales", ArrayAttr.OfFloats(scales.Select(v => (float)v)));
                });
                return null;
            case "Tile" when Crosses(6):
                return "Tile-1 (a tile count and an axis) is not converted to Tile-6 (one repeat per axis)";
        }
        return null;
    }

    /// <summary>
    /// A legacy binary operator to numpy broadcasting (7): without <c>broadcast = 1</c> the shapes were equal; with it
    /// and B aligned at A's last dimensions numpy means the same; aligned earlier, B is reshaped with trailing ones
    /// (a dynamic dimension kept by Reshape's 0).
    /// </summary>
    private static string? BroadcastToNumpy(Operation op, MirModule module, List<Action> rewrites)
    {
        if (op.ReadInt("broadcast") == 1 && op.GetAttr("axis") is not null)
        {
            if (OnnxLegacy.SecondOperandShape(op, 6) is not { } aligned) return $"broadcast = 1 aligns B at axis {op.ReadInt("axis")} and the ranks are not known";
            var b = op.GetOperand(1);
            var bType = (TensorType)b.Type;
            if (aligned.Length != bType.Shape!.Count)
                rewrites.Add(() =>
                {
                    var shape = Int64s(op, module, aligned.Select(d => d < 0 ? 0 : d).ToArray(), "aligned_shape");
                    var reshaped = OpBuilder.Before(op).Create("onnx.Reshape", [b, shape], [new TensorType(bType.Element, aligned)], null,
                        ConstantLocation(op, "aligned")).Result;
                    op.SetOperand(1, reshaped);
                });
        }
        rewrites.Add(() => { op.RemoveAttr("broadcast"); op.RemoveAttr("axis"); });
        return null;
    }

    /// <summary>Softmax before 13 flattens to 2-D at <c>axis</c> (default 1); from 13 it works on <c>axis</c> alone (default -1).</summary>
    private static string? LastAxisOnly(Operation op, List<Action> rewrites)
    {
        if (op.OperandCount < 1 || op.GetOperand(0).Type is not TensorType { Shape: { } shape }) return "its input's rank is unknown";
        long given = op.ReadInt("axis") ?? 1; // the default before 13 (the views give 13's, -1)
        long axis = given < 0 ? given + shape.Count : given;
        if (axis < 0 || axis >= shape.Count) return $"axis {given} is outside rank {shape.Count}";
        // The 2-D coercion equals the one-axis form when no dimension after the axis is larger than 1.
        for (int d = (int)axis + 1; d < shape.Count; d++)
            if (shape[d] != 1) return $"it flattens dimensions {axis}..{shape.Count - 1} into one (opset 13 normalizes only axis {axis})";
        rewrites.Add(() => op.SetAttr("axis", IntegerAttr.I64(axis)));
        return null;
    }

    /// <summary>An <c>axes</c> attribute becomes a constant input (Squeeze, Unsqueeze, ReduceSum at 13; the other Reduce* at 18).</summary>
    private static string? AxesToInput(Operation op, MirModule module, List<Action> rewrites, bool axesRequired)
    {
        if (op.OperandCount > 1) return "it already has an axes input";
        // No axes: every dimension, as an absent axes input means from then on (noop_with_empty_axes defaults to 0).
        if (op.ReadInts("axes") is not { } axes) return axesRequired ? "it has no axes attribute" : null;
        rewrites.Add(() => { op.RemoveAttr("axes"); op.AddOperand(Int64s(op, module, axes, "axes")); });
        return null;
    }

    /// <summary>
    /// Split: its <c>split</c> attribute becomes an input at 13; from 18 an equal split must say how many parts
    /// (<c>num_outputs</c>), which before was the number of results.
    /// </summary>
    private static string? SplitUpgrade(Operation op, MirModule module, List<Action> rewrites, bool crosses13, bool crosses18)
    {
        long[]? split = crosses13 ? new SplitOp(op).SplitAttribute : null;
        bool hasSplitInput = op.OperandCount > 1 && !OnnxViews.IsNoValue(op.GetOperand(1));
        if (split is not null && op.OperandCount > 1) return "it has both a split attribute and a split input";
        if (split is not null)
            rewrites.Add(() => { op.RemoveAttr("split"); op.AddOperand(Int64s(op, module, split, "split")); });
        else if (crosses18 && !hasSplitInput && op.GetAttr("num_outputs") is null)
            rewrites.Add(() => op.SetAttr("num_outputs", IntegerAttr.I64(op.Results.Count)));
        return null;
    }

    /// <summary>GridSample's modes were renamed at 20 (bilinear → linear, bicubic → cubic); nearest stays.</summary>
    private static string? GridSampleModes(Operation op, List<Action> rewrites)
    {
        string? mode = op.GetAttr("mode") is StringAttr s ? s.Value : null;
        string? renamed = mode switch { "bilinear" => "linear", "bicubic" => "cubic", _ => null };
        if (mode is not null and not "bilinear" and not "bicubic" and not "nearest") return $"its mode '{mode}' is not one GridSample-16 defines";
        if (renamed is not null) rewrites.Add(() => op.SetAttr("mode", new StringAttr(renamed)));
        return null;
    }

    private static string? AttributesToInputs(Operation op, MirModule module, List<Action> rewrites, string[] names, int required)
    {
        if (op.OperandCount > 1) return "it already has parameter inputs";
        var values = names.Select(n => op.ReadInts(n)).ToArray();
        for (int i = 0; i < required; i++)
            if (values[i] is null) return $"it has no {names[i]} attribute";
        rewrites.Add(() =>
        {
            foreach (var n in names) op.RemoveAttr(n);
            for (int i = 0; i < values.Length; i++)
                if (values[i] is { } v) op.AddOperand(Int64s(op, module, v, names[i]));
        });
        return null;
    }

    private static string? PadToInputs(Operation op, MirModule module, List<Action> rewrites)
    {
        if (op.OperandCount > 1) return "it already has a pads input";
        var pad = new PadOp(op);
        if ((pad.PadsAttribute ?? op.ReadInts("paddings")) is not { } pads) return "it has no pads attribute"; // paddings: Pad-1
        double value = pad.Value;
        if (value != 0 && op.GetOperand(0).Type is not TensorType { Element.IsFloat: true })
            return "its pad value needs the data's element type, which is not a known float type";
        rewrites.Add(() =>
        {
            op.RemoveAttr("pads");
            op.RemoveAttr("paddings");
            op.RemoveAttr("value");
            op.AddOperand(Int64s(op, module, pads, "pads"));
            if (value != 0) op.AddOperand(Scalar(op, module, ((TensorType)op.GetOperand(0).Type).Element, value, "value"));
        });
        return null;
    }

    private static string? ClipToInputs(Operation op, MirModule module, List<Action> rewrites)
    {
        if (op.OperandCount > 1) return "it already has min/max inputs";
        double? min = op.ReadFloat("min"), max = op.ReadFloat("max"); // only when given: no bound otherwise
        if ((min is not null || max is not null) && op.GetOperand(0).Type is not TensorType { Element.IsFloat: true })
            return "its bounds need the input's element type, which is not a known float type";
        rewrites.Add(() =>
        {
            op.RemoveAttr("min");
            op.RemoveAttr("max");
            if (min is null && max is null) return;
            var element = ((TensorType)op.GetOperand(0).Type).Element;
            op.AddOperand(min is double lo ? Scalar(op, module, element, lo, "min") : NoValue(op));
            if (max is double hi) op.AddOperand(Scalar(op, module, element, hi, "max"));
        });
        return null;
    }

    private static Value Int64s(Operation op, MirModule module, long[] values, string what) =>
        Constants.CreateInt64s(OpBuilder.Before(op), module, values, ConstantLocation(op, what), ConstantName(op, what));

    private static Value FloatScalar(Operation op, MirModule module, float value, string what) =>
        Scalar(op, module, ElementType.F32, value, what);

    private static Value Scalar(Operation op, MirModule module, ElementType element, double value, string what)
    {
        var bytes = new byte[element.ByteSize];
        ElementCodec.WriteFloat(bytes, element, value);
        return Constants.Create(OpBuilder.Before(op), module, new TensorType(element, []), bytes, ConstantLocation(op, what), ConstantName(op, what));
    }

    private static Value NoValue(Operation op) =>
        OpBuilder.Before(op).Create(OnnxDialect.NoValueOp, [], [ElementType.None]).Result;

    private static string ConstantName(Operation op, string what) => $"{op.Location.FirstName ?? op.OpType}.{what}";
    private static Location ConstantLocation(Operation op, string what) => Location.Named(ConstantName(op, what));
}
