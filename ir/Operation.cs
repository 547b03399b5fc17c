using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mopt.Ir;

/// <summary>
/// An operation: <c>%r = "dialect.Op"(%a, %b) {attrs} : (Ta, Tb) -> Tr loc(...)</c>. Modules and functions are
/// operations too (<c>builtin.module</c>, <c>func.func</c>), as in MLIR.
/// </summary>
public sealed class Operation
{
    private readonly int _hash = IdentityHash.Next();
    // Exact-size arrays, not lists: an operation's operands and results rarely change after it is made (a list costs an
    // object more for each, and an indirection at every read); adding or removing one copies the array.
    private OpOperand[] _operands;
    private OpResult[] _results;
    // Most operations have no regions: the list is made by the first AddRegion (one list fewer per operation).
    private List<Region>? _regions;
    // Sorted by name (ordinal), as MLIR prints them: _attributes[.._attributeCount]. An op has a few attributes: a sorted
    // array found by binary search costs one object, where a tree costs a node per attribute and an allocating enumerator
    // per walk (and a list one more object, and one more load on every look-up).
    private NamedAttr[] _attributes = [];
    private int _attributeCount;
    private AttributeView? _attributeView;

    /// <summary>Identity, as <see cref="object.Equals(object)"/>: a number given at creation (<see cref="IdentityHash"/>).</summary>
    public override int GetHashCode() => _hash;

    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    public Operation(string name, IEnumerable<Value> operands, IEnumerable<MirType> resultTypes,
        IEnumerable<NamedAttr>? attributes = null, Location? location = null)
    {
        Name = name;
        // Arrays and lists (what callers pass almost always) read as spans: sized once, no enumerator per op and no
        // interface call per element.
        _operands = MakeOperands(SpanOf(operands));
        var types = SpanOf(resultTypes);
        _results = types.Length == 0 ? [] : new OpResult[types.Length];
        for (int i = 0; i < _results.Length; i++) _results[i] = new OpResult(this, i, types[i]);
        if (attributes is not null)
        {
            var given = SpanOf(attributes);
            if (given.Length > 0) _attributes = new NamedAttr[given.Length];
            foreach (var a in given) SetAttr(a);
        }
        Location = location ?? Location.Unknown;
    }

    /// <summary>The full name, e.g. <c>onnx.Conv</c>.</summary>
    public string Name { get; set; }

    /// <summary>
    /// The definition a registry last found for this op (<see cref="DialectRegistry.Find(Operation)"/>): every pass asks
    /// each op's traits, and the name's two hashed look-ups were a few percent of a small net's run. One object, so a
    /// reader on another thread sees the registry, the name and the definition together.
    /// </summary>
    internal FoundDefinition? FoundDefinition;
    public string Dialect => Name.IndexOf('.') is var i and > 0 ? Name[..i] : "";
    /// <summary>The name without its dialect, e.g. <c>Conv</c>.</summary>
    public string OpType => Name.IndexOf('.') is var i and > 0 ? Name[(i + 1)..] : Name;

    public Location Location { get; set; }

    /// <summary>Where the parser read this operation; null for operations a pass created.</summary>
    public SourcePosition? SourcePosition { get; set; }

    public Block? Parent { get; internal set; }

    public IReadOnlyList<OpOperand> OperandSlots => _operands;
    // The lists themselves, for the verifier's walk after every pass: no interface call per element.
    internal OpOperand[] OperandList => _operands;
    internal OpResult[] ResultList => _results;
    internal List<Region>? RegionList => _regions;
    public IReadOnlyList<OpResult> Results => _results;
    public IReadOnlyList<Region> Regions => (IReadOnlyList<Region>?)_regions ?? [];
    /// <summary>How many regions the operation has (no call through an interface: walks after every pass ask it of every op).</summary>
    public int RegionCount => _regions?.Count ?? 0;
    public IEnumerable<Value> Operands => _operands.Select(o => o.Value);
    public int OperandCount => _operands.Length;
    public Value GetOperand(int i) => _operands[i].Value;
    public OpResult Result => _results.Length == 1 ? _results[0] : throw new InvalidOperationException($"{Name} has {_results.Length} results, not one");

    public void SetOperand(int i, Value v) => _operands[i].Set(v);

    public void AddOperand(Value v)
    {
        int n = _operands.Length;
        Array.Resize(ref _operands, n + 1);
        _operands[n] = new OpOperand(this, n, v);
    }

