using System.Globalization;
using System.Text;

namespace Mopt.Ir.Printing;

public sealed record PrintOptions
{
    /// <summary>Constants with more elements than this print as <c>dense_resource&lt;__elided__&gt;</c> (a dump for reading).</summary>
    public long? ElideConstantsLargerThan { get; init; }
    public bool PrintLocations { get; init; } = true;

    public static readonly PrintOptions Default = new();
}

/// <summary>
/// Prints a module in MLIR's generic form (with the custom forms mlir-opt uses for module, func.func and
/// return), so that every file is also valid input to mlir-opt. Values are numbered as mlir-opt does.
/// </summary>
public sealed class MirPrinter
{
    /// <summary>More elements than this print as hex, as MLIR does.</summary>
    private const int HexThreshold = 100;
    // 64 KiB at a time (a 128 KiB hex buffer): large enough for full-speed writes, small beside the peak memory it adds.
    private const int BlobChunk = 1 << 16;

    private readonly StreamWriter _out;
    private readonly Stream _stream;
    private readonly PrintOptions _options;
    private readonly HashSet<string> _elidedKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<Value, string> _names = new();
    private readonly Dictionary<Operation, string> _resultGroups = new();
    private int _indent;

    private MirPrinter(Stream stream, PrintOptions options)
    {
        _stream = stream;
        _out = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        _options = options;
    }

    public static void Print(MirModule module, Stream output, PrintOptions? options = null)
    {
        var printer = new MirPrinter(output, options ?? PrintOptions.Default);
        printer.PrintModule(module);
    }

    public static string PrintToString(MirModule module, PrintOptions? options = null)
    {
        using var ms = new MemoryStream();
        Print(module, ms, options);
        return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
    }

    private void PrintModule(MirModule module)
    {
        if (_options.ElideConstantsLargerThan is long n)
            _out.WriteLine($"// mopt: constants with more than {n} elements are elided (dense_resource<__elided__>); this dump does not round-trip");
        NameValues(module.Op);
        PrintOperation(module.Op);
        _out.WriteLine();
        PrintResources(module);
        _out.Flush();
    }

    // ------------------------------------------------------------------ operations

    private void PrintOperation(Operation op)
    {
        Indent();
        switch (op.Name)
        {
            case MirModule.ModuleOpName when op.Regions.Count == 1 && op.Regions[0].Blocks.Count == 1 && op.OperandCount == 0 && op.Results.Count == 0:
                PrintModuleOp(op);
                break;
            case FuncOp.OpName when IsPrettyFunc(op):
                PrintFuncOp(new FuncOp(op));
                break;
            case FuncOp.ReturnOpName when op.Regions.Count == 0 && op.Results.Count == 0 && op.Parent?.Parent.Parent.Name == FuncOp.OpName:
                _out.Write("return");
                if (op.OperandCount > 0)
                {
                    _out.Write(' ');
                    WriteOperands(op);
                    _out.Write(" : ");
                    _out.Write(string.Join(", ", op.Operands.Select(v => v.Type.Text)));
                }
                PrintLoc(op.Location);
                break;
            default:
                PrintGeneric(op);
                break;
        }
        _out.Write('\n');
    }

    private static bool IsPrettyFunc(Operation op) =>
        op.Regions.Count == 1 && op.OperandCount == 0 && op.Results.Count == 0 &&
        op.GetAttr("sym_name") is StringAttr && op.GetAttr("function_type") is TypeAttr { Type: FunctionType };

    private void PrintModuleOp(Operation op)
    {
        _out.Write("module");
        if (op.GetString("sym_name") is { } name) { _out.Write(" @"); WriteSymbol(name); }
        var attrs = op.Attributes.Where(a => a.Name is not "sym_name").ToList();
        if (attrs.Count > 0) { _out.Write(" attributes "); WriteAttrDict(attrs); }
        _out.Write(" {\n");
        _indent++;
        foreach (var inner in op.Regions[0].Blocks[0].Operations) PrintOperation(inner);
        _indent--;
        Indent();
        _out.Write('}');
        PrintLoc(op.Location);
    }

