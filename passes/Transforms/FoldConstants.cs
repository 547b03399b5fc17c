using Mopt.Ir;
using Mopt.Passes.ConstantFolding;

namespace Mopt.Passes;

/// <summary>
/// <c>--fold-constants</c>: evaluates every operation whose inputs are all constants and replaces it by a constant.
/// <code>
/// Before: %s = "onnx.Shape"(%x : tensor&lt;?x3x4xf32&gt;) {start = 1}      ; [3, 4]: the dims it returns are static
///         %c = "onnx.Constant"() {value = dense&lt;[1]&gt; : tensor&lt;1xi64&gt;}
///         %g = "onnx.Gather"(%s, %c) {axis = 0} loc("Gather_3")
/// After:  %g = "onnx.Constant"() {value = dense&lt;4&gt; : tensor&lt;1xi64&gt;} loc("Gather_3")
/// </code>
/// Exact conditions:
/// <list type="bullet">
/// <item>An <c>onnx.*</c> operation of the default ONNX domain, with at least one used result, no regions, and
///   every result a tensor (or <c>none</c>, an absent optional output nobody reads).</item>
/// <item>Every operand is an <c>onnx.Constant</c> holding a dense or dense_resource tensor whose bytes are there
///   (not elided, at most 2 GiB), or an absent optional input (<c>onnx.NoValue</c>). Shape and Size need only their
///   input's type: they fold when every dimension they return is static, whatever the input is; a Gather or Slice of
///   a Shape folds when every dimension it picks is static (dynamic dimensions stay dynamic).</item>
/// <item>Not random (RandomNormal, RandomUniform, *Like, Multinomial, Bernoulli, Dropout).</item>
/// <item>Evaluated natively (<see cref="NativeEvaluators"/>: shape, indexing, arithmetic, comparison, Cast, Range,
///   ConstantOfShape) or, for anything else, by the fallback evaluator (<see cref="PassServices.FallbackEvaluator"/>: ONNX
///   Runtime), unless <c>fallback=false</c>. An op with attributes mopt keeps only as bytes (<c>onnx.raw_attributes</c>)
///   always goes to the fallback, which sees them.</item>
/// <item>Each result has the element type the operation declares and agrees with its declared shape (a declared
///   dynamic or unranked result becomes the static type computed), and at most <c>max-size</c> elements.</item>
/// </list>
/// A folded result keeps the operation's location and its ONNX tensor name (<c>mo.outputs</c>); all-equal results
/// are splats, other results of up to 64 bytes are inline and larger ones new resource blobs. The constants that fed
/// only folded operations are erased (with their blobs). <c>onnx.Constant</c>s written with <c>value_float(s)</c> /
/// <c>value_int(s)</c> get the equivalent <c>value</c>, so what reads them folds too.
/// </summary>
public sealed class FoldConstants : Pass
{
    /// <summary>1 Mi elements (4 MiB of f32): shape computations and small tables fold, big masks and broadcasts do not.</summary>
    public const long DefaultMaxSize = 1L << 20;

    private static readonly HashSet<string> Nondeterministic = new(StringComparer.Ordinal)
    {
        "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli", "Dropout",
    };

    private readonly OpEvaluator? _fallback;
    private readonly bool _fallbackGiven;

    /// <summary>A pass that falls back to the evaluator its context gives (<see cref="PassServices.FallbackEvaluator"/>).</summary>
    public FoldConstants() { }

    /// <summary>A pass with its own fallback evaluator (null: none).</summary>
    public FoldConstants(OpEvaluator? fallback) { _fallback = fallback; _fallbackGiven = true; }

    public PassOption<long> MaxSize { get; } = new("max-size",
        "largest folded result, in elements, that is materialized as a constant", DefaultMaxSize, valid: v => v >= 0);
    public PassOption<bool> Fallback { get; } = new("fallback",
        "evaluate operations without a native evaluator with ONNX Runtime", true);

    public override string Name => "fold-constants";
    public override string Summary => "Evaluate operations whose inputs are all constants and replace them by constants";
    public override IReadOnlyList<PassOption> Options => [MaxSize, Fallback];

    public override void Run(MirModule module, PassContext context)
    {
        var run = new FoldRun(this, module, context, Fallback.Value ? (_fallbackGiven ? _fallback : context.Services.FallbackEvaluator) : null);
        run.Fold();
    }

