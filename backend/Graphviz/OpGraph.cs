using System.Globalization;
using System.Text;
using Mopt.Ir;

namespace Mopt.Backend.Graphviz;

/// <summary>
/// A module as the nodes and edges the DOT writer draws. Every operation is a node, except: the function's
/// <c>return</c> (each of its operands is a result node instead), <c>func.func</c> and the module (clusters, when a module
/// has several functions), and a constant (an op whose definition is ConstantLike, without operands or regions) that
/// only ops read: it is folded into the label of each op reading it. Ops with regions get one cluster per region
/// (per block when a region has several), with the blocks' arguments as argument nodes.
/// <para>
/// Each node has a key a diff matches it by: its scope's key and its name (the first name of its location), with
/// <c>#2</c>, <c>#3</c> for repeats in IR order; an op without a name is keyed by its op name and its inputs' keys.
/// Arguments and results are keyed by <c>mo.name</c>, else position.
/// </para>
/// </summary>
internal sealed class OpGraph
{
    private readonly DialectRegistry _dialects;
    private readonly Dictionary<Value, (GraphNode Node, int Result)> _sources = new();
    private readonly Dictionary<Value, Operation> _folded = new();
    private readonly Dictionary<string, int> _keyCounts = new(StringComparer.Ordinal);
    private int _ids;

    private OpGraph(MirModule module, DialectRegistry dialects)
    {
        Module = module;
        _dialects = dialects;
        Root = new GraphScope("", "");
    }

