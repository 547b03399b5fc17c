using System.Text;
using Google.Protobuf;
using Mopt.Ir;
using Mopt.Protobuf;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// The blobs of a <c>.caffemodel</c> by layer name, read by walking its wire format by hand so that each blob's values
/// stay a slice of the file's one buffer: no copy per blob, no array per blob on the large-object heap (a caffemodel
/// read through <c>WeightsNet.Parser</c> copies every packed run into a ByteString of its own, and landmark106's 1.4 MB
/// of weights then cost gen2 collections). Google.Protobuf cannot do this: it has no way to hand out a bytes field as a
/// slice of the input, so the walk is written here, over caffe_weights.proto's fields only.
/// <para>
/// It reads only what it is sure of: any file that is not a plain well-formed one (a malformed or truncated field, a
/// group, an unpacked or non-UTF-8 value, no layers, a layer without a type) makes it give up and return null, and the
/// importer then reads the file through the generated parser as before, with the same result or the same error.
/// </para>
/// </summary>
internal static class CaffeWeightsWalk
{
    // Tags (field number << 3 | wire type) of caffe_weights.proto's fields.
    private const uint NetLayer = 100 << 3 | 2, NetLayers = 2 << 3 | 2;
    private const uint LayerName = 1 << 3 | 2, LayerType = 2 << 3 | 2, LayerBlobs = 7 << 3 | 2;
    private const uint V1Name = 4 << 3 | 2, V1Blobs = 6 << 3 | 2;
    private const uint BlobShape = 7 << 3 | 2, BlobData = 5 << 3 | 2, BlobDoubleData = 8 << 3 | 2;
    private const uint BlobNum = 1 << 3, BlobChannels = 2 << 3, BlobHeight = 3 << 3, BlobWidth = 4 << 3;
    private const uint ShapeDim = 1 << 3, ShapeDimPacked = 1 << 3 | 2;

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>The blobs of each layer by name (a later layer of the same name wins), or null when the walk gave up.</summary>
    public static Dictionary<string, IReadOnlyList<CaffeRawBlob>>? TryRead(ReadOnlyMemory<byte> file)
    {
        var layers = new List<(string Name, List<CaffeRawBlob> Blobs)>();
        var v1Layers = new List<(string Name, List<CaffeRawBlob> Blobs)>();
        try
        {
            var r = new WireReader(file.Span);
            while (!r.AtEnd)
            {
                uint tag = r.Tag();
                if (tag == NetLayer)
                {
                    var (name, type, blobs) = Layer(r.Nested(), LayerName, LayerBlobs, file);
                    if (type.Length == 0) return null;
                    layers.Add((name, blobs));
                }
                else if (tag == NetLayers)
                {
                    var (name, _, blobs) = Layer(r.Nested(), V1Name, V1Blobs, file);
                    v1Layers.Add((name, blobs));
                }
                else Skip(ref r, tag);
            }
        }
        catch (GiveUp) { return null; }
        catch (DecoderFallbackException) { return null; }
        catch (MalformedWireException) { return null; }
        if (layers.Count == 0 && v1Layers.Count == 0) return null;
        var byName = new Dictionary<string, IReadOnlyList<CaffeRawBlob>>(layers.Count + v1Layers.Count, StringComparer.Ordinal);
        foreach (var (name, blobs) in layers) byName[name] = blobs;
        foreach (var (name, blobs) in v1Layers) byName[name] = blobs;
        return byName;
    }

    private static (string Name, string Type, List<CaffeRawBlob> Blobs) Layer(WireReader r, uint nameTag, uint blobsTag, ReadOnlyMemory<byte> file)
    {
        string name = "", type = "";
        var blobs = new List<CaffeRawBlob>();
        while (!r.AtEnd)
        {
            uint tag = r.Tag();
            if (tag == nameTag) name = StrictUtf8.GetString(r.LengthDelimited());
            else if (tag == LayerType && nameTag == LayerName) type = StrictUtf8.GetString(r.LengthDelimited());
            else if (tag == blobsTag) blobs.Add(Blob(r.Nested(), file));
            else Skip(ref r, tag);
        }
        return (name, type, blobs);
    }

    private static CaffeRawBlob Blob(WireReader r, ReadOnlyMemory<byte> file)
    {
        List<long>? shape = null;
        int num = 0, channels = 0, height = 0, width = 0;
        var floats = new Runs(file);
        var doubles = new Runs(file);
        while (!r.AtEnd)
        {
            uint tag = r.Tag();
            switch (tag)
            {
                case BlobShape:
                    shape ??= []; // a second shape field merges into the first, as protobuf merges a message field
                    Dims(r.Nested(), shape);
                    break;
                case BlobData: floats.Add(ref r); break;
                case BlobDoubleData: doubles.Add(ref r); break;
                case BlobNum: num = (int)r.Varint(); break;
                case BlobChannels: channels = (int)r.Varint(); break;
                case BlobHeight: height = (int)r.Varint(); break;
                case BlobWidth: width = (int)r.Varint(); break;
                default: Skip(ref r, tag); break;
            }
        }
        var blob = new CaffeRawBlob(shape?.ToArray(), [num, channels, height, width], floats.Bytes(), doubles.Bytes());
        // Values written one fixed32 each leave no run: the generated parser's reading of the whole file handles those.
        if (floats.Count == 0 && doubles.Count == 0 && CaffeRawBlob.DeclaresValues(blob.Shape, blob.Legacy)) throw new GiveUp();
        return blob;
    }

    private static void Dims(WireReader r, List<long> dims)
    {
        while (!r.AtEnd)
        {
            uint tag = r.Tag();
            if (tag == ShapeDim) dims.Add((long)r.Varint());
            else if (tag == ShapeDimPacked)
            {
                var packed = r.Nested();
                while (!packed.AtEnd) dims.Add((long)packed.Varint());
            }
            else Skip(ref r, tag);
        }
    }

    // Groups are left to the generated parser, which checks that each ends with its own number.
    private static void Skip(ref WireReader r, uint tag)
    {
        var wire = WireFormat.GetTagWireType(tag);
        if (wire is WireFormat.WireType.StartGroup or WireFormat.WireType.EndGroup) throw new GiveUp();
        r.Skip(wire);
    }

    /// <summary>A field's packed runs: one (what Caffe writes) stays a slice of the file; several are joined.</summary>
    private struct Runs(ReadOnlyMemory<byte> file)
    {
        private int _start, _length;
        private List<(int Start, int Length)>? _more;
        public int Count { get; private set; }

        /// <summary>The length-delimited run at the reader's position, which it skips.</summary>
        public void Add(ref WireReader r)
        {
            int length = r.LengthDelimited().Length, start = r.Offset - length;
            if (Count++ == 0) { _start = start; _length = length; return; }
            (_more ??= []).Add((start, length));
        }

        public readonly ReadOnlyMemory<byte> Bytes()
        {
            if (Count <= 1) return file.Slice(_start, _length);
            long total = _length;
            foreach (var (_, length) in _more!) total += length;
            var joined = new byte[total];
            file.Span.Slice(_start, _length).CopyTo(joined);
            int at = _length;
            foreach (var (start, length) in _more)
            {
                file.Span.Slice(start, length).CopyTo(joined.AsSpan(at));
                at += length;
            }
            return joined;
        }
    }

    /// <summary>The walk met something it does not read; the generated parser takes over.</summary>
    private sealed class GiveUp : Exception;
}
