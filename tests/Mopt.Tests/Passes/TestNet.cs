using Mopt.Ir;

namespace Mopt.Tests.Passes;

/// <summary>
/// Builds small f32 models op by op for numeric pass tests: seeded random weights, named inputs and outputs
/// (<c>mo.name</c>), each op located by its name and naming its output (<c>mo.outputs</c>), as the ONNX importer does.
/// </summary>
internal sealed class TestNet
{
    private readonly Random _rng;
    private readonly FuncOp _func;
    private readonly OpBuilder _b;

    public TestNet(int seed, params (string Name, long[] Shape)[] inputs)
    {
        _rng = new Random(seed);
        Module = MirModule.Create("test");
        Module.Op.SetAttr("onnx.opset", IntegerAttr.I64(17));
        _func = Module.AddFunction("main", inputs.Select(i => (MirType)F32(i.Shape)).ToArray(), []);
        for (int i = 0; i < inputs.Length; i++)
            _func.SetArgAttrs(i, DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr(inputs[i].Name))]));
        _b = OpBuilder.AtEnd(_func.Body);
    }

    public MirModule Module { get; }
    public Value this[int input] => _func.Arguments[input];

    public static TensorType F32(params long[] shape) => new(ElementType.F32, shape);

    public Value Const(string name, long[] shape, Func<int, double> value)
    {
        var type = F32(shape);
        var values = new float[type.ElementCount!.Value];
        for (int i = 0; i < values.Length; i++) values[i] = (float)value(i);
        return _b.Constant(DenseElementsAttr.FromFloats(type, values), type, Location.Named(name));
    }

    /// <summary>A 1-D int64 constant (axes, shapes).</summary>
    public Value Int64s(string name, params long[] values)
    {
        var type = new TensorType(ElementType.I64, [values.Length]);
        return _b.Constant(DenseElementsAttr.FromInt64s(type, values), type, Location.Named(name));
    }

    /// <summary>Gaussian values times <paramref name="scale"/>.</summary>
    public Value Random(string name, long[] shape, double scale = 0.5) => Const(name, shape, _ => Gaussian() * scale);

    public Value Uniform(string name, long[] shape, double low, double high) => Const(name, shape, _ => low + (high - low) * _rng.NextDouble());

    public double Gaussian()
    {
        double u1 = 1.0 - _rng.NextDouble(), u2 = _rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public Value Op(string opType, string name, Value[] operands, long[] shape, params (string Name, Attr Value)[] attrs)
    {
        var all = attrs.Select(a => new NamedAttr(a.Name, a.Value)).Append(new NamedAttr("mo.outputs", ArrayAttr.OfStrings([name + "_out"])));
        return _b.Create("onnx." + opType, operands, [F32(shape)], all, Location.Named(name)).Result;
    }

    /// <summary>An inference BatchNormalization over axis 1 with random, non-trivial statistics.</summary>
    public Value BatchNorm(string name, Value x, int channels, double epsilon = 1e-5, (string, Attr)[]? attrs = null)
    {
        var scale = Const(name + ".scale", [channels], _ => (0.5 + _rng.NextDouble()) * (_rng.Next(2) == 0 ? -1 : 1));
        var bias = Random(name + ".bias", [channels]);
        var mean = Random(name + ".mean", [channels]);
        var variance = Uniform(name + ".var", [channels], 0.05, 2.0);
        var shape = ((TensorType)x.Type).Shape!.ToArray();
        return Op("BatchNormalization", name, [x, scale, bias, mean, variance], shape,
            [("epsilon", FloatAttr.F32((float)epsilon)), .. attrs ?? []]);
    }

    public static (string, Attr) Ints(string name, params long[] values) => (name, ArrayAttr.OfInts(values));
    public static (string, Attr) Int(string name, long value) => (name, IntegerAttr.I64(value));
    public static (string, Attr) Float(string name, double value) => (name, FloatAttr.F32((float)value));
    public static (string, Attr) Str(string name, string value) => (name, new StringAttr(value));

    /// <summary>Returns <paramref name="outputs"/> as the graph outputs out0, out1, ...</summary>
    public MirModule Finish(params Value[] outputs)
    {
        _b.Return(outputs);
        _func.UpdateType();
        for (int i = 0; i < outputs.Length; i++)
            _func.SetResultAttrs(i, DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr($"out{i}"))]));
        Verifier.Verify(Module);
        return Module;
    }
}
