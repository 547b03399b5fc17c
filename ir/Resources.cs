using System.Buffers;
using System.Runtime.InteropServices;

namespace Mopt.Ir;

/// <summary>A weight's bytes, as in the <c>dialect_resources</c> trailer: the alignment, then the raw data.</summary>
public sealed record ResourceBlob(uint Alignment, ReadOnlyMemory<byte> Data)
{
    public static ResourceBlob Of(ReadOnlyMemory<byte> data, uint alignment = 4) => new(alignment, data);
}

/// <summary>An entry of the <c>{-# ... #-}</c> trailer that mopt does not interpret, kept to be written back.</summary>
public sealed record ForeignResource(string Section, string Group, string Key, string Spelling);

/// <summary>The module's resource blobs by key (the <c>builtin</c> group of <c>dialect_resources</c>).</summary>
public sealed class ResourceTable
{
    private readonly OrderedDictionary<string, ResourceBlob> _blobs = new(StringComparer.Ordinal);
    /// <summary>The mapped files blobs of this table were read from: it holds a reference on each (<see cref="ReleaseFiles"/>).</summary>
    private HashSet<MappedFile>? _files;
    /// <summary>Where <see cref="Allocate"/> carves new blobs' bytes from: blocks that are among <see cref="_files"/>.</summary>
    private BlobArena? _arena;

    public IEnumerable<KeyValuePair<string, ResourceBlob>> Blobs => _blobs;
    public int Count => _blobs.Count;
    public List<ForeignResource> Foreign { get; } = new();

    public bool Contains(string key) => _blobs.ContainsKey(key);
    public ResourceBlob? Get(string key) => _blobs.GetValueOrDefault(key);
    public ResourceBlob this[string key] => _blobs.TryGetValue(key, out var b) ? b : throw new KeyNotFoundException($"no resource blob '{key}'");
    /// <summary>Stores a blob under <paramref name="key"/>, which must be a bare identifier (mlir-opt takes no other).</summary>
    public void Set(string key, ResourceBlob blob)
    {
        if (!IsValidKey(key)) throw new ArgumentException($"resource key '{key}' is not a bare identifier; use Add or UniqueKey");
        if (_blobs.TryGetValue(key, out var old)) MappedMemory.Release(old.Data);
        _blobs[key] = blob;
        Own(blob);
    }

    /// <summary>
    /// Lets go of the files this table's blobs were mapped from (a model's <c>Dispose</c>): each is unmapped as soon as
    /// no other table (a clone's) holds it, instead of when the garbage collector finalizes it. The blobs read from
    /// them cannot be read afterwards (ObjectDisposedException).
    /// </summary>
    public void ReleaseFiles()
    {
        _arena = null; // its blocks are among the files let go: later blobs come from new ones
        if (_files is null) return;
        var files = _files;
        _files = null;
        foreach (var file in files) file.RemoveOwner();
    }

    /// <summary>
    /// <paramref name="length"/> bytes to write a new blob's bytes into (uninitialized: the caller writes every one), then
    /// <see cref="Add"/> here: from pooled blocks this table holds as it holds mapped files, which go back to the pool when
    /// it lets them go (<see cref="ReleaseFiles"/>; those blobs cannot be read afterwards), so that a process rewriting
    /// model after model reuses the same memory; at 4 MB and more, a <see cref="NativeBuffer"/> of its own.
    /// </summary>
    public Memory<byte> Allocate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0) return Memory<byte>.Empty;
        if (length >= NativeBuffer.MinBytes) return NativeBuffer.Allocate(length);
        return (_arena ??= new BlobArena(BlockPool.Shared)).Allocate(length, this);
    }

    private void Own(ResourceBlob blob)
    {
        if (MemoryMarshal.TryGetMemoryManager<byte, MappedMemory>(blob.Data, out var mapped)) OwnFile(mapped.File);
    }

    /// <summary>This table holds blobs of <paramref name="file"/> (or will: a block <see cref="Allocate"/> carves from) until <see cref="ReleaseFiles"/>.</summary>
    internal void OwnFile(MappedFile file)
    {
        if ((_files ??= new HashSet<MappedFile>(ReferenceEqualityComparer.Instance)).Add(file)) file.AddOwner();
    }

    public static bool IsValidKey(string key) =>
        key.Length > 0 && (char.IsAsciiLetter(key[0]) || key[0] == '_') && !key.AsSpan().ContainsAnyExcept(KeyChars);

    /// <summary>The characters of a bare identifier, searched a vector at a time (a key is checked for each blob added).</summary>
    private static readonly SearchValues<char> KeyChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.$");
    /// <summary>Removes the blob under <paramref name="key"/>; mapped bytes it held leave the process (<see cref="MappedMemory.Release"/>).</summary>
    public bool Remove(string key)
    {
        if (!_blobs.Remove(key, out var old)) return false;
        MappedMemory.Release(old.Data);
        return true;
    }

    /// <summary>
    /// Removes the blobs under <paramref name="keys"/> in one sweep, the others keeping their order; returns how many
    /// went. (Removing one entry of an ordered table shifts every entry after it, so many removals one by one cost
    /// the table's size each.)
    /// </summary>
    public int RemoveAll(IReadOnlySet<string> keys)
    {
        if (keys.Count == 0) return 0;
        // A few keys of many (the weights a lowering replaced): removed one by one, each shifting the entries after it,
        // costs less than putting every kept entry back (hashing its key again).
        if (keys.Count * 8 <= _blobs.Count)
        {
            int gone = 0;
            foreach (var key in keys)
                if (Remove(key)) gone++;
            return gone;
        }
        var kept = new List<KeyValuePair<string, ResourceBlob>>(_blobs.Count);
        foreach (var entry in _blobs)
            if (!keys.Contains(entry.Key)) kept.Add(entry);
            else MappedMemory.Release(entry.Value.Data);
        int removed = _blobs.Count - kept.Count;
        if (removed == 0) return 0;
        _blobs.Clear();
        foreach (var (key, blob) in kept) _blobs.Add(key, blob);
        return removed;
    }

    /// <summary>A key not yet in the table, built from <paramref name="hint"/> (made a valid bare identifier).</summary>
    public string UniqueKey(string hint)
    {
        var baseKey = SanitizeKey(hint);
        var key = baseKey;
        for (int i = 1; _blobs.ContainsKey(key); i++) key = $"{baseKey}_{i}";
        return key;
    }

    /// <summary>Adds a blob under a fresh key derived from <paramref name="hint"/> and returns the key.</summary>
    public string Add(string hint, ResourceBlob blob)
    {
        var baseKey = SanitizeKey(hint);
        // one lookup for a key not yet taken (the usual case), as UniqueKey then Set would take two
        Own(blob);
        if (_blobs.TryAdd(baseKey, blob)) return baseKey;
        var key = UniqueKey(baseKey);
        _blobs.Add(key, blob);
        return key;
    }

    /// <summary>Keys are printed bare, so they keep to <c>[a-zA-Z_][a-zA-Z0-9_.$]*</c>.</summary>
    public static string SanitizeKey(string hint)
    {
        if (hint.Length == 0) return "blob";
        if (IsValidKey(hint)) return hint; // what the rest would give back, without copying it
        var chars = hint.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
            if (!KeyChars.Contains(chars[i])) chars[i] = '_';
        var s = new string(chars);
        return char.IsAsciiLetter(s[0]) || s[0] == '_' ? s : "_" + s;
    }
}
