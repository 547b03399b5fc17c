namespace Mopt.Ir;

/// <summary>The resource blobs removed because the constants pointing at them were erased: how many, and their bytes.</summary>
public readonly record struct ReleasedBlobs(int Count, long Bytes);