    private void PrintFuncOp(FuncOp func)
    {
        var op = func.Op;
        var type = func.Type;
        _out.Write("func.func ");
        if (op.GetString("sym_visibility") is { } vis) { _out.Write(vis); _out.Write(' '); }
        _out.Write('@');
        WriteSymbol(func.Name);
        _out.Write('(');
        bool hasBody = op.Regions[0].Blocks.Count > 0;
        for (int i = 0; i < type.Inputs.Count; i++)
        {
            if (i > 0) _out.Write(", ");
            if (hasBody)
            {
                var arg = func.Arguments[i];
                _out.Write(_names[arg]);
                _out.Write(": ");
                _out.Write(arg.Type.Text);
            }
            else _out.Write(type.Inputs[i].Text);
            var attrs = func.ArgAttrs(i);
            if (attrs.Entries.Count > 0) { _out.Write(' '); WriteAttrDict(attrs.Entries); }
            if (hasBody) PrintLoc(func.Arguments[i].Location);
        }
        _out.Write(')');
        if (type.Results.Count > 0)
        {
            _out.Write(" -> ");
            bool anyAttrs = Enumerable.Range(0, type.Results.Count).Any(i => func.ResultAttrs(i).Entries.Count > 0);
            if (type.Results.Count == 1 && !anyAttrs && type.Results[0] is not FunctionType) _out.Write(type.Results[0].Text);
            else
            {
                _out.Write('(');
                for (int i = 0; i < type.Results.Count; i++)
                {
                    if (i > 0) _out.Write(", ");
                    _out.Write(type.Results[i].Text);
                    var attrs = func.ResultAttrs(i);
                    if (attrs.Entries.Count > 0) { _out.Write(' '); WriteAttrDict(attrs.Entries); }
                }
                _out.Write(')');
            }
        }
        var extra = op.Attributes.Where(a => a.Name is not ("sym_name" or "function_type" or "arg_attrs" or "res_attrs" or "sym_visibility")).ToList();
        if (extra.Count > 0) { _out.Write(" attributes "); WriteAttrDict(extra); }
        if (hasBody)
        {
            _out.Write(" {\n");
            PrintRegionBlocks(op.Regions[0], entryHasHeader: false);
            Indent();
            _out.Write('}');
        }
        PrintLoc(op.Location);
    }

    private void PrintGeneric(Operation op)
    {
        if (op.Results.Count > 0)
        {
            _out.Write(_resultGroups[op]);
            _out.Write(" = ");
        }
        WriteString(op.Name);
        _out.Write('(');
        WriteOperands(op);
        _out.Write(')');
        if (op.Regions.Count > 0)
        {
            _out.Write(" (");
            for (int r = 0; r < op.Regions.Count; r++)
            {
                if (r > 0) _out.Write(", ");
                _out.Write("{\n");
                PrintRegionBlocks(op.Regions[r], entryHasHeader: true);
                Indent();
                _out.Write('}');
            }
            _out.Write(')');
        }
        if (op.AttributeCount > 0) { _out.Write(' '); WriteAttrDict(op.Attributes); }
        _out.Write(" : (");
        _out.Write(string.Join(", ", op.Operands.Select(v => v.Type.Text)));
        _out.Write(") -> ");
        if (op.Results.Count == 1 && op.Results[0].Type is not FunctionType) _out.Write(op.Results[0].Type.Text);
        else { _out.Write('('); _out.Write(string.Join(", ", op.Results.Select(r => r.Type.Text))); _out.Write(')'); }
        PrintLoc(op.Location);
    }

