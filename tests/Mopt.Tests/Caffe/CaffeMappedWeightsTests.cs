using System.Runtime.InteropServices;
using Google.Protobuf;
using Mopt.Api;
using Mopt.Caffe.Proto;
using Mopt.Ir;

namespace Mopt.Tests.Caffe;

/// <summary>
/// A caffemodel of 256 KB or more is mapped, not read (WholeFile.ReadOrMap): its blobs are the file's pages, the same
/// bytes a read gives. A resource table holds a reference on each file its blobs are mapped from; a model's Dispose
/// lets go of it, and the last holder unmaps it at once (mopt-opt disposes its model when done). A clone taken before
/// keeps the weights readable; after the last release a blob of the file throws ObjectDisposedException, never reads
/// whatever is mapped there then.
/// </summary>
public sealed class CaffeMappedWeightsTests
{
    private const int Outputs = 512, Inputs = 640; // 1.25 MB of float weights: mapped

    private static (string Prototxt, float[] Weights) WriteNet(TempDir dir, int outputs = Outputs)
    {
        var net = new NetParameter { Name = "m", Input = { "data" }, InputShape = { new BlobShape { Dim = { 1, Inputs } } } };
        var ip = new LayerParameter { Name = "ip", Type = "InnerProduct", Bottom = { "data" }, Top = { "ip" } };
        ip.InnerProductParam = new InnerProductParameter { NumOutput = (uint)outputs, BiasTerm = false };
        net.Layer.Add(ip);
        var prototxt = dir.Write("m.prototxt", Mopt.Protobuf.ProtoText.Format(net));
        var weights = new float[outputs * Inputs];
        var random = new Random(7);
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)random.NextDouble() - 0.5f;
        ip.Blobs.Add(new BlobProto { Shape = new BlobShape { Dim = { outputs, Inputs } }, Data = { weights } });
        File.WriteAllBytes(dir.File("m.caffemodel"), net.ToByteArray());
        return (prototxt, weights);
    }

    private static ReadOnlyMemory<byte> OnlyBlob(Model model) => Assert.Single(model.Module.Resources.Blobs).Value.Data;

    private static MappedFile? FileOf(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetMemoryManager<byte, MappedMemory>(bytes, out var mapped) ? mapped.File : null;

    [Theory]
    [InlineData(Outputs, true)] // 1.25 MB: mapped
    [InlineData(16, false)]     // 40 KB: read into an array
    public void A_caffemodel_from_256_KB_is_mapped_a_smaller_one_read_and_the_blob_is_the_files_bytes(int outputs, bool mapped)
    {
        using var dir = new TempDir();
        var (prototxt, weights) = WriteNet(dir, outputs);
        using var model = Model.Load(prototxt);
        var blob = OnlyBlob(model);
        Assert.Equal(mapped, FileOf(blob) is not null);
        Assert.Equal(MemoryMarshal.AsBytes(weights.AsSpan()).ToArray(), blob.ToArray());
    }

    [Fact]
    public void Disposing_the_model_unmaps_the_caffemodel_once_its_clone_is_disposed_too()
    {
        using var dir = new TempDir();
        var (prototxt, weights) = WriteNet(dir);
        var model = Model.Load(prototxt);
        var clone = model.Clone();
        var file = FileOf(OnlyBlob(model))!;

        model.Dispose();
        Assert.True(file.IsMapped); // the clone still holds it
        clone.Save(dir.File("out.onnx"));
        var written = Mopt.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(dir.File("out.onnx"))).Graph.Initializer.Single();
        Assert.Equal(MemoryMarshal.AsBytes(weights.AsSpan()).ToArray(), written.RawData.ToByteArray());

        clone.Dispose();
        Assert.False(file.IsMapped);
        var blob = OnlyBlob(clone);
        Assert.Throws<ObjectDisposedException>(() => blob.Span.Length);
        clone.Dispose(); // a second Dispose does nothing
    }

    [Fact]
    public void ReadOrMap_gives_the_files_bytes_below_and_above_the_mapping_size()
    {
        using var dir = new TempDir();
        var random = new Random(3);
        foreach (int length in new[] { 0, 1000, (int)WholeFile.MapFrom - 1, (int)WholeFile.MapFrom, (int)WholeFile.MapFrom + 4097 })
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            var path = dir.File($"f{length}.bin");
            File.WriteAllBytes(path, bytes);
            var read = WholeFile.ReadOrMap(path);
            Assert.Equal(bytes, read.ToArray());
            Assert.Equal(length >= WholeFile.MapFrom, FileOf(read) is not null);
        }
    }

    [Fact]
    public void A_resource_table_holds_each_mapped_file_once_until_released()
    {
        using var dir = new TempDir();
        var path = dir.File("w.bin");
        File.WriteAllBytes(path, new byte[WholeFile.MapFrom + 100]);
        var whole = WholeFile.ReadOrMap(path);
        var file = FileOf(whole)!;
        var table = new ResourceTable();
        table.Add("a", ResourceBlob.Of(whole[..64]));
        table.Set("b", ResourceBlob.Of(whole[64..128]));
        var other = new ResourceTable();
        other.Add("a", ResourceBlob.Of(whole[..64]));

        table.ReleaseFiles();
        Assert.True(file.IsMapped);
        table.ReleaseFiles(); // released once: a second call does not take the other table's reference
        Assert.True(file.IsMapped);
        other.ReleaseFiles();
        Assert.False(file.IsMapped);
        Assert.Throws<ObjectDisposedException>(() => whole.Span[0]);
    }
}
