namespace Mopt.Tests.Tf;

/// <summary>One output of a net run in OpenCV: the layer's name, the blob's shape as OpenCV gives it, its values.</summary>
public sealed record OpenCvOutput(string Name, int[] Shape, float[] Values);
