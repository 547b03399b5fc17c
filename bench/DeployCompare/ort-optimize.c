/* ort-optimize LEVEL IN OUT [external-data]: ONNX Runtime alone (C API, no other runtime in the process) loads IN with
 * graph optimization LEVEL (disable, basic, extended or all), writes the optimized graph to OUT through the
 * optimized-model file path, then exits: ONNX Runtime's own offline optimizer. At `basic` the output is standard ONNX.
 * With `external-data`, initializers of 1 KiB or more go to OUT.data (ORT's external-data writer: a model over 2 GiB
 * cannot be one protobuf file). Built by bench/DeployCompare and bench/LargeModel against the C API header and
 * libonnxruntime.so of the package the .NET code uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <onnxruntime_c_api.h>

static const OrtApi *api;

static void check(OrtStatus *status, const char *what)
{
    if (status == NULL) return;
    fprintf(stderr, "ort-optimize: %s: %s\n", what, api->GetErrorMessage(status));
    api->ReleaseStatus(status);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "external-data") != 0))
    {
        fprintf(stderr, "usage: ort-optimize disable|basic|extended|all IN.onnx OUT.onnx [external-data]\n");
        return 2;
    }
    GraphOptimizationLevel level;
    if (strcmp(argv[1], "disable") == 0) level = ORT_DISABLE_ALL;
    else if (strcmp(argv[1], "basic") == 0) level = ORT_ENABLE_BASIC;
    else if (strcmp(argv[1], "extended") == 0) level = ORT_ENABLE_EXTENDED;
    else if (strcmp(argv[1], "all") == 0) level = ORT_ENABLE_ALL;
    else { fprintf(stderr, "ort-optimize: unknown level '%s'\n", argv[1]); return 2; }
    api = OrtGetApiBase()->GetApi(ORT_API_VERSION);
    if (api == NULL) { fprintf(stderr, "ort-optimize: libonnxruntime does not offer C API version %d\n", ORT_API_VERSION); return 1; }
    OrtEnv *env;
    OrtSessionOptions *options;
    OrtSession *session;
    check(api->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "ort-optimize", &env), "CreateEnv");
    check(api->CreateSessionOptions(&options), "CreateSessionOptions");
    check(api->SetSessionGraphOptimizationLevel(options, level), "SetSessionGraphOptimizationLevel");
    check(api->SetOptimizedModelFilePath(options, argv[3]), "SetOptimizedModelFilePath");
    if (argc == 5)
    {
        /* the data file's name, relative to OUT's folder */
        const char *slash = strrchr(argv[3], '/');
        char data[4096];
        snprintf(data, sizeof data, "%s.data", slash ? slash + 1 : argv[3]);
        check(api->AddSessionConfigEntry(options, "session.optimized_model_external_initializers_file_name", data), "AddSessionConfigEntry");
        check(api->AddSessionConfigEntry(options, "session.optimized_model_external_initializers_min_size_in_bytes", "1024"), "AddSessionConfigEntry");
    }
    check(api->CreateSession(env, argv[2], options, &session), "CreateSession");
    api->ReleaseSession(session);
    api->ReleaseSessionOptions(options);
    api->ReleaseEnv(env);
    return 0;
}
