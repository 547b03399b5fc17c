using Mopt.Caffe.Proto.Weights;

namespace Mopt.Backend.Caffe;

/// <summary>
/// One layer of a <see cref="CaffeNet"/>: its LayerParameter's fields without blobs, as the bytes protobuf's generated code
/// would write (<see cref="Mopt.Protobuf.CanonicalWire"/>), and its blobs as the IR's bytes.
/// </summary>
public sealed record CaffeNetLayer(ReadOnlyMemory<byte> Fields, IReadOnlyList<WeightsBlob> Blobs);
