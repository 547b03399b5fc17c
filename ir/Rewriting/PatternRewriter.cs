namespace Mopt.Ir;

/// <summary>
/// Every change a rewrite pattern makes goes through here (MLIR's PatternRewriter): creating, replacing, erasing and
/// modifying operations. It keeps the IR tidy on the spot: what a replacement, an erasure or an in-place change
/// leaves unused and removable (old weights, old constants, their parameters, the op a fusion absorbed) is erased at
/// once, recursively; a replaced operation's result names go to the operation created in its place, and its
/// location is fused into that operation's unless an operation created in the same rewrite carries it on (same name,
/// same location). The listener (the greedy driver) hears of each change. Dialect-agnostic: what is removable, what
/// is a constant and how results are named come from the <see cref="DialectRegistry"/>.
/// </summary>
public sealed class PatternRewriter
{
    private readonly HashSet<Operation> _createdInRewrite = new();
    private readonly HashSet<string> _releasedBlobKeys = new(StringComparer.Ordinal);
    // Scratch for ReplaceAllUsesWith (the users told of a change), kept to allocate no set per replacement.
    private readonly HashSet<Operation> _notified = new();
    // Lists of an erased or changed op's former producers, reused (erasures nest: one list per level).
    private readonly Stack<List<Operation>> _spareProducerLists = new();
    private Block? _block;
    private Operation? _before;

    public PatternRewriter(MirModule module, DialectRegistry registry, IRewriteListener? listener = null)
    {
        Module = module;
        Registry = registry;
        Listener = listener;
    }

    public MirModule Module { get; }
    /// <summary>The module's blobs, where large constants keep their bytes.</summary>
    public ResourceTable Resources => Module.Resources;
    public DialectRegistry Registry { get; }
    public IRewriteListener? Listener { get; set; }

    /// <summary>Where <see cref="Log"/> lines go (mopt-opt: <c>--debug</c>); nowhere when null.</summary>
    public Action<string>? LogSink { get; set; }

    /// <summary>Where <see cref="Count"/> goes (a pass's statistics); nowhere when null.</summary>
    public Action<string, long>? StatisticSink { get; set; }

    /// <summary>A line for <c>--debug</c>: what a rewrite did.</summary>
    public void Log(string message) => LogSink?.Invoke(message);

    /// <summary>Whether <see cref="Log"/> goes anywhere: a pattern builds a costly line (names of what it folded) only then.</summary>
    public bool IsLogging => LogSink is not null;

    /// <summary>Counts something a rewrite did beyond the pattern's own success (e.g. "constants sliced").</summary>
    public void Count(string what, long by = 1) => StatisticSink?.Invoke(what, by);

    /// <summary>The operations erased so far (dead ones included).</summary>
    public long ErasedCount { get; private set; }

    // ------------------------------------------------------------------ match failures

    private RewriteFailure? _matchFailure;

    /// <summary>
    /// Records why the pattern did not rewrite its root, about <paramref name="op"/> (the root or an operation it
    /// needed), and returns false. The driver reports the root's last reason only if the root is still there at the end.
    /// </summary>
    public bool NotifyMatchFailure(Operation op, string reason)
    {
        _matchFailure = new RewriteFailure(op, reason);
        return false;
    }

    /// <summary>The reason recorded since the last call (the driver's), or null.</summary>
    public RewriteFailure? TakeMatchFailure()
    {
        var failure = _matchFailure;
        _matchFailure = null;
        return failure;
    }

    // ------------------------------------------------------------------ insertion point

    public void SetInsertionPointBefore(Operation op) { _block = op.Parent ?? throw new InvalidOperationException($"{op.Name} is not in a block"); _before = op; }
    public void SetInsertionPointAfter(Operation op)
    {
        _block = op.Parent ?? throw new InvalidOperationException($"{op.Name} is not in a block");
        int i = _block.IndexOf(op);
        _before = i + 1 < _block.Operations.Count ? _block.Operations[i + 1] : null;
    }
    public void SetInsertionPointToEnd(Block block) { _block = block; _before = null; }

    /// <summary>Where operations go now (MLIR's saveInsertionPoint), to come back to after creating some elsewhere.</summary>
    public InsertionPoint SaveInsertionPoint() => new(_block, _before);
    public void RestoreInsertionPoint(InsertionPoint point) => (_block, _before) = (point.Block, point.Before);

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

