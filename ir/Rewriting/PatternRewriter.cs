namespace Mopt.Ir;

/// <summary>
/// Every change a rewrite pattern makes goes through here (MLIR's PatternRewriter): creating, replacing, erasing and
/// modifying operations. It keeps the IR tidy on the spot: what a replacement or an erasure leaves unused and
/// removable (old weights, old constants, their parameters) is erased at once, recursively; the replaced
/// operation's result names go to the operations created in its place, and its location is fused into theirs.
/// The listener (the greedy driver) hears of each change.
/// </summary>
public sealed class PatternRewriter
{
    private readonly HashSet<Operation> _createdInRewrite = new();
    private readonly HashSet<string> _releasedBlobKeys = new(StringComparer.Ordinal);
    private Block? _block;
    private Operation? _before;

    public PatternRewriter(MirModule module, DialectRegistry registry, IRewriteListener? listener = null)
    {
        Module = module;
        Registry = registry;
        Listener = listener;
    }

    public MirModule Module { get; }
    public DialectRegistry Registry { get; }
    public IRewriteListener? Listener { get; set; }

    /// <summary>The operations erased so far (dead ones included).</summary>
    public long ErasedCount { get; private set; }

    /// <summary>Why the last pattern did not apply, set by <see cref="NotifyMatchFailure"/>; the driver reads and clears it.</summary>
    public string? MatchFailure { get; private set; }

    /// <summary>Records why <paramref name="op"/> was not rewritten (reported only if it is still there at the end) and returns false.</summary>
    public bool NotifyMatchFailure(Operation op, string reason)
    {
        MatchFailure = reason;
        return false;
    }

    internal void ClearMatchFailure() => MatchFailure = null;

    // ------------------------------------------------------------------ insertion point

    public void SetInsertionPointBefore(Operation op) { _block = op.Parent ?? throw new InvalidOperationException($"{op.Name} is not in a block"); _before = op; }
    public void SetInsertionPointAfter(Operation op)
    {
        _block = op.Parent ?? throw new InvalidOperationException($"{op.Name} is not in a block");
        int i = _block.IndexOf(op);
        _before = i + 1 < _block.Operations.Count ? _block.Operations[i + 1] : null;
    }
    public void SetInsertionPointToEnd(Block block) { _block = block; _before = null; }

    /// <summary>Starts a rewrite: operations created from now on take the names and locations of what they replace.</summary>
    public void BeginRewrite() => _createdInRewrite.Clear();

    /// <summary>Creates an operation at the insertion point (before the anchor, which stays the anchor).</summary>
    public Operation Create(string name, IEnumerable<Value> operands, IEnumerable<MirType> resultTypes,
        IEnumerable<NamedAttr>? attributes = null, Location? location = null)
    {
        var op = new Operation(name, operands, resultTypes, attributes, location);
        Insert(op);
        return op;
    }

    /// <summary>Inserts an operation made elsewhere (a clone) at the insertion point.</summary>
    public void Insert(Operation op)
    {
        if (_block is null) throw new InvalidOperationException("the rewriter has no insertion point");
        if (_before is not null) _block.InsertBefore(_before, op);
        else _block.Append(op);
        _createdInRewrite.Add(op);
        Listener?.OperationInserted(op);
    }

    // ------------------------------------------------------------------ replacing and erasing

    /// <summary>
    /// Replaces every use of <paramref name="op"/>'s results by <paramref name="replacement"/> (one value per result),
    /// then erases it and whatever that leaves dead. A replacement made in this rewrite takes the op's result name and
    /// has the op's location fused into its own.
    /// </summary>
    public void ReplaceOp(Operation op, IReadOnlyList<Value> replacement)
    {
        if (replacement.Count != op.Results.Count)
            throw new ArgumentException($"{op.Name} has {op.Results.Count} results but {replacement.Count} replacements were given");
        Listener?.OperationReplaced(op, replacement);
        for (int i = 0; i < replacement.Count; i++)
        {
            var from = op.Results[i];
            var to = replacement[i];
            if (to is OpResult r && _createdInRewrite.Contains(r.Owner))
            {
                Registry.ResultNames?.Transfer(from, r);
                FuseLocation(r.Owner, op.Location);
            }
            foreach (var user in from.Users.Distinct().ToList()) Listener?.OperationModified(user);
            from.ReplaceAllUsesWith(to);
        }
        EraseOp(op);
    }

    public void ReplaceOp(Operation op, Operation replacement) => ReplaceOp(op, replacement.Results.Cast<Value>().ToList());

    public void ReplaceOp(Operation op, Value replacement) => ReplaceOp(op, [replacement]);

    /// <summary>Moves the uses of <paramref name="from"/> to <paramref name="to"/> (the users are told they changed).</summary>
    public void ReplaceAllUsesWith(Value from, Value to)
    {
        foreach (var user in from.Users.Distinct().ToList()) Listener?.OperationModified(user);
        from.ReplaceAllUsesWith(to);
    }

    /// <summary>Erases <paramref name="op"/> (its results must be unused), then the producers of its operands that this leaves dead.</summary>
    public void EraseOp(Operation op)
    {
        var producers = op.Operands.OfType<OpResult>().Select(r => r.Owner).Distinct().ToList();
        EraseOne(op);
        foreach (var p in producers) EraseIfDead(p);
    }

    /// <summary>Erases <paramref name="op"/> and, recursively, its operands' producers when nothing reads them and they are removable.</summary>
    public bool EraseIfDead(Operation op)
    {
        if (op.Parent is null || !op.IsUnused || op.Results.Count == 0 || op.Regions.Count > 0 || !Registry.IsRemovableWhenUnused(op)) return false;
        EraseOp(op);
        return true;
    }

    /// <summary>Runs <paramref name="change"/> on <paramref name="op"/> in place (attributes, operands) and tells the listener.</summary>
    public void ModifyInPlace(Operation op, Action change)
    {
        change();
        Listener?.OperationModified(op);
    }

    /// <summary>Sets <paramref name="op"/>'s location to include <paramref name="other"/> (a fused location of both).</summary>
    public static void FuseLocation(Operation op, Location other)
    {
        if (other is UnknownLoc || op.Location == other) return;
        op.Location = op.Location is UnknownLoc ? other : Location.Fuse(op.Location, other);
    }

    /// <summary>The resource keys of constants erased so far: blobs that may now be unreferenced.</summary>
    public IReadOnlyCollection<string> ReleasedBlobKeys => _releasedBlobKeys;

    /// <summary>Removes the blobs of erased constants that nothing points at any more; returns their total bytes.</summary>
    public long RemoveReleasedBlobs()
    {
        if (_releasedBlobKeys.Count == 0) return 0;
        long bytes = 0;
        foreach (var (_, blob) in Module.RemoveUnreferencedBlobs(_releasedBlobKeys)) bytes += blob.Data.Length;
        _releasedBlobKeys.Clear();
        return bytes;
    }

    private void EraseOne(Operation op)
    {
        if (!op.IsUnused) throw new InvalidOperationException($"cannot erase {op.Name} at {op.Location}: its results are still used");
        Listener?.OperationErased(op);
        foreach (var inner in op.Walk())
            foreach (var attr in inner.Attributes)
                _releasedBlobKeys.UnionWith(attr.Value.ResourceKeys());
        _createdInRewrite.Remove(op);
        op.Erase();
        ErasedCount++;
    }
}
