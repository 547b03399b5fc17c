using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// <c>--tf-obfuscate-names</c>, the Graph Transform Tool's <c>obfuscate_names</c>
/// (tensorflow/tools/graph_transforms/obfuscate_names.cc): every node but the graph's inputs and outputs gets a short
/// name, 0, 1, ..., 9, a, ..., z, A, ..., Z, 10, ... in node order, skipping the names the inputs and outputs keep.
/// <code>
/// Before: "tf.Const"() loc("MobileNet/conv_1/weights") ; "tf.Conv2D"(%x, %0) loc("MobileNet/conv_1/Conv2D") ; ... loc("labels_softmax")
/// After:  "tf.Const"() loc("0") ; "tf.Conv2D"(%x, %0) loc("1") ; ... loc("labels_softmax")
/// </code>
/// The inputs are the arguments (Placeholders or --tf-inputs), the outputs the nodes whose values are returned;
/// <c>^name</c> control inputs follow their node's new name. Resource blob keys keep their old names (they are not
/// written to the GraphDef).
/// </summary>
public sealed class TfObfuscateNames : Pass
{
    private const string Digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    public override string Name => "tf-obfuscate-names";
    public override string Summary => "TensorFlow: rename every node but the inputs and outputs to a short id (GTT obfuscate_names)";

    public override void Run(MirModule module, PassContext context)
    {
        if (!TfGraph.Applies(module, Name)) return;
        var func = module.MainFunction;
        var outputs = TfGraph.OutputNodes(func);
        var required = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < func.Arguments.Count; i++) if (func.ArgName(i) is { } n) required.Add(n);
        foreach (var op in outputs) if (TfGraph.NodeName(op) is { } n) required.Add(n);

        var renames = new Dictionary<string, string>(StringComparer.Ordinal);
        long index = 0;
        foreach (var op in func.Body.Operations)
        {
            if (op.Name == FuncOp.ReturnOpName || outputs.Contains(op)) continue;
            string name;
            do name = Id(index++); while (required.Contains(name));
            if (TfGraph.NodeName(op) is { } old) renames[old] = name;
            op.Location = Location.Named(name);
            context.Count("nodes renamed");
        }
        TfGraph.RenameControlInputs(func, renames);
    }

    private static string Id(long index)
    {
        var name = "";
        do
        {
            name = Digits[(int)(index % Digits.Length)] + name;
            index /= Digits.Length;
        } while (index > 0);
        return name;
    }
}
