namespace Mopt.Ir;

/// <summary>
/// A buffered output that takes a large payload (a tensor's raw bytes) as it is: written after what it has buffered in
/// the same system call (pwritev), instead of copied into its buffer first.
/// </summary>
public interface IPayloadWriter
{
    /// <summary>The size from which a payload is worth handing over this way rather than writing it through the buffer.</summary>
    int PayloadBytes { get; }

    /// <summary>Writes what is buffered, then <paramref name="payload"/>; the payload's memory is not kept.</summary>
    void WritePayload(ReadOnlyMemory<byte> payload);
}
