using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Mopt.Dialects.Mo;
using Mopt.Dialects.Paddle;
using Mopt.Ir;

namespace Mopt.Frontend.Paddle.Pir;

/// <summary>
/// A Paddle 3 PIR program (<c>.json</c>, with its <c>.pdiparams</c>) → module of <c>paddle.*</c> ops, the same IR the
/// ProgramDesc importer makes of the same model (docs/formats/paddle.md): each pd_op as its legacy twin (<see cref="PirOps"/>),
/// <c>data</c> ops the function's arguments in program order, <c>fetch</c> ops its results in <c>col</c> order,
/// <c>builtin.parameter</c> ops <c>onnx.Constant</c>s of the saved bytes, <c>full</c> a <c>fill_constant</c>, and a
/// constant IntArray or Scalar operand (<c>full_int_array</c>, <c>full</c>) the legacy attribute it stands for.
/// <c>if</c> is <c>paddle.if</c> with its two blocks, each ending in <c>mo.yield</c>. Values are named
/// <c>&lt;op&gt;_&lt;id&gt;</c> after the PIR value ids.
/// </summary>
public sealed class PirImporter
{
    /// <summary>The PIR versions read: 1 (what pir_io.py writes), 0 (a develop build), and 2-4, whose patches (patch/*.yaml) only widen attribute types (pool2d strides int64, leaky_relu negative_slope double, ...), which are read in either form.</summary>
    public const long NewestVersion = 4;

    /// <summary>Attributes no legacy op has: where a value lives, and what the writer adds for distribution and debugging.</summary>
    private static readonly HashSet<string> Dropped = new(StringComparer.Ordinal) { "place", "struct_name", "op_dist_attr", "op_callstack", "stop_gradient", "persistable" };

    private readonly string _path;
    private readonly MirModule _module = MirModule.Create();
    private readonly Dictionary<long, Value> _values = new();
    private readonly Dictionary<long, List<Value>> _vectors = new();
    private readonly Dictionary<long, string> _droppedResults = new();
    private readonly Dictionary<long, PirConstant> _constants = new();
    private readonly List<Operation> _constantOps = new();
    private readonly List<(long Col, string Name, Value Value, string What)> _fetches = new();
    private Dictionary<string, PaddleTensorRecord> _parameters = new(StringComparer.Ordinal);
    private List<Value> _arguments = new();
    private int _dataSeen;
    private int _opIndex;

    /// <summary>A constant <c>full</c> (one value, <paramref name="Count"/> times) or <c>full_int_array</c> (a list) result, kept to fold into the attributes it feeds.</summary>
    private sealed record PirConstant(double? Value, long[]? Ints, long Count = 1);

    private PirImporter(string path) => _path = path;

    public static MirModule ImportPath(string path)
    {
        if (!File.Exists(path)) throw new MirException($"{path}: no such file");
        using var doc = PirJson.Parse(path);
        return new PirImporter(path).Run(doc.RootElement);
    }

