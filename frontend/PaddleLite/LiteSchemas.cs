namespace Mopt.Frontend.PaddleLite;

/// <summary>
/// The tables of Paddle-Lite's framework.fbs and param.fbs (frontend/Schemas/PaddleLite/), field by field with their
/// slots, for <see cref="FlatBufferVerifier"/>: what the flatc-generated C++ verifier Paddle-Lite runs on load checks.
/// </summary>
public static class LiteSchemas
{
    private const int Bool = 1, Byte = 1, Int = 4, Float = 4, Long = 8, Double = 8, Enum = 4;

    public static readonly FlatTableSchema Version = new("Version", null, FlatField.Scalar("version", 0, Long));

    public static readonly FlatTableSchema OpVar = new("OpDesc_.Var", 0, FlatField.String("parameter", 0, required: true), FlatField.Strings("arguments", 1));

    public static readonly FlatTableSchema Attr = new("OpDesc_.Attr", 0,
        FlatField.String("name", 0, required: true), FlatField.Scalar("type", 1, Enum), FlatField.Scalar("i", 2, Int),
        FlatField.Scalar("f", 3, Float), FlatField.String("s", 4), FlatField.Scalars("ints", 5, Int), FlatField.Scalars("floats", 6, Float),
        FlatField.Strings("strings", 7), FlatField.Scalar("b", 8, Bool), FlatField.Scalars("bools", 9, Bool),
        FlatField.Scalar("block_idx", 10, Int), FlatField.Scalar("l", 11, Long), FlatField.Scalars("blocks_idx", 12, Int),
        FlatField.Scalars("longs", 13, Long), FlatField.Scalar("float64", 14, Double), FlatField.Scalars("float64s", 15, Double));

    public static readonly FlatTableSchema OpDesc = new("OpDesc", 0,
        FlatField.String("type", 0, required: true), FlatField.Tables("inputs", 1, OpVar), FlatField.Tables("outputs", 2, OpVar),
        FlatField.Tables("attrs", 3, Attr), FlatField.Scalar("is_target", 4, Bool));

    public static readonly FlatTableSchema TensorDesc = new("VarType_.TensorDesc", null, FlatField.Scalar("data_type", 0, Enum), FlatField.Scalars("dims", 1, Long));

    public static readonly FlatTableSchema LoDTensorDesc = new("VarType_.LoDTensorDesc", null,
        FlatField.Child("tensor", 0, TensorDesc, required: true), FlatField.Scalar("lod_level", 1, Int));

    public static readonly FlatTableSchema LoDTensorArrayDesc = new("VarType_.LoDTensorArrayDesc", null,
        FlatField.Child("tensor", 0, TensorDesc, required: true), FlatField.Scalar("lod_level", 1, Int));

    public static readonly FlatTableSchema ReaderDesc = new("VarType_.ReaderDesc", null, FlatField.Tables("lod_tensor", 0, LoDTensorDesc));

    public static readonly FlatTableSchema Tuple = new("VarType_.Tuple", null, FlatField.Scalars("element_type", 0, Enum));

    public static readonly FlatTableSchema VarType = new("VarType", null,
        FlatField.Scalar("type", 0, Enum), FlatField.Child("selected_rows", 1, TensorDesc), FlatField.Child("lod_tensor", 2, LoDTensorDesc),
        FlatField.Child("tensor_array", 3, LoDTensorArrayDesc), FlatField.Child("reader", 4, ReaderDesc), FlatField.Child("tuple", 5, Tuple));

    public static readonly FlatTableSchema VarDesc = new("VarDesc", 0,
        FlatField.String("name", 0, required: true), FlatField.Child("type", 1, VarType, required: true),
        FlatField.Scalar("persistable", 2, Bool), FlatField.Scalar("need_check_feed", 3, Bool));

    public static readonly FlatTableSchema BlockDesc = new("BlockDesc", null,
        FlatField.Scalar("idx", 0, Int), FlatField.Scalar("parent_idx", 1, Int), FlatField.Tables("vars", 2, VarDesc),
        FlatField.Tables("ops", 3, OpDesc), FlatField.Scalar("forward_block_idx", 4, Int));

    public static readonly FlatTableSchema OpVersion = new("OpVersion", null, FlatField.Scalar("version", 0, Int));

    public static readonly FlatTableSchema OpVersionPair = new("OpVersionMap_.OpVersionPair", 0,
        FlatField.String("op_name", 0, required: true), FlatField.Child("op_version", 1, OpVersion, required: true));

    public static readonly FlatTableSchema OpVersionMap = new("OpVersionMap", null, FlatField.Tables("pair", 0, OpVersionPair));

    /// <summary>framework.fbs's root: the program (the topology of a .nb).</summary>
    public static readonly FlatTableSchema ProgramDesc = new("ProgramDesc", null,
        FlatField.Tables("blocks", 0, BlockDesc), FlatField.Child("version", 1, Version), FlatField.Child("op_version_map", 2, OpVersionMap));

    public static readonly FlatTableSchema ParamTensor = new("ParamDesc_.LoDTensorDesc", null,
        FlatField.Scalar("lod_level", 0, Int), FlatField.Scalars("lod", 1, Long), FlatField.Scalars("dim", 2, Long),
        FlatField.Scalar("data_type", 3, Enum), FlatField.Scalars("data", 4, Byte));

    public static readonly FlatTableSchema VersionDesc = new("ParamDesc_.VersionDesc", null, FlatField.Scalar("version", 0, Int), FlatField.Scalar("model_version", 1, Int));

    /// <summary>param.fbs's root: one parameter (meta_version 2 frames one per parameter).</summary>
    public static readonly FlatTableSchema ParamDesc = new("ParamDesc", 1,
        FlatField.Child("version", 0, VersionDesc), FlatField.String("name", 1, required: true), FlatField.Union("variable", 2, ParamTensor));

    /// <summary>All the parameters in one buffer (meta_version 1).</summary>
    public static readonly FlatTableSchema CombinedParamsDesc = new("CombinedParamsDesc", null, FlatField.Tables("params", 0, ParamDesc));
}
