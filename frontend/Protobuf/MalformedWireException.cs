namespace Mopt.Protobuf;

/// <summary>Bytes that are not a well-formed protobuf message, met by <see cref="WireReader"/>.</summary>
public sealed class MalformedWireException(string message) : Exception(message);