    /// <summary>
    /// An operation like <paramref name="op"/> (same name and attributes, its result names left out: they belong to
    /// <paramref name="op"/> until a replacement hands them on) with other operands and result types, at the
    /// insertion point; at <paramref name="op"/>'s location unless another is given.
    /// </summary>
    public Operation CreateLike(Operation op, IEnumerable<Value> operands, IEnumerable<MirType> resultTypes, Location? location = null)
    {
        var names = Registry.ResultNames;
        var attributes = op.Attributes.Where(a => names is null || !names.IsResultNames(a.Name)).ToList();
        return Create(op.Name, operands, resultTypes, attributes, location ?? op.Location);
    }

    /// <summary>Inserts an operation made elsewhere (a clone) at the insertion point.</summary>
    public void Insert(Operation op)
    {
        if (_block is null) throw new InvalidOperationException("the rewriter has no insertion point");
        if (_before is not null) _block.InsertBefore(_before, op);
        else _block.Append(op);
        Track(op);
    }

    /// <summary>
    /// A builder at the insertion point whose operations the rewriter tracks like its own (for helpers written
    /// against <see cref="OpBuilder"/>, such as a dialect's constant makers). Take a fresh one for each use: it
    /// does not follow the rewriter's later insertions.
    /// </summary>
    public OpBuilder Builder
    {
        get
        {
            if (_block is null) throw new InvalidOperationException("the rewriter has no insertion point");
            var builder = new OpBuilder(_block);
            if (_before is not null) builder.SetInsertionPointBefore(_before);
            builder.Inserted = Track;
            return builder;
        }
    }

    private void Track(Operation op)
    {
        _createdInRewrite.Add(op);
        Listener?.OperationInserted(op);
    }

    // ------------------------------------------------------------------ replacing and erasing

    /// <summary>
    /// Replaces every use of <paramref name="op"/>'s results by <paramref name="replacement"/> (one value per result),
    /// then erases it and whatever that leaves dead. A replacement made in this rewrite takes the op's result name and
    /// has the op's location fused into its own, unless an operation made in this rewrite carries the op on (same
    /// name, same location: a Slice moved up keeps its own).
    /// </summary>
    public void ReplaceOp(Operation op, IReadOnlyList<Value> replacement)
    {
        if (replacement.Count != op.Results.Count)
            throw new ArgumentException($"{op.Name} has {op.Results.Count} results but {replacement.Count} replacements were given");
        Listener?.OperationReplaced(op, replacement);
        bool carriedOn = false;
        foreach (var c in _createdInRewrite)
            if (c.Name == op.Name && c.Location == op.Location) { carriedOn = true; break; }
        for (int i = 0; i < replacement.Count; i++)
        {
            var from = op.Results[i];
            var to = replacement[i];
            if (to is OpResult r && _createdInRewrite.Contains(r.Owner))
            {
                Registry.ResultNames?.Transfer(from, r);
                if (!carriedOn) FuseLocation(r.Owner, op.Location);
            }
            ReplaceAllUsesWith(from, to);
        }
        EraseOp(op);
    }

    public void ReplaceOp(Operation op, Operation replacement) => ReplaceOp(op, (IReadOnlyList<Value>)replacement.Results);

    public void ReplaceOp(Operation op, Value replacement) => ReplaceOp(op, [replacement]);

    /// <summary>Moves the uses of <paramref name="from"/> to <paramref name="to"/> (the users are told they changed).</summary>
    public void ReplaceAllUsesWith(Value from, Value to)
    {
        if (Listener is { } listener)
        {
            // Each user once, in the order of its first use.
            var uses = from.Uses;
            _notified.Clear();
            for (int i = 0; i < uses.Count; i++)
                if (_notified.Add(uses[i].Owner)) listener.OperationModified(uses[i].Owner);
            _notified.Clear();
        }
        from.ReplaceAllUsesWith(to);
    }

    /// <summary>Erases <paramref name="op"/> (its results must be unused), then the producers of its operands that this leaves dead.</summary>
    public void EraseOp(Operation op)
    {
        var producers = Producers(op);
        EraseOne(op);
        EraseDeadAndRecycle(producers, null);
    }

    /// <summary>Erases <paramref name="op"/> and, recursively, its operands' producers when nothing reads them and they are removable.</summary>
    public bool EraseIfDead(Operation op)
    {
        if (op.Parent is null || !op.IsUnused || op.Results.Count == 0 || op.RegionCount > 0 || !Registry.IsRemovableWhenUnused(op)) return false;
        EraseOp(op);
        return true;
    }

