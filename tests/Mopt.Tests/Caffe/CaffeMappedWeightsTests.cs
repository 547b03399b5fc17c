using System.Runtime.InteropServices;
using Google.Protobuf;
using Mopt.Api;
using Mopt.Caffe.Proto;
using Mopt.Ir;

namespace Mopt.Tests.Caffe;

/// <summary>
/// A caffemodel is read into a pooled block, or mapped, or (under 256 KB, when the pool has no block) read into an array
/// of its own (WholeFile.ReadOrMap): its blobs are slices of it, the same bytes whichever. A resource table holds a
/// reference on each file its blobs are mapped from (or read into a block of); a model's Dispose lets go of it, and the
/// last holder unmaps it at once (mopt-opt disposes its model when done). A clone taken before keeps the weights
/// readable; after the last release a blob of the file throws ObjectDisposedException, never reads whatever is mapped
/// there (or read into the block) then.
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
    [InlineData(Outputs)] // 1.25 MB: mapped when the process's pool has no block
    [InlineData(16)]      // 40 KB: read into an array then
    public void A_caffemodel_read_again_is_read_into_a_pooled_block_and_the_blob_is_the_files_bytes(int outputs)
    {
        using var dir = new TempDir();
        var (prototxt, weights) = WriteNet(dir, outputs);
        var expected = MemoryMarshal.AsBytes(weights.AsSpan()).ToArray();
        using (var first = Model.Load(prototxt)) // mapped, an array, or a block: whichever, the file's bytes
        {
            var blob = OnlyBlob(first);
            Assert.True(outputs < Outputs || FileOf(blob) is not null); // 1.25 MB never goes into an array of its own
            Assert.Equal(expected, blob.ToArray());
        }
        using var second = Model.Load(prototxt); // by now the process's pool has been asked: a block
        Assert.NotNull(FileOf(OnlyBlob(second))!.Block);
        Assert.Equal(expected, OnlyBlob(second).ToArray());
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
            // from MapFrom on a mapping or a pooled block, never an array of its own; below it either; empty: no file
            Assert.True(length == 0 ? FileOf(read) is null : length < WholeFile.MapFrom || FileOf(read) is not null);
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