    public void SetOperands(IEnumerable<Value> values)
    {
        // The values first: they may be read from this op's own operands.
        Value[] list = [.. values];
        foreach (var o in _operands) o.Drop();
        _operands = MakeOperands(list);
    }

    public void RemoveOperand(int i)
    {
        _operands[i].Drop();
        var kept = _operands.Length == 1 ? [] : new OpOperand[_operands.Length - 1];
        Array.Copy(_operands, 0, kept, 0, i);
        Array.Copy(_operands, i + 1, kept, i, kept.Length - i);
        for (int k = i; k < kept.Length; k++) kept[k].Index = k;
        _operands = kept;
    }

    private OpOperand[] MakeOperands(ReadOnlySpan<Value> values)
    {
        if (values.Length == 0) return [];
        var slots = new OpOperand[values.Length];
        for (int i = 0; i < slots.Length; i++) slots[i] = new OpOperand(this, i, values[i]);
        return slots;
    }

    /// <summary>The items of an array or a list in place, of anything else copied (a read-only span of an array of a subtype is safe).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<T> SpanOf<T>(IEnumerable<T> items) => items switch
    {
        T[] array => array,
        List<T> list => CollectionsMarshal.AsSpan(list),
        _ => items.ToArray(),
    };

    public OpResult AddResult(MirType type)
    {
        int n = _results.Length;
        var r = new OpResult(this, n, type);
        Array.Resize(ref _results, n + 1);
        _results[n] = r;
        return r;
    }

    public Region AddRegion()
    {
        var r = new Region(this);
        (_regions ??= new()).Add(r);
        return r;
    }

    // ---- attributes (kept sorted by name, as MLIR prints them)

    /// <summary>The attributes, sorted by name.</summary>
    public IReadOnlyList<NamedAttr> Attributes => _attributeView ??= new AttributeView(this);
    public int AttributeCount => _attributeCount;
    /// <summary>The attributes, sorted by name, as they are now (valid until the next change): no view object, no enumerator.</summary>
    public ReadOnlySpan<NamedAttr> AttributeSpan => _attributes.AsSpan(0, _attributeCount);
    public Attr? GetAttr(string name)
    {
        // An op has a few attributes: a scan comparing lengths first finds one (or none) in fewer steps than the binary
        // search, whose every step compares the strings' characters (asked for every attribute a pass or rule reads).
        var attributes = AttributeSpan;
        if (attributes.Length > LinearAttributeLookup) return IndexOfAttr(name) is var i and >= 0 ? attributes[i].Value : null;
        // Lengths compared before characters (most names differ in length): no call per attribute.
        foreach (var attribute in attributes)
        {
            var known = attribute.Name;
            if (known.Length == name.Length && (ReferenceEquals(known, name) || known.AsSpan().SequenceEqual(name))) return attribute.Value;
        }
        return null;
    }

    private const int LinearAttributeLookup = 12;
    public T? GetAttr<T>(string name) where T : Attr => GetAttr(name) as T;
    public void SetAttr(string name, Attr value) => SetAttr(new NamedAttr(name, value));

    public bool RemoveAttr(string name)
    {
        int i = IndexOfAttr(name);
        if (i < 0) return false;
        _attributeCount--;
        Array.Copy(_attributes, i + 1, _attributes, i, _attributeCount - i);
        _attributes[_attributeCount] = default;
        return true;
    }

    /// <summary>
    /// Replaces every attribute but those <paramref name="keep"/> names with <paramref name="attributes"/> (an op
    /// turned into another in place keeps its bookkeeping, such as its results' names).
    /// </summary>
    public void ReplaceAttributes(IReadOnlyList<NamedAttr> attributes, Func<string, bool>? keep = null)
    {
        // Read first: the list may be this op's own (its Attributes view).
        var given = SpanOf(attributes);
        // in place, no predicate closure per call (every lowered op comes through here)
        int kept = 0;
        if (keep is not null)
            for (int i = 0; i < _attributeCount; i++)
                if (keep(_attributes[i].Name)) _attributes[kept++] = _attributes[i];
        Array.Clear(_attributes, kept, _attributeCount - kept);
        _attributeCount = kept;
        foreach (var attribute in given) SetAttr(attribute);
    }

    private void SetAttr(NamedAttr attr)
    {
        int i = IndexOfAttr(attr.Name);
        if (i >= 0)
        {
            _attributes[i] = attr;
            return;
        }
        i = ~i;
        if (_attributeCount == _attributes.Length) Array.Resize(ref _attributes, Math.Max(4, 2 * _attributeCount));
        Array.Copy(_attributes, i, _attributes, i + 1, _attributeCount - i);
        _attributes[i] = attr;
        _attributeCount++;
    }

