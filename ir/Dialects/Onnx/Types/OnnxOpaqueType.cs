using System.Text;

namespace Mopt.Dialects.Onnx;

/// <summary><c>!onnx.Opaque&lt;"domain", "name"&gt;</c>: a type ONNX only names.</summary>
public sealed record OnnxOpaqueType(string Domain, string Name) : OnnxType
{
    public override string Spelling => $"!onnx.Opaque<{Quote(Domain)}, {Quote(Name)}>";

    /// <summary>Quotes and escapes; characters the IR's type syntax cannot hold (controls, non-ASCII, angle brackets) become '_'.</summary>
    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            if (c is '"' or '\\') sb.Append('\\').Append(c);
            else if (c < 0x20 || c > 0x7E || c is '<' or '>') sb.Append('_');
            else sb.Append(c);
        }
        return sb.Append('"').ToString();
    }
}
