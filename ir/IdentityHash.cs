namespace Mopt.Ir;

/// <summary>
/// Hash codes for objects compared by identity (operations, values), handed out in order. Every pass keeps them in
/// worklists and scope sets; the runtime's identity hash takes a slow path the first time each object is hashed (it
/// stores the hash in the object's header), which showed as 1-1.3% of a Caffe deploy. Sets and dictionaries enumerate
/// in insertion order whatever the hash, so no output depends on these numbers.
/// </summary>
internal static class IdentityHash
{
    private static int s_last;

    public static int Next() => Interlocked.Increment(ref s_last);
}
