using Mopt.Dialects;
using Mopt.Dialects.Func;
using Mopt.Dialects.Mo;
using Mopt.Dialects.Onnx.Folding;
using Mopt.Dialects.Onnx.ShapeInference;
using Mopt.Ir;
using Mopt.Passes;
using Mopt.Tests.Numeric;

namespace Mopt.Tests.Passes;

/// <summary>
/// Folders and shape rules are part of the op definitions: every one the onnx dialect declares sits on an op it
/// defines, and --fold-constants and --infer-shapes ask the registry they are given, never an op's name (a definition
/// without the folder is not folded; an op of another name with the folder is).
/// </summary>
public sealed class DefinitionsDriveFoldingTests
{
    private static readonly DialectRegistry Standard = StandardDialects.Registry;

    /// <summary>The standard dialects, with onnx.Add's definition stripped of its interfaces and a test dialect <c>t</c>.</summary>
    private static DialectRegistry Registry(params OpDefinition[] testOps)
    {
        var onnx = new Dialect(OnnxDialect.Name, "onnx, onnx.Add without its folder",
            OnnxDialect.Dialect.Ops.Select(d => d.Name == "onnx.Add" ? new OpDefinition(d.Name) { Traits = d.Traits } : d));
        return new DialectRegistry([FuncDialect.Builtin, FuncDialect.Func, MoDialect.Dialect, onnx, new Dialect("t", "test ops", testOps)],
            MoResultNames.Instance);
    }

    private static OpDefinition Borrowing<T>(string name, OpTraits traits, string from) where T : class =>
        new OpDefinition(name) { Traits = traits }.Implement(Standard.Find(from)!.Interface<T>()!);

    private static MirModule Module(string body, string results) => Mir.Parse($$"""
        module attributes {onnx.opset = 17 : i64} {
          func.func @main(%x: tensor<1x3x8x8xf32>) -> ({{results}}) {
        {{body}}
          }
        }
        """);

