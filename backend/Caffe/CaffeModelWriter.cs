using Google.Protobuf;
using Mopt.Caffe.Proto;
using Mopt.Ir;
using Mopt.Protobuf;

namespace Mopt.Backend.Caffe;

/// <summary>
/// Writes a module still in <c>caffe.*</c>: <c>-o net.prototxt</c> writes the net as protobuf text without blobs and
/// <c>net.caffemodel</c> beside it (the same layers with their blobs, as Caffe snapshots them); <c>-o net.caffemodel</c>
/// writes that binary alone. Both files are built in memory, written to temporaries, then renamed together.
/// </summary>
public sealed class CaffeModelWriter : IModelWriter
{
    public string Format => "Caffe net (.prototxt with the .caffemodel beside it, or .caffemodel alone)";

    public bool CanWrite(string path) => IsPrototxt(path) || IsCaffeModel(path);

    public void Write(MirModule module, Stream output, string finalPath)
    {
        var net = CaffeExporter.ToNet(module, finalPath);
        if (IsCaffeModel(finalPath)) net.WriteCaffeModel(output);
        else WriteText(net.Prototxt(), output);
    }

    public void WriteFiles(MirModule module, string path)
    {
        var net = CaffeExporter.ToNet(module, path);
        if (IsCaffeModel(path))
        {
            AtomicFile.Write(path, net.WriteCaffeModel);
            return;
        }
        var text = net.Prototxt();
        AtomicFile.WriteAll([(path, s => WriteText(text, s)), (Path.ChangeExtension(path, ".caffemodel"), net.WriteCaffeModel)]);
    }

    private static void WriteText(string text, Stream output)
    {
        var utf8 = new System.Text.UTF8Encoding(false);
        if (output is System.Buffers.IBufferWriter<byte> writer)
        {
            // Encoded straight into the stream's buffer (AtomicFile's) instead of into an array of its own first.
            int length = utf8.GetByteCount(text);
            utf8.GetBytes(text, writer.GetSpan(length));
            writer.Advance(length);
            return;
        }
        output.Write(utf8.GetBytes(text));
    }

    private static bool IsPrototxt(string path) => FileNames.HasExtension(path, ".prototxt");
    private static bool IsCaffeModel(string path) => FileNames.HasExtension(path, ".caffemodel");
}