    /// <summary>
    /// Runs <paramref name="change"/> on <paramref name="op"/> in place (attributes, operands), tells the listener,
    /// then erases the former operand producers the change left dead (a Pad folded into its Conv, an old shape).
    /// When <paramref name="absorbs"/> is given, <paramref name="op"/> now also computes what that operation did
    /// (a Pad merged into a Conv's pads): its location is fused into <paramref name="op"/>'s.
    /// </summary>
    public void ModifyInPlace(Operation op, Action change, Operation? absorbs = null)
    {
        var modification = StartModification(op, absorbs);
        change();
        FinalizeModification(modification);
    }

    /// <summary>
    /// What <see cref="ModifyInPlace"/> does, in two calls around the change (MLIR's startOpModification and
    /// finalizeOpModification), for a change made on every lowered op, where a closure per call costs.
    /// </summary>
    public OpModification StartModification(Operation op, Operation? absorbs = null) => new(op, Producers(op), absorbs?.Location);

    /// <summary>Ends the change <paramref name="modification"/> started: fuses the absorbed location, tells the listener, erases what it left dead.</summary>
    public void FinalizeModification(OpModification modification)
    {
        var op = modification.Op;
        if (modification.AbsorbedLocation is { } absorbed) FuseLocation(op, absorbed);
        Listener?.OperationModified(op);
        EraseDeadAndRecycle(modification.Producers, op);
    }

    /// <summary>The operations defining <paramref name="op"/>'s operands, each once, in operand order (in a list to give back to <see cref="EraseDeadAndRecycle"/>).</summary>
    private List<Operation> Producers(Operation op)
    {
        var producers = _spareProducerLists.Count > 0 ? _spareProducerLists.Pop() : new List<Operation>(op.OperandCount);
        for (int i = 0; i < op.OperandCount; i++)
            if (op.GetOperand(i) is OpResult r && !producers.Contains(r.Owner)) producers.Add(r.Owner);
        return producers;
    }

    /// <summary>Erases each of <paramref name="producers"/> (but <paramref name="except"/>) left dead, then keeps the list for the next <see cref="Producers"/>.</summary>
    private void EraseDeadAndRecycle(List<Operation> producers, Operation? except)
    {
        for (int i = 0; i < producers.Count; i++)
            if (producers[i] != except) EraseIfDead(producers[i]);
        producers.Clear();
        _spareProducerLists.Push(producers);
    }

    /// <summary>Sets <paramref name="op"/>'s location to include <paramref name="other"/> (a fused location of both).</summary>
    public static void FuseLocation(Operation op, Location other)
    {
        if (other is UnknownLoc || op.Location == other) return;
        op.Location = op.Location is UnknownLoc ? other : Location.Fuse(op.Location, other);
    }

    /// <summary>
    /// Whether erased constants' resource keys are noted (<see cref="ReleasedBlobKeys"/>); on unless the caller removes
    /// unreferenced blobs another way (a pass manager's sweep after the pass): then each erasure skips walking the
    /// erased operation's attributes for keys.
    /// </summary>
    public bool NotesReleasedBlobs { get; init; } = true;

    /// <summary>The resource keys of constants erased so far: blobs that may now be unreferenced.</summary>
    public IReadOnlyCollection<string> ReleasedBlobKeys => _releasedBlobKeys;

    /// <summary>Removes the blobs of erased constants that nothing points at any more.</summary>
    public ReleasedBlobs RemoveReleasedBlobs()
    {
        if (_releasedBlobKeys.Count == 0) return default;
        int count = 0;
        long bytes = 0;
        foreach (var (_, blob) in Module.RemoveUnreferencedBlobs(_releasedBlobKeys))
        {
            count++;
            bytes += blob.Data.Length;
        }
        _releasedBlobKeys.Clear();
        return new ReleasedBlobs(count, bytes);
    }

    private void ReleaseBlobKeysOf(Operation op)
    {
        foreach (var attribute in op.AttributeSpan) attribute.Value.AddResourceKeysTo(_releasedBlobKeys);
    }

    private void EraseOne(Operation op)
    {
        if (!op.IsUnused) throw new InvalidOperationException($"cannot erase {op.Name} at {op.Location}: its results are still used");
        Listener?.OperationErased(op);
        if (NotesReleasedBlobs)
        {
            if (op.RegionCount == 0) ReleaseBlobKeysOf(op);
            else
                foreach (var inner in op.Walk()) ReleaseBlobKeysOf(inner);
        }
        _createdInRewrite.Remove(op);
        op.Erase();
        ErasedCount++;
    }
}
