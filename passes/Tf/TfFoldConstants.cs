using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// <c>--tf-fold-constants='ignore-errors=true'</c>, the Graph Transform Tool's <c>fold_constants</c>
/// (tensorflow/tools/graph_transforms/fold_constants_lib.cc): each node whose data inputs are all <c>tf.Const</c>
/// is evaluated and becomes a <c>tf.Const</c> of the same name, so readers, <c>^name</c> dependencies and output
/// names still find it.
/// <code>
/// Before: %v = "tf.Const"() loc("var") ; %e = "tf.Const"() loc("eps")
///         %a = "tf.Add"(%v, %e) loc("add") ; %r = "tf.Rsqrt"(%a) loc("rsqrt") ; "tf.Mul"(%x, %r)
/// After:  %r = "tf.Const"() {dtype = f32, value = dense&lt;...&gt;} loc("rsqrt") ; "tf.Mul"(%x, %r)
/// </code>
/// Exact conditions: the op's definition says it is pure (not random, no effects; an op mopt has no definition for is
/// never evaluated), it has one result and no <c>^control</c> inputs (a folded node would lose them), and its
/// definition has a folder (<see cref="Mopt.Dialects.Tf.Folding.TfFolders"/>: Identity, Add/AddV2/Sub/Mul/RealDiv,
/// Maximum/Minimum, Neg, Sqrt/Rsqrt/Square, Cast, Reshape, ExpandDims, Squeeze, Pack, ConcatV2, StridedSlice; Shape
/// also from a static input type) that evaluates it; the result has at most <c>max-size</c> elements. One forward
/// sweep folds whole chains. The constants nothing reads any more are erased after the pass.
/// A pure node whose inputs are all constant but which mopt cannot evaluate (no folder, or a case the folder does not
/// cover) is an error naming it, unless <c>ignore-errors</c>: then it is left as it is and said under
/// <c>--debug</c>. transform_graph evaluates every op with TensorFlow's kernels; mopt evaluates only what its
/// folders compute, exactly, and never writes a value it is not sure of.
/// </summary>
public sealed class TfFoldConstants : Pass
{
    private readonly PassOption<bool> _ignoreErrors = new("ignore-errors", "leave what cannot be evaluated as it is (say so under --debug) instead of failing", false);
    private readonly PassOption<long> _maxSize = new("max-size", "largest folded result, in elements", 1L << 24, valid: n => n >= 0);

    public override string Name => "tf-fold-constants";
    public override string Summary => "TensorFlow: evaluate the nodes whose inputs are all Const and make them Consts (GTT fold_constants)";
    public override IReadOnlyList<PassOption> Options => [_ignoreErrors, _maxSize];

    public TfFoldConstants Configure(GttTransform t)
    {
        if (t.One("ignore_errors") is { } ignore) _ignoreErrors.Parse(ignore.ToLowerInvariant());
        return this;
    }

    public override void Run(MirModule module, PassContext context)
    {
        if (!TfGraph.Applies(module, Name)) return;
        var func = module.MainFunction;
        var dialects = context.Dialects;
        long folded = 0;
        foreach (var op in func.Body.Operations.ToList())
        {
            if (op.Parent is null || op.Dialect != TfDialect.Name || op.Name == TfDialect.ConstOp) continue;
            var request = new FoldRequest(op, module, dialects, _maxSize.Value);
            var definition = dialects.Find(op);
            var folder = definition?.Interface<IFolder>();
            if (!request.AllConstant && folder is null) continue;
            if (definition is null || !definition.Traits.IsPure() || op.Regions.Count > 0)
            {
                if (request.AllConstant && op.OperandCount > 0) context.Log($"not folded: {Describe(op)}: {(definition is null ? "mopt has no definition of it, so it is not known to be pure" : "it is not pure")}");
                continue;
            }
            if (op.Results.Count != 1 || !op.Result.HasUses) continue;
            if (TfGraph.HasControlInputs(op))
            {
                if (request.AllConstant) context.Log($"not folded: {Describe(op)}: it has control inputs, which a constant would lose");
                continue;
            }

            ConstantTensor? value = null;
            string? problem = null;
            try
            {
                var results = folder?.Fold(request);
                if (results is { Count: 1 }) value = results[0];
                else if (request.AllConstant) problem = folder is null ? $"mopt has no evaluator for {op.OpType}" : request.KeptBecause ?? "its folder did not evaluate it";
            }
            catch (FoldException e) { problem = e.Message; }
            catch (OverflowException) { problem = "a size or index overflows"; }
            if (value is null)
            {
                if (problem is null) continue;
                if (!_ignoreErrors.Value)
                    throw new MirException($"tf-fold-constants: cannot evaluate {Describe(op)}: {problem} (fold_constants(ignore_errors=true) leaves it as it is)");
                context.Skip(op, $"not evaluated: {problem}");
                continue;
            }
            if (value.Type.ElementCount is not long n || value.Bytes.Length != value.Type.ByteSize || TfDataTypes.CodeOf(value.Type.Element) is null)
            {
                context.Skip(op, $"the evaluator gave {value.Type}, which a Const cannot hold");
                continue;
            }
            var name = TfGraph.NodeName(op) ?? TfGraph.UniqueName(func, op.OpType + "_folded");
            var constant = TfGraph.CreateConst(OpBuilder.Before(op), module, value.Type, value.Bytes.ToArray(), name);
            if (op.GetAttr(TfGraph.DeviceAttr) is { } device) constant.SetAttr(TfGraph.DeviceAttr, device);
            op.Result.ReplaceAllUsesWith(constant.Result);
            op.Erase();
            context.Log($"folded {Describe(op)} to {value.Type}");
            folded++;
        }
        if (folded > 0) context.Count("nodes folded", folded);
        func.UpdateType();
    }

    private static string Describe(Operation op) => $"{op.OpType} '{TfGraph.NodeName(op) ?? "(unnamed)"}'";
}
