using System.Globalization;
using System.Text;
using Antlr4.Runtime;
using Antlr4.Runtime.Tree;
using Mopt.Grammar;
using static Mopt.Grammar.MirParser;

namespace Mopt.Ir.Parsing;

/// <summary>
/// Turns the ANTLR parse tree into IR: resolves SSA names (defined once, before use, with the type they were
/// defined with), location and attribute aliases, dense literals and the resource trailer.
/// </summary>
internal sealed class TreeToIr(SourceText source, MirCharStream chars, IReadOnlyDictionary<int, HexString> hexStrings)
{
    private readonly Dictionary<string, LocationBodyContext> _locAliasTrees = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Location> _locAliases = new(StringComparer.Ordinal);
    private readonly HashSet<string> _resolvingLocs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AttributeContext> _attrAliasTrees = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TypeContext> _typeAliasTrees = new(StringComparer.Ordinal);
    private readonly List<(DenseResourceAttr Attr, IToken At)> _resourceUses = new();
    // mlir-opt takes only bare identifiers as resource keys: a quoted key is renamed on the way in.
    private readonly Dictionary<string, string> _keyRenames = new(StringComparer.Ordinal);
    private Scope _scope = new(null);

    public MirModule Convert(MirFileContext file)
    {
        // Aliases may be used before they are defined (mlir-opt prints #loc lines after the module).
        foreach (var item in file.topLevelItem())
        {
            switch (item.aliasDefinition())
            {
                case LocationAliasContext l: DefineAlias(_locAliasTrees, l.HASH_ID().Symbol, l.location().locationBody()); break;
                case AttributeAliasContext a: DefineAlias(_attrAliasTrees, a.HASH_ID().Symbol, a.attribute()); break;
                case TypeAliasContext t: DefineAlias(_typeAliasTrees, t.BANG_ID().Symbol, t.type()); break;
            }
        }

        var resources = new ResourceTable();
        foreach (var item in file.topLevelItem())
            if (item.fileMetadata() is { } meta) ReadMetadata(meta, resources);

        var topOps = file.topLevelItem().Select(i => i.operation()).Where(o => o is not null).Select(ConvertOperation).ToList();
        MirModule module;
        if (topOps.Count == 1 && topOps[0] is { Name: MirModule.ModuleOpName, Regions: [{ Blocks.Count: 1 }] } only)
        {
            module = new MirModule(only, resources);
        }
        else
        {
            // As mlir-opt does: top-level operations without a module are wrapped in one.
            module = new MirModule(MirModule.Create().Op, resources);
            foreach (var op in topOps) module.Body.Append(op);
        }

        _scope.CheckForwardReferences(this);
        CheckResourceUses(resources);
        return module;
    }

    private void DefineAlias<T>(Dictionary<string, T> table, IToken name, T tree)
    {
        if (!table.TryAdd(name.Text, tree)) throw Error(name, $"alias '{name.Text}' is defined twice");
    }

    // ------------------------------------------------------------------ operations

    private Operation ConvertOperation(OperationContext ctx)
    {
        if (ctx.moduleOp() is { } m) return ConvertModule(m);
        if (ctx.funcOp() is { } f) return ConvertFunc(f);
        if (ctx.returnOp() is { } r) return ConvertReturn(r);
        return ConvertGeneric(ctx.opResultList(), ctx.genericOp());
    }

    private Operation ConvertModule(ModuleOpContext ctx)
    {
        var op = new Operation(MirModule.ModuleOpName, [], [], AttrDict(ctx.attributeDict()), Loc(ctx.trailingLocation()))
        {
            SourcePosition = Pos(ctx.Start),
        };
        if (ctx.SYMBOL_ID() is { } sym) op.SetAttr("sym_name", new StringAttr(SymbolName(sym.Symbol)));
        var block = op.AddRegion().AddBlock();
        foreach (var inner in ctx.operation()) block.Append(ConvertOperation(inner));
        return op;
    }

