namespace Mopt.Ir;

/// <summary>
/// Checks the invariants every pass relies on: each operand is defined before its use and in scope, use lists
/// agree with operands, functions return what their signature says and end with their return, a terminator
/// (<c>func.return</c>; with a registry, every op whose definition has <see cref="OpTraits.Terminator"/>) is the
/// last operation of its block, as mlir-opt requires, and every constant's bytes exist and have the size its
/// type needs. Runs after parsing and after every pass.
/// </summary>
public static class Verifier
{
    /// <summary>
    /// Throws a <see cref="MirException"/> naming the first broken operation. <paramref name="context"/> says who is
    /// checking; <paramref name="dialects"/>, when given, says which other operations are terminators.
    /// </summary>
    public static void Verify(MirModule module, string? context = null, DialectRegistry? dialects = null)
    {
        var errors = Check(module, dialects);
        if (errors.Count == 0) return;
        var (op, message) = errors[0];
        var more = errors.Count > 1 ? $" (and {errors.Count - 1} more problems)" : "";
        var where = op?.SourcePosition;
        var what = op is null ? message : $"'{op.Name}'{Describe(op.Location)}: {message}";
        // With a position the message already says where; without one, the operation's name and location do.
        throw new MirException(context is null ? what + more : $"{context}: {what}{more}", where);
    }

    /// <summary>Every problem found, each with the operation it is about.</summary>
    public static List<(Operation? Op, string Message)> Check(MirModule module, DialectRegistry? dialects = null)
    {
        var errors = new List<(Operation?, string)>();
        var visible = new HashSet<Value>();
        CheckRegionOps(module.Op, module, dialects, visible, errors);
        return errors;
    }

    // The verifier runs after every pass: it loops by index over the IR's own lists (a foreach over an
    // IReadOnlyList allocates an enumerator, and each element read through the interface is a dispatched call).
    private static void CheckRegionOps(Operation parent, MirModule module, DialectRegistry? dialects, HashSet<Value> visible,
        List<(Operation?, string)> errors)
    {
        bool isFunction = parent.Name == FuncOp.OpName;
        var regions = parent.RegionList;
        if (regions is null) return;
        for (int r = 0; r < regions.Count; r++)
        {
            var region = regions[r];
            // A function's body sees nothing from outside; other regions see their parent's values.
            var blocks = region.BlockList;
            var scope = isFunction ? new HashSet<Value>(ValueCount(blocks)) : new HashSet<Value>(visible);
            for (int b = 0; b < blocks.Count; b++)
            {
                var block = blocks[b];
                var arguments = block.ArgumentList;
                for (int i = 0; i < arguments.Count; i++) scope.Add(arguments[i]);
                var ops = block.OperationList;
                var last = ops.Count > 0 ? ops[^1] : null;
                for (int i = 0; i < ops.Count; i++)
                {
                    var op = ops[i];
                    if (op.Parent != block) errors.Add((op, "its parent link does not point at the block that holds it"));
                    if (op.Name == FuncOp.ReturnOpName && !isFunction)
                        errors.Add((op, $"must be directly inside a func.func, not in '{parent.Name}' (as mlir-opt requires)"));
                    if (op != last && IsTerminator(op, dialects))
                        errors.Add((op, "must be the last operation in the parent block (as mlir-opt requires)"));
                    CheckOperation(op, module, scope, errors);
                    if (op.RegionList is { Count: > 0 }) CheckRegionOps(op, module, dialects, scope, errors);
                    var results = op.ResultList;
                    for (int k = 0; k < results.Length; k++) scope.Add(results[k]);
                }
            }
            if (isFunction && blocks.Count > 0) CheckFunction(new FuncOp(parent), errors);
        }
    }

    // An upper bound of the values a function body defines (its arguments and one result per operation, most
    // have one), so its scope set is sized once instead of growing through a rehash at every doubling.
    private static int ValueCount(List<Block> blocks)
    {
        int count = 0;
        for (int b = 0; b < blocks.Count; b++) count += blocks[b].ArgumentList.Count + blocks[b].OperationList.Count;
        return count;
    }

