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
        var byName = new Dictionary<string, IReadOnlyList<CaffeRawBlob>>(StringComparer.Ordinal);
        List<(string Name, IReadOnlyList<CaffeRawBlob> Blobs)>? v1Layers = null;
        var dims = new List<long>(); // one blob's shape at a time
        try
        {
            var r = new WireReader(file.Span);
            while (!r.AtEnd)
            {
                uint tag = r.Tag();
                if (tag == NetLayer)
                {
                    var (name, typed, blobs) = Layer(r.Nested(), LayerName, LayerBlobs, file, dims);
                    if (!typed) return null;
                    byName[name] = blobs;
                }
                else if (tag == NetLayers)
                {
                    var (name, _, blobs) = Layer(r.Nested(), V1Name, V1Blobs, file, dims);
                    (v1Layers ??= []).Add((name, blobs));
                }
                else Skip(ref r, tag);
            }
        }
        catch (GiveUp) { return null; }
        catch (DecoderFallbackException) { return null; }
        catch (MalformedWireException) { return null; }
        if (byName.Count == 0 && v1Layers is null) return null;
        // a V1 layer wins over a layer of the same name wherever it is in the file (as the importer always read them)
        if (v1Layers is not null)
            foreach (var (name, blobs) in v1Layers) byName[name] = blobs;
        return byName;
    }

    /// <summary>A layer's name, whether it has a type (V1 layers have none to give), and its blobs.</summary>
    private static (string Name, bool Typed, IReadOnlyList<CaffeRawBlob> Blobs) Layer(WireReader r, uint nameTag, uint blobsTag, ReadOnlyMemory<byte> file,
        List<long> dims)
    {
        string name = "";
        bool typed = false;
        List<CaffeRawBlob>? blobs = null;
        while (!r.AtEnd)
        {
            uint tag = r.Tag();
            if (tag == nameTag) name = StrictUtf8.GetString(r.LengthDelimited());
            else if (tag == LayerType && nameTag == LayerName)
            {
                // only whether there is one: the importer reads types from the net's definition
                var type = r.LengthDelimited();
                if (!System.Text.Unicode.Utf8.IsValid(type)) throw new GiveUp();
                typed = type.Length > 0;
            }
            else if (tag == blobsTag) (blobs ??= []).Add(Blob(r.Nested(), file, dims));
            else Skip(ref r, tag);
        }
        return (name, typed, (IReadOnlyList<CaffeRawBlob>?)blobs ?? []);
    }

    private static CaffeRawBlob Blob(WireReader r, ReadOnlyMemory<byte> file, List<long> dims)
    {
        bool shaped = false;
        dims.Clear();
        int num = 0, channels = 0, height = 0, width = 0;
        var floats = new Runs(file);
        var doubles = new Runs(file);
        while (!r.AtEnd)
        {
            uint tag = r.Tag();
            switch (tag)
            {
                case BlobShape:
                    shaped = true; // a second shape field merges into the first, as protobuf merges a message field
                    Dims(r.Nested(), dims);
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
        long[] legacy = (num | channels | height | width) == 0 ? CaffeRawBlob.NoLegacyShape : [num, channels, height, width];
        var blob = new CaffeRawBlob(shaped ? dims.ToArray() : null, legacy, floats.Bytes(), doubles.Bytes());
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