    private void PrintRegionBlocks(Region region, bool entryHasHeader)
    {
        for (int b = 0; b < region.Blocks.Count; b++)
        {
            var block = region.Blocks[b];
            if (b > 0 || (entryHasHeader && block.Arguments.Count > 0))
            {
                Indent();
                _out.Write($"^bb{b}");
                if (block.Arguments.Count > 0)
                {
                    _out.Write('(');
                    for (int i = 0; i < block.Arguments.Count; i++)
                    {
                        if (i > 0) _out.Write(", ");
                        _out.Write(_names[block.Arguments[i]]);
                        _out.Write(": ");
                        _out.Write(block.Arguments[i].Type.Text);
                        PrintLoc(block.Arguments[i].Location);
                    }
                    _out.Write(')');
                }
                // mopt has no branches, so a block other than the entry is never jumped to (mlir-opt says the same).
                _out.Write(b > 0 ? ":  // no predecessors\n" : ":\n");
            }
            _indent++;
            foreach (var op in block.Operations) PrintOperation(op);
            _indent--;
        }
    }

    /// <summary>
    /// Names every value as MLIR's SSANameState does: a region numbers its block arguments (%argN in an entry
    /// block, %N elsewhere) and results (%N, %N:2) in order; each nested region continues from the numbers its
    /// parent region reached, and sibling regions start from the same numbers.
    /// </summary>
    private void NameValues(Operation root)
    {
        int nextValue = 0, nextArg = 0;
        NameResults(root, ref nextValue);
        var work = new Stack<(Region Region, int NextValue, int NextArg)>();
        foreach (var region in root.Regions) work.Push((region, nextValue, nextArg));
        while (work.Count > 0)
        {
            (var current, nextValue, nextArg) = work.Pop();
            for (int b = 0; b < current.Blocks.Count; b++)
            {
                var block = current.Blocks[b];
                foreach (var arg in block.Arguments) _names[arg] = b == 0 ? $"%arg{nextArg++}" : $"%{nextValue++}";
                foreach (var op in block.Operations) NameResults(op, ref nextValue);
            }
            foreach (var block in current.Blocks)
                foreach (var op in block.Operations)
                    foreach (var nested in op.Regions) work.Push((nested, nextValue, nextArg));
        }
    }

    private void NameResults(Operation op, ref int nextValue)
    {
        if (op.Results.Count == 0) return;
        var name = $"%{nextValue++}";
        _resultGroups[op] = op.Results.Count == 1 ? name : $"{name}:{op.Results.Count}";
        for (int i = 0; i < op.Results.Count; i++) _names[op.Results[i]] = op.Results.Count == 1 ? name : $"{name}#{i}";
    }

    private void WriteOperands(Operation op)
    {
        bool first = true;
        foreach (var v in op.Operands)
        {
            if (!first) _out.Write(", ");
            first = false;
            _out.Write(_names.TryGetValue(v, out var n) ? n : throw new InvalidOperationException(
                $"'{op.Name}' ({op.Location}) reads a value that is not defined before it"));
        }
    }

    private void Indent()
    {
        for (int i = 0; i < _indent; i++) _out.Write("  ");
    }

    // ------------------------------------------------------------------ locations

    private void PrintLoc(Location loc)
    {
        if (!_options.PrintLocations || loc is UnknownLoc) return;
        _out.Write(" loc(");
        WriteLocBody(loc);
        _out.Write(')');
    }

    private void WriteLocBody(Location loc)
    {
        switch (loc)
        {
            case UnknownLoc: _out.Write("unknown"); break;
            case NameLoc n:
                WriteString(n.Name);
                if (n.Child is { } child) { _out.Write('('); WriteLocBody(child); _out.Write(')'); }
                break;
            case FileLineColLoc f:
                WriteString(f.File);
                _out.Write(string.Create(CultureInfo.InvariantCulture, $":{f.Line}:{f.Column}"));
                break;
            case FusedLoc fused:
                _out.Write("fused");
                if (fused.Metadata is { } meta) { _out.Write('<'); WriteAttr(meta, elideType: false); _out.Write('>'); }
                _out.Write('[');
                for (int i = 0; i < fused.Locations.Count; i++)
                {
                    if (i > 0) _out.Write(", ");
                    WriteLocBody(fused.Locations[i]);
                }
                _out.Write(']');
                break;
            case CallSiteLoc cs:
                _out.Write("callsite(");
                WriteLocBody(cs.Callee);
                _out.Write(" at ");
                WriteLocBody(cs.Caller);
                _out.Write(')');
                break;
        }
    }

