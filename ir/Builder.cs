namespace Mopt.Ir;

/// <summary>Creates operations at an insertion point: how passes and frontends write IR from C#.</summary>
public sealed class OpBuilder
{
    private Block _block;
    private int _index;

    public OpBuilder(Block block) { _block = block; _index = block.Operations.Count; }

    public static OpBuilder AtEnd(Block block) => new(block);
    public static OpBuilder Before(Operation op) { var b = new OpBuilder(op.Parent!); b.SetInsertionPointBefore(op); return b; }
    public static OpBuilder After(Operation op) { var b = new OpBuilder(op.Parent!); b.SetInsertionPointAfter(op); return b; }

    public Block Block => _block;

    /// <summary>Told of each operation this builder inserts (a rewriter's driver keeps its worklist with it).</summary>
    public Action<Operation>? Inserted { get; set; }

    public void SetInsertionPointToEnd(Block block) { _block = block; _index = block.Operations.Count; }
    public void SetInsertionPointBefore(Operation op) { _block = op.Parent!; _index = _block.IndexOf(op); }
    public void SetInsertionPointAfter(Operation op) { _block = op.Parent!; _index = _block.IndexOf(op) + 1; }

    /// <summary>Creates <paramref name="name"/> and inserts it; the insertion point moves past it.</summary>
    public Operation Create(string name, IEnumerable<Value> operands, IEnumerable<MirType> resultTypes,
        IEnumerable<NamedAttr>? attributes = null, Location? location = null)
    {
        var op = new Operation(name, operands, resultTypes, attributes, location);
        _block.Insert(_index++, op);
        Inserted?.Invoke(op);
        return op;
    }

    /// <summary><c>func.return</c> of <paramref name="values"/>.</summary>
    public Operation Return(IEnumerable<Value> values, Location? location = null) =>
        Create(FuncOp.ReturnOpName, values, [], null, location);
}