    private MirModule Run(JsonElement root)
    {
        var what = _path;
        if (root.ValueKind != JsonValueKind.Object) throw new MirException($"{_path}: not a Paddle PIR program: the file holds a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object");
        if (!root.TryGetProperty(PirJson.BaseCode, out var baseCode) || baseCode.ValueKind != JsonValueKind.Object)
            throw new MirException($"{_path}: not a Paddle PIR program: no base_code object");
        var magic = baseCode.TryGetProperty("magic", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        if (magic != "pir") throw new MirException($"{_path}: not a Paddle PIR program: base_code.magic is {(magic is null ? "missing" : $"'{magic}'")}, Paddle writes 'pir'");
        long version = PirSchema.Int(PirSchema.Property(baseCode, "version", what), what, "base_code.version");
        if (version < 0 || version > NewestVersion)
            throw new MirException($"{_path}: PIR version {version}; mopt reads versions 0 to {NewestVersion} (later versions may rename ops or attributes: patch/{version}.yaml in Paddle)");

        var program = PirSchema.Property(root, PirJson.Program, what);
        var regions = PirSchema.Array(program, PirSchema.Regions, what);
        if (regions.GetArrayLength() != 1) throw new MirException($"{_path}: the program has {regions.GetArrayLength()} regions; Paddle writes one");
        var blocks = PirSchema.Array(regions[0], PirSchema.Blocks, what);
        if (blocks.GetArrayLength() != 1) throw new MirException($"{_path}: the program's region has {blocks.GetArrayLength()} blocks; Paddle writes one");
        var top = blocks[0];

        var m0 = _module.Op;
        m0.SetAttr("mo.source", new StringAttr("paddle"));
        m0.SetAttr("paddle.pir_version", IntegerAttr.I64(version));

        var declared = new SortedDictionary<string, TensorType>(StringComparer.Ordinal);
        var inputs = new List<(string Name, TensorType Type)>();
        Survey(top, declared, inputs, topLevel: true);
        _parameters = PirParameters.Read(_path, declared);

        var func = _module.AddFunction("main", inputs.Select(i => (MirType)i.Type).ToList(), []);
        for (int i = 0; i < inputs.Count; i++)
            func.SetArgAttrs(i, DictionaryAttr.From([new NamedAttr(MoDialect.NameAttr, new StringAttr(inputs[i].Name))]));
        _arguments = func.Arguments.Cast<Value>().ToList();

        var builder = OpBuilder.AtEnd(func.Body);
        ImportBlock(top, builder, topLevel: true);

        var fetches = _fetches.OrderBy(f => f.Col).ToList();
        for (int i = 0; i < fetches.Count; i++)
            if (fetches[i].Col != i)
                throw new MirException($"{_path}: the fetch ops' col attributes are {string.Join(", ", fetches.Select(f => f.Col))}; Paddle numbers them 0..{fetches.Count - 1}");
        builder.Return(fetches.Select(f => f.Value).ToList());
        func.UpdateType();
        for (int i = 0; i < fetches.Count; i++)
            func.SetResultAttrs(i, DictionaryAttr.From([new NamedAttr(MoDialect.NameAttr, new StringAttr(fetches[i].Name))]));
        // A constant that only fed attributes is not an op of the model.
        foreach (var op in _constantOps)
            if (op.IsUnused) op.Erase();
        Verifier.Verify(_module, _path);
        return _module;
    }

    /// <summary>The parameters' declared types and the data ops, read before any op is imported (arguments first; the .pdiparams by name).</summary>
    private void Survey(JsonElement block, SortedDictionary<string, TensorType> parameters, List<(string, TensorType)> inputs, bool topLevel)
    {
        foreach (var op in PirSchema.Array(block, PirSchema.Ops, _path).EnumerateArray())
        {
            var name = PirSchema.Id(op, $"{_path}: an op");
            if (name == PirSchema.ParameterOp)
            {
                var (param, type) = Parameter(op, $"{_path}: a parameter op");
                if (!parameters.TryAdd(param, type)) throw new MirException($"{_path}: parameter '{param}' is declared by two parameter ops");
            }
            else if (name == "1.data")
            {
                var what = $"{_path}: data op {inputs.Count}";
                if (!topLevel) throw new MirException($"{what}: a data op inside a region is not read");
                var dataName = StringAttr(op, "name", what);
                var result = PirSchema.Array(op, PirSchema.Results, what);
                if (result.GetArrayLength() != 1) throw new MirException($"{what} ('{dataName}') has {result.GetArrayLength()} results; Paddle writes one");
                var type = PirTypes.Tensor(PirSchema.Property(result[0], PirSchema.TypeKey, what), what, out _)
                    ?? throw new MirException($"{what} ('{dataName}') gives a vector");
                inputs.Add((dataName, type));
            }
            foreach (var region in PirSchema.OptionalArray(op, PirSchema.Regions, _path))
                foreach (var inner in PirSchema.Array(region, PirSchema.Blocks, _path).EnumerateArray())
                    Survey(inner, parameters, inputs, topLevel: false);
        }
    }

    /// <summary>A parameter op's name (its A list's fourth entry) and declared type (its O, a single value).</summary>
    private static (string Name, TensorType Type) Parameter(JsonElement op, string what)
    {
        var attrs = PirSchema.Array(op, PirSchema.Attrs, what);
        if (attrs.GetArrayLength() < 4) throw new MirException($"{what}: its A has {attrs.GetArrayLength()} entries; Paddle writes [is_distributed, is_parameter, need_clip, name]");
        var name = PirSchema.String(attrs[3], what, "the parameter name");
        var result = PirSchema.Property(op, PirSchema.Results, what);
        var type = PirTypes.Tensor(PirSchema.Property(result, PirSchema.TypeKey, what), $"{what} '{name}'", out _)
            ?? throw new MirException($"{what} '{name}' is a vector");
        if (type.Shape is null || type.Shape.Any(d => d == TensorType.Dynamic))
            throw new MirException($"{what} '{name}' has type {type}; a saved parameter has every size");
        return (name, type);
    }

    private void ImportBlock(JsonElement block, OpBuilder builder, bool topLevel)
    {
        var args = PirSchema.OptionalArray(block, PirSchema.BlockArgs, _path).ToList();
        if (args.Count > 0)
            throw new MirException($"{_path}: block {BlockName(block)} has {args.Count} arguments; mopt reads blocks without arguments (if, not while)");
        foreach (var op in PirSchema.Array(block, PirSchema.Ops, _path).EnumerateArray())
        {
            _opIndex++;
            var name = PirSchema.Id(op, $"{_path}: op {_opIndex}");
            var what = $"{_path}: op {_opIndex} ({name})";
            switch (name)
            {
                case PirSchema.ParameterOp: ImportParameter(op, builder, what); break;
                case "1.data": ImportData(op, what); break;
                case "1.fetch": ImportFetch(op, what); break;
                case "0.combine": ImportCombine(op, what); break;
                case "0.split": ImportSplit(op, what); break;
                case "1.full": ImportFull(op, builder, what); break;
                case "1.full_int_array": ImportFullIntArray(op, builder, what); break;
                case "1.if": ImportIf(op, builder, what); break;
                case "2.yield":
                    if (topLevel) throw new MirException($"{what}: a yield outside a region");
                    builder.Create("mo.yield", Operands(op, what).Select(v => v ?? throw new MirException($"{what}: yields a null value")).ToList(), []);
                    break;
                default: ImportMapped(op, name, builder, what); break;
            }
        }
    }

    private static string BlockName(JsonElement block) =>
        block.TryGetProperty(PirSchema.IdKey, out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()! : "?";

    // ------------------------------------------------------------------ values

    /// <summary>The values an op reads (null for a null operand, <c>{"%": 0}</c>); a vector operand is its values' list in <see cref="_vectors"/>.</summary>
    private List<Value?> Operands(JsonElement op, string what)
    {
        var list = new List<Value?>();
        foreach (var operand in PirSchema.Array(op, PirSchema.Operands, what).EnumerateArray())
        {
            long id = PirSchema.Int(PirSchema.Property(operand, PirSchema.ValueId, what), what, "an operand id");
            list.Add(id == 0 ? null : Lookup(id, what));
        }
        return list;
    }

    private List<long> OperandIds(JsonElement op, string what) =>
        PirSchema.Array(op, PirSchema.Operands, what).EnumerateArray()
            .Select(o => PirSchema.Int(PirSchema.Property(o, PirSchema.ValueId, what), what, "an operand id")).ToList();

    private Value Lookup(long id, string what)
    {
        if (_values.TryGetValue(id, out var v)) return v;
        if (_droppedResults.TryGetValue(id, out var why)) throw new MirException($"{what}: reads value %{id}, {why}, which mopt drops (only inference, where nothing reads it, is imported)");
        if (_vectors.ContainsKey(id)) throw new MirException($"{what}: reads vector %{id} where a tensor is expected");
        throw new MirException($"{what}: reads value %{id}, which no op before it defines");
    }

    /// <summary>An op's results: id and type, a vector's element types in <c>Vector</c>; null results (<c>%: 0</c>) included with id 0.</summary>
    private static List<(long Id, TensorType? Type, List<TensorType>? Vector)> Results(JsonElement op, string what)
    {
        var list = new List<(long, TensorType?, List<TensorType>?)>();
        foreach (var r in PirSchema.Array(op, PirSchema.Results, what).EnumerateArray())
        {
            long id = PirSchema.Int(PirSchema.Property(r, PirSchema.ValueId, what), what, "a result id");
            if (id == 0) { list.Add((0, null, null)); continue; }
            if (id < 0) throw new MirException($"{what}: result id %{id} is negative (block arguments have those)");
            var type = PirTypes.Tensor(PirSchema.Property(r, PirSchema.TypeKey, what), $"{what} result %{id}", out var vector);
            list.Add((id, type, vector));
        }
        return list;
    }

    private void Define(long id, Value value, string what)
    {
        if (id == 0) return;
        if (_values.ContainsKey(id) || _vectors.ContainsKey(id)) throw new MirException($"{what}: defines value %{id} again");
        _values[id] = value;
    }

    private static string ValueName(string op, long id) => $"{op}_{id.ToString(CultureInfo.InvariantCulture)}";

    // ------------------------------------------------------------------ the importer's own ops

    private void ImportParameter(JsonElement op, OpBuilder builder, string what)
    {
        var (name, type) = Parameter(op, what);
        var record = _parameters[name];
        long id = PirSchema.Int(PirSchema.Property(PirSchema.Property(op, PirSchema.Results, what), PirSchema.ValueId, what), what, "the parameter's id");
        Define(id, builder.ResourceConstant(_module, name, record.Type, record.Data, Location.Named(name)), what);
    }

    private void ImportData(JsonElement op, string what)
    {
        var result = Results(op, what);
        Define(result[0].Id, _arguments[_dataSeen++], what);
    }

    private void ImportFetch(JsonElement op, string what)
    {
        var operands = Operands(op, what);
        if (operands.Count != 1 || operands[0] is not { } value) throw new MirException($"{what}: a fetch reads {operands.Count} values; Paddle writes one");
        var name = StringAttr(op, "name", what);
        long col = Attr(op, "col", what) is IntegerAttr c ? c.Value : throw new MirException($"{what} ('{name}') has no integer col");
        _fetches.Add((col, name, value, what));
        foreach (var r in Results(op, what)) Define(r.Id, value, what);
    }

    private void ImportCombine(JsonElement op, string what)
    {
        var values = Operands(op, what).Select(v => v ?? throw new MirException($"{what}: combines a null value")).ToList();
        var result = Results(op, what);
        if (result.Count != 1) throw new MirException($"{what}: a combine has {result.Count} results; PIR writes one");
        _vectors[result[0].Id] = values;
    }

    private void ImportSplit(JsonElement op, string what)
    {
        var ids = OperandIds(op, what);
        if (ids.Count != 1 || !_vectors.TryGetValue(ids[0], out var values)) throw new MirException($"{what}: a builtin split reads one vector");
        var results = Results(op, what);
        if (results.Count != values.Count) throw new MirException($"{what}: splits a vector of {values.Count} into {results.Count} values");
        for (int i = 0; i < results.Count; i++) Define(results[i].Id, values[i], what);
    }

    /// <summary><c>full</c> is legacy <c>fill_constant</c> (shape LONGS, value FLOAT with its exact text in str_value, dtype INT).</summary>
    private void ImportFull(JsonElement op, OpBuilder builder, string what)
    {
        var shape = Attr(op, "shape", what) is DenseArrayAttr s ? s.Ints.ToArray() : throw new MirException($"{what}: no shape");
        double value = Attr(op, "value", what) switch
        {
            FloatAttr f => f.Value,
            IntegerAttr i => i.Value,
            DictionaryAttr { Entries: [{ Value: FloatAttr f }] } => f.Value,
            DictionaryAttr { Entries: [{ Value: IntegerAttr i }] } => i.Value,
            var other => throw new MirException($"{what}: its value is {other?.ToString() ?? "missing"}, not a number"),
        };
        var dtype = Attr(op, "dtype", what) as IntegerAttr ?? new IntegerAttr(PaddleDataTypes.Code(ElementType.F32)!.Value, ElementType.I32);
        var result = Results(op, what).Single();
        var type = result.Type ?? throw new MirException($"{what}: gives a vector");
        var attrs = new List<NamedAttr>
        {
            new("shape", DenseArrayAttr.OfInts(ElementType.I64, shape)),
            new("value", new FloatAttr((float)value, ElementType.F32)),
            new("str_value", new StringAttr(value.ToString("R", CultureInfo.InvariantCulture))),
            new("dtype", dtype),
        };
        var created = CreateLegacy(builder, "fill_constant", [], [("Out", [(result.Id, ValueName("full", result.Id), type)])], attrs);
        _constantOps.Add(created);
        _constants[result.Id] = new PirConstant(value, null, shape.Aggregate(1L, (a, d) => a * d));
    }

    /// <summary><c>full_int_array</c> has no legacy op: a constant tensor of its values (as parameters are), which a use as an attribute folds away.</summary>
    private void ImportFullIntArray(JsonElement op, OpBuilder builder, string what)
    {
        var values = Attr(op, "value", what) is DenseArrayAttr a ? a.Ints.ToArray() : throw new MirException($"{what}: no value list");
        var result = Results(op, what).Single();
        var type = result.Type ?? throw new MirException($"{what}: gives a vector");
        if (type.Shape is not [var n] || n != values.Length) throw new MirException($"{what}: {values.Length} values for a result of type {type}");
        byte[] bytes;
        if (ReferenceEquals(type.Element, ElementType.I64)) bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        else if (ReferenceEquals(type.Element, ElementType.I32)) bytes = MemoryMarshal.AsBytes(values.Select(v => checked((int)v)).ToArray().AsSpan()).ToArray();
        else throw new MirException($"{what}: a full_int_array of {type.Element} is not read (int32 or int64)");
        var name = ValueName("full_int_array", result.Id);
        var value = builder.Constant(DenseElementsAttr.Create(type, bytes), type, Location.Named(name));
        _constantOps.Add(((OpResult)value).Owner);
        Define(result.Id, value, what);
        _constants[result.Id] = new PirConstant(null, values);
    }

    /// <summary><c>if</c>: <c>paddle.if</c> reading its condition, with the true block then the false block, each ending in <c>mo.yield</c>.</summary>
    private void ImportIf(JsonElement op, OpBuilder builder, string what)
    {
        var operands = Operands(op, what);
        if (operands is not [{ } cond]) throw new MirException($"{what}: an if reads {operands.Count} values; PIR's reads its condition");
        var results = Results(op, what);
        if (results.Any(r => r.Type is null)) throw new MirException($"{what}: gives a vector");
        var names = results.Select(r => ValueName("if", r.Id)).ToList();
        var attrs = new List<NamedAttr>
        {
            new(PaddleDialect.InputsAttr, new DictionaryAttr(new[] { new NamedAttr("Cond", new IntegerAttr(1, ElementType.I32)) }.ToValueList())),
            new(PaddleDialect.OutputsAttr, new DictionaryAttr(new[] { new NamedAttr("Out", new IntegerAttr(results.Count, ElementType.I32)) }.ToValueList())),
            new(MoDialect.OutputsAttr, ArrayAttr.OfStrings(names)),
        };
        var created = builder.Create(PaddleDialect.Name + ".if", [cond], results.Select(r => (MirType)r.Type!).ToList(), attrs,
            Location.Named(names.FirstOrDefault() ?? "if"));
        var regions = PirSchema.Array(op, PirSchema.Regions, what);
        if (regions.GetArrayLength() != 2) throw new MirException($"{what}: an if has {regions.GetArrayLength()} regions; PIR's has two (true, false)");
        foreach (var region in regions.EnumerateArray())
        {
            var blocks = PirSchema.Array(region, PirSchema.Blocks, what);
            if (blocks.GetArrayLength() != 1) throw new MirException($"{what}: a branch has {blocks.GetArrayLength()} blocks; PIR's has one");
            var block = created.AddRegion().AddBlock();
            ImportBlock(blocks[0], OpBuilder.AtEnd(block), topLevel: false);
            var yield = block.Operations.Count > 0 ? block.Operations[^1] : null;
            if (yield?.Name != "mo.yield" || yield.OperandCount != results.Count)
                throw new MirException($"{what}: branch {BlockName(blocks[0])} does not end in a yield of {results.Count} values");
        }
        for (int i = 0; i < results.Count; i++) Define(results[i].Id, created.Results[i], what);
    }

    // ------------------------------------------------------------------ pd_ops with a legacy twin

    private void ImportMapped(JsonElement op, string name, OpBuilder builder, string what)
    {
        var dot = name.IndexOf('.');
        var dialect = dot > 0 ? name[..dot] : "";
        var pirOp = name[(dot + 1)..];
        var mapping = dialect == "1" ? PirOps.Find(pirOp) : null;
        if (mapping is null)
            throw new MirException($"{what}: no paddle op for PIR op '{name}' (mopt reads {string.Join(", ", PirOps.Names.Order(StringComparer.Ordinal))}, and data, fetch, full, full_int_array, if)");

        var ids = OperandIds(op, what);
        int tensorCount = mapping.Inputs.Length;
        if (ids.Count != tensorCount + mapping.Mutable.Length)
            throw new MirException($"{what}: {ids.Count} operands; PIR's {pirOp} has {tensorCount} tensors and {mapping.Mutable.Length} mutable attributes");

        var inputs = new List<(string Slot, List<Value> Values)>();
        for (int i = 0; i < tensorCount; i++)
            inputs.Add((mapping.Inputs[i], ids[i] == 0 ? [] : _vectors.TryGetValue(ids[i], out var vec) ? vec : [Lookup(ids[i], what)]));

        var attrs = new List<NamedAttr>();
        for (int i = 0; i < mapping.Mutable.Length; i++)
        {
            var mutable = mapping.Mutable[i];
            long id = ids[tensorCount + i];
            if (id == 0) continue;
            if (_constants.TryGetValue(id, out var constant)) attrs.Add(new NamedAttr(mutable.Attr, Fold(constant, mutable, what)));
            else if (mutable.TensorSlot is { } slot) inputs.Add((slot, [Lookup(id, what)]));
            else throw new MirException($"{what}: its {mutable.Pir} (value %{id}) is computed at run time; the legacy {mapping.Legacy} takes it only as a constant");
        }

        foreach (var a in PirSchema.OptionalArray(op, PirSchema.Attrs, what))
        {
            var attrName = PirSchema.String(PirSchema.Property(a, PirSchema.Name, what), what, "an attribute name");
            if (Dropped.Contains(attrName)) continue;
            var value = PirAttributes.Convert(PirSchema.Property(a, PirSchema.AttrType, what), $"{what} attribute '{attrName}'");
            var legacyName = mapping.Renames.FirstOrDefault(r => r.Pir == attrName).Legacy ?? attrName;
            if (mapping.AsInts32.Contains(legacyName) && value is DenseArrayAttr wide && !ReferenceEquals(wide.Type, ElementType.I32))
                value = DenseArrayAttr.OfInts(ElementType.I32, wide.Ints.Select(v => (long)checked((int)v)));
            attrs.Add(new NamedAttr(legacyName, value));
        }
        foreach (var extra in mapping.Extra)
            if (!attrs.Any(a => a.Name == extra.Name)) attrs.Add(extra);

        var results = Results(op, what);
        if (results.Count > mapping.Outputs.Length)
            throw new MirException($"{what}: {results.Count} results; PIR's {pirOp} has {mapping.Outputs.Length}");
        var baseName = pirOp.TrimEnd('_');
        var outputs = new List<(string Slot, List<(long Id, string Name, TensorType Type)> Values)>();
        var vectorResults = new List<(long Id, string Slot)>();
        for (int i = 0; i < results.Count; i++)
        {
            var (id, type, vector) = results[i];
            if (mapping.Outputs[i] is not { } slot)
            {
                if (id != 0) _droppedResults[id] = $"the {pirOp}'s result {i} (XShape, for training)";
                continue;
            }
            if (vector is not null)
            {
                // A vector result (split's): its elements are the slot's values, and builtin.split hands them out.
                outputs.Add((slot, vector.Select((t, k) => (0L, $"{ValueName(baseName, id)}_{k}", t)).ToList()));
                vectorResults.Add((id, slot));
            }
            else if (id == 0) outputs.Add((slot, []));
            else outputs.Add((slot, [(id, ValueName(baseName, id), type!)]));
        }
        var created = CreateLegacy(builder, mapping.Legacy, inputs, outputs, attrs);
        foreach (var (id, slot) in vectorResults) _vectors[id] = SlotResults(created, outputs, slot);
    }

    /// <summary>The results of output slot <paramref name="slot"/> of an op made by <see cref="CreateLegacy"/> (slots in name order).</summary>
    private static List<Value> SlotResults(Operation op, List<(string Slot, List<(long Id, string Name, TensorType Type)> Values)> outputs, string slot)
    {
        int at = 0;
        foreach (var (name, values) in outputs.OrderBy(o => o.Slot, StringComparer.Ordinal))
        {
            if (name == slot) return op.Results.Skip(at).Take(values.Count).Cast<Value>().ToList();
            at += values.Count;
        }
        return [];
    }

    /// <summary>A constant IntArray or Scalar as the legacy attribute's type.</summary>
    private static Attr Fold(PirConstant c, PirMutableAttr mutable, string what)
    {
        switch (mutable.Kind)
        {
            case PirAttrKind.Ints32:
                var ints = c.Ints ?? (c.Value is { } one ? Enumerable.Repeat((long)one, checked((int)c.Count)).ToArray() : []);
                return DenseArrayAttr.OfInts(ElementType.I32, ints.Select(v => (long)checked((int)v)));
            case PirAttrKind.Int32 or PirAttrKind.Int64:
                var scalar = c.Value is { } v && c.Count == 1 ? (long)v : c.Ints is [var only] ? only
                    : throw new MirException($"{what}: its {mutable.Pir} is a list of {c.Ints?.Length ?? c.Count}, not one value");
                return mutable.Kind == PirAttrKind.Int32 ? new IntegerAttr(checked((int)scalar), ElementType.I32) : IntegerAttr.I64(scalar);
            default:
                var f = c.Value is { } d && c.Count == 1 ? d : c.Ints is [var single] ? single : throw new MirException($"{what}: its {mutable.Pir} is a list, not one value");
                return new FloatAttr((float)f, ElementType.F32);
        }
    }

    /// <summary>
    /// <c>paddle.&lt;legacy&gt;</c> as the ProgramDesc importer makes it: operands and results by slot in slot-name order,
    /// counted in paddle.inputs/paddle.outputs, results named after their PIR ids (id 0: a vector's element, defined by its split).
    /// </summary>
    private Operation CreateLegacy(OpBuilder builder, string legacy, List<(string Slot, List<Value> Values)> inputs,
        List<(string Slot, List<(long Id, string Name, TensorType Type)> Values)> outputs, List<NamedAttr> attrs)
    {
        var ins = inputs.OrderBy(i => i.Slot, StringComparer.Ordinal).ToList();
        var outs = outputs.OrderBy(o => o.Slot, StringComparer.Ordinal).ToList();
        var resultNames = outs.SelectMany(o => o.Values).Select(v => v.Name).ToList();
        attrs.Add(new NamedAttr(PaddleDialect.InputsAttr, new DictionaryAttr(ins.Select(i => new NamedAttr(i.Slot, new IntegerAttr(i.Values.Count, ElementType.I32))).ToValueList())));
        attrs.Add(new NamedAttr(PaddleDialect.OutputsAttr, new DictionaryAttr(outs.Select(o => new NamedAttr(o.Slot, new IntegerAttr(o.Values.Count, ElementType.I32))).ToValueList())));
        attrs.Add(new NamedAttr(MoDialect.OutputsAttr, ArrayAttr.OfStrings(resultNames)));
        // The op is named by its Out/Output/Y (batch_norm's other outputs are its statistics), as the legacy importer names it.
        var main = outs.FirstOrDefault(o => o.Slot is "Out" or "Output" or "Y" && o.Values.Count > 0).Values?[0].Name ?? resultNames.FirstOrDefault();
        var created = builder.Create(PaddleDialect.Name + "." + legacy, ins.SelectMany(i => i.Values).ToList(),
            outs.SelectMany(o => o.Values).Select(v => (MirType)v.Type).ToList(), attrs, main is null ? null : Location.Named(main));
        int at = 0;
        foreach (var (_, values) in outs)
            foreach (var (id, _, _) in values)
            {
                if (id > 0) Define(id, created.Results[at], $"{_path}: op {_opIndex} ({legacy})");
                at++;
            }
        return created;
    }

    // ------------------------------------------------------------------ attributes

    /// <summary>Attribute <paramref name="name"/> of an op's A list, converted; null when absent.</summary>
    private static Attr? Attr(JsonElement op, string name, string what)
    {
        foreach (var a in PirSchema.OptionalArray(op, PirSchema.Attrs, what))
            if (a.ValueKind == JsonValueKind.Object && a.TryGetProperty(PirSchema.Name, out var n) && n.ValueKind == JsonValueKind.String && n.GetString() == name)
                return PirAttributes.Convert(PirSchema.Property(a, PirSchema.AttrType, what), $"{what} attribute '{name}'");
        return null;
    }

    private static string StringAttr(JsonElement op, string name, string what) =>
        Attr(op, name, what) is StringAttr s ? s.Value : throw new MirException($"{what}: no string attribute '{name}'");
}
