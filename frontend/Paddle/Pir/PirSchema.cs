using System.Text.Json;
using Mopt.Ir;

namespace Mopt.Frontend.Paddle.Pir;

/// <summary>
/// The keys of Paddle's PIR JSON (paddle/fluid/pir/serialize_deserialize/include/schema.h) and checked reads of them:
/// a missing key or a value of the wrong JSON kind is an error naming where it is.
/// </summary>
public static class PirSchema
{
    public const string IdKey = "#";
    public const string ValueId = "%";
    public const string Regions = "regions";
    public const string Blocks = "blocks";
    public const string BlockArgs = "args";
    public const string Ops = "ops";
    public const string Operands = "I";
    public const string Results = "O";
    public const string Attrs = "A";
    public const string TypeKey = "TT";
    public const string Name = "N";
    public const string AttrType = "AT";
    public const string Data = "D";
    public const string VoidData = "VD";
    public const string ParameterOp = "p";

    /// <summary>The <c>"#"</c> string of an op, type or attribute.</summary>
    public static string Id(JsonElement e, string what) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(IdKey, out var id) && id.ValueKind == JsonValueKind.String
            ? id.GetString()! : throw new MirException($"{what}: {Describe(e)} has no \"#\" name");

    public static JsonElement Property(JsonElement e, string key, string what) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out var v) ? v : throw new MirException($"{what}: no \"{key}\" in {Describe(e)}");

    public static JsonElement Array(JsonElement e, string key, string what)
    {
        var v = Property(e, key, what);
        return v.ValueKind == JsonValueKind.Array ? v : throw new MirException($"{what}: \"{key}\" is {v.ValueKind}, not a list");
    }

    /// <summary>An optional list: empty when absent.</summary>
    public static IEnumerable<JsonElement> OptionalArray(JsonElement e, string key, string what)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(key, out var v)) return [];
        return v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : throw new MirException($"{what}: \"{key}\" is {v.ValueKind}, not a list");
    }

    public static long Int(JsonElement e, string what, string field) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v) ? v : throw new MirException($"{what}: {field} is {Describe(e)}, not an integer");

    public static string String(JsonElement e, string what, string field) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new MirException($"{what}: {field} is {Describe(e)}, not a string");

    /// <summary>A short description of a JSON value for messages: its kind, and its text when that is short.</summary>
    public static string Describe(JsonElement e)
    {
        var text = e.GetRawText();
        return text.Length <= 40 ? $"{e.ValueKind.ToString().ToLowerInvariant()} {text}" : e.ValueKind.ToString().ToLowerInvariant();
    }
}
