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
    public bool CanRead(string path) => FileNames.HasExtension(path, ".prototxt");

    public MirModule Read(string path)
    {
        var weightsPath = weights ?? SameStem(path);
        // The text is lent for the read (no string of it); the layers' attributes are read from its wire bytes, lent too.
        using var text = Readable(path, WholeFile.LendText);
        return FromWire(path, text.Text, (path, weightsPath), static (file, wire) =>
        {
            if (file.weightsPath is not null) return CaffeImporter.Import(wire, file.path, file.weightsPath);
            try { return CaffeImporter.Import(wire, file.path, null); }
            catch (MirException e) when (e.Message.Contains("has no blobs", StringComparison.Ordinal))
            {
                throw new MirException($"{e.Message} (a .prototxt has no weights: give them with --caffe-weights=FILE.caffemodel, or put {Path.GetFileNameWithoutExtension(file.path)}.caffemodel beside it)");
            }
        });
    }

    /// <summary>The NetParameter a prototxt holds; a syntax error at its <c>file:line:col</c>.</summary>
    public static NetParameter ParseText(string path) =>
        FromWire(path, Readable(path, WholeFile.ReadText).AsMemory(), 0, static (_, wire) => NetParameter.Parser.ParseFrom(wire.Span));

    /// <summary><paramref name="read"/> of the file at <paramref name="path"/>, a file that cannot be read a clear error.</summary>
    private static T Readable<T>(string path, Func<string, T> read)
    {
        try { return read(path); }
        catch (FileNotFoundException) { throw new MirException($"cannot read '{path}': file not found"); }
        catch (DirectoryNotFoundException) { throw new MirException($"cannot read '{path}': no such folder"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot read '{path}': {e.Message}"); }
    }

    /// <summary><paramref name="use"/> of the wire bytes of the NetParameter the text holds (<see cref="ProtoText.WithWire"/>); a syntax error at its <c>file:line:col</c>.</summary>
    private static T FromWire<TState, T>(string path, ReadOnlyMemory<char> text, TState state, Func<TState, ReadOnlyMemory<byte>, T> use)
    {
        try { return ProtoText.WithWire(NetParameter.Descriptor, text, path, state, use); }
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