    // func.return is the core's own terminator; any other op is one only if its registered definition says so.
    private static bool IsTerminator(Operation op, DialectRegistry? dialects) =>
        op.Name == FuncOp.ReturnOpName || (dialects is not null && dialects.Has(op, OpTraits.Terminator));

    private static void CheckOperation(Operation op, MirModule module, HashSet<Value> scope, List<(Operation?, string)> errors)
    {
        var slots = op.OperandList;
        for (int i = 0; i < slots.Length; i++)
        {
            var slot = slots[i];
            if (slot.Index != i) errors.Add((op, $"operand #{i} has a stale index"));
            if (!scope.Contains(slot.Value)) errors.Add((op, $"operand #{i} is not defined before this use (or not in scope)"));
            if (!HasUse(slot.Value, slot)) errors.Add((op, $"operand #{i} is missing from its value's use list"));
        }
        var results = op.ResultList;
        for (int r = 0; r < results.Length; r++)
        {
            var uses = results[r].UseList;
            for (int u = 0; u < uses.Count; u++)
            {
                var use = uses[u];
                if (use.Owner.OperandList.Length <= use.Index || use.Owner.OperandList[use.Index] != use)
                    errors.Add((op, $"result #{r} has a use that its user no longer holds"));
            }
        }
        foreach (var attribute in op.AttributeSpan) CheckAttr(op, attribute.Name, attribute.Value, module, errors);
    }

    private static bool HasUse(Value value, OpOperand slot)
    {
        var uses = value.UseList;
        for (int i = 0; i < uses.Count; i++)
            if (uses[i] == slot) return true;
        return false;
    }

    private static void CheckFunction(FuncOp func, List<(Operation?, string)> errors)
    {
        var type = func.Type;
        var args = func.Arguments;
        if (args.Count != type.Inputs.Count)
            errors.Add((func.Op, $"@{func.Name} has {args.Count} arguments but its type lists {type.Inputs.Count}"));
        else
            for (int i = 0; i < args.Count; i++)
                if (args[i].Type != type.Inputs[i])
                    errors.Add((func.Op, $"@{func.Name} argument #{i} is {args[i].Type} but its type says {type.Inputs[i]}"));

        var body = func.Op.Regions[0].Blocks[^1];
        if (body.Operations.Count == 0 || body.Operations[^1].Name != FuncOp.ReturnOpName)
        {
            errors.Add((func.Op, $"@{func.Name} does not end with a return"));
            return;
        }
        var ret = body.Operations[^1];
        if (ret.OperandCount != type.Results.Count)
            errors.Add((ret, $"returns {ret.OperandCount} values but @{func.Name} declares {type.Results.Count} results"));
        else
            for (int i = 0; i < ret.OperandCount; i++)
                if (ret.GetOperand(i).Type != type.Results[i])
                    errors.Add((ret, $"returns {ret.GetOperand(i).Type} as result #{i} but @{func.Name} declares {type.Results[i]}"));
    }

    private static void CheckAttr(Operation op, string name, Attr attr, MirModule module, List<(Operation?, string)> errors)
    {
        switch (attr)
        {
            case DenseResourceAttr res:
                if (module.Resources.Get(res.Key) is not { } blob)
                    errors.Add((op, $"attribute '{name}' points at resource '{res.Key}', which the module does not have"));
                else if (res.Type.ByteSize is long need && blob.Data.Length != need)
                    errors.Add((op, $"resource '{res.Key}' holds {blob.Data.Length} bytes but {res.Type} needs {need}"));
                break;
            case DenseElementsAttr dense:
                long size = dense.Type.Element.ByteSize;
                long expect = dense.IsSplat ? size : (dense.Type.ByteSize ?? -1);
                if (dense.Data.Length != expect)
                    errors.Add((op, $"attribute '{name}' holds {dense.Data.Length} bytes but {dense.Type} needs {expect}"));
                break;
            case ArrayAttr arr:
                for (int i = 0; i < arr.Elements.Count; i++) CheckAttr(op, name, arr.Elements[i], module, errors);
                break;
            case DictionaryAttr dict:
                for (int i = 0; i < dict.Entries.Count; i++) CheckAttr(op, name, dict.Entries[i].Value, module, errors);
                break;
        }
    }

    private static string Describe(Location loc) => loc.FirstName is { } n ? $" at \"{n}\"" : "";
}