    public MirModule Module { get; }
    public DialectRegistry Dialects => _dialects;
    public GraphScope Root { get; }
    public List<GraphNode> Nodes { get; } = new();
    public List<GraphEdge> Edges { get; } = new();
    public Dictionary<string, GraphNode> ByKey { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, GraphScope> Scopes { get; } = new(StringComparer.Ordinal);

    public static OpGraph Build(MirModule module, DialectRegistry dialects)
    {
        var graph = new OpGraph(module, dialects);
        graph.Scopes[""] = graph.Root;
        int functions = module.Body.Operations.Count(o => o.Name == FuncOp.OpName);
        foreach (var op in module.Body.Operations)
        {
            if (op.Name == FuncOp.OpName && op.RegionCount == 1 && op.Regions[0].Blocks.Count > 0)
                graph.AddFunction(new FuncOp(op), functions > 1);
            else
                graph.AddOp(op, graph.Root);
        }
        return graph;
    }

    /// <summary>A fresh node id: <c>n0</c>, <c>n1</c>, ...</summary>
    public string NextId(string prefix) => prefix + (_ids++).ToString(CultureInfo.InvariantCulture);

    private void AddFunction(FuncOp func, bool cluster)
    {
        var scope = Root;
        if (cluster)
        {
            scope = new GraphScope("@" + func.Name, "func @" + func.Name);
            Root.Children.Add(scope);
            Scopes[scope.Key] = scope;
        }
        for (int i = 0; i < func.Arguments.Count; i++)
        {
            var name = func.ArgName(i) ?? func.Arguments[i].Location.FirstName ?? $"arg{i}";
            var node = AddNode(new GraphNode(NextId("a"), UniqueKey(scope.Key + "/in:" + name), NodeKind.Argument, scope)
                { Type = func.Arguments[i].Type, Name = name, Module = Module });
            _sources[func.Arguments[i]] = (node, 0);
        }
        foreach (var op in func.Body.Operations)
        {
            if (op.Name == FuncOp.ReturnOpName && op.RegionCount == 0) AddResults(func, op, scope);
            else AddOp(op, scope);
        }
    }

    private void AddResults(FuncOp func, Operation ret, GraphScope scope)
    {
        for (int i = 0; i < ret.OperandCount; i++)
        {
            var value = ret.GetOperand(i);
            var name = func.ResultName(i) ?? $"result{i}";
            var node = AddNode(new GraphNode(NextId("r"), UniqueKey(scope.Key + "/out:" + name), NodeKind.Result, scope)
                { Type = value.Type, Name = name, Module = Module });
            var input = InputOf(value);
            node.Inputs.Add(input);
            if (input.Source is { } source) Edges.Add(new GraphEdge(source, node, EdgeLabel(value, input)));
        }
    }

    private void AddOp(Operation op, GraphScope scope)
    {
        if (IsFolded(op))
        {
            _folded[op.Result] = op;
            return;
        }
        var inputs = new GraphInput[op.OperandCount];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = InputOf(op.GetOperand(i));
        var node = AddNode(new GraphNode(NextId("n"), UniqueKey(scope.Key + "/" + (op.Location.FirstName ?? StructuralName(op, inputs))), NodeKind.Operation, scope)
            { Op = op, Module = Module });
        for (int i = 0; i < inputs.Length; i++)
        {
            var input = inputs[i];
            node.Inputs.Add(input);
            if (input.Constant is { } constant) node.Weights.Add(new FoldedWeight(i, SlotName(op, i, constant), constant));
            else if (input.Source is { } source) Edges.Add(new GraphEdge(source, node, EdgeLabel(op.GetOperand(i), input)));
        }
        for (int r = 0; r < op.Results.Count; r++) _sources[op.Results[r]] = (node, r);
        for (int r = 0; r < op.RegionCount; r++)
        {
            var blocks = op.Regions[r].Blocks;
            for (int b = 0; b < blocks.Count; b++)
            {
                var suffix = $"region {r}" + (blocks.Count > 1 ? $" ^bb{b}" : "");
                var inner = new GraphScope(node.Key + "/" + suffix, $"{DisplayName(op)} {op.Location.FirstName ?? ""} {suffix}".Replace("  ", " ", StringComparison.Ordinal));
                scope.Children.Add(inner);
                Scopes[inner.Key] = inner;
                for (int a = 0; a < blocks[b].Arguments.Count; a++)
                {
                    var arg = blocks[b].Arguments[a];
                    var argNode = AddNode(new GraphNode(NextId("a"), UniqueKey(inner.Key + "/in:" + a.ToString(CultureInfo.InvariantCulture)), NodeKind.Argument, inner)
                        { Type = arg.Type, Name = arg.Location.FirstName ?? $"^bb{b} arg {a}", Module = Module });
                    _sources[arg] = (argNode, 0);
                }
                foreach (var innerOp in blocks[b].Operations) AddOp(innerOp, inner);
            }
        }
    }

    private GraphNode AddNode(GraphNode node)
    {
        Nodes.Add(node);
        node.Scope.Nodes.Add(node);
        ByKey[node.Key] = node;
        return node;
    }

    /// <summary>The key itself the first time, then <c>key#2</c>, <c>key#3</c> (names repeat in some models).</summary>
    private string UniqueKey(string key)
    {
        ref int count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_keyCounts, key, out _);
        count++;
        return count == 1 ? key : key + "#" + count.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A constant only ops read (not the function's return, which draws a result node from it): drawn in their labels.</summary>
    private bool IsFolded(Operation op)
    {
        if (op.OperandCount != 0 || op.RegionCount != 0 || op.Results.Count != 1 || !op.Result.HasUses) return false;
        if (!_dialects.Has(op, OpTraits.ConstantLike)) return false;
        foreach (var use in op.Result.Uses)
            if (use.Owner.Name == FuncOp.ReturnOpName && use.Owner.Parent?.Parent.Parent?.Name == FuncOp.OpName) return false;
        return true;
    }

    private GraphInput InputOf(Value value)
    {
        if (_folded.TryGetValue(value, out var constant)) return new GraphInput(null, 0, constant);
        if (_sources.TryGetValue(value, out var source)) return new GraphInput(source.Node, source.Result, null);
        return new GraphInput(null, 0, null); // not defined before its use (a graph region): no edge
    }

    private static string EdgeLabel(Value value, GraphInput input) =>
        input.Source?.Op is { Results.Count: > 1 } ? $"#{input.ResultIndex} {DotText.Shape(value.Type)}" : DotText.Shape(value.Type);

    /// <summary>An unnamed op's key: its op name and a hash of its inputs' keys (a chain of them would make long keys).</summary>
    private static string StructuralName(Operation op, GraphInput[] inputs)
    {
        var sb = new StringBuilder(op.Name);
        foreach (var input in inputs)
            sb.Append('|').Append(input.Source is { } s ? s.Key + ":" + input.ResultIndex : input.Constant is { } c ? "const " + (c.Location.FirstName ?? c.Result.Type.Text) : "?");
        ulong hash = 14695981039346656037UL; // FNV-1a: the same in both graphs of a diff, unlike string.GetHashCode
        foreach (var ch in sb.ToString()) hash = (hash ^ ch) * 1099511628211UL;
        return $"{op.Name}@{hash:x16}";
    }

    /// <summary>
    /// Operand <paramref name="slot"/>'s name from the op's definition (<c>W</c>, <c>B</c>), else a Caffe blob's index
    /// (<c>blobs[0]</c>), else the constant's name (a Paddle parameter's), else <c>#slot</c>.
    /// </summary>
    public string SlotName(Operation op, int slot, Operation? constant)
    {
        if (_dialects.Find(op) is { } def && slot < def.Operands.Length)
        {
            bool fixedBefore = true;
            for (int i = 0; i < slot && fixedBefore; i++) fixedBefore = def.Operands[i].Arity != Arity.Variadic;
            if (fixedBefore && def.Operands[slot].Arity != Arity.Variadic) return def.Operands[slot].Name;
        }
        // A Caffe layer's trailing operands are its blobs (caffe.blobs of them), each named after the layer: blobs[k] says more.
        if (op.GetInt("caffe.blobs") is long blobs && slot >= op.OperandCount - blobs)
            return $"blobs[{(slot - (op.OperandCount - blobs)).ToString(CultureInfo.InvariantCulture)}]";
        return constant?.Location.FirstName ?? "#" + slot.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The op type as a label shows it: <c>Conv</c> for the hub dialect's ops, <c>caffe.Convolution</c> for the others.</summary>
    public static string DisplayName(Operation op) => op.Dialect == "onnx" ? op.OpType : op.Name;
}
