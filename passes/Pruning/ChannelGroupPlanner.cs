using Mopt.Dialects.Onnx;
using Mopt.Ir;

namespace Mopt.Passes.Pruning;

/// <summary>
/// Finds every place a Conv's output channels flow, and every other Conv that must lose the same channels, by walking
/// the graph from the Conv's output: forward through each user, and backward from each residual join to every
/// group-1 Conv producing its other operand (PaddleSlim's collection walk, on onnx.*). The result is one
/// <see cref="ChannelGroup"/>, or the reason the whole group cannot be pruned safely.
/// </summary>
internal sealed class ChannelGroupPlanner
{
    /// <summary>Ops that keep every channel where it is (element-wise, pools); their extra operands must be constant scalars.</summary>
    private static readonly HashSet<string> PassThrough =
    [
        "onnx.Relu", "onnx.LeakyRelu", "onnx.Sigmoid", "onnx.Tanh", "onnx.Elu", "onnx.Selu", "onnx.HardSigmoid",
        "onnx.HardSwish", "onnx.Softplus", "onnx.Softsign", "onnx.Mish", "onnx.Gelu", "onnx.Identity", "onnx.Dropout",
        "onnx.MaxPool", "onnx.AveragePool", "onnx.GlobalAveragePool", "onnx.GlobalMaxPool", "onnx.Clip", "onnx.Abs", "onnx.Neg",
    ];

    private readonly MirModule _module;
    private readonly long _channels;
    private readonly Operation _master;
    private readonly Dictionary<Value, ChannelMap> _values = [];
    private readonly Queue<Value> _pending = new();
    private readonly HashSet<(Operation Op, int Role)> _done = [];
    private readonly List<Operation> _producers = [];
    private readonly List<Operation> _depthwise = [];
    private readonly List<ChannelSlice> _slices = [];
    private readonly Dictionary<Operation, ChannelMap> _groupAttrs = [];

    private ChannelGroupPlanner(Operation master, MirModule module, long channels)
    {
        _master = master;
        _module = module;
        _channels = channels;
    }

    /// <summary>Role of a visit to an op: as the producer of the channels (its output), or as a reader of its operand i (≥ 0).</summary>
    private const int AsProducer = -1;

    /// <summary>The group of <paramref name="master"/>'s output channels, or null and why it cannot be pruned.</summary>
    public static ChannelGroup? Plan(Operation master, MirModule module, out string reason)
    {
        reason = "";
        if (Constants.TryGet(master.GetOperand(1), module) is not { Type.Element.IsFloat: true, Type.Shape: { Count: >= 3 } ws })
        { reason = "weight is not a constant float tensor of rank 3 or more"; return null; }
        if (IsDepthwise(master, out _))
        { reason = "a depthwise Conv is pruned only in lockstep with the Conv feeding it, never on its own"; return null; }
        if ((master.ReadInt("group") ?? 1) != 1)
        { reason = $"grouped Conv (group = {master.ReadInt("group")}): not pruned"; return null; }
        var planner = new ChannelGroupPlanner(master, module, ws[0]);
        if (planner.Walk() is { } why) { reason = why; return null; }
        var producers = planner._producers.OrderBy(p => p == master ? 0 : 1).ToList();
        return new ChannelGroup(master, ws[0], producers, planner._depthwise, planner._slices, planner._values, planner._groupAttrs);
    }

    private string? Walk()
    {
        if (Producer(_master, ChannelMap.Identity) is { } why) return why;
        while (_pending.Count > 0)
        {
            var v = _pending.Dequeue();
            var map = _values[v];
            if (v is OpResult { Owner: var owner } && !_done.Contains((owner, AsProducer)) && Backward(owner, v, map) is { } back) return back;
            if (v is BlockArgument)
                return $"a graph input joins the channels (an identity shortcut from the model input): every member of a residual group must be a Conv";
            foreach (var use in v.Uses.ToList())
                if (_done.Add((use.Owner, use.Index)) && Forward(use.Owner, use.Index, v, map) is { } fwd) return fwd;
        }
        return null;
    }

