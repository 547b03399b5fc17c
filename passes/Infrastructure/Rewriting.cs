using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>A local rewrite: match one operation, then rewrite it (as MLIR's RewritePattern).</summary>
public abstract class RewritePattern
{
    /// <summary>What a successful rewrite is counted as in the statistics, e.g. "Identity removed".</summary>
    public abstract string Name { get; }
    /// <summary>The operation name this pattern starts from, or null for any operation.</summary>
    public virtual string? Root => null;

    /// <summary>Rewrites <paramref name="op"/> and returns true, or leaves the IR untouched and returns false.</summary>
    public abstract bool MatchAndRewrite(Operation op, PassContext context);
}

/// <summary>Applies patterns to every operation until none applies (or an iteration limit is reached).</summary>
public static class GreedyRewriteDriver
{
    public static int Apply(MirModule module, IReadOnlyList<RewritePattern> patterns, PassContext context, int maxIterations = 10)
    {
        var byRoot = patterns.ToLookup(p => p.Root ?? "");
        int total = 0;
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            int changed = 0;
            foreach (var op in module.AllOperations().ToList())
            {
                if (op.Parent is null) continue; // erased by an earlier rewrite in this sweep
                foreach (var pattern in byRoot[op.Name].Concat(byRoot[""]))
                {
                    if (!pattern.MatchAndRewrite(op, context)) continue;
                    context.Count(pattern.Name);
                    changed++;
                    break;
                }
            }
            total += changed;
            if (changed == 0) return total;
        }
        context.Log($"stopped after {maxIterations} sweeps with rewrites still applying");
        return total;
    }
}