    private sealed class FoldRun(FoldConstants pass, MirModule module, PassContext context, OpEvaluator? fallback)
    {
        private readonly long _maxSize = pass.MaxSize.Value;
        private readonly List<(Operation Op, string Reason)> _skips = new();
        private readonly HashSet<Operation> _functionsToRetype = new();
        private readonly HashSet<string> _freedKeys = new(StringComparer.Ordinal);
        private readonly HashSet<Operation> _created = new();
        private readonly HashSet<string> _createdKeys = new(StringComparer.Ordinal);
        private long _folded, _byFallback, _normalized, _removed;

        public void Fold()
        {
            foreach (var func in module.Op.Walk().Where(o => o.Name == FuncOp.OpName).ToList())
                foreach (var block in func.Regions.SelectMany(r => r.Blocks))
                    FoldBlock(block);

            foreach (var f in _functionsToRetype) new FuncOp(f).UpdateType();
            long blobs = RemoveFreedBlobs();

            if (_folded > 0) context.Count("folded", _folded);
            if (_byFallback > 0) context.Count("by ONNX Runtime", _byFallback);
            if (_normalized > 0) context.Count("constants normalized", _normalized);
            if (_removed > 0) context.Count("constants removed", _removed);
            if (blobs > 0) context.Count("blobs removed", blobs);
            foreach (var (op, reason) in _skips) context.Skip(op, reason);
        }

        private void FoldBlock(Block block)
        {
            // Producers come before their users: one forward sweep folds whole chains.
            foreach (var op in block.Operations.ToList())
            {
                if (op.Parent != block) continue; // erased as an input of an operation folded before
                foreach (var inner in op.Regions.SelectMany(r => r.Blocks)) FoldBlock(inner);
                if (op.Dialect != "onnx" || op.Name == "onnx.NoValue") continue;
                if (op.Name == Constants.ConstantOp) { Normalize(op); continue; }
                if (op.IsUnused) continue;
                TryFold(op);
            }
        }

        private void Skip(Operation op, string reason)
        {
            _skips.Add((op, reason));
            context.Log($"not folded: {op.Name} {op.Location.FirstName ?? ""}: {reason}");
        }

        private void TryFold(Operation op)
        {
            var opType = op.OpType;
            var inputs = new ConstantTensor?[op.OperandCount];
            bool typeOnly = opType is "Shape" or "Size";
            bool ofShape = false;
            for (int i = 0; i < op.OperandCount; i++)
            {
                var v = op.GetOperand(i);
                if (IsAbsent(v) || typeOnly) continue;
                if (Constants.DefiningConstant(v) is { } constant)
                {
                    var attrType = constant.GetAttr("value") switch { DenseElementsAttr d => d.Type, DenseResourceAttr d => d.Type, _ => null };
                    if (attrType?.ByteSize is not long bytes || bytes > Array.MaxLength)
                    {
                        Skip(op, $"input #{i} ({attrType?.Text}) is too large to read");
                        return;
                    }
                    inputs[i] = Constants.TryGet(v, module);
                    if (inputs[i] is null)
                    {
                        Skip(op, $"the bytes of input #{i} are not available (elided or missing blob)");
                        return;
                    }
                    continue;
                }
                if (i == 0 && opType is "Gather" or "Slice" && v is OpResult { Owner.Name: "onnx.Shape" }) { ofShape = true; continue; }
                return; // not constant: nothing to fold
            }

            if (typeOnly)
            {
                var type = op.OperandCount > 0 ? op.GetOperand(0).Type as TensorType : null;
                bool known = opType == "Size" ? type is { HasStaticShape: true } : ShapeOps.ShapeDimsOrDynamic(op) is { } dims && dims.All(d => d >= 0);
                if (!known) { context.Log($"kept {op.Name} {op.Location.FirstName ?? ""}: its input's shape is not static"); return; }
            }

            if (op.Regions.Count > 0) { Skip(op, "it has subgraphs"); return; }
            if (Nondeterministic.Contains(opType)) { Skip(op, $"{opType} is random"); return; }
            if (opType.Contains('.')) { Skip(op, "it is not in the default ONNX domain"); return; }
            for (int i = 0; i < op.Results.Count; i++)
            {
                var r = op.Results[i];
                if (r.Type is TensorType) continue;
                if (r.Type == ElementType.None && !r.HasUses) continue;
                Skip(op, $"result #{i} is {r.Type}, not a tensor");
                return;
            }
            foreach (var r in op.Results)
                if (r.Type is TensorType { ElementCount: long n } && n > _maxSize)
                {
                    Skip(op, $"its result has {n} elements, more than max-size={_maxSize}");
                    return;
                }

            var request = new FoldRequest(op, inputs, module, _maxSize);
            IReadOnlyList<ConstantTensor>? results = null;
            string? nativeReason = null;
            bool byFallback = false;
            if (ofShape)
            {
                if (FoldOfShape(request) is not { } picked) return;
                results = [picked];
            }
            else if (NativeEvaluators.Covers(opType) && op.GetAttr("onnx.raw_attributes") is null)
            {
                try { results = [NativeEvaluators.Evaluate(opType, request)]; }
                catch (FoldException e) when (e.TryFallback) { nativeReason = e.Message; }
                catch (FoldException e) { Skip(op, e.Message); return; }
                catch (OverflowException) { Skip(op, "a size or index overflows"); return; }
            }
            if (results is null)
            {
                if (fallback is null)
                {
                    Skip(op, (nativeReason ?? $"no native evaluator for {opType}") + ", and the ONNX Runtime fallback is off");
                    return;
                }
                try
                {
                    var dense = fallback(op, inputs.Select(t => t is null ? null : new DenseElementsAttr(t.Type, t.Bytes, false)).ToList(), module);
                    results = dense.Select(d => new ConstantTensor(d.Type, d.IsSplat ? d.ToFullBytes() : d.Data)).ToList();
                    byFallback = true;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Skip(op, $"ONNX Runtime could not evaluate it: {e.Message}");
                    return;
                }
            }

            if (Check(op, results) is { } problem) { Skip(op, problem); return; }
            Replace(op, results);
            _folded++;
            if (byFallback) _byFallback++;
        }

