using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// Applies patterns until none applies (MLIR's GreedyPatternRewriteDriver): a worklist seeded with every operation
/// once, in order; an operation the rewriter reports as created or modified, a user of a replaced value and a
/// producer of an erased operation's operands go back on it, so no rewrite needs a whole-module sweep. Each success
/// counts its pattern's name in the pass's statistics. Why a pattern did not apply is reported (as a skip) only for
/// operations still there at the end, with the last reason given. Blobs of the constants the rewrites erased are
/// released at the end ("blobs removed", "blob bytes freed").
/// </summary>
public static class GreedyPatternRewriteDriver
{
    /// <summary>
    /// Rewrites at most this many times per operation the module starts with (and never fewer than 1000 in all): a
    /// set of patterns that keeps undoing each other stops, with a note, instead of looping forever.
    /// </summary>
    public const int RewritesPerOperation = 10;

    /// <summary>
    /// Runs <paramref name="patterns"/> over <paramref name="module"/>; returns the number of rewrites made. None
    /// means the module is as it was (a pattern that changes the IR and reports no rewrite is an error), so the pass
    /// may say it preserved everything (<see cref="PassContext.MarkAllPreserved"/>).
    /// <paramref name="name"/> (the pass) names the note given when <paramref name="maxRewrites"/> is reached.
    /// Run it before the pass itself changes the module: whether any op is a pattern's root is asked of the context's
    /// census, the module as the pass found it (<see cref="PassContext.OpNamesAtStart"/>).
    /// </summary>
    public static long Apply(MirModule module, IReadOnlyList<RewritePattern> patterns, PassContext context, string name = "rewrite",
        long? maxRewrites = null) =>
        NoRootIn(module, patterns, context) ? 0 : new Driver(module, patterns, null, context).Run(name, maxRewrites);

    /// <summary>
    /// Whether every pattern names its root and no operation of the module has one of those names (the context's
    /// census says): then no pattern is ever tried, and the run is known to rewrite nothing without building its
    /// worklist (fuse-pad on a net without Pad, say: a deploy runs several such passes).
    /// </summary>
    private static bool NoRootIn(MirModule module, IReadOnlyList<RewritePattern> patterns, PassContext context)
    {
        for (int i = 0; i < patterns.Count; i++)
            if (patterns[i].Root is null) return false;
        var census = context.OpNamesAtStart(module);
        for (int i = 0; i < patterns.Count; i++)
            if (census.Contains(patterns[i].Root!)) return false;
        return true;
    }

    /// <summary>
    /// Runs the patterns <paramref name="patternsFor"/> gives for each operation name (asked once per name the run
    /// meets: canonicalize asks each op's definition only for the ops the module has).
    /// </summary>
    public static long Apply(MirModule module, Func<string, IReadOnlyList<RewritePattern>> patternsFor, PassContext context, string name = "rewrite",
        long? maxRewrites = null) =>
        new Driver(module, [], patternsFor, context).Run(name, maxRewrites);

    private sealed class Driver : IRewriteListener
    {
        private readonly MirModule _module;
        private readonly OlderForms _olderForms;
        private readonly PassContext _context;
        private readonly Dictionary<string, IReadOnlyList<RewritePattern>> _byRoot = new(StringComparer.Ordinal);
        private readonly List<RewritePattern> _anyRoot = new();
        private readonly Func<string, IReadOnlyList<RewritePattern>>? _patternsFor;
        private readonly PatternRewriter _rewriter;
        // A stack, as MLIR's: seeded in reverse so the first operation comes off first; what a rewrite touches is tried next.
        private readonly List<Operation> _worklist = new();
        private readonly HashSet<Operation> _queued = new();
        private readonly Dictionary<Operation, RewriteFailure> _failures = new();
        // Changes the listener heard of: a pattern that reports no rewrite must have made none (so that a run with no
        // rewrite left the module as it was, and its pass may say so). An op a pattern made and erased again in the same
        // attempt (a lowering that gave up and took back what it had emitted) is no change.
        private long _changes;
        private readonly HashSet<Operation> _insertedThisAttempt = new();

        public Driver(MirModule module, IReadOnlyList<RewritePattern> patterns, Func<string, IReadOnlyList<RewritePattern>>? patternsFor,
            PassContext context)
        {
            _module = module;
            _context = context;
            _olderForms = new OlderForms(module, context.Dialects);
            _patternsFor = patternsFor;
            var byRoot = new Dictionary<string, List<RewritePattern>>(StringComparer.Ordinal);
            foreach (var pattern in patterns)
            {
                if (pattern.Root is not { } root) _anyRoot.Add(pattern);
                else if (byRoot.TryGetValue(root, out var list)) list.Add(pattern);
                else byRoot[root] = [pattern];
            }
            foreach (var (root, list) in byRoot) _byRoot[root] = list;
            _rewriter = new PatternRewriter(module, context.Dialects, this)
            {
                // Under a pass manager its sweep removes what the rewrites left unreferenced (DeadWeights.RemoveReleased).
                NotesReleasedBlobs = !context.SweepFollows,
                // No sink without --debug: patterns then skip building their lines.
                LogSink = context.Debug is null ? null : context.Log,
                StatisticSink = (what, by) => context.Count(what, by),
            };
        }

