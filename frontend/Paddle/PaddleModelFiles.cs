using Google.Protobuf;
using Mopt.Dialects.Paddle;
using Mopt.Ir;
using Mopt.Paddle.Proto;

namespace Mopt.Frontend.Paddle;

/// <summary>
/// A Paddle inference model's files, read: the ProgramDesc and each persistable var's tensor. The layouts Paddle writes
/// (docs/formats/paddle.md): a folder with <c>__model__</c> and one file per parameter (<c>save_inference_model</c> before
/// 2.0); a folder with <c>__model__</c> or <c>model</c> and the combined <c>__params__</c> or <c>params</c>; or
/// <c>NAME.pdmodel</c> with <c>NAME.pdiparams</c> beside it. A combined file holds the persistable vars' records in
/// sorted-name order (Python's <c>sorted</c>, ordinal), with no names: it must hold exactly those, to its last byte.
/// </summary>
public sealed record PaddleModelFiles(string ProgramPath, ProgramDesc Program, IReadOnlyDictionary<string, PaddleTensorRecord> Parameters)
{
    /// <summary>Whether <paramref name="path"/> looks like a Paddle model: a <c>.pdmodel</c>, a <c>__model__</c>, or a folder with either.</summary>
    public static bool IsPaddleModel(string path) =>
        FileNames.HasExtension(path, ".pdmodel")
        || Path.GetFileName(path) == "__model__"
        || (Directory.Exists(path) && FindProgram(path) is not null);

    /// <summary>Reads the model at <paramref name="path"/> (a folder, its <c>__model__</c>/<c>model</c>, or a <c>.pdmodel</c>).</summary>
    public static PaddleModelFiles Read(string path)
    {
        string programPath, folder;
        string? combined;
        if (Directory.Exists(path))
        {
            folder = path;
            programPath = FindProgram(path) ?? throw new MirException($"{path}: not a Paddle model folder (no __model__, model or *.pdmodel in it)");
        }
        else
        {
            if (!File.Exists(path)) throw new MirException($"{path}: no such file or folder");
            programPath = path;
            folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        }
        if (programPath.EndsWith(".pdmodel", StringComparison.OrdinalIgnoreCase))
        {
            var stem = programPath[..^".pdmodel".Length] + ".pdiparams";
            combined = File.Exists(stem) ? stem : null;
        }
        else
        {
            combined = new[] { "__params__", "params" }.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);
        }

        var program = ReadProgram(programPath);
        var persistable = PersistableTensors(program, programPath);
        var parameters = combined is not null
            ? ReadCombined(combined, persistable)
            : ReadSeparate(folder, persistable, programPath);
        return new PaddleModelFiles(programPath, program, parameters);
    }

    private static string? FindProgram(string folder)
    {
        foreach (var name in new[] { "__model__", "model" })
            if (File.Exists(Path.Combine(folder, name))) return Path.Combine(folder, name);
        var models = Directory.GetFiles(folder, "*.pdmodel");
        return models.Length == 1 ? models[0] : null;
    }

    private static ProgramDesc ReadProgram(string path)
    {
        try
        {
            var program = WholeFile.Parse(path, bytes => ProgramDesc.Parser.ParseFrom(bytes));
            if (program.Blocks.Count == 0) throw new MirException($"{path}: the ProgramDesc has no blocks (not a Paddle model?)");
            return program;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new MirException($"{path}: {ProtobufErrors.Why(e, "ProgramDesc")}");
        }
    }

    /// <summary>The vars Paddle saves with the model: persistable dense tensors of block 0 (not the feed/fetch holders), by name.</summary>
    private static SortedDictionary<string, VarDesc> PersistableTensors(ProgramDesc program, string programPath)
    {
        var vars = new SortedDictionary<string, VarDesc>(StringComparer.Ordinal);
        foreach (var v in program.Blocks[0].Vars)
        {
            if (!v.Persistable || v.Type is null || (int)v.Type.Type != PaddleDataTypes.LodTensor) continue;
            if (!vars.TryAdd(v.Name, v)) throw new MirException($"{programPath}: var '{v.Name}' is declared twice in block 0");
        }
        return vars;
    }

    private static Dictionary<string, PaddleTensorRecord> ReadCombined(string path, SortedDictionary<string, VarDesc> vars) =>
        ReadCombined(path, vars, Check, "model");

    /// <summary>
    /// A combined parameters file (<c>__params__</c>, <c>.pdiparams</c>, a PIR program's too): the records of
    /// <paramref name="declared"/> in its sorted-name order, back to back, no names, to the file's last byte; each record
    /// checked by <paramref name="check"/> (name, declaration, record, file name). <paramref name="owner"/> names what
    /// declares them in the errors.
    /// </summary>
    internal static Dictionary<string, PaddleTensorRecord> ReadCombined<T>(string path, SortedDictionary<string, T> declared,
        Action<string, T, PaddleTensorRecord, string> check, string owner)
    {
        ReadOnlyMemory<byte> bytes = WholeFile.Read(path);
        var file = Path.GetFileName(path);
        var result = new Dictionary<string, PaddleTensorRecord>(declared.Count, StringComparer.Ordinal);
        int offset = 0;
        foreach (var (name, declaration) in declared)
        {
            if (offset == bytes.Length)
                throw new MirException($"{path}: the file ends after {result.Count} of the {owner}'s {declared.Count} parameters; '{name}' (and any after it in sorted order) is missing (truncated)");
            var record = PaddleTensorRecord.Read(bytes, ref offset, $"'{name}' in {file}");
            check(name, declaration, record, file);
            result.Add(name, record);
        }
        if (offset != bytes.Length)
            throw new MirException($"{path}: {bytes.Length - offset} bytes remain after the {owner}'s {declared.Count} parameters (a file of another model?)");
        return result;
    }

    private static Dictionary<string, PaddleTensorRecord> ReadSeparate(string folder, SortedDictionary<string, VarDesc> vars, string programPath)
    {
        var result = new Dictionary<string, PaddleTensorRecord>(vars.Count, StringComparer.Ordinal);
        foreach (var (name, desc) in vars)
        {
            var path = Path.Combine(folder, name);
            if (!File.Exists(path))
                throw new MirException($"{programPath}: parameter '{name}' has no file {path} (and there is no combined __params__/params beside the model)");
            ReadOnlyMemory<byte> bytes = WholeFile.Read(path);
            int offset = 0;
            var record = PaddleTensorRecord.Read(bytes, ref offset, $"parameter '{name}' ({path})");
            if (offset != bytes.Length) throw new MirException($"{path}: {bytes.Length - offset} bytes remain after parameter '{name}'");
            Check(name, desc, record, name);
            result.Add(name, record);
        }
        return result;
    }

    /// <summary>The record must be what the program declares: same element type, same dims.</summary>
    private static void Check(string name, VarDesc var, PaddleTensorRecord record, string file)
    {
        var declared = var.Type.LodTensor?.Tensor;
        if (declared is null) return;
        var dims = declared.Dims;
        var shape = record.Type.Shape!;
        bool same = dims.Count == shape.Count && PaddleDataTypes.Element((int)declared.DataType) == record.Type.Element;
        for (int i = 0; same && i < dims.Count; i++) same = dims[i] == shape[i];
        if (!same)
            throw new MirException($"parameter '{name}' in {file} is {PaddleDataTypes.Name(PaddleDataTypes.Code(record.Type.Element) ?? -1)} [{string.Join(",", shape)}], but the program declares it {PaddleDataTypes.Name((int)declared.DataType)} [{string.Join(",", dims)}]");
    }
}
