namespace Mopt.Ir;

/// <summary>
/// Checks operations against their definitions, as MLIR's ODS-generated verifiers do: an operation its registry
/// defines takes as many operands as some version of it allows (<see cref="OpDefinition.OperandCounts"/>), and each
/// attribute its definition declares, when present, has the declared kind (or the kind an older version gave it),
/// read by <see cref="AttrReader"/>'s rules. Attributes the definition does not declare, and operations it does not
/// define, are not checked; an attribute of another version than the module's (Squeeze's <c>axes</c> before 13) is
/// legal. Tools run it on the input they load, after <see cref="Verifier"/>.
/// </summary>
public static class DefinitionVerifier
{
    /// <summary>Throws a <see cref="MirException"/> for the first problem (at its <c>file:line:col</c> when parsed from text).</summary>
    public static void Verify(MirModule module, DialectRegistry dialects, string? context = null)
    {
        var errors = Check(module, dialects);
        if (errors.Count == 0) return;
        var (op, message) = errors[0];
        var more = errors.Count > 1 ? $" (and {errors.Count - 1} more problems)" : "";
        throw new MirException(context is null ? message + more : $"{context}: {message}{more}", op.SourcePosition, LineOf(op.SourcePosition));
    }

    /// <summary>The text of the line an error points at, for the caret under it, when the source is a file still there.</summary>
    private static string? LineOf(SourcePosition? at)
    {
        if (at is null || !File.Exists(at.File)) return null;
        try { return File.ReadLines(at.File).Skip(at.Line - 1).FirstOrDefault(); }
        catch (IOException) { return null; }
    }

    /// <summary>Every problem found, each with the operation it is about.</summary>
    public static List<(Operation Op, string Message)> Check(MirModule module, DialectRegistry dialects)
    {
        var errors = new List<(Operation, string)>();
        CheckNested(module.Op, dialects, errors);
        return errors;
    }

    // Outermost first, as Walk would give them, but by index over the IR's own lists (Walk copies each block's list and
    // makes an iterator per operation with regions): tools run this on every module they load.
    private static void CheckNested(Operation op, DialectRegistry dialects, List<(Operation, string)> errors)
    {
        CheckOne(op, dialects, errors);
        var regions = op.RegionList;
        if (regions is null) return;
        for (int r = 0; r < regions.Count; r++)
        {
            var blocks = regions[r].BlockList;
            for (int b = 0; b < blocks.Count; b++)
            {
                var ops = blocks[b].OperationList;
                for (int i = 0; i < ops.Count; i++) CheckNested(ops[i], dialects, errors);
            }
        }
    }

    private static void CheckOne(Operation op, DialectRegistry dialects, List<(Operation, string)> errors)
    {
        if (dialects.Find(op) is not { } def) return;
        var counts = def.OperandCounts;
        if (!counts.Contains(op.OperandCount))
            errors.Add((op, $"{Describe(op)}: takes {counts} operand{(counts is { Min: 1, Max: 1 } ? "" : "s")}, but has {op.OperandCount}"));
        if (op.AttributeCount == 0) return;
        foreach (var attr in def.Attributes)
            if (op.GetAttr(attr.Name) is not null && KindError(op, attr) is { } problem) errors.Add((op, problem));
    }

    /// <summary>Null when the attribute reads as its declared kind (or its former one), else the reader's error.</summary>
    private static string? KindError(Operation op, AttrDefinition attr)
    {
        string? error = Read(op, attr.Name, attr.Kind);
        if (error is null || attr.FormerKind is not { } former) return error;
        return Read(op, attr.Name, former) is null ? null : error;
    }

    private static string? Read(Operation op, string name, AttrKind kind)
    {
        try
        {
            switch (kind)
            {
                case AttrKind.Int: op.ReadInt(name); break;
                case AttrKind.Float: op.ReadFloat(name); break;
                case AttrKind.String: op.ReadString(name); break;
                case AttrKind.Ints: op.ReadInts(name); break;
                case AttrKind.Floats: op.ReadFloats(name); break;
                case AttrKind.Strings: op.ReadStrings(name); break;
                case AttrKind.Tensor:
                    if (op.GetAttr(name) is not (DenseElementsAttr or DenseResourceAttr) and var t)
                        throw AttrReader.Malformed(op, name, "a tensor (dense or dense_resource)", t!);
                    break;
                case AttrKind.Tensors:
                    if (op.GetAttr(name) is not ArrayAttr { Elements: var list } || list.Any(e => e is not (DenseElementsAttr or DenseResourceAttr)))
                        throw AttrReader.Malformed(op, name, "a list of tensors", op.GetAttr(name)!);
                    break;
                // Subgraphs are regions; sparse tensors and types are kept as the source wrote them.
                default: break;
            }
            return null;
        }
        catch (MirException e)
        {
            return e.Message;
        }
    }

    private static string Describe(Operation op) => $"'{op.Name}'" + (op.Location.FirstName is { } n ? $" ({n})" : "");
}