    /// <summary>Adds a tensor of the group; the same tensor reached with its channels somewhere else cannot be pruned.</summary>
    private string? Add(Value v, ChannelMap map, Operation via)
    {
        if (_values.TryGetValue(v, out var known))
            return known == map ? null : $"{Who(via)} receives the channels at two different places";
        if (v.Type is not TensorType { IsRanked: true } t || t.Rank < 2 || t.Shape![1] < 0)
            return $"the channels reach a tensor of type {v.Type} with no static axis 1";
        if (t.Shape[1] < map.Offset + _channels * map.Block)
            return $"the channels reach a tensor of type {v.Type} whose axis 1 is not the {_channels} channels";
        _values[v] = map;
        _pending.Enqueue(v);
        return null;
    }

    /// <summary>A group-1 Conv producing the channels: its weight's output channels and its bias lose them.</summary>
    private string? Producer(Operation conv, ChannelMap map)
    {
        _done.Add((conv, AsProducer));
        if (IsDepthwise(conv, out _) || (conv.ReadInt("group") ?? 1) != 1) return $"{Who(conv)} is a grouped Conv producing channels of the group";
        if (!map.IsIdentity || Constants.TryGet(conv.GetOperand(1), _module) is not { Type.Shape: { Count: >= 3 } ws } || ws[0] != _channels)
            return $"{Who(conv)} produces the channels but has no constant weight with {_channels} output channels";
        _producers.Add(conv);
        _slices.Add(new(conv, 1, 0, map));
        if (conv.OperandCount > 2 && conv.GetOperand(2).Type is TensorType)
        {
            if (Constants.TryGet(conv.GetOperand(2), _module) is not { } b || b.ElementCount != _channels) return $"{Who(conv)}'s bias is not a constant of {_channels} elements";
            _slices.Add(new(conv, 2, 0, map));
        }
        return Add(conv.Result, map, conv);
    }

    /// <summary>Walks back from a tensor of the group to the op that made it (reached through a residual join).</summary>
    private string? Backward(Operation op, Value v, ChannelMap map)
    {
        _done.Add((op, AsProducer));
        if (OnnxOpset.Stated(_module) is long opset && OnnxLegacy.Differs(op, opset) is { } legacy) return $"{Who(op)} joins the channels: {legacy}";
        if (op.Name == "onnx.Conv" && v == op.Result && (op.ReadInt("group") ?? 1) == 1) return Producer(op, map);
        if (op.Name == "onnx.Conv" && IsDepthwise(op, out long m))
        {
            if (map.Offset % m != 0 || map.Block % m != 0) return $"{Who(op)} has a channel multiplier the group's channels do not line up with";
            var input = new ChannelMap(map.Offset / m, map.Block / m);
            return Add(op.GetOperand(0), input, op);
        }
        // The op's own constants are sliced when the walk comes forward again from its input.
        if (IsChannelwise(op) && op.OperandCount >= 1 && op.Results.Count == 1)
            return Add(op.GetOperand(0), map, op);
        if (op.Name is "onnx.PRelu" or "onnx.Mul" or "onnx.Add" or "onnx.Sub" or "onnx.Div" && op.OperandCount == 2)
        {
            int constant = Constants.TryGet(op.GetOperand(1), _module) is not null ? 1 : Constants.TryGet(op.GetOperand(0), _module) is not null ? 0 : -1;
            if (constant >= 0) return Add(op.GetOperand(1 - constant), map, op);
            if (op.Name is "onnx.PRelu" or "onnx.Div") return $"{Who(op)} reaches a residual join with a non-constant second operand";
            if (!map.IsIdentity) return $"{Who(op)} joins the channels after they moved (a Concat or channel multiplier): cannot follow offsets";
            return Add(op.GetOperand(0), map, op) ?? Add(op.GetOperand(1), map, op);
        }
        return $"{Who(op)} produces channels that a residual join ties to the group: only Convs, BatchNormalizations, activations, per-channel constants and depthwise Convs can be followed back";
    }

