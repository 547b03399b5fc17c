using Google.Protobuf;

namespace Mopt.Frontend;

/// <summary>What a reader says when Google.Protobuf cannot parse a binary model file.</summary>
public static class ProtobufErrors
{
    /// <summary>"the file is truncated" or "the file is not a protobuf <paramref name="message"/>".</summary>
    public static string Why(InvalidProtocolBufferException e, string message) =>
        e.Message.Contains("ended unexpectedly", StringComparison.Ordinal) || e.Message.Contains("truncated", StringComparison.Ordinal)
            ? "the file is truncated" : $"the file is not a protobuf {message}";
}
