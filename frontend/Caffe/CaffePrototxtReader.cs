using Mopt.Caffe.Proto;
using Mopt.Ir;
using Mopt.Protobuf;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// Reads a <c>.prototxt</c> net (protobuf text format) with its blobs from <c>--caffe-weights</c>, or else from the
/// <c>.caffemodel</c> of the same stem beside it when there is one.
/// </summary>
public sealed class CaffePrototxtReader(string? weights = null) : IModelReader
{
    public string Format => "Caffe net (.prototxt, with --caffe-weights or NAME.caffemodel)";
    public bool CanRead(string path) => Path.GetExtension(path).Equals(".prototxt", StringComparison.OrdinalIgnoreCase);

    public MirModule Read(string path)
    {
        var wire = ParseWire(path);
        var net = NetParameter.Parser.ParseFrom(wire.Span);
        var weightsPath = weights ?? SameStem(path);
        if (weightsPath is not null) return CaffeImporter.Import(net, wire, path, weightsPath);
        try { return CaffeImporter.Import(net, wire, path, null); }
        catch (MirException e) when (e.Message.Contains("has no blobs", StringComparison.Ordinal))
        {
            throw new MirException($"{e.Message} (a .prototxt has no weights: give them with --caffe-weights=FILE.caffemodel, or put {Path.GetFileNameWithoutExtension(path)}.caffemodel beside it)");
        }
    }

    /// <summary>The NetParameter a prototxt holds; a syntax error at its <c>file:line:col</c>.</summary>
    public static NetParameter ParseText(string path) => NetParameter.Parser.ParseFrom(ParseWire(path).Span);

    /// <summary>
    /// The wire bytes of the NetParameter a prototxt holds (<see cref="ProtoText.ToWire"/>), which the importer reads each
    /// layer's attributes from as they are; a syntax error at its <c>file:line:col</c>.
    /// </summary>
    private static ReadOnlyMemory<byte> ParseWire(string path)
    {
        string text;
        try { text = WholeFile.ReadText(path); }
        catch (FileNotFoundException) { throw new MirException($"cannot read '{path}': file not found"); }
        catch (DirectoryNotFoundException) { throw new MirException($"cannot read '{path}': no such folder"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot read '{path}': {e.Message}"); }
        try { return ProtoText.ToWire(NetParameter.Descriptor, text, path); }
        catch (ProtoTextException e)
        {
            throw new MirException(e.Message, new SourcePosition(e.File, e.Line, e.Column, e.Offset), e.SourceLine);
        }
    }

    private static string? SameStem(string path)
    {
        var candidate = Path.ChangeExtension(path, ".caffemodel");
        return File.Exists(candidate) ? candidate : null;
    }
}