    /// <summary>The attribute's index in the sorted list, or the bitwise complement of where it would go.</summary>
    private int IndexOfAttr(string name)
    {
        int lo = 0, hi = _attributeCount - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = string.CompareOrdinal(_attributes[mid].Name, name);
            if (c == 0) return mid;
            if (c < 0) lo = mid + 1;
            else hi = mid - 1;
        }
        return ~lo;
    }

    public long? GetInt(string name) => GetAttr(name) is IntegerAttr i ? i.Value : null;
    public double? GetFloat(string name) => GetAttr(name) switch { FloatAttr f => f.Value, IntegerAttr i => i.Value, _ => null };
    public string? GetString(string name) => (GetAttr(name) as StringAttr)?.Value;

    /// <summary>True when nothing reads any result.</summary>
    public bool IsUnused
    {
        get
        {
            foreach (var r in _results)
                if (r.HasUses) return false;
            return true;
        }
    }

    /// <summary>Detaches this operation from its block and drops its operand uses. Results must be unused.</summary>
    public void Erase()
    {
        if (!IsUnused) throw new InvalidOperationException($"cannot erase {Name} at {Location}: its results are still used");
        DropAllReferences();
        Parent?.Remove(this);
    }

    /// <summary>Drops the uses this operation (and everything nested in it) holds on other values.</summary>
    public void DropAllReferences()
    {
        foreach (var o in _operands) o.Drop();
        _operands = [];
        if (_regions is null) return;
        foreach (var region in _regions)
            foreach (var block in region.Blocks)
                foreach (var op in block.Operations) op.DropAllReferences();
    }

    /// <summary>
    /// Adds the operations nested in this one that <paramref name="include"/> takes to <paramref name="into"/>, outermost
    /// first as <see cref="Walk"/> yields them (this one left out); an excluded operation's own nested ones are still
    /// visited. A loop by index for the passes that look at every op: no iterator, no copy of a block.
    /// </summary>
    public void AddNested(List<Operation> into, Func<Operation, bool> include) => AddNested(into, include, null);

    /// <summary>As <see cref="AddNested(List{Operation}, Func{Operation, bool})"/>, going into an operation's regions only when <paramref name="enter"/> says so (null: always).</summary>
    public void AddNested(List<Operation> into, Func<Operation, bool> include, Func<Operation, bool>? enter)
    {
        if (_regions is null) return;
        // The IR's own lists: no interface call per block and per operation (passes collect their ops through here).
        for (int r = 0; r < _regions.Count; r++)
        {
            var blocks = _regions[r].BlockList;
            for (int b = 0; b < blocks.Count; b++)
            {
                var ops = blocks[b].OperationList;
                for (int i = 0; i < ops.Count; i++)
                {
                    var op = ops[i];
                    if (include(op)) into.Add(op);
                    if (enter is null || enter(op)) op.AddNested(into, include, enter);
                }
            }
        }
    }

    /// <summary>Whether an operation nested in this one (this one left out) satisfies <paramref name="test"/>: a loop by index that stops at the first.</summary>
    public bool AnyNested(Func<Operation, bool> test)
    {
        if (_regions is null) return false;
        for (int r = 0; r < _regions.Count; r++)
        {
            var blocks = _regions[r].BlockList;
            for (int b = 0; b < blocks.Count; b++)
            {
                var ops = blocks[b].OperationList;
                for (int i = 0; i < ops.Count; i++)
                    if (test(ops[i]) || ops[i].AnyNested(test)) return true;
            }
        }
        return false;
    }

    /// <summary>This operation and every operation nested in its regions, outermost first.</summary>
    public IEnumerable<Operation> Walk()
    {
        yield return this;
        if (_regions is null) yield break;
        foreach (var region in _regions)
            foreach (var block in region.Blocks)
                foreach (var op in block.Operations.ToArray())
                {
                    // Most operations have no regions: yielded directly, without an iterator of their own.
                    if (op._regions is not { Count: > 0 })
                    {
                        yield return op;
                        continue;
                    }
                    foreach (var inner in op.Walk())
                        yield return inner;
                }
    }

    public override string ToString() => $"{Name} {Location}";
}

/// <summary>A line and column (1-based) in a text file, for diagnostics.</summary>
public sealed record SourcePosition(string File, int Line, int Column, long Offset);
