using System.Globalization;
using Google.Protobuf;
using Mopt.Dialects.Tf;
using Mopt.Ir;
using Mopt.Tf.Proto;

namespace Mopt.Frontend.Tf.Checkpoints;

/// <summary>
/// A TensorFlow V2 checkpoint (tensor bundle): <c>PREFIX.index</c>, a table whose empty key holds the
/// BundleHeaderProto and whose other keys are tensor names with their BundleEntryProto (dtype, shape, shard, offset,
/// size, crc32c), and the data shards <c>PREFIX.data-0000S-of-0000N</c> holding the tensors' bytes
/// (tensorflow/core/util/tensor_bundle). A tensor is read as the bytes the shard holds, its size and crc32c checked.
/// </summary>
public sealed class TensorBundle
{
    private readonly Dictionary<string, BundleEntryProto> _entries;

    /// <summary>The prefix as given (<c>model.ckpt</c>), for messages.</summary>
    public string Prefix { get; }
    public BundleHeaderProto Header { get; }
    public IReadOnlyDictionary<string, BundleEntryProto> Entries => _entries;

    private TensorBundle(string prefix, BundleHeaderProto header, Dictionary<string, BundleEntryProto> entries)
    {
        Prefix = prefix;
        Header = header;
        _entries = entries;
    }

    /// <summary>
    /// Opens the bundle at <paramref name="prefix"/>: <c>model.ckpt</c> (or <c>model.ckpt.index</c>), or a folder: the
    /// latest checkpoint its <c>checkpoint</c> file names (as tf.train.latest_checkpoint), or a SavedModel's
    /// <c>variables/variables</c>.
    /// </summary>
    public static TensorBundle Open(string prefix)
    {
        if (prefix.EndsWith(".index", StringComparison.Ordinal)) prefix = prefix[..^".index".Length];
        if (Directory.Exists(prefix)) prefix = InFolder(prefix);
        var indexPath = prefix + ".index";
        byte[] bytes;
        try { bytes = WholeFile.Read(indexPath); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new MirException($"checkpoint '{prefix}': its index '{indexPath}' is not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot read '{indexPath}': {e.Message}"); }

        BundleHeaderProto? header = null;
        var entries = new Dictionary<string, BundleEntryProto>(StringComparer.Ordinal);
        foreach (var (key, value) in LevelDbTable.Read(bytes, indexPath))
        {
            try
            {
                if (key.Length == 0) header = BundleHeaderProto.Parser.ParseFrom(value);
                else entries[key] = BundleEntryProto.Parser.ParseFrom(value);
            }
            catch (InvalidProtocolBufferException)
            {
                throw new MirException($"'{indexPath}': not a TensorFlow checkpoint index: the entry of '{key}' is not a {(key.Length == 0 ? "BundleHeaderProto" : "BundleEntryProto")}");
            }
        }
        if (header is null) throw new MirException($"'{indexPath}': not a TensorFlow checkpoint index: it has no bundle header (a V1 checkpoint, or another table?)");
        if (header.Endianness != BundleHeaderProto.Types.Endianness.Little)
            throw new MirException($"'{indexPath}': the checkpoint was written big-endian, which mopt does not read");
        if (header.NumShards < 1) throw new MirException($"'{indexPath}': not a TensorFlow checkpoint index: its header says {header.NumShards} shards");
        return new TensorBundle(prefix, header, entries);
    }

    private static string InFolder(string folder)
    {
        var state = Path.Combine(folder, "checkpoint");
        if (File.Exists(state))
        {
            // A CheckpointState in text form: model_checkpoint_path: "model.ckpt-1000" (relative to the folder, or absolute).
            foreach (var line in File.ReadLines(state))
            {
                var t = line.Trim();
                if (!t.StartsWith("model_checkpoint_path:", StringComparison.Ordinal)) continue;
                var path = t["model_checkpoint_path:".Length..].Trim().Trim('"');
                return Path.IsPathRooted(path) ? path : Path.Combine(folder, path);
            }
            throw new MirException($"checkpoint folder '{folder}': its 'checkpoint' file names no model_checkpoint_path");
        }
        var saved = Path.Combine(folder, "variables", "variables");
        if (File.Exists(saved + ".index")) return saved;
        throw new MirException($"checkpoint folder '{folder}' has no 'checkpoint' file and no variables/variables.index: give the checkpoint's prefix (model.ckpt)");
    }

    /// <summary>The data shard <paramref name="shard"/>'s file name: <c>PREFIX.data-00000-of-00001</c>.</summary>
    public string ShardPath(int shard) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}.data-{shard:D5}-of-{Header.NumShards:D5}");

    /// <summary>
    /// The bytes of tensor <paramref name="key"/> as the shard holds them (little-endian, row-major), after checking that
    /// their size is what the dtype and shape need and that their crc32c is the one recorded.
    /// </summary>
    public byte[] Read(string key)
    {
        var entry = _entries[key];
        string what = $"checkpoint '{Prefix}': tensor '{key}'";
        if (entry.Slices.Count > 0)
            throw new MirException($"{what} is saved as {entry.Slices.Count} slices (a partitioned variable), which mopt does not read");
        if (TfDataTypes.ElementOf((int)entry.Dtype) is not { } element)
            throw new MirException($"{what} has dtype {TfDataTypes.NameOf((int)entry.Dtype)}, which mopt cannot make a constant of");
        long count = 1;
        foreach (var d in entry.Shape?.Dim ?? [])
            count = d.Size >= 0 ? checked(count * d.Size) : throw new MirException($"{what} has an unknown dimension in its shape");
        if (entry.Size != count * element.ByteSize)
            throw new MirException($"{what} has {entry.Size} bytes, its shape needs {count * element.ByteSize} (the index is corrupt)");
        if (entry.ShardId < 0 || entry.ShardId >= Header.NumShards)
            throw new MirException($"{what} is in shard {entry.ShardId}, but the checkpoint has {Header.NumShards}");

        var path = ShardPath(entry.ShardId);
        var bytes = new byte[entry.Size];
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
            if (entry.Offset < 0 || entry.Offset + entry.Size > stream.Length)
                throw new MirException($"{what}: its bytes [{entry.Offset}, {entry.Offset + entry.Size}) are past the end of '{path}' ({stream.Length} bytes; the file is truncated)");
            stream.Position = entry.Offset;
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new MirException($"{what}: its data shard '{path}' is not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot read '{path}': {e.Message}"); }

        if (Crc32C.Compute(bytes) != Crc32C.Unmask(entry.Crc32C))
            throw new MirException($"{what}: its bytes in '{path}' do not match their crc32c (the file is corrupt)");
        return bytes;
    }
}