        /// <summary>Gather or Slice of a Shape: folds when every dimension it picks is static.</summary>
        private ConstantTensor? FoldOfShape(FoldRequest request)
        {
            var op = request.Op;
            var shapeOp = ((OpResult)op.GetOperand(0)).Owner;
            if (ShapeOps.ShapeDimsOrDynamic(shapeOp) is not { } dims) return null;
            // Evaluate the op on the positions 0..n-1, then look up the dimension at each picked position.
            var positions = ShapeOps.Int64Vector(Enumerable.Range(0, dims.Length).Select(i => (long)i).ToArray());
            var inputs = Enumerable.Range(0, op.OperandCount).Select(i => i == 0 ? positions : request.Optional(i)).ToList();
            ConstantTensor picked;
            try { picked = NativeEvaluators.Evaluate(op.OpType, new FoldRequest(op, inputs, module, _maxSize)); }
            catch (FoldException e) { Skip(op, e.Message); return null; }
            var values = picked.ToInt64s().Select(p => dims[p]).ToArray();
            if (values.Any(d => d < 0))
            {
                context.Log($"kept {op.Name} {op.Location.FirstName ?? ""}: it picks a dynamic dimension");
                return null;
            }
            var bytes = new byte[values.Length * 8];
            for (int i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 8), values[i]);
            return new ConstantTensor(picked.Type, bytes);
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
            var names = op.GetAttr("mo.outputs") as ArrayAttr;
            int k = 0;
            foreach (var result in op.Results)
            {
                if (result.Type is not TensorType) continue;
                var value = results[k++];
                if (!result.HasUses) continue;
                var name = names is not null && result.Index < names.Elements.Count && names.Elements[result.Index] is StringAttr { Value.Length: > 0 } s ? s.Value : null;
                var constant = Materialize(builder, value, op.Location, name);
                foreach (var use in result.Uses)
                    if (use.Owner.Name == FuncOp.ReturnOpName && result.Type != constant.Type && use.Owner.Parent?.Parent.Parent is { } func)
                        _functionsToRetype.Add(func);
                result.ReplaceAllUsesWith(constant);
            }
            var producers = op.Operands.OfType<OpResult>().Select(r => r.Owner).Distinct().ToList();
            op.Erase();
            foreach (var p in producers)
            {
                if (!p.IsUnused || p.Parent is null || p.Name is not (Constants.ConstantOp or "onnx.Shape")) continue;
                if (p.Name == Constants.ConstantOp)
                {
                    if (!_created.Remove(p)) _removed++; // a constant of the input, not one this pass made
                    if (p.GetAttr("value") is DenseResourceAttr res) _freedKeys.Add(res.Key);
                }
                p.Erase();
            }
        }