    /// <summary>Follows the channels into <paramref name="user"/>, which reads tensor <paramref name="v"/> of the group as operand <paramref name="index"/>.</summary>
    private string? Forward(Operation user, int index, Value v, ChannelMap map)
    {
        var vt = (TensorType)v.Type;
        long length = vt.Shape![1];
        if (user.Name == "func.return") return "its channels reach a graph output, whose shape would change";
        // The channel rules below read operators as their current opset defines them (legacy broadcasting would slice the wrong axis).
        if (OnnxOpset.Stated(_module) is long opset && OnnxLegacy.Differs(user, opset) is { } legacy) return $"its channels reach {Who(user)}: {legacy}";
        if (user.Name == "onnx.Conv" && index == 0)
        {
            if (IsDepthwise(user, out long m))
            {
                _done.Add((user, AsProducer));
                _depthwise.Add(user);
                _groupAttrs[user] = map;
                _slices.Add(new(user, 1, 0, map.Widen(m)));
                if (user.OperandCount > 2 && user.GetOperand(2).Type is TensorType)
                {
                    if (Constants.TryGet(user.GetOperand(2), _module) is null) return $"{Who(user)}'s bias is not a constant";
                    _slices.Add(new(user, 2, 0, map.Widen(m)));
                }
                return Add(user.Result, map.Widen(m), user);
            }
            if ((user.ReadInt("group") ?? 1) != 1) return $"its channels reach {Who(user)}, a grouped Conv that is not depthwise";
            if (Constants.TryGet(user.GetOperand(1), _module) is not { Type.Shape: { Count: >= 3 } s } || s[1] != length)
                return $"{Who(user)} has no constant weight with {length} input channels";
            _slices.Add(new(user, 1, 1, map));
            return null;
        }
        if (user.Name == "onnx.Concat" && user.Results.Count == 1)
        {
            if (OnnxLegacy.ConcatAxis(user, OnnxOpset.Stated(_module)) is not long axis) return $"{Who(user)} has no axis";
            if (axis != 1 && axis != 1 - vt.Rank) return $"its channels reach {Who(user)} on axis {axis}, not the channel axis";
            long offset = 0;
            for (int i = 0; i < index; i++)
            {
                if (user.GetOperand(i).Type is not TensorType { IsRanked: true } it || it.Shape![1] < 0) return $"{Who(user)} has an input with no static axis 1";
                offset += it.Shape[1];
            }
            _done.Add((user, AsProducer));
            return Add(user.Result, map with { Offset = map.Offset + offset }, user);
        }
        if (user.Name == "onnx.Squeeze" && index == 0 && user.Results.Count == 1)
        {
            // Squeezing spatial axes (GAP's 1x1) leaves the channels on axis 1.
            var axes = user.ReadInts("axes") ?? (user.OperandCount > 1 ? Constants.TryGet(user.GetOperand(1), _module)?.ToInt64s() : null);
            if (axes is null || axes.Any(a => (a < 0 ? a + vt.Rank : a) < 2)) return $"its channels reach {Who(user)}, which does not squeeze only axes 2 and after";
            _done.Add((user, AsProducer));
            return Add(user.Result, map, user);
        }
        if (user.Name == "onnx.Flatten" && index == 0 && (user.ReadInt("axis") ?? 1) == 1)
        {
            long block = 1;
            for (int i = 2; i < vt.Rank; i++)
            {
                if (vt.Shape[i] < 0) return $"{Who(user)} flattens a dynamic dimension ({i})";
                block *= vt.Shape[i];
            }
            _done.Add((user, AsProducer));
            return Add(user.Result, map.Widen(block), user);
        }
        if (user.Name is "onnx.Gemm" or "onnx.MatMul" && index == 0 && vt.Rank == 2)
        {
            if ((user.ReadInt("transA") ?? 0) != 0) return $"{Who(user)} transposes its input";
            bool transB = (user.ReadInt("transB") ?? 0) != 0;
            if (Constants.TryGet(user.GetOperand(1), _module) is not { Type.Shape: { Count: 2 } bs } || bs[transB ? 1 : 0] != length)
                return $"{Who(user)} has no constant 2-D weight with {length} inputs";
            _slices.Add(new(user, 1, transB ? 1 : 0, map));
            return null;
        }
        if (user.Name == "onnx.BatchNormalization" && index == 0 && user.Results.Count == 1 && user.OperandCount == 5)
        {
            for (int i = 1; i < 5; i++)
                if (Constants.TryGet(user.GetOperand(i), _module) is not { } p || p.ElementCount != length) return $"{Who(user)} has a parameter that is not a constant of {length} elements";
            for (int i = 1; i < 5; i++) _slices.Add(new(user, i, 0, map));
            _done.Add((user, AsProducer));
            return Add(user.Result, map, user);
        }
        if (PassThrough.Contains(user.Name) && index == 0 && user.Results.Count == 1)
        {
            for (int i = 1; i < user.OperandCount; i++)
                if (user.GetOperand(i).Type is TensorType && Constants.TryGet(user.GetOperand(i), _module) is not { ElementCount: <= 1 })
                    return $"{Who(user)} has an operand that is not a constant scalar";
            _done.Add((user, AsProducer));
            return Add(user.Result, map, user);
        }
        if (user.Name is "onnx.Mul" or "onnx.Add" or "onnx.Sub" or "onnx.Div" or "onnx.PRelu" && user.OperandCount == 2)
        {
            int other = 1 - index;
            if (user.GetOperand(other) == v) { _done.Add((user, AsProducer)); return Add(user.Result, map, user); }
            if (user.Result.Type is not TensorType rt || !rt.Equals(vt)) return $"{Who(user)} broadcasts the channels to a larger shape";
            if (Constants.TryGet(user.GetOperand(other), _module) is { Type.Shape: { } cs })
            {
                if (user.Name is "onnx.PRelu" or "onnx.Div" && other == 0) return $"{Who(user)} reads the channels as its second operand";
                int axis = cs.Count - (vt.Rank - 1);
                if (cs.Count > vt.Rank) return $"{Who(user)} has a constant of higher rank";
                bool perChannel = axis >= 0 && cs[axis] == length && length > 1;
                for (int i = 0; i < cs.Count; i++)
                    if (cs[i] != 1 && !(perChannel && i == axis)) return $"{Who(user)} has a constant that is not per-channel (shape [{string.Join(", ", cs)}])";
                if (perChannel) _slices.Add(new(user, other, axis, map));
                _done.Add((user, AsProducer));
                return Add(user.Result, map, user);
            }
            if (user.Name is "onnx.PRelu" or "onnx.Div") return $"{Who(user)} divides or gates the channels by a non-constant tensor";
            // A residual join: the other operand carries the same channels, so whatever made it loses them too.
            if (user.GetOperand(other).Type is not TensorType ot || !ot.Equals(vt)) return $"{Who(user)} joins the channels with a tensor of another shape";
            if (!map.IsIdentity) return $"{Who(user)} joins the channels after they moved (a Concat or channel multiplier): cannot follow offsets";
            _done.Add((user, AsProducer));
            return Add(user.GetOperand(other), map, user) ?? Add(user.Result, map, user);
        }
        return $"its channels reach {Who(user)}, which cannot shrink with them";
    }

    /// <summary>BatchNormalization and pass-through ops: the output's channels are the input's.</summary>
    private static bool IsChannelwise(Operation op) =>
        op.Name == "onnx.BatchNormalization" || PassThrough.Contains(op.Name);

    /// <summary>A Conv with group == its input channels (and a whole channel multiplier <paramref name="multiplier"/> = C_out / group).</summary>
    public static bool IsDepthwise(Operation conv, out long multiplier)
    {
        multiplier = 0;
        long group = conv.ReadInt("group") ?? 1;
        if (conv.Name != "onnx.Conv" || group <= 1 || conv.OperandCount < 2) return false;
        if (conv.GetOperand(0).Type is not TensorType { IsRanked: true } x || x.Rank < 3 || x.Shape![1] != group) return false;
        if (conv.GetOperand(1).Type is not TensorType { IsRanked: true } w || w.Rank < 3 || w.Shape![1] != 1 || w.Shape[0] % group != 0) return false;
        multiplier = w.Shape[0] / group;
        return true;
    }

    private static string Who(Operation op) => op.Location.FirstName is { } n ? $"{op.Name} {n}" : op.Name;
}
