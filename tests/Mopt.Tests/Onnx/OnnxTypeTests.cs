using Mopt.Dialects.Onnx;
using Mopt.Ir;

namespace Mopt.Tests.Onnx;

/// <summary>
/// The onnx dialect's types (<see cref="OnnxType"/>): the reader spells them, the writer parses them back, and each
/// spelling reads back to the same type; what is not an ONNX type's spelling is no ONNX type.
/// </summary>
public sealed class OnnxTypeTests
{
    [Theory]
    [InlineData("tensor<2x?xf32>")]
    [InlineData("tensor<*xi64>")]
    [InlineData("!onnx.Tensor<3xstring>")]
    [InlineData("!onnx.Tensor<*xf8E4M3FN>")]
    [InlineData("!onnx.Seq<tensor<*xf32>>")]
    [InlineData("!onnx.Opt<!onnx.Seq<!onnx.Tensor<?xcomplex64>>>")]
    [InlineData("!onnx.Map<string, !onnx.Seq<tensor<2xi64>>>")]
    [InlineData("!onnx.SparseTensor<2x3xf32>")]
    [InlineData("!onnx.Opaque<\"ai.x\", \"handle\">")]
    [InlineData("!onnx.Tensor<2xdtype99>")]
    public void EachSpellingReadsBackToTheSameType(string spelling)
    {
        var type = OnnxType.FromMir(new OpaqueType(spelling));
        Assert.NotNull(type);
        Assert.Equal(spelling, type.Spelling);
        Assert.Equal(spelling, type.ToMir().Text);
    }

    [Fact]
    public void ATensorOfAnElementTypeTheIrHasIsAnIrTensor()
    {
        var t = new OnnxTensorType(OnnxDataTypes.Int64, [2, -1]).ToMir();
        Assert.IsType<TensorType>(t);
        Assert.Equal("tensor<2x?xi64>", t.Text);
        Assert.IsType<OpaqueType>(new OnnxTensorType(OnnxDataTypes.String, [2]).ToMir());
    }

    [Fact]
    public void TheInnerTypeOfASequenceOrOptionalIsAnIrType()
    {
        Assert.Equal(new TensorType(ElementType.F32, [2]), OnnxType.InnerOf(new OpaqueType("!onnx.Seq<tensor<2xf32>>")));
        Assert.Equal(new OpaqueType("!onnx.Tensor<*xstring>"), OnnxType.InnerOf(new OpaqueType("!onnx.Opt<!onnx.Tensor<*xstring>>")));
        Assert.Null(OnnxType.InnerOf(new TensorType(ElementType.F32, [2])));
    }

    [Theory]
    [InlineData("!onnx.Seq<tensor<2xf32>")]      // unclosed
    [InlineData("!onnx.Tensor<2xnosuchtype>")]  // no such element type
    [InlineData("!onnx.Seq<tensor<2xf32>> x")]  // trailing text
    [InlineData("!tf.resource")]                // another dialect's type
    public void WhatIsNotAnOnnxTypesSpellingIsNoOnnxType(string spelling) =>
        Assert.Null(OnnxType.FromMir(new OpaqueType(spelling)));

    [Fact]
    public void IndexAndFunctionTypesHaveNoOnnxForm()
    {
        Assert.Null(OnnxType.FromMir(new TensorType(ElementType.Index, [2])));
        Assert.Null(OnnxType.FromMir(new FunctionType([], [])));
    }

    [Fact]
    public void TheDataTypeTableGoesBothWays()
    {
        foreach (var e in new[] { ElementType.F32, ElementType.F16, ElementType.BF16, ElementType.F64, ElementType.I1, ElementType.I8,
                     ElementType.I16, ElementType.I32, ElementType.I64, ElementType.UI8, ElementType.UI16, ElementType.UI32, ElementType.UI64,
                     ElementType.I4, ElementType.UI4 })
        {
            var code = OnnxDataTypes.DataTypeOf(e);
            Assert.NotNull(code);
            Assert.Same(e, OnnxDataTypes.ElementOf(code.Value));
            Assert.Equal(code, OnnxDataTypes.DataTypeOfName(OnnxDataTypes.ElementName(code.Value)));
        }
        Assert.Equal(1, OnnxDataTypes.DataTypeOf(ElementType.F32));
        Assert.Equal(9, OnnxDataTypes.DataTypeOf(ElementType.I1));
        Assert.Equal(22, OnnxDataTypes.DataTypeOf(ElementType.I4));
        Assert.Equal(21, OnnxDataTypes.DataTypeOf(ElementType.UI4));
        Assert.Null(OnnxDataTypes.DataTypeOf(ElementType.Index));
        Assert.Null(OnnxDataTypes.ElementOf(OnnxDataTypes.String));
        Assert.Equal("string", OnnxDataTypes.ElementName(OnnxDataTypes.String));
        Assert.Equal("dtype99", OnnxDataTypes.ElementName(99));
    }
}