    // ------------------------------------------------------------------ attributes

    private void WriteAttrDict(IEnumerable<NamedAttr> attrs)
    {
        _out.Write('{');
        bool first = true;
        foreach (var a in attrs)
        {
            if (!first) _out.Write(", ");
            first = false;
            WriteKeywordOrString(a.Name);
            if (a.Value is UnitAttr) continue;
            _out.Write(" = ");
            WriteAttr(a.Value, elideType: false);
        }
        _out.Write('}');
    }

    private void WriteAttr(Attr attr, bool elideType)
    {
        switch (attr)
        {
            case IntegerAttr i:
                _out.Write(FloatFormat.FormatInteger(i.Value, i.Type));
                if (!(elideType && i.Type == ElementType.I64)) { _out.Write(" : "); _out.Write(i.Type.Name); }
                break;
            case FloatAttr f:
                var text = FloatFormat.FormatBits(f.Bits, f.Type);
                _out.Write(text);
                // Hex bits without a type would read back as an integer.
                if (!(elideType && f.Type == ElementType.F64) || text.StartsWith("0x", StringComparison.Ordinal)) { _out.Write(" : "); _out.Write(f.Type.Name); }
                break;
            case BoolAttr b: _out.Write(b.Value ? "true" : "false"); break;
            case StringAttr s: WriteString(s.Value); break;
            case UnitAttr: _out.Write("unit"); break;
            case ArrayAttr arr:
                _out.Write('[');
                for (int k = 0; k < arr.Elements.Count; k++)
                {
                    if (k > 0) _out.Write(", ");
                    WriteAttr(arr.Elements[k], elideType: true);
                }
                _out.Write(']');
                break;
            case DenseArrayAttr da:
                _out.Write("array<");
                _out.Write(da.Type.Name);
                for (int k = 0; k < da.Count; k++)
                {
                    _out.Write(k == 0 ? ": " : ", ");
                    if (da.Type.IsFloat) _out.Write(FloatFormat.FormatBits(unchecked((ulong)da.Values[k]), da.Type));
                    else if (da.Type.IsBool) _out.Write(da.Values[k] != 0 ? "true" : "false");
                    else _out.Write(FloatFormat.FormatInteger(da.Values[k], da.Type));
                }
                _out.Write('>');
                break;
            case DictionaryAttr d: WriteAttrDict(d.Entries); break;
            case SymbolRefAttr sym:
                _out.Write('@');
                WriteSymbol(sym.Root);
                foreach (var nested in sym.Nested) { _out.Write("::@"); WriteSymbol(nested); }
                break;
            case TypeAttr t: _out.Write(t.Type.Text); break;
            case DenseElementsAttr dense: WriteDense(dense); break;
            case DenseResourceAttr res:
                _out.Write("dense_resource<");
                if (IsElided(res.Type.ElementCount)) { _out.Write(DenseResourceAttr.ElidedKey); _elidedKeys.Add(res.Key); }
                else WriteKeywordOrString(res.Key);
                _out.Write("> : ");
                _out.Write(res.Type.Text);
                break;
            default: throw new InvalidOperationException($"cannot print attribute {attr.GetType().Name}");
        }
    }

    private bool IsElided(long? elements) => _options.ElideConstantsLargerThan is long limit && (elements ?? long.MaxValue) > limit;

