using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// <c>--convert-to-onnx</c>: lowers whatever source dialects the module holds (<c>tf.*</c> by --convert-tf-to-onnx,
/// <c>caffe.*</c> by --convert-caffe-to-onnx, <c>paddle.*</c> by --convert-paddle-to-onnx) so the ONNX passes after it see <c>onnx.*</c>; an ONNX module is left as it
/// is. <c>--pipeline=deploy</c> starts with it, so <c>net.prototxt --pipeline=deploy --quantize-int8</c> works on a Caffe net.
/// Option <c>caffe-merge-bn</c> (default false; deploy sets it): a Caffe net's BatchNorm (+ Scale) pairs merge into the
/// layer before them in the caffe dialect first (<see cref="Caffe.MergeBatchNorm"/>, the same folded layer fold-bn would
/// make from the lowered BatchNormalization), so half the ops are left to lower. A plain conversion (writing .onnx)
/// keeps the net as it is. Part of this pass, not a pass before it: a separate pass that found nothing on an MTCNN
/// net still cost the pass manager's sweep and verification of the input (3% of its deploy, measured).
/// </summary>
public sealed class ConvertAllToOnnx : Pass
{
    public override string Name => "convert-to-onnx";
    public override string Summary => "Lower every source dialect the module holds (tf.*, caffe.*, paddle.*) to ONNX (onnx.*); ONNX is left as it is";

    private readonly PassOption<bool> _caffeMergeBn = new("caffe-merge-bn",
        "first merge a Caffe net's BatchNorm (and Scale) into the Convolution, Deconvolution or InnerProduct before it, as --caffe-merge-bn does", false);

    public override IReadOnlyList<PassOption> Options => [_caffeMergeBn];

    public override void Run(MirModule module, PassContext context)
    {
        foreach (var lowering in OnnxLowerings.Needed(module))
        {
            if (lowering is ConvertCaffeToOnnx && _caffeMergeBn.Value) new Caffe.MergeBatchNorm().Run(module, context);
            lowering.Run(module, context);
        }
    }
}
