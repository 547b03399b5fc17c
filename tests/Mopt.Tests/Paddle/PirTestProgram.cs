using System.Text.Json.Nodes;

namespace Mopt.Tests.Paddle;

/// <summary>
/// A PIR program written the way Paddle 3's WriteModule writes one (docs/research/paddle-formats.md §4: base_code, one
/// region, one block, ops with "#", "I", "O", "A"; values numbered from 1 in write order; parameter ops "p" with
/// [is_distributed, is_parameter, need_clip, name]), for tests. Parameters go to a .pdiparams given by the caller.
/// </summary>
internal sealed class PirTestProgram
{
    private readonly JsonArray _ops = [];
    private readonly Stack<JsonArray> _blocks = new();
    private long _next = 1;
    private int _regions, _blocksSeen;

    public long Version { get; init; } = 1;
    public string Magic { get; init; } = "pir";

    public PirTestProgram() => _blocks.Push(_ops);

    private JsonArray Ops => _blocks.Peek();

    public static JsonObject Type(string element, params long[] dims) =>
        new() { ["#"] = "0.t_dtensor", ["D"] = new JsonArray(new JsonObject { ["#"] = "0." + element }, new JsonArray(dims.Select(d => (JsonNode)d).ToArray()), "NCHW", new JsonArray(), 0) };

    public long Data(string name, string element, long[] dims, string dtype = "float32") =>
        Op("1.data", [], [A.Str("name", name), A.IntArray("shape", dims), A.DType("dtype", dtype), A.Place("place")], Type(element, dims))[0];

    public long Parameter(string name, params long[] dims)
    {
        long id = _next++;
        Ops.Add(new JsonObject
        {
            ["#"] = "p",
            ["A"] = new JsonArray(0, 1, 1, name),
            ["O"] = new JsonObject { ["%"] = id, ["TT"] = Type("t_f32", dims) },
            ["OA"] = new JsonArray(1, 0, 1),
        });
        return id;
    }

    public long Full(long[] shape, double value, string dtype = "float32", string element = "t_f32") =>
        Op("1.full", [], [A.IntArray("shape", shape), A.F64("value", value), A.DType("dtype", dtype), A.Place("place")], Type(element, shape))[0];

    public long FullIntArray(params long[] values) =>
        Op("1.full_int_array", [], [A.Ints64("value", values), A.DType("dtype", "int64"), A.Place("place")], Type("t_i64", values.Length))[0];

    public void Fetch(long value, int col, string name, string element, params long[] dims)
    {
        Op("1.fetch", [value], [A.Str("name", name), A.I32("col", col)], Type(element, dims));
    }

    /// <summary>An op with its operand ids, attributes and result types; returns its result ids.</summary>
    public long[] Op(string name, long[] operands, (string Name, JsonObject Value)[] attrs, params JsonObject[] results)
    {
        var ids = results.Select(_ => _next++).ToArray();
        Ops.Add(new JsonObject
        {
            ["#"] = name,
            ["A"] = new JsonArray(attrs.Select(a => (JsonNode)new JsonObject { ["AT"] = a.Value, ["N"] = a.Name }).ToArray()),
            ["I"] = new JsonArray(operands.Select(o => (JsonNode)new JsonObject { ["%"] = o }).ToArray()),
            ["O"] = new JsonArray(results.Select((t, i) => (JsonNode)new JsonObject { ["%"] = ids[i], ["TT"] = t }).ToArray()),
            ["OA"] = new JsonArray(),
        });
        return ids;
    }

    /// <summary>An <c>if</c> on <paramref name="cond"/> whose two branches <paramref name="then"/> and <paramref name="otherwise"/> build (each ending in a yield).</summary>
    public long[] If(long cond, JsonObject[] results, Action<PirTestProgram> then, Action<PirTestProgram> otherwise)
    {
        var ids = results.Select(_ => _next++).ToArray();
        var regions = new JsonArray();
        foreach (var branch in new[] { then, otherwise })
        {
            var ops = new JsonArray();
            regions.Add(new JsonObject
            {
                ["#"] = $"region_{++_regions}",
                ["blocks"] = new JsonArray(new JsonObject { ["#"] = $"block_{++_blocksSeen}", ["args"] = new JsonArray(), ["ops"] = ops }),
            });
            _blocks.Push(ops);
            branch(this);
            _blocks.Pop();
        }
        Ops.Add(new JsonObject
        {
            ["#"] = "1.if",
            ["A"] = new JsonArray(),
            ["I"] = new JsonArray(new JsonObject { ["%"] = cond }),
            ["O"] = new JsonArray(results.Select((t, i) => (JsonNode)new JsonObject { ["%"] = ids[i], ["TT"] = t }).ToArray()),
            ["regions"] = regions,
        });
        return ids;
    }

    public void Yield(params long[] values) => Op("2.yield", values, []);

    public JsonObject ToJson() => new()
    {
        ["base_code"] = new JsonObject { ["magic"] = Magic, ["trainable"] = false, ["version"] = Version },
        ["program"] = new JsonObject
        {
            ["regions"] = new JsonArray(new JsonObject
            {
                ["#"] = "region_0",
                ["blocks"] = new JsonArray(new JsonObject { ["#"] = "block_0", ["args"] = new JsonArray(), ["ops"] = _ops.DeepClone() }),
            }),
        },
    };

    /// <summary>Writes <c>NAME.json</c> into <paramref name="dir"/> (compact, as Paddle writes when not readable); returns its path.</summary>
    public string Write(string dir, string name = "model", bool readable = false)
    {
        var path = Path.Combine(dir, name + ".json");
        File.WriteAllText(path, ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = readable }));
        return path;
    }

    /// <summary>Attributes of each kind, as <c>(name, {"#": kind, "D": data})</c>.</summary>
    public static class A
    {
        private static (string, JsonObject) Make(string name, string kind, JsonNode? data) => (name, new JsonObject { ["#"] = kind, ["D"] = data });
        public static (string, JsonObject) I32(string name, int v) => Make(name, "0.a_i32", v);
        public static (string, JsonObject) I64(string name, long v) => Make(name, "0.a_i64", v);
        public static (string, JsonObject) F32(string name, float v) => Make(name, "0.a_f32", v);
        public static (string, JsonObject) F64(string name, double v) => Make(name, "0.a_f64", v);
        public static (string, JsonObject) Bool(string name, bool v) => Make(name, "0.a_bool", v);
        public static (string, JsonObject) Str(string name, string v) => Make(name, "0.a_str", v);
        public static (string, JsonObject) DType(string name, string v) => Make(name, "1.a_dtype", v);
        public static (string, JsonObject) IntArray(string name, params long[] v) => Make(name, "1.a_intarray", new JsonArray(v.Select(x => (JsonNode)x).ToArray()));
        public static (string, JsonObject) Place(string name) => Make(name, "1.a_place", new JsonArray(1, 0, ""));
        public static (string, JsonObject) Ints32(string name, params int[] v) =>
            Make(name, "0.a_array", new JsonArray(v.Select(x => (JsonNode)new JsonObject { ["#"] = "0.a_i32", ["D"] = x }).ToArray()));
        public static (string, JsonObject) Ints64(string name, params long[] v) =>
            Make(name, "0.a_array", new JsonArray(v.Select(x => (JsonNode)new JsonObject { ["#"] = "0.a_i64", ["D"] = x }).ToArray()));
        public static (string, JsonObject) Raw(string name, string kind, JsonNode? data) => Make(name, kind, data);
    }
}