        /// <summary>A new onnx.Constant: a splat when all elements are equal, inline up to 64 bytes, else a new blob.</summary>
        private Value Materialize(OpBuilder builder, ConstantTensor value, Location location, string? tensorName)
        {
            var type = value.Type;
            int size = type.Element.ByteSize;
            var bytes = value.Bytes;
            Attr attr;
            if (bytes.Length > size && AllEqual(bytes.Span, size)) attr = new DenseElementsAttr(type, bytes[..size].ToArray(), true);
            else if (bytes.Length <= Constants.InlineLimit) attr = DenseElementsAttr.Create(type, bytes.ToArray());
            else
            {
                var key = module.Resources.Add(tensorName ?? location.FirstName ?? "folded", new ResourceBlob((uint)Math.Max(4, size), bytes));
                _createdKeys.Add(key);
                attr = new DenseResourceAttr(type, key);
            }
            var attrs = new List<NamedAttr> { new("value", attr) };
            if (tensorName is not null) attrs.Add(new NamedAttr("mo.outputs", ArrayAttr.OfStrings([tensorName])));
            var constant = builder.Create(Constants.ConstantOp, [], [type], attrs, location);
            _created.Add(constant);
            return constant.Result;
        }

        private static bool AllEqual(ReadOnlySpan<byte> bytes, int size)
        {
            var first = bytes[..size];
            for (int at = size; at < bytes.Length; at += size)
                if (!bytes.Slice(at, size).SequenceEqual(first)) return false;
            return true;
        }

        /// <summary>value_float / value_floats / value_int / value_ints → the equivalent dense <c>value</c>.</summary>
        private void Normalize(Operation op)
        {
            if (op.GetAttr("value") is not null) return;
            ConstantTensor? t = null;
            string? from = null;
            foreach (var name in new[] { "value_float", "value_floats", "value_int", "value_ints" })
            {
                if (op.GetAttr(name) is not { } a) continue;
                from = name;
                t = (name, a) switch
                {
                    ("value_float", FloatAttr f) => Floats([f.Value], []),
                    ("value_floats", ArrayAttr arr) when arr.Elements.All(e => e is FloatAttr) =>
                        Floats(arr.Elements.Select(e => ((FloatAttr)e).Value).ToArray(), [arr.Elements.Count]),
                    ("value_floats", DenseArrayAttr { Type.IsFloat: true } d) => Floats(d.Floats.ToArray(), [d.Count]),
                    ("value_int", IntegerAttr i) => new ConstantTensor(new TensorType(ElementType.I64, []), BitConverter.GetBytes(i.Value)),
                    ("value_ints", ArrayAttr arr) when arr.Elements.All(e => e is IntegerAttr) =>
                        ShapeOps.Int64Vector(arr.Elements.Select(e => ((IntegerAttr)e).Value).ToArray()),
                    ("value_ints", DenseArrayAttr { Type.IsFloat: false } d) => ShapeOps.Int64Vector(d.Ints.ToArray()),
                    _ => null,
                };
                break;
            }
            if (t is null || from is null || op.Results.Count != 1) return;
            if (op.Result.Type is TensorType declared && declared != t.Type && !(declared.Element == t.Type.Element && declared.Shape is null))
            {
                Skip(op, $"its {from} makes {t.Type}, not the declared {declared}");
                return;
            }
            op.RemoveAttr(from);
            op.SetAttr("value", DenseElementsAttr.Create(t.Type, t.Bytes.ToArray()));
            if (op.Result.Type != t.Type)
            {
                foreach (var use in op.Result.Uses)
                    if (use.Owner.Name == FuncOp.ReturnOpName && use.Owner.Parent?.Parent.Parent is { } func) _functionsToRetype.Add(func);
                op.Result.Type = t.Type;
            }
            _normalized++;

            static ConstantTensor Floats(double[] values, long[] shape)
            {
                var bytes = new byte[values.Length * 4];
                for (int i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), (float)values[i]);
                return new ConstantTensor(new TensorType(ElementType.F32, shape), bytes);
            }
        }

        private static bool IsAbsent(Value v) => v.Type == ElementType.None || v is OpResult { Owner.Name: "onnx.NoValue" };

        /// <summary>Removes the blobs of erased constants that nothing else points at; counts those the input had.</summary>
        private long RemoveFreedBlobs()
        {
            if (_freedKeys.Count == 0) return 0;
            return module.RemoveUnreferencedBlobs(_freedKeys).Count(kv => !_createdKeys.Contains(kv.Key));
        }
    }
}
