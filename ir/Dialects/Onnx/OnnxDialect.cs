using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>
/// <c>onnx.*</c>, the hub: every operator of ONNX's default domain as its specification defines it
/// (<c>OnnxOps.Generated.cs</c>), with the traits and interfaces passes ask (<see cref="OnnxOps"/>), plus mopt's
/// <c>onnx.NoValue</c>. Operators of other domains (<c>onnx.com.microsoft.X</c>) are not defined: passes keep them.
/// </summary>
public static class OnnxDialect
{
    public const string Name = "onnx";
    public const string ConstantOp = "onnx.Constant";
    /// <summary>mopt's stand-in for an omitted optional input (ONNX's empty name).</summary>
    public const string NoValueOp = "onnx.NoValue";

    public static Dialect Dialect { get; } = new(Name, "ONNX operators (default domain), the hub passes work on",
        OnnxOps.Names, OnnxOps.Define);
}