    private Operation ConvertFunc(FuncOpContext ctx)
    {
        var args = ctx.funcArguments()?.funcArgument() ?? [];
        var argTypes = args.Select(a => ConvertType(a.type())).ToArray();
        var results = ctx.funcResults();
        var resultTypes = new List<MirType>();
        var resultAttrs = new List<DictionaryAttr>();
        if (results?.nonFunctionType() is { } single) { resultTypes.Add(ConvertNonFunctionType(single)); resultAttrs.Add(DictionaryAttr.Empty); }
        else if (results is not null)
            foreach (var r in results.funcResult())
            {
                resultTypes.Add(ConvertType(r.type()));
                resultAttrs.Add(DictionaryAttr.From(AttrDict(r.attributeDict())));
            }

        var attrs = AttrDict(ctx.attributeDict()).ToList();
        attrs.Add(new NamedAttr("sym_name", new StringAttr(SymbolName(ctx.SYMBOL_ID().Symbol))));
        attrs.Add(new NamedAttr("function_type", new TypeAttr(new FunctionType(argTypes, resultTypes))));
        if (ctx.bareId() is { } visibility) attrs.Add(new NamedAttr("sym_visibility", new StringAttr(visibility.GetText())));
        var argAttrs = args.Select(a => (Attr)DictionaryAttr.From(AttrDict(a.attributeDict()))).ToArray();
        if (argAttrs.Any(a => a is DictionaryAttr { Entries.Count: > 0 })) attrs.Add(new NamedAttr("arg_attrs", ArrayAttr.Of(argAttrs)));
        if (resultAttrs.Any(a => a.Entries.Count > 0)) attrs.Add(new NamedAttr("res_attrs", ArrayAttr.Of(resultAttrs)));

        var op = new Operation(FuncOp.OpName, [], [], attrs, Loc(ctx.trailingLocation())) { SourcePosition = Pos(ctx.Start) };
        var region = op.AddRegion();
        if (ctx.funcBody() is not { } body) return op; // a declaration

        var outer = _scope;
        _scope = new Scope(null); // functions are isolated from above: a fresh name space
        var entry = region.AddBlock();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].VALUE_ID() is not { } argName) throw Error(args[i].Start, $"argument #{i} of a function with a body needs a name (%arg: type)");
            Define(argName.Symbol, entry.AddArgument(argTypes[i], Loc(args[i].trailingLocation())));
        }
        ConvertBlocks(region, entry, body.operation(), body.block());
        _scope.CheckForwardReferences(this);
        _scope = outer;
        return op;
    }

    private void ConvertBlocks(Region region, Block entry, OperationContext[] entryOps, BlockContext[] blocks)
    {
        foreach (var inner in entryOps) entry.Append(ConvertOperation(inner));
        for (int b = 0; b < blocks.Length; b++)
        {
            var block = b == 0 && entry.Operations.Count == 0 && entry.Arguments.Count == 0 ? entry : region.AddBlock();
            var label = blocks[b].blockLabel();
            block.Label = label.CARET_ID().GetText();
            foreach (var a in label.blockArgument())
                Define(a.VALUE_ID().Symbol, block.AddArgument(ConvertType(a.type()), Loc(a.trailingLocation())));
            foreach (var inner in blocks[b].operation()) block.Append(ConvertOperation(inner));
        }
    }

    private Operation ConvertReturn(ReturnOpContext ctx)
    {
        var uses = ctx.valueUseList()?.valueUse() ?? [];
        var types = ctx.typeList()?.type() ?? [];
        if (uses.Length != types.Length)
            throw Error(ctx.Start, $"return has {uses.Length} values but {types.Length} types");
        var operands = uses.Select((u, i) => Use(u.VALUE_ID().Symbol, ConvertType(types[i]))).ToArray();
        return new Operation(FuncOp.ReturnOpName, operands, [], null, Loc(ctx.trailingLocation())) { SourcePosition = Pos(ctx.Start) };
    }

    private Operation ConvertGeneric(OpResultListContext? resultList, GenericOpContext ctx)
    {
        var nameToken = ctx.STRING().Symbol;
        var name = DecodeString(nameToken);
        if (name.Length == 0) throw Error(nameToken, "an operation name cannot be empty");

        var fnType = ConvertFunctionType(ctx.functionType());
        var uses = ctx.valueUseList()?.valueUse() ?? [];
        if (uses.Length != fnType.Inputs.Count)
            throw Error(ctx.functionType().Start, $"'{name}' has {uses.Length} operands but its type lists {fnType.Inputs.Count}");
        var operands = uses.Select((u, i) => Use(u.VALUE_ID().Symbol, fnType.Inputs[i])).ToArray();

        var attrs = AttrDict(ctx.attributeDict()).ToList();
        if (ctx.propertyDict() is { } props) attrs.AddRange(AttrDict(props.attributeDict()));
        var op = new Operation(name, operands, fnType.Results, attrs, Loc(ctx.trailingLocation()))
        {
            SourcePosition = Pos(resultList?.Start ?? nameToken),
        };

        // Results: `%a, %b:2 = ...` names them in order; the counts must add up to the type's results.
        if (resultList is not null)
        {
            int next = 0;
            foreach (var r in resultList.opResult())
            {
                int count = r.INTEGER() is { } n ? ParseCount(n.Symbol) : 1;
                if (next + count > op.Results.Count)
                    throw Error(r.Start, $"'{name}' names more results than its type lists ({op.Results.Count})");
                DefineGroup(r.VALUE_ID().Symbol, op.Results.Skip(next).Take(count).Cast<Value>().ToArray());
                next += count;
            }
            if (next != op.Results.Count)
                throw Error(resultList.Start, $"'{name}' names {next} results but its type lists {op.Results.Count}");
        }
        else if (op.Results.Count > 0)
        {
            throw Error(nameToken, $"'{name}' has {op.Results.Count} results but none is named (write %r = ...)");
        }

        if (ctx.regionList() is { } regions)
        {
            foreach (var regionCtx in regions.region())
            {
                var region = op.AddRegion();
                if (regionCtx.operation().Length == 0 && regionCtx.block().Length == 0) continue; // `{}`: no blocks (a declaration's body)
                var outer = _scope;
                _scope = new Scope(outer);
                ConvertBlocks(region, region.AddBlock(), regionCtx.operation(), regionCtx.block());
                _scope.CheckForwardReferences(this);
                _scope = outer;
            }
        }
        return op;
    }

    private int ParseCount(IToken t)
    {
        if (!int.TryParse(t.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1)
            throw Error(t, $"'{t.Text}' is not a valid result count");
        return n;
    }

    // ------------------------------------------------------------------ SSA names

    /// <summary>One name space: a function body, or a nested region that also sees its parent's names.</summary>
    private sealed class Scope(Scope? parent)
    {
        public readonly Dictionary<string, (Value[] Values, IToken At)> Defined = new(StringComparer.Ordinal);
        public readonly List<(string Name, IToken At)> Unresolved = new();
        public Scope? Parent { get; } = parent;

        public (Value[] Values, IToken At)? Lookup(string name) =>
            Defined.TryGetValue(name, out var d) ? d : Parent?.Lookup(name);

        public void CheckForwardReferences(TreeToIr reader)
        {
            foreach (var (name, at) in Unresolved)
                throw Defined.TryGetValue(name, out var def)
                    ? reader.Error(at, $"value '%{name}' is used before its definition at line {def.At.Line}")
                    : reader.Error(at, $"use of undefined value '%{name}'");
        }
    }

    private void Define(IToken token, Value value) => DefineGroup(token, [value]);

    private void DefineGroup(IToken token, Value[] values)
    {
        var name = token.Text[1..];
        if (_scope.Lookup(name) is { } previous)
            throw Error(token, $"value '%{name}' is defined twice (first at line {previous.At.Line})");
        _scope.Defined[name] = (values, token);
    }

    // Stand-ins for names used before they are defined; a region that ends with one is an error.
    private readonly Block _placeholders = MirModule.Create().Body;

    private Value Use(IToken token, MirType expected)
    {
        var text = token.Text[1..];
        int hash = text.IndexOf('#');
        string name = hash >= 0 ? text[..hash] : text;
        int index = hash >= 0 ? int.Parse(text[(hash + 1)..], CultureInfo.InvariantCulture) : 0;
        if (_scope.Lookup(name) is not { } def)
        {
            // Resolved (and reported) at the end of the region: defined later, or never.
            _scope.Unresolved.Add((name, token));
            return _placeholders.AddArgument(expected);
        }
        if (index >= def.Values.Length)
            throw Error(token, $"'%{name}' has {def.Values.Length} results; #{index} does not exist");
        var value = def.Values[index];
        if (value.Type != expected)
            throw Error(token, $"'%{text}' is defined as {value.Type} but used here as {expected}");
        return value;
    }

    // ------------------------------------------------------------------ types

    private MirType ConvertType(TypeContext ctx) =>
        ctx.functionType() is { } f ? ConvertFunctionType(f) : ConvertNonFunctionType(ctx.nonFunctionType());

    private FunctionType ConvertFunctionType(FunctionTypeContext ctx)
    {
        var inputs = ctx.typeList()?.type().Select(ConvertType).ToArray() ?? [];
        var res = ctx.functionResultTypes();
        var results = res.nonFunctionType() is { } one
            ? [ConvertNonFunctionType(one)]
            : res.typeList()?.type().Select(ConvertType).ToArray() ?? [];
        return new FunctionType(inputs, results);
    }

    private MirType ConvertNonFunctionType(NonFunctionTypeContext ctx)
    {
        if (ctx.tensorType() is { } t) return ConvertTensorType(t);
        if (ctx.elementTypeName() is { } e) return ElementTypeOf(e.BARE_ID().Symbol, e.GetText());
        var bang = ctx.BANG_ID().Symbol;
        if (ctx.ChildCount == 1 && _typeAliasTrees.TryGetValue(bang.Text, out var aliased)) return ConvertType(aliased);
        var spelling = Encoding.UTF8.GetString(chars.Bytes(ctx.Start.StartIndex, ctx.Stop.StopIndex));
        return new OpaqueType(string.Join(' ', spelling.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)));
    }

    private TensorType ConvertTensorType(TensorTypeContext ctx)
    {
        if (ctx.attribute() is { } encoding)
            throw Error(encoding.Start, "tensor encodings are not supported");
        if (ctx.HEX_INTEGER() is { } hex)
        {
            // `tensor<0xf32>` lexes as the hex number 0xf32: a zero-sized dimension and an element type.
            var elem = hex.GetText()[2..];
            return new TensorType(ElementTypeOf(hex.Symbol, elem, extraColumns: 2), [0]);
        }
        var element = ElementTypeOf(ctx.elementTypeName().Start, ctx.elementTypeName().GetText());
        var prefix = ctx.shapePrefix();
        if (prefix is null) return new TensorType(element, []);
        if (prefix.UNRANKED() is not null) return TensorType.Unranked(element);
        var dims = prefix.DIMS().GetText().Split('x', StringSplitOptions.RemoveEmptyEntries);
        var shape = new long[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == "?") shape[i] = TensorType.Dynamic;
            else if (!long.TryParse(dims[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw Error(prefix.Start, $"dimension '{dims[i]}' is too large");
        }
        return new TensorType(element, shape);
    }

    private ElementType ElementTypeOf(IToken at, string name, int extraColumns = 0) =>
        ElementType.TryGet(name) ?? throw Error(at, $"unknown element type '{name}' (known: {ElementType.KnownNames})", extraColumns);

    // ------------------------------------------------------------------ attributes

    private IEnumerable<NamedAttr> AttrDict(AttributeDictContext? ctx)
    {
        if (ctx is null) yield break;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in ctx.namedAttribute())
        {
            var name = entry.STRING() is { } s ? DecodeString(s.Symbol) : entry.bareId().GetText();
            if (!seen.Add(name)) throw Error(entry.Start, $"attribute '{name}' appears twice");
            yield return new NamedAttr(name, entry.attribute() is { } value ? ConvertAttr(value) : UnitAttr.Instance);
        }
    }

    private Attr ConvertAttr(AttributeContext ctx)
    {
        switch (ctx)
        {
            case LiteralAttrContext lit:
                if (lit.literal().STRING() is { } str)
                {
                    if (lit.type() is { } t) throw Error(t.Start, "typed string attributes are not supported");
                    return new StringAttr(DecodeString(str.Symbol));
                }
                return NumberAttr(lit.literal().signedNumber(), lit.type() is { } ty ? ConvertType(ty) : null);
            case TrueAttrContext: return BoolAttr.True;
            case FalseAttrContext: return BoolAttr.False;
            case UnitAttrContext: return UnitAttr.Instance;
            case ArrayAttrContext arr: return ArrayAttr.Of(arr.attribute().Select(ConvertAttr));
            case DenseArrayAttrContext da: return ConvertDenseArray(da);
            case DenseAttrContext d: return ConvertDense(d);
            case DenseResourceAttrContext r:
            {
                var type = ConvertType(r.type()) as TensorType ?? throw Error(r.type().Start, "dense_resource needs a tensor type");
                var key = r.STRING() is { } ks ? DecodeString(ks.Symbol) : r.bareId().GetText();
                var attr = new DenseResourceAttr(type, _keyRenames.GetValueOrDefault(key, key));
                _resourceUses.Add((attr, r.Start));
                return attr;
            }
            case DictAttrContext dict: return DictionaryAttr.From(AttrDict(dict.attributeDict()));
            case SymbolRefAttrContext sym:
            {
                var parts = sym.SYMBOL_ID().Select(s => SymbolName(s.Symbol)).ToArray();
                return new SymbolRefAttr(parts[0], parts.Skip(1).ToValueList());
            }
            case TypeAttrContext ta: return new TypeAttr(ConvertType(ta.type()));
            case AliasAttrContext alias:
            {
                var name = alias.HASH_ID().Symbol;
                if (_locAliasTrees.ContainsKey(name.Text)) throw Error(name, $"'{name.Text}' is a location, not an attribute");
                if (!_attrAliasTrees.TryGetValue(name.Text, out var tree)) throw Error(name, $"undefined attribute alias '{name.Text}'");
                return ConvertAttr(tree);
            }
            default: throw Error(ctx.Start, "unsupported attribute");
        }
    }

    private Attr NumberAttr(SignedNumberContext num, MirType? type)
    {
        var elem = type switch
        {
            null => null,
            ElementType e => e,
            _ => throw Error(num.Start, $"a number attribute needs a scalar type, not {type}"),
        };
        if (elem is { IsBool: true }) return ParseInteger(num, ElementType.I1) != 0 ? BoolAttr.True : BoolAttr.False;
        if (num.FLOAT() is not null && elem is null) elem = ElementType.F64;
        elem ??= ElementType.I64;
        if (elem.IsFloat && num.HEX_INTEGER() is not null) return FloatAttr.FromBits(elem, FloatBits(num, elem));
        if (elem.IsFloat) return new FloatAttr(ParseFloat(num, elem), elem);
        if (elem.Kind == ElementKind.None) throw Error(num.Start, "a number cannot have type none");
        return new IntegerAttr(ParseInteger(num, elem), elem);
    }

    private DenseArrayAttr ConvertDenseArray(DenseArrayAttrContext ctx)
    {
        var elem = ElementTypeOf(ctx.elementTypeName().Start, ctx.elementTypeName().GetText());
        var values = new List<long>();
        foreach (var e in ctx.arrayElement())
        {
            if (e.signedNumber() is { } n)
            {
                if (elem.IsFloat)
                    values.Add(unchecked((long)(n.HEX_INTEGER() is not null ? FloatBits(n, elem) : ElementCodec.BitsOf(elem, ParseFloat(n, elem)))));
                else values.Add(ParseInteger(n, elem));
            }
            else if (elem.IsBool) values.Add(e.GetText() == "true" ? 1 : 0);
            else throw Error(e.Start, $"'{e.GetText()}' is not a {elem}");
        }
        return new DenseArrayAttr(elem, values.ToValueList());
    }

    private DenseElementsAttr ConvertDense(DenseAttrContext ctx)
    {
        var type = ConvertType(ctx.type()) as TensorType ?? throw Error(ctx.type().Start, "dense needs a tensor type");
        if (!type.HasStaticShape) throw Error(ctx.type().Start, $"dense needs a static shape, not {type}");
        var elem = type.Element;
        if (elem.BitWidth == 0) throw Error(ctx.type().Start, $"dense cannot hold {elem} elements");
        long count = type.ElementCount!.Value;
        int size = elem.ByteSize;
        var literal = ctx.denseLiteral();
        if (literal?.STRING() is { } str)
        {
            var bytes = HexBytes(str.Symbol, "dense constant");
            if (elem.IsBool && count != 1)
            {
                // MLIR writes i1 hex bit-packed (LSB first); a single 0x00 or 0xFF byte is a splat.
                if (bytes.Length == 1 && bytes[0] is 0 or 0xFF) return new DenseElementsAttr(type, new[] { (byte)(bytes[0] & 1) }, true);
                if (bytes.Length == (count + 7) / 8 && bytes.Length != count)
                {
                    var unpacked = new byte[count];
                    for (long i = 0; i < count; i++) unpacked[i] = (byte)((bytes[i / 8] >> (int)(i % 8)) & 1);
                    return DenseElementsAttr.Create(type, unpacked);
                }
            }
            if (bytes.Length != size && bytes.Length != count * size)
                throw Error(str.Symbol, $"dense hex holds {bytes.Length} bytes but {type} needs {count * size}");
            // i4/ui4 hex is MLIR's, a byte per element (one byte: a splat); the IR keeps them packed.
            if (elem.IsPacked)
                return bytes.Length == 1 ? new DenseElementsAttr(type, new[] { (byte)(bytes[0] & 0xF) }, true) : DenseElementsAttr.Create(type, ElementCodec.Pack4(bytes));
            return DenseElementsAttr.Create(type, bytes);
        }

        var flat = new List<DenseElementContext>();
        if (literal?.denseElement() is { } root)
        {
            if (root.ChildCount == 1 || root.GetChild(0).GetText() == "(")
            {
                if (count == 0) throw Error(root.Start, $"a splat value cannot fill {type}, which has no elements");
                var one = EncodeElements([root], elem);
                if (elem.IsPacked) one[0] &= 0xF;
                return new DenseElementsAttr(type, one, true);
            }
            Flatten(root, type.Shape!, 0, flat);
        }
        else if (count != 0) throw Error(ctx.Start, $"an empty dense literal cannot fill {type}");
        var encoded = EncodeElements(flat, elem);
        return DenseElementsAttr.Create(type, elem.IsPacked ? ElementCodec.Pack4(encoded) : encoded);
    }

    private void Flatten(DenseElementContext ctx, IReadOnlyList<long> shape, int depth, List<DenseElementContext> into)
    {
        bool isList = ctx.GetChild(0).GetText() == "[";
        if (!isList)
        {
            if (depth != shape.Count) throw Error(ctx.Start, $"dense literal is nested {depth} deep but the shape has rank {shape.Count}");
            into.Add(ctx);
            return;
        }
        if (depth >= shape.Count) throw Error(ctx.Start, $"dense literal is nested deeper than the shape's rank {shape.Count}");
        var items = ctx.denseElement();
        if (items.Length != shape[depth])
            throw Error(ctx.Start, $"dense literal has {items.Length} elements in dimension {depth}, the type says {shape[depth]}");
        foreach (var item in items) Flatten(item, shape, depth + 1, into);
    }

    private byte[] EncodeElements(IReadOnlyList<DenseElementContext> elements, ElementType elem)
    {
        var bytes = new byte[elements.Count * elem.ByteSize];
        var span = bytes.AsSpan();
        for (int i = 0; i < elements.Count; i++)
        {
            var e = elements[i];
            var dest = span.Slice(i * elem.ByteSize, elem.ByteSize);
            if (e.signedNumber().Length == 2) throw Error(e.Start, "complex constants are not supported");
            string text = e.GetText();
            if (text is "true" or "false")
            {
                if (!elem.IsBool) throw Error(e.Start, $"'{text}' is not a {elem}");
                dest[0] = text == "true" ? (byte)1 : (byte)0;
                continue;
            }
            var num = e.signedNumber()[0];
            if (elem.IsFloat && num.HEX_INTEGER() is not null) ElementCodec.WriteInteger(dest, elem, unchecked((long)FloatBits(num, elem)));
            else if (elem.IsFloat) ElementCodec.WriteFloat(dest, elem, ParseFloat(num, elem));
            else ElementCodec.WriteInteger(dest, elem, ParseInteger(num, elem));
        }
        return bytes;
    }

    private double ParseFloat(SignedNumberContext num, ElementType elem)
    {
        bool negative = num.ChildCount == 2;
        var token = num.Stop;
        if (num.HEX_INTEGER() is not null) return ElementCodec.FloatFromBits(elem, FloatBits(num, elem));
        var text = (negative ? "-" : "") + token.Text;
        double value = elem == ElementType.F32
            ? float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)
            : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return ElementCodec.RoundTo(elem, value);
    }

    /// <summary>A float spelled by its bits (how MLIR writes inf and nan): <c>0x7FC00000</c>.</summary>
    private ulong FloatBits(SignedNumberContext num, ElementType elem)
    {
        var token = num.Stop;
        if (num.ChildCount == 2) throw Error(num.Start, "a float given by its hex bits cannot have a minus sign; the sign is a bit");
        if (!ulong.TryParse(token.Text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong bits)
            || (elem.BitWidth < 64 && bits >> elem.BitWidth != 0))
            throw Error(token, $"'{token.Text}' has more bits than {elem}");
        return bits;
    }

    private long ParseInteger(SignedNumberContext num, ElementType elem)
    {
        var token = num.Stop;
        if (num.FLOAT() is not null) throw Error(token, $"'{token.Text}' is not an integer, but the type is {elem}");
        bool negative = num.ChildCount == 2;
        bool hex = num.HEX_INTEGER() is not null;
        if (!ulong.TryParse(hex ? token.Text.AsSpan(2) : token.Text, hex ? NumberStyles.HexNumber : NumberStyles.None,
                CultureInfo.InvariantCulture, out ulong magnitude))
            throw Error(token, $"'{token.Text}' does not fit in {elem}");
        if (!ElementCodec.FitsInteger(elem, magnitude, negative))
            throw Error(num.Start, $"{(negative ? "-" : "")}{token.Text} does not fit in {elem}");
        long value = negative ? -(long)magnitude : unchecked((long)magnitude);
        // Signless values are stored sign-extended, as MLIR prints them (255 : i8 is -1 : i8).
        if (elem.Kind == ElementKind.SignlessInt && elem.BitWidth is > 1 and < 64)
            value = (value << (64 - elem.BitWidth)) >> (64 - elem.BitWidth);
        return value;
    }

    // ------------------------------------------------------------------ locations

    private Location Loc(TrailingLocationContext? ctx) => ctx is null ? Location.Unknown : ConvertLoc(ctx.locationBody());

    private Location ConvertLoc(LocationBodyContext ctx) => ctx switch
    {
        UnknownLocContext => Location.Unknown,
        FileLineColLocContext f => new FileLineColLoc(DecodeString(f.STRING().Symbol), ParseCount0(f.INTEGER(0).Symbol), ParseCount0(f.INTEGER(1).Symbol)),
        NameLocContext n => new NameLoc(DecodeString(n.STRING().Symbol), n.locationBody() is { } child ? ConvertLoc(child) : null),
        // As MLIR's FusedLoc::get: flattened, unknowns and repeats dropped, a single location is itself.
        FusedLocContext fused => Location.Fuse(fused.locationBody().Select(ConvertLoc).ToArray(), fused.attribute() is { } meta ? ConvertAttr(meta) : null),
        CallSiteLocContext cs => new CallSiteLoc(ConvertLoc(cs.locationBody(0)), ConvertLoc(cs.locationBody(1))),
        AliasLocContext a => ResolveLocAlias(a.HASH_ID().Symbol),
        _ => throw Error(ctx.Start, "unsupported location"),
    };

    private int ParseCount0(IToken t) =>
        int.TryParse(t.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : throw Error(t, $"'{t.Text}' is too large");

    private Location ResolveLocAlias(IToken name)
    {
        if (_locAliases.TryGetValue(name.Text, out var done)) return done;
        if (!_locAliasTrees.TryGetValue(name.Text, out var tree)) throw Error(name, $"undefined location alias '{name.Text}'");
        if (!_resolvingLocs.Add(name.Text)) throw Error(name, $"location alias '{name.Text}' refers to itself");
        var loc = ConvertLoc(tree);
        _resolvingLocs.Remove(name.Text);
        return _locAliases[name.Text] = loc;
    }

    // ------------------------------------------------------------------ resource trailer

    private void ReadMetadata(FileMetadataContext meta, ResourceTable resources)
    {
        foreach (var section in meta.metadataSection())
        {
            var sectionName = section.bareId().GetText();
            foreach (var group in section.resourceGroup())
            {
                var groupName = group.bareId().GetText();
                foreach (var entry in group.resourceEntry())
                {
                    var key = entry.STRING() is { } ks ? DecodeString(ks.Symbol) : entry.bareId().GetText();
                    var value = entry.resourceValue();
                    if (sectionName == "dialect_resources" && groupName == "builtin")
                    {
                        if (value.STRING() is not { } blobToken) throw Error(value.Start, $"builtin resource '{key}' must be a hex string");
                        var bytes = HexBytes(blobToken.Symbol, $"blob '{key}'");
                        if (bytes.Length < 4) throw Error(blobToken.Symbol, $"blob '{key}' is missing its 4-byte alignment prefix");
                        uint alignment = BitConverter.ToUInt32(bytes, 0);
                        // mlir-opt writes an empty blob as 0x00000000: alignment 0 means none.
                        if ((alignment & (alignment - 1)) != 0)
                            throw Error(blobToken.Symbol, $"blob '{key}' starts with alignment {alignment}, which is not a power of two");
                        if (resources.Contains(key) || _keyRenames.ContainsKey(key)) throw Error(entry.Start, $"blob '{key}' appears twice in the trailer");
                        if (!ResourceTable.IsValidKey(key)) key = _keyRenames[key] = resources.UniqueKey(key);
                        resources.Set(key, new ResourceBlob(alignment, bytes.AsMemory(4)));
                    }
                    else
                    {
                        var spelling = value.STRING() is { } s && hexStrings.ContainsKey(s.Symbol.StartIndex)
                            ? Encoding.ASCII.GetString(source.ReadRange(s.Symbol.StartIndex, s.Symbol.StopIndex))
                            : value.GetText();
                        resources.Foreign.Add(new ForeignResource(sectionName, groupName, key, spelling));
                    }
                }
            }
        }
    }

    private void CheckResourceUses(ResourceTable resources)
    {
        foreach (var (attr, at) in _resourceUses)
        {
            if (attr.Key == DenseResourceAttr.ElidedKey)
                throw Error(at, "this dump elided its large constants (dense_resource<__elided__>): it cannot be read back as a model");
            if (resources.Get(attr.Key) is not { } blob)
                throw Error(at, $"dense_resource key '{attr.Key}' has no entry in the dialect_resources trailer");
            if (attr.Type.ByteSize is null)
                throw Error(at, $"dense_resource needs a static shape, not {attr.Type}");
            if (attr.Type.ByteSize is long need && blob.Data.Length != need)
                throw Error(at, $"blob '{attr.Key}' holds {blob.Data.Length} bytes but {attr.Type} needs {need}");
        }
    }

    private byte[] HexBytes(IToken token, string what)
    {
        if (!hexStrings.TryGetValue(token.StartIndex, out var hex))
            throw Error(token, $"{what} must be a hex string \"0x...\"");
        if (hex.Bytes is null)
            throw Error(token, $"{what} has bad hex: {hex.Problem}", (int)(hex.BadOffset - token.StartIndex));
        return hex.Bytes;
    }

    // ------------------------------------------------------------------ strings and positions

    private string SymbolName(IToken token) =>
        token.Text.Length > 1 && token.Text[1] == '"' ? DecodeString(token, skip: 1) : token.Text[1..];

    /// <summary>A string token's value: its bytes between the quotes, escapes undone, read as UTF-8.</summary>
    private string DecodeString(IToken token, int skip = 0)
    {
        var raw = chars.Bytes(token.StartIndex + skip, token.StopIndex);
        var bytes = new List<byte>(raw.Length);
        for (int i = 1; i < raw.Length - 1; i++)
        {
            byte b = raw[i];
            if (b != '\\') { bytes.Add(b); continue; }
            byte next = raw[++i];
            switch (next)
            {
                case (byte)'n': bytes.Add((byte)'\n'); break;
                case (byte)'t': bytes.Add((byte)'\t'); break;
                case (byte)'"': bytes.Add((byte)'"'); break;
                case (byte)'\\': bytes.Add((byte)'\\'); break;
                default:
                    if (i + 1 < raw.Length - 1 && char.IsAsciiHexDigit((char)next) && char.IsAsciiHexDigit((char)raw[i + 1]))
                    {
                        bytes.Add(System.Convert.FromHexString([(char)next, (char)raw[i + 1]])[0]);
                        i++;
                        break;
                    }
                    throw Error(token, $"unknown escape '\\{(char)next}' in string", i - 1 + skip);
            }
        }
        return StringBytes.Decode(bytes.ToArray());
    }

    private SourcePosition Pos(IToken t) => new(source.Name, t.Line, t.Column + 1, t.StartIndex);

    internal MirException Error(IToken token, string message, int extraColumns = 0) =>
        MirReader.ErrorAt(source, token, message, extraColumns);
}