    private void WriteDense(DenseElementsAttr dense)
    {
        var type = dense.Type;
        long count = type.ElementCount ?? 0;
        if (!dense.IsSplat && IsElided(count))
        {
            _out.Write($"dense_resource<{DenseResourceAttr.ElidedKey}> : {type.Text}");
            return;
        }
        _out.Write("dense<");
        var elem = type.Element;
        var data = dense.Data.Span;
        // i4/ui4 print as MLIR writes them: values, or hex of a byte per element holding its four bits.
        if (elem.IsPacked) data = ElementCodec.Unpack4(data, dense.IsSplat ? 1 : count, elem);
        if (dense.IsSplat) WriteElement(data, elem);
        else if (count > HexThreshold && !elem.IsBool)
        {
            _out.Write("\"0x");
            if (elem.IsPacked)
            {
                var nibbles = data.ToArray();
                for (int i = 0; i < nibbles.Length; i++) nibbles[i] &= 0xF;
                data = nibbles;
            }
            _out.Write(Convert.ToHexString(data));
            _out.Write('"');
        }
        else if (count > 0) WriteNested(data, elem, type.Shape!, 0);
        _out.Write("> : ");
        _out.Write(type.Text);
    }

    /// <summary>The unsigned integer type of a float type's width, to read its bits.</summary>
    private static ElementType BitsType(ElementType floatType) => floatType.BitWidth switch
    {
        16 => ElementType.UI16, 32 => ElementType.UI32, _ => ElementType.UI64,
    };

    private void WriteNested(ReadOnlySpan<byte> data, ElementType elem, IReadOnlyList<long> shape, int depth)
    {
        if (depth == shape.Count) { WriteElement(data, elem); return; }
        long inner = 1;
        for (int d = depth + 1; d < shape.Count; d++) inner *= shape[d];
        int stride = checked((int)(inner * elem.ByteSize));
        _out.Write('[');
        for (int i = 0; i < shape[depth]; i++)
        {
            if (i > 0) _out.Write(", ");
            WriteNested(data.Slice(i * stride, stride), elem, shape, depth + 1);
        }
        _out.Write(']');
    }

    private void WriteElement(ReadOnlySpan<byte> data, ElementType elem)
    {
        if (elem.IsBool) _out.Write(data[0] != 0 ? "true" : "false");
        else if (elem.IsFloat) _out.Write(FloatFormat.FormatBits(unchecked((ulong)ElementCodec.ReadInteger(data, BitsType(elem))), elem));
        else _out.Write(FloatFormat.FormatInteger(ElementCodec.ReadInteger(data, elem), elem));
    }

    // ------------------------------------------------------------------ resource trailer

    private void PrintResources(MirModule module)
    {
        var resources = module.Resources;
        var blobs = BlobsInReferenceOrder(module).Where(kv => !_elidedKeys.Contains(kv.Key)).ToList();
        var sections = resources.Foreign.GroupBy(f => f.Section).ToList();
        bool hasBuiltin = blobs.Count > 0;
        if (!hasBuiltin && sections.Count == 0) return;

        _out.Write("{-#\n");
        var sectionNames = new List<string>();
        if (hasBuiltin || sections.Any(s => s.Key == "dialect_resources")) sectionNames.Add("dialect_resources");
        sectionNames.AddRange(sections.Select(s => s.Key).Where(k => k != "dialect_resources"));
        for (int s = 0; s < sectionNames.Count; s++)
        {
            var section = sectionNames[s];
            _out.Write($"  {section}: {{\n");
            var groups = resources.Foreign.Where(f => f.Section == section).GroupBy(f => f.Group).Select(g => g.Key).ToList();
            bool builtinHere = section == "dialect_resources" && hasBuiltin;
            if (builtinHere) groups.Remove("builtin");
            int groupCount = groups.Count + (builtinHere ? 1 : 0);
            int written = 0;
            if (builtinHere)
            {
                _out.Write("    builtin: {\n");
                for (int i = 0; i < blobs.Count; i++)
                {
                    _out.Write("      ");
                    WriteKeywordOrString(blobs[i].Key);
                    _out.Write(": \"0x");
                    WriteBlobHex(blobs[i].Value);
                    _out.Write(i + 1 < blobs.Count ? "\",\n" : "\"\n");
                }
                _out.Write(++written < groupCount ? "    },\n" : "    }\n");
            }
            foreach (var group in groups)
            {
                _out.Write($"    {group}: {{\n");
                var entries = resources.Foreign.Where(f => f.Section == section && f.Group == group).ToList();
                for (int i = 0; i < entries.Count; i++)
                {
                    _out.Write("      ");
                    WriteKeywordOrString(entries[i].Key);
                    _out.Write(": ");
                    _out.Write(entries[i].Spelling);
                    _out.Write(i + 1 < entries.Count ? ",\n" : "\n");
                }
                _out.Write(++written < groupCount ? "    },\n" : "    }\n");
            }
            _out.Write(s + 1 < sectionNames.Count ? "  },\n" : "  }\n");
        }
        _out.Write("#-}\n\n"); // mlir-opt ends a file that has a trailer with an empty line
    }

