using Mopt.Dialects.Caffe;
using Mopt.Dialects.Func;
using Mopt.Dialects.Mo;
using Mopt.Dialects.Onnx;
using Mopt.Dialects.Paddle;
using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Dialects;

/// <summary>
/// The dialects mopt ships, registered together (MLIR's registerAllDialects). Immutable data: tools and passes are
/// given it (or another registry) explicitly; it is the default when they are not.
/// </summary>
public static class StandardDialects
{
    public static DialectRegistry Registry { get; } =
        new([FuncDialect.Builtin, FuncDialect.Func, MoDialect.Dialect, OnnxDialect.Dialect, TfDialect.Dialect, CaffeDialect.Dialect, PaddleDialect.Dialect], MoResultNames.Instance);
}
