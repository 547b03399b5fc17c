/* ort-basic IN OUT: ONNX Runtime alone (C API, no other runtime in the process) loads IN with
 * GraphOptimizationLevel ORT_ENABLE_BASIC and saves the optimized model to OUT, its initializers of 1 KiB or more
 * in OUT.data (ONNX Runtime's own external-data writer: a model over 2 GiB cannot be one protobuf file), then exits.
 * Built by bench/LargeModel against the C API header and libonnxruntime.so of the package the .NET code uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <onnxruntime_c_api.h>

static const OrtApi *api;

static void check(OrtStatus *status, const char *what)
{
    if (status == NULL) return;
    fprintf(stderr, "ort-basic: %s: %s\n", what, api->GetErrorMessage(status));
    api->ReleaseStatus(status);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: ort-basic IN.onnx OUT.onnx\n"); return 2; }
    api = OrtGetApiBase()->GetApi(ORT_API_VERSION);
    if (api == NULL) { fprintf(stderr, "ort-basic: libonnxruntime does not offer C API version %d\n", ORT_API_VERSION); return 1; }
    /* the data file's name, relative to OUT's folder */
    const char *slash = strrchr(argv[2], '/');
    char data[4096];
    snprintf(data, sizeof data, "%s.data", slash ? slash + 1 : argv[2]);
    OrtEnv *env;
    OrtSessionOptions *options;
    OrtSession *session;
    check(api->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "ort-basic", &env), "CreateEnv");
    check(api->CreateSessionOptions(&options), "CreateSessionOptions");
    check(api->SetSessionGraphOptimizationLevel(options, ORT_ENABLE_BASIC), "SetSessionGraphOptimizationLevel");
    check(api->SetOptimizedModelFilePath(options, argv[2]), "SetOptimizedModelFilePath");
    check(api->AddSessionConfigEntry(options, "session.optimized_model_external_initializers_file_name", data), "AddSessionConfigEntry");
    check(api->AddSessionConfigEntry(options, "session.optimized_model_external_initializers_min_size_in_bytes", "1024"), "AddSessionConfigEntry");
    check(api->CreateSession(env, argv[1], options, &session), "CreateSession");
    api->ReleaseSession(session);
    api->ReleaseSessionOptions(options);
    api->ReleaseEnv(env);
    return 0;
}
