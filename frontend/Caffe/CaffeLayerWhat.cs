namespace Mopt.Frontend.Caffe;

/// <summary>
/// A layer as errors name it, <c>'file': layer 'name' (Type)</c>. The text is made only when an error is reported:
/// building it for every layer and blob of a net that has no error was a cost of every import.
/// </summary>
internal readonly struct CaffeLayerWhat(string file, CaffeLayer layer)
{
    public override string ToString() => $"'{file}': layer '{layer.Name}' ({layer.Type})";
}
