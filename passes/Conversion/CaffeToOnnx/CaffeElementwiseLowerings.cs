namespace Mopt.Passes.Conversion;

/// <summary>Caffe's activations and element-wise layers: ReLU, PReLU, Sigmoid, TanH, ELU, AbsVal, Power, Exp, Log, Eltwise, Dropout, Softmax, LRN.</summary>
internal static class CaffeElementwiseLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
    }
}
