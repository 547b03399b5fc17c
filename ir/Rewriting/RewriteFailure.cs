namespace Mopt.Ir;

/// <summary>Why a pattern did not rewrite its root: <paramref name="Target"/> is the operation the reason is about (the root or one it needed).</summary>
public sealed record RewriteFailure(Operation Target, string Reason);