        public long Run(string name, long? maxRewrites)
        {
            var seed = new List<Operation>();
            _module.Op.AddNested(seed, op => op.Name != FuncOp.OpName && HasPatterns(op));
            long limit = maxRewrites ?? Math.Max(1000, (long)seed.Count * RewritesPerOperation);
            _queued.EnsureCapacity(seed.Count);
            // Each has patterns (the walk asked) and is there once: queued without asking again.
            for (int i = seed.Count - 1; i >= 0; i--)
            {
                _queued.Add(seed[i]);
                _worklist.Add(seed[i]);
            }

            long rewrites = 0;
            while (_worklist.Count > 0)
            {
                var op = _worklist[^1];
                _worklist.RemoveAt(_worklist.Count - 1);
                _queued.Remove(op);
                if (op.Parent is null) continue; // erased by an earlier rewrite
                if (rewrites >= limit)
                {
                    _context.Note($"{name}: stopped after {limit} rewrites with patterns still applying; the result is correct but may not be fully simplified");
                    break;
                }
                if (TryPatterns(op)) rewrites++;
            }

            // A reason is reported only for an operation still there: one rewritten some other way was not skipped.
            if (_failures.Count > 0)
            {
                var remaining = new List<Operation>();
                _module.Op.AddNested(remaining, op => op.Name != FuncOp.OpName);
                foreach (var op in remaining)
                    if (_failures.TryGetValue(op, out var failure)) _context.Skip(failure.Target, failure.Reason);
            }

            DeadWeights.RemoveReleased(_rewriter, _context);
            return rewrites;
        }

        private bool TryPatterns(Operation op)
        {
            if (_olderForms.Of(op) is { } legacy)
            {
                _failures[op] = legacy;
                return false;
            }
            RewriteFailure? last = null;
            var rooted = RootedAt(op.Name);
            for (int i = 0; i < rooted.Count + _anyRoot.Count; i++)
            {
                var pattern = i < rooted.Count ? rooted[i] : _anyRoot[i - rooted.Count];
                _rewriter.BeginRewrite();
                _rewriter.SetInsertionPointBefore(op);
                _rewriter.TakeMatchFailure();
                long changesBefore = _changes;
                _insertedThisAttempt.Clear();
                if (pattern.MatchAndRewrite(op, _rewriter))
                {
                    _context.Count(pattern.Name);
                    _failures.Remove(op);
                    // Whatever it changed is queued; the root itself too when it stays, since another pattern may now apply.
                    if (op.Parent is not null) Push(op);
                    return true;
                }
                if (op.Parent is null) throw new InvalidOperationException($"pattern '{pattern.Name}' erased {op.Name} but reported no rewrite");
                if (_changes != changesBefore) throw new InvalidOperationException($"pattern '{pattern.Name}' changed the IR at {op.Name} but reported no rewrite");
                last = _rewriter.TakeMatchFailure() ?? last;
            }
            if (last is not null) _failures[op] = last;
            else _failures.Remove(op);
            return false;
        }

        // The last name asked and its patterns: ops of one name come in runs (a net's weights, first), and comparing with
        // the name before costs less than hashing it (often the very same string).
        private string? _lastName;
        private IReadOnlyList<RewritePattern> _lastRooted = [];

        /// <summary>The patterns rooted at operations named <paramref name="opName"/> (asked of the provider once).</summary>
        private IReadOnlyList<RewritePattern> RootedAt(string opName)
        {
            if (opName == _lastName) return _lastRooted;
            if (!_byRoot.TryGetValue(opName, out var list))
            {
                list = _patternsFor?.Invoke(opName) ?? [];
                _byRoot[opName] = list;
            }
            _lastName = opName;
            return _lastRooted = list;
        }

        private bool HasPatterns(Operation op) => _anyRoot.Count > 0 || RootedAt(op.Name).Count > 0;

        private void Push(Operation op)
        {
            if (op.Parent is null || !HasPatterns(op) || !_queued.Add(op)) return;
            _worklist.Add(op);
        }

        // ------------------------------------------------------------------ IRewriteListener

        public void OperationInserted(Operation op)
        {
            _changes++;
            _insertedThisAttempt.Add(op);
            if (op.RegionCount == 0) Push(op);
            else
                foreach (var inner in op.Walk()) Push(inner);
        }

        public void OperationErased(Operation op)
        {
            _changes += _insertedThisAttempt.Remove(op) ? -1 : 1;
            _failures.Remove(op);
            // A producer that lost a reader may now match (a value read once), or be dead: try it again.
            for (int i = 0; i < op.OperandCount; i++)
                if (op.GetOperand(i) is OpResult r) Push(r.Owner);
        }

        public void OperationModified(Operation op)
        {
            _changes++;
            Push(op);
        }

        public void OperationReplaced(Operation op, IReadOnlyList<Value> replacement)
        {
            _changes++;
            var results = op.Results;
            for (int r = 0; r < results.Count; r++)
            {
                var uses = results[r].Uses;
                for (int i = 0; i < uses.Count; i++) Push(uses[i].Owner);
            }
        }
    }
}
