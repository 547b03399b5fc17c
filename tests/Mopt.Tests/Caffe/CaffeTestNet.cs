using Google.Protobuf;
using Mopt.Caffe.Proto;
using Mopt.Protobuf;

namespace Mopt.Tests.Caffe;

/// <summary>
/// A small Caffe net for a test, written the way Caffe users ship one: the deploy <c>.prototxt</c> as the test gives it
/// (no blobs) and a <c>.caffemodel</c> beside it (same stem) holding the same layers with their blobs.
/// </summary>
public sealed record CaffeTestNet(string Prototxt, string CaffeModel)
{
    /// <summary>
    /// Writes <paramref name="prototxt"/> as <c>stem.prototxt</c> and, as <c>stem.caffemodel</c>, the net it describes
    /// with <paramref name="blobs"/> (layer name → its blobs in Caffe's order) attached to the layers of those names.
    /// </summary>
    public static CaffeTestNet Write(TempDir dir, string stem, string prototxt, IReadOnlyDictionary<string, BlobProto[]>? blobs = null)
    {
        var net = ProtoText.Parse<NetParameter>(prototxt, stem + ".prototxt");
        foreach (var (layer, layerBlobs) in blobs ?? new Dictionary<string, BlobProto[]>())
        {
            var target = net.Layer.SingleOrDefault(l => l.Name == layer)
                ?? throw new ArgumentException($"the prototxt has no layer '{layer}'", nameof(blobs));
            target.Blobs.Clear();
            target.Blobs.Add(layerBlobs);
        }
        var path = dir.Write(stem + ".prototxt", prototxt);
        var model = dir.File(stem + ".caffemodel");
        File.WriteAllBytes(model, net.ToByteArray());
        return new CaffeTestNet(path, model);
    }

    /// <summary>A blob of <paramref name="dims"/> (BlobShape) holding <paramref name="values"/>.</summary>
    public static BlobProto Blob(float[] values, params long[] dims)
    {
        if (dims.Aggregate(1L, (a, d) => a * d) != values.Length)
            throw new ArgumentException($"[{string.Join(",", dims)}] holds {dims.Aggregate(1L, (a, d) => a * d)} values, not {values.Length}", nameof(values));
        var blob = new BlobProto { Shape = new BlobShape() };
        blob.Shape.Dim.Add(dims);
        blob.Data.Add(values);
        return blob;
    }

    /// <summary>A blob of <paramref name="dims"/> with values drawn uniformly from [<paramref name="low"/>, <paramref name="high"/>) by a seeded generator.</summary>
    public static BlobProto Random(int seed, float low, float high, params long[] dims) =>
        Blob(Values(seed, (int)dims.Aggregate(1L, (a, d) => a * d), low, high), dims);

    /// <summary><paramref name="count"/> values uniform in [<paramref name="low"/>, <paramref name="high"/>), the same for the same seed.</summary>
    public static float[] Values(int seed, int count, float low = -1, float high = 1) => SeededValues.Uniform(seed, count, low, high);
}