    /// <summary>Blobs in the order the IR first refers to them (as mlir-opt prints them), then unreferenced ones.</summary>
    private static List<KeyValuePair<string, ResourceBlob>> BlobsInReferenceOrder(MirModule module)
    {
        var order = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Collect(Attr attr)
        {
            foreach (var key in attr.ResourceKeys())
                if (seen.Add(key)) order.Add(key);
        }
        // Text order: a module's or function's attributes come before its body, a generic op's regions before its attributes.
        void Visit(Operation op)
        {
            bool headerFirst = op.Name is MirModule.ModuleOpName or FuncOp.OpName;
            if (headerFirst) foreach (var a in op.Attributes) Collect(a.Value);
            foreach (var region in op.Regions)
                foreach (var block in region.Blocks)
                    foreach (var inner in block.Operations) Visit(inner);
            if (!headerFirst) foreach (var a in op.Attributes) Collect(a.Value);
        }
        Visit(module.Op);
        var result = order.Where(module.Resources.Contains).Select(k => new KeyValuePair<string, ResourceBlob>(k, module.Resources[k])).ToList();
        result.AddRange(module.Resources.Blobs.Where(kv => !seen.Contains(kv.Key)));
        return result;
    }

    /// <summary>Writes a blob's hex straight to the stream, a chunk at a time: no string of the whole blob.</summary>
    private void WriteBlobHex(ResourceBlob blob)
    {
        Span<byte> align = stackalloc byte[4];
        // mlir-opt writes an empty blob as 0x00000000, whatever alignment it had.
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(align, blob.Data.IsEmpty ? 0 : blob.Alignment);
        _out.Write(Convert.ToHexString(align));
        _out.Flush();
        var data = blob.Data.Span;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(2 * Math.Min(BlobChunk, Math.Max(1, data.Length)));
        try
        {
            for (int at = 0; at < data.Length; at += BlobChunk)
            {
                var piece = data.Slice(at, Math.Min(BlobChunk, data.Length - at));
                Convert.TryToHexString(piece, buffer, out int written);
                _stream.Write(buffer, 0, written);
            }
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
    }

    // ------------------------------------------------------------------ names and strings

    private static bool IsBareIdentifier(string s) =>
        s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] == '_') && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' or '.');

    private void WriteKeywordOrString(string s)
    {
        if (IsBareIdentifier(s)) _out.Write(s);
        else WriteString(s);
    }

    private void WriteSymbol(string s)
    {
        if (IsBareIdentifier(s)) _out.Write(s);
        else WriteString(s);
    }

    /// <summary>A quoted string, escaped as LLVM's printEscapedString does: quote, non-printable and non-ASCII bytes as \XX.</summary>
    private void WriteString(string s)
    {
        _out.Write('"');
        foreach (byte b in StringBytes.Encode(s))
        {
            if (b == '\\') _out.Write("\\\\");
            else if (b >= 0x20 && b < 0x7F && b != '"') _out.Write((char)b);
            else { _out.Write('\\'); _out.Write(b.ToString("X2", CultureInfo.InvariantCulture)); }
        }
        _out.Write('"');
    }
}
