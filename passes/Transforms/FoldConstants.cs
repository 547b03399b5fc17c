using Mopt.Dialects.Mo;
using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--fold-constants</c>: evaluates every operation whose inputs are all constants (or whose folder needs only their
/// types) and replaces it by a constant. It asks each operation's definition (traits, <see cref="IFolder"/>,
/// <see cref="IConstantLike"/>), never its name: the ONNX folders live in the onnx dialect.
/// <code>
/// Before: %s = "onnx.Shape"(%x : tensor&lt;?x3x4xf32&gt;) {start = 1}      ; [3, 4]: the dims it returns are static
///         %c = "onnx.Constant"() {value = dense&lt;[1]&gt; : tensor&lt;1xi64&gt;}
///         %g = "onnx.Gather"(%s, %c) {axis = 0} loc("Gather_3")
/// After:  %g = "onnx.Constant"() {value = dense&lt;4&gt; : tensor&lt;1xi64&gt;} loc("Gather_3")
/// </code>
/// Exact conditions:
/// <list type="bullet">
/// <item>At least one result is used and one is a tensor; the operation is not constant-like itself.</item>
/// <item>Every operand is constant (its producer's definition is <see cref="IConstantLike"/>: <c>onnx.Constant</c>,
///   also written with <c>value_float(s)</c> / <c>value_int(s)</c>) holding a tensor whose bytes are there (not
///   elided, at most 2 GiB), or absent (typed <c>none</c>: <c>onnx.NoValue</c>). Or, whatever the operands: the
///   operation's folder folds it from what it sees (ONNX's Shape and Size from their input's type when every dimension
///   they return is static; a Gather or Slice of a Shape when every dimension it picks is static).</item>
/// <item>Its definition says it is pure (<see cref="OpTraits.Pure"/>, not non-deterministic, no effects) and it has
///   no regions. An operation without a definition is not known to be pure and is left alone.</item>
/// <item>Evaluated by its definition's folder (<see cref="IFolder"/>; the ONNX ones: shape, indexing, arithmetic,
///   comparison, Cast, Range, ConstantOfShape) or, when it has none or the folder does not cover the case (an op
///   whose attributes mopt keeps only as bytes, <c>onnx.raw_attributes</c>), by the fallback evaluator
///   (<see cref="PassServices.FallbackEvaluator"/>: ONNX Runtime) if that runs it (<see cref="FallbackEvaluator.CanEvaluate"/>:
///   ONNX's default-domain operators), unless <c>fallback=false</c>.</item>
/// <item>Each used result is a tensor (or <c>none</c>, an absent optional output nobody reads), has the element type
///   the operation declares and agrees with its declared shape (a declared dynamic or unranked result becomes the
///   static type computed), and at most <c>max-size</c> elements.</item>
/// </list>
/// A folded result keeps the operation's location and its ONNX tensor name (<c>mo.outputs</c>); all-equal results
/// are splats, other results of up to 64 bytes are inline and larger ones new resource blobs. What fed only folded
/// operations (constants, a Shape looked through) is erased, with the blobs of the erased constants.
/// </summary>
public sealed class FoldConstants : Pass
{
    /// <summary>1 Mi elements (4 MiB of f32): shape computations and small tables fold, big masks and broadcasts do not.</summary>
    public const long DefaultMaxSize = 1L << 20;

    private readonly FallbackEvaluator? _fallback;
    private readonly bool _fallbackGiven;

    /// <summary>A pass that falls back to the evaluator its context gives (<see cref="PassServices.FallbackEvaluator"/>), an evaluator of ONNX operators.</summary>
    public FoldConstants() { }

    /// <summary>A pass with its own fallback evaluator (null: none), which runs what <paramref name="canEvaluate"/> accepts (default: ONNX operators).</summary>
    public FoldConstants(OpEvaluator? fallback, Func<Operation, bool>? canEvaluate = null)
    {
        _fallback = fallback is null ? null : new FallbackEvaluator(fallback, canEvaluate ?? FallbackEvaluator.IsOnnxOperator);
        _fallbackGiven = true;
    }

    public PassOption<long> MaxSize { get; } = new("max-size",
        "largest folded result, in elements, that is materialized as a constant", DefaultMaxSize, valid: v => v >= 0);
    public PassOption<bool> Fallback { get; } = new("fallback",
        "evaluate operations without a native evaluator with ONNX Runtime", true);

    public override string Name => "fold-constants";
    public override string Summary => "Evaluate operations whose inputs are all constants and replace them by constants";
    public override IReadOnlyList<PassOption> Options => [MaxSize, Fallback];

    public override void Run(MirModule module, PassContext context)
    {
        var fallback = !Fallback.Value ? null
            : _fallbackGiven ? _fallback
            : context.Services.FallbackEvaluator is { } f ? FallbackEvaluator.OfOnnxOperators(f) : null;
        new FoldRun(this, module, context, fallback).Fold();
    }

    private sealed class FoldRun : IRewriteListener
    {
        private readonly MirModule _module;
        private readonly PassContext _context;
        private readonly FallbackEvaluator? _fallback;
        private readonly DialectRegistry _dialects;
        private readonly OlderForms _olderForms;
        private readonly PatternRewriter _rewriter;
        private readonly long _maxSize;
        private readonly List<(Operation Op, string Reason)> _skips = new();
        private readonly HashSet<Operation> _functionsToRetype = new();
        private readonly HashSet<Operation> _created = new();
        private readonly HashSet<string> _createdKeys = new(StringComparer.Ordinal);
        private long _folded, _byFallback, _removed;
        // Every change made (operations created, erased, modified): none means the pass may say it preserved everything.
        private long _changes;

        public FoldRun(FoldConstants pass, MirModule module, PassContext context, FallbackEvaluator? fallback)
        {
            _module = module;
            _context = context;
            _fallback = fallback;
            _dialects = context.Dialects;
            _rewriter = new PatternRewriter(module, _dialects, this);
            _olderForms = new OlderForms(module, _dialects);
            _maxSize = pass.MaxSize.Value;
        }

        public void Fold()
        {
            foreach (var block in _module.FunctionBlocks()) FoldBlock(block);

            foreach (var f in _functionsToRetype) new FuncOp(f).UpdateType();
            long blobs = RemoveFreedBlobs();

            if (_folded > 0) _context.Count("folded", _folded);
            if (_byFallback > 0) _context.Count("by ONNX Runtime", _byFallback);
            if (_removed > 0) _context.Count("constants removed", _removed);
            if (blobs > 0) _context.Count("blobs removed", blobs);
            foreach (var (op, reason) in _skips) _context.Skip(op, reason);
            if (_changes == 0 && _folded == 0 && _functionsToRetype.Count == 0 && blobs == 0) _context.MarkAllPreserved();
        }

        private void FoldBlock(Block block)
        {
            // Producers come before their users: one forward sweep folds whole chains.
            foreach (var op in block.Operations.ToList())
            {
                if (op.Parent != block) continue; // erased as an input of an operation folded before
                for (int r = 0; r < op.RegionCount; r++)
                    foreach (var inner in op.Regions[r].Blocks) FoldBlock(inner);
                if (op.IsUnused || _dialects.Has(op, OpTraits.ConstantLike)) continue;
                TryFold(op);
            }
        }

        private void Skip(Operation op, string reason)
        {
            _skips.Add((op, reason));
            _context.Log($"not folded: {op.Name} {op.Location.FirstName ?? ""}: {reason}");
        }

        private void TryFold(Operation op)
        {
            if (!AnyTensorResult(op)) return; // nothing a constant could stand for (an absent value)
            var definition = _dialects.Find(op);
            var folder = definition?.Interface<IFolder>();
            // Nothing to fold (the check below, without the request): a folder of constant operands only, or none.
            if ((folder is null || folder.NeedsConstantOperands) && !FoldRequest.AllOperandsConstant(op, _dialects)) return;
            // The native folders read one element per ByteSize: packed i4/ui4 tensors go to the fallback evaluator.
            if (folder is not null && TouchesPackedTypes(op)) folder = null;
            // The native folders compute the current meaning; an older opset's (legacy broadcasting, ...) is left to the fallback, which runs the module's opset.
            // (Not asked op by op when the dialect says none of its ops can differ at the module's version.)
            string? legacy = definition is null ? null : _olderForms.Differs(op);
            if (legacy is not null) folder = null;
            var request = new FoldRequest(op, _module, _dialects, _maxSize);
            bool allConstant = request.AllConstant;
            if (!allConstant && folder is null) return; // not constant: nothing to fold

            // Whether it may be evaluated at all; said only when every operand is constant (else nothing was lost).
            string? refused = definition is null ? $"{op.Name} has no definition, so it is not known to be pure"
                : definition.Has(OpTraits.NonDeterministic) ? $"{op.OpType} is random"
                : !definition.Traits.IsPure() ? "it has effects"
                : op.Regions.Count > 0 ? "it has subgraphs"
                : null;
            if (refused is not null)
            {
                if (allConstant) Skip(op, refused);
                return;
            }
            if (allConstant && ResultProblem(op) is { } before) { Skip(op, before); return; }

            IReadOnlyList<ConstantTensor>? results = null;
            string? folderReason = null;
            if (folder is not null)
            {
                try { results = folder.Fold(request); }
                catch (FoldException e) when (e.TryFallback && allConstant) { folderReason = e.Message; }
                catch (FoldException e) { Skip(op, e.Message); return; }
                catch (OverflowException) { Skip(op, "a size or index overflows"); return; }
                if (results is null && request.KeptBecause is { } kept)
                {
                    if (!allConstant) { _context.Log($"kept {op.Name} {op.Location.FirstName ?? ""}: {kept}"); return; }
                    folderReason = kept;
                }
                if (results is null && !allConstant) return;
            }

            bool byFallback = false;
            if (results is null)
            {
                var notNative = folderReason ?? legacy ?? $"no native evaluator for {op.OpType}";
                if (_fallback is null) { Skip(op, notNative + ", and the ONNX Runtime fallback is off"); return; }
                if (!_fallback.CanEvaluate(op)) { Skip(op, notNative + ", and the fallback evaluator does not run it"); return; }
                if (Evaluate(op, request, legacy) is not { } evaluated) return;
                results = evaluated;
                byFallback = true;
            }

            var problem = (allConstant ? null : ResultProblem(op)) ?? Check(op, results);
            if (problem is not null) { Skip(op, problem); return; }
            Replace(op, results);
            _folded++;
            if (byFallback) _byFallback++;
        }

        // Loops, not LINQ: asked of every operation with a folder.
        private static bool TouchesPackedTypes(Operation op)
        {
            for (int i = 0; i < op.OperandCount; i++)
                if (op.GetOperand(i).Type is TensorType { Element.IsPacked: true }) return true;
            for (int i = 0; i < op.Results.Count; i++)
                if (op.Results[i].Type is TensorType { Element.IsPacked: true }) return true;
            return false;
        }

        private static bool AnyTensorResult(Operation op)
        {
            for (int i = 0; i < op.Results.Count; i++)
                if (op.Results[i].Type is TensorType) return true;
            return false;
        }

        /// <summary>The fallback's results, or null (skipped) when an input cannot be read or the evaluator refuses.</summary>
        private IReadOnlyList<ConstantTensor>? Evaluate(Operation op, FoldRequest request, string? notNative)
        {
            var inputs = new DenseElementsAttr?[op.OperandCount];
            try
            {
                for (int i = 0; i < inputs.Length; i++)
                    inputs[i] = request.Optional(i) is { } t ? new DenseElementsAttr(t.Type, t.Bytes, false) : null;
            }
            catch (FoldException e) { Skip(op, e.Message); return null; }
            try
            {
                var dense = _fallback!.Evaluate(op, inputs, _module);
                return dense.Select(d => new ConstantTensor(d.Type, d.IsSplat ? d.ToFullBytes() : d.Data)).ToList();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Skip(op, (notNative is null ? "" : notNative + "; ") + $"ONNX Runtime could not evaluate it: {e.Message}");
                return null;
            }
        }

        /// <summary>Why no constant can stand for the results (a used result that is not a tensor, one over max-size), or null.</summary>
        private string? ResultProblem(Operation op)
        {
            for (int i = 0; i < op.Results.Count; i++)
            {
                var r = op.Results[i];
                if (r.Type is TensorType) continue;
                if (r.Type == ElementType.None && !r.HasUses) continue;
                return $"result #{i} is {r.Type}, not a tensor";
            }
            foreach (var r in op.Results)
                if (r.Type is TensorType { ElementCount: long n } && n > _maxSize)
                    return $"its result has {n} elements, more than max-size={_maxSize}";
            return null;
        }

        /// <summary>Why the evaluated results cannot replace the operation's, or null when they can.</summary>
        private string? Check(Operation op, IReadOnlyList<ConstantTensor> results)
        {
            var tensorResults = op.Results.Where(r => r.Type is TensorType).ToList();
            if (results.Count != tensorResults.Count)
                return $"the evaluator gave {results.Count} results for {tensorResults.Count}";
            for (int i = 0; i < results.Count; i++)
            {
                var got = results[i].Type;
                var declared = (TensorType)tensorResults[i].Type;
                if (got.ElementCount is not long n || results[i].Bytes.Length != got.ByteSize)
                    return $"the evaluator gave {got} with {results[i].Bytes.Length} bytes";
                if (n > _maxSize) return $"its result has {n} elements, more than max-size={_maxSize}";
                bool compatible = got.Element == declared.Element &&
                    (declared.Shape is null || declared.Shape.Count == got.Shape!.Count && declared.Shape.Zip(got.Shape).All(p => p.First < 0 || p.First == p.Second));
                if (!compatible) return $"the computed {got} does not match the declared {declared}";
            }
            return null;
        }

        private void Replace(Operation op, IReadOnlyList<ConstantTensor> results)
        {
            var builder = OpBuilder.Before(op);
            int k = 0;
            foreach (var result in op.Results)
            {
                if (result.Type is not TensorType) continue;
                var value = results[k++];
                if (!result.HasUses) continue;
                var constant = Materialize(builder, value, op.Location, MoResultNames.NameOf(result));
                _dialects.ResultNames?.Transfer(result, (OpResult)constant);
                foreach (var use in result.Uses)
                    if (use.Owner.Name == FuncOp.ReturnOpName && result.Type != constant.Type && use.Owner.Parent?.Parent.Parent is { } func)
                        _functionsToRetype.Add(func);
                result.ReplaceAllUsesWith(constant);
            }
            // The folded op goes, and with it what it alone read (its constants, a Shape it looked through).
            _rewriter.EraseOp(op);
        }

        /// <summary>A new onnx.Constant: a splat when all elements are equal, inline up to 64 bytes, else a new blob.</summary>
        private Value Materialize(OpBuilder builder, ConstantTensor value, Location location, string? tensorName)
        {
            var type = value.Type;
            int size = type.Element.ByteSize;
            var bytes = value.Bytes;
            Attr attr;
            if (type.Element.IsPacked && DenseElementsAttr.Create(type, bytes.ToArray()) is { } packed && (packed.IsSplat || bytes.Length <= Constants.InlineLimit))
                attr = packed;
            else if (!type.Element.IsPacked && bytes.Length > size && AllEqual(bytes.Span, size)) attr = new DenseElementsAttr(type, bytes[..size].ToArray(), true);
            else if (bytes.Length <= Constants.InlineLimit) attr = DenseElementsAttr.Create(type, bytes.ToArray());
            else
            {
                var key = _module.Resources.Add(tensorName ?? location.FirstName ?? "folded", new ResourceBlob((uint)Math.Max(4, size), bytes));
                _createdKeys.Add(key);
                attr = new DenseResourceAttr(type, key);
            }
            var constant = builder.Create(Constants.ConstantOp, [], [type], [new NamedAttr("value", attr)], location);
            _created.Add(constant);
            _changes++;
            return constant.Result;
        }

        private static bool AllEqual(ReadOnlySpan<byte> bytes, int size)
        {
            var first = bytes[..size];
            for (int at = size; at < bytes.Length; at += size)
                if (!bytes.Slice(at, size).SequenceEqual(first)) return false;
            return true;
        }

        // ---- what the rewriter erases: the input's constants are counted, their blobs freed

        public void OperationErased(Operation op)
        {
            _changes++;
            if (!_created.Remove(op) && _dialects.Has(op, OpTraits.ConstantLike)) _removed++;
        }

        public void OperationInserted(Operation op) => _changes++;
        public void OperationModified(Operation op) => _changes++;
        public void OperationReplaced(Operation op, IReadOnlyList<Value> replacement) => _changes++;

        /// <summary>Removes the blobs of erased constants that nothing else points at; counts those the input had.</summary>
        private long RemoveFreedBlobs()
        {
            if (_rewriter.ReleasedBlobKeys.Count == 0) return 0;
            return _module.RemoveUnreferencedBlobs(_rewriter.ReleasedBlobKeys).Count(kv => !_createdKeys.Contains(kv.Key));
        }
    }
}
