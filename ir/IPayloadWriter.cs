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

    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="output"/> as they are: as a payload when the output takes one
    /// of that size, else by its own <see cref="Stream.Write(ReadOnlySpan{byte})"/> (what every writer of raw weights calls).
    /// </summary>
    static void Write(Stream output, ReadOnlyMemory<byte> bytes)
    {
        if (output is IPayloadWriter payloads && bytes.Length >= payloads.PayloadBytes) payloads.WritePayload(bytes);
        else output.Write(bytes.Span);
    }
}
