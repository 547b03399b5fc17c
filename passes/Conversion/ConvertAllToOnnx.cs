using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// <c>--convert-to-onnx</c>: lowers whatever source dialects the module holds (<c>tf.*</c> by --convert-tf-to-onnx,
/// <c>caffe.*</c> by --convert-caffe-to-onnx, <c>paddle.*</c> by --convert-paddle-to-onnx) so the ONNX passes after it see <c>onnx.*</c>; an ONNX module is left as it
/// is. <c>--pipeline=deploy</c> starts with it, so <c>net.prototxt --pipeline=deploy --quantize-int8</c> works on a Caffe net.
/// </summary>
public sealed class ConvertAllToOnnx : Pass
{
    public override string Name => "convert-to-onnx";
    public override string Summary => "Lower every source dialect the module holds (tf.*, caffe.*, paddle.*) to ONNX (onnx.*); ONNX is left as it is";

    public override void Run(MirModule module, PassContext context)
    {
        foreach (var lowering in OnnxLowerings.Needed(module)) lowering.Run(module, context);
    }
}