    [Fact]
    public void EveryDeclaredFolderAndShapeRuleIsOnADefinedOp()
    {
        Assert.NotEmpty(OnnxFolders.DeclaredOps);
        Assert.NotEmpty(OnnxShapeRules.DeclaredOps);
        var declaredFolders = OnnxFolders.DeclaredOps.Concat(Mopt.Dialects.Tf.Folding.TfFolders.DeclaredOps).Order(StringComparer.Ordinal).ToList();
        foreach (var name in declaredFolders)
            Assert.True(Standard.Find(name)?.Interface<IFolder>() is not null, $"{name}: declared a folder, but no definition has it");
        foreach (var name in OnnxShapeRules.DeclaredOps)
            Assert.True(Standard.Find(name)?.Interface<IInferTypes>() is not null, $"{name}: declared a shape rule, but no definition has it");

        // And no definition has one that was not declared.
        var ops = Standard.Dialects.SelectMany(d => d.Ops).ToList();
        Assert.Equal(declaredFolders, ops.Where(o => o.Interface<IFolder>() is not null).Select(o => o.Name).Order(StringComparer.Ordinal));
        Assert.Equal(OnnxShapeRules.DeclaredOps, ops.Where(o => o.Interface<IInferTypes>() is not null).Select(o => o.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void FoldConstantsFoldsWhatTheDefinitionGivesAFolderWhateverItsName()
    {
        const string body = """
                %a = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
                %add = "onnx.Add"(%a, %a) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc("add")
                %plus = "t.plus"(%a, %a) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc("plus")
                %noisy = "t.noisy"(%a, %a) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc("noisy")
                return %add, %plus, %noisy : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
            """;
        const string results = "tensor<2xf32>, tensor<2xf32>, tensor<2xf32>";

        // The standard registry: onnx.Add folds; the t ops have no definition, so they are not known to be pure.
        var standard = Module(body, results);
        var context = new PassContext();
        new FoldConstants(fallback: null).Run(standard, context);
        Assert.Equal(0, Numerics.Count(standard, "onnx.Add"));
        Assert.Equal(["plus: t.plus has no definition, so it is not known to be pure",
                      "noisy: t.noisy has no definition, so it is not known to be pure"], context.Skips);

        // A registry where onnx.Add's definition has no folder, t.plus has Add's and t.noisy has it but is random.
        var registry = Registry(Borrowing<IFolder>("t.plus", OpTraits.Pure, "onnx.Add"),
                                Borrowing<IFolder>("t.noisy", OpTraits.NonDeterministic, "onnx.Add"));
        var module = Module(body, results);
        context = new PassContext(dialects: registry);
        new FoldConstants(fallback: null).Run(module, context);
        Assert.Equal(1, Numerics.Count(module, "onnx.Add"));
        Assert.Equal(0, Numerics.Count(module, "t.plus"));
        Assert.Equal(1, Numerics.Count(module, "t.noisy"));
        Assert.Equal(["add: no native evaluator for Add, and the ONNX Runtime fallback is off", "noisy: noisy is random"], context.Skips);
        var ret = module.MainFunction.Return!;
        Assert.Equal([2f, 4f], Constants.TryGet(ret.GetOperand(1), module)!.ToFloats());
        Assert.Equal(Location.Named("plus"), ((OpResult)ret.GetOperand(1)).Owner.Location);
    }

    [Fact]
    public void TheFallbackRunsOnlyWhatItSaysItCanEvaluate()
    {
        // t.plus is pure with no folder: the fallback is asked whether it runs it before it is handed it.
        var registry = Registry(new OpDefinition("t.plus") { Traits = OpTraits.Pure });
        var module = Module("""
                %a = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
                %plus = "t.plus"(%a, %a) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc("plus")
                return %plus : tensor<2xf32>
            """, "tensor<2xf32>");
        var handed = new List<string>();
        IReadOnlyList<DenseElementsAttr> Evaluate(Operation op, IReadOnlyList<DenseElementsAttr?> inputs, MirModule m)
        {
            handed.Add(op.Name);
            return [DenseElementsAttr.FromFloats(new TensorType(ElementType.F32, [2]), [5f, 6f])];
        }

        var context = new PassContext(dialects: registry);
        new FoldConstants(Evaluate).Run(module, context);
        Assert.Empty(handed);
        Assert.Equal(["plus: no native evaluator for plus, and the fallback evaluator does not run it"], context.Skips);

        new FoldConstants(Evaluate, canEvaluate: op => op.Name == "t.plus").Run(module, new PassContext(dialects: registry));
        Assert.Equal(["t.plus"], handed);
        Assert.Equal([5f, 6f], Constants.TryGet(module.MainFunction.Return!.GetOperand(0), module)!.ToFloats());
    }

    [Fact]
    public void InferShapesUsesTheRuleTheDefinitionGivesWhateverItsName()
    {
        const string body = """
                %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x3x3xf32>} : () -> tensor<4x3x3x3xf32>
                %c = "t.conv"(%x, %w) {pads = [1, 1, 1, 1]} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32> loc("conv")
                return %c : tensor<*xf32>
            """;
        var standard = Module(body, "tensor<*xf32>");
        var context = new PassContext();
        new InferShapes().Run(standard, context);
        Assert.Equal("tensor<*xf32>", standard.MainFunction.Return!.GetOperand(0).Type.Text);
        Assert.Equal(["conv: no shape rule for t.conv"], context.Skips);

        var module = Module(body, "tensor<*xf32>");
        new InferShapes().Run(module, new PassContext(dialects: Registry(Borrowing<IInferTypes>("t.conv", OpTraits.Pure, "onnx.Conv"))));
        Assert.Equal("tensor<1x4x8x8xf32>", module.MainFunction.Return!.GetOperand(0).Type.Text);
        Assert.Equal("(tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32>", module.MainFunction.Type.Text);
    }
}
