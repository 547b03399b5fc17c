/* ort-save IN OUT: ONNX Runtime alone (C API, no other runtime in the process) loads IN with
 * GraphOptimizationLevel ORT_DISABLE_ALL and saves it to OUT via the optimized-model file path, then exits.
 * Built by bench/OnnxRoundTrip against the C API header and libonnxruntime.so of the package the .NET code uses. */
#include <stdio.h>
#include <stdlib.h>
#include <onnxruntime_c_api.h>

static const OrtApi *api;

static void check(OrtStatus *status, const char *what)
{
    if (status == NULL) return;
    fprintf(stderr, "ort-save: %s: %s\n", what, api->GetErrorMessage(status));
    api->ReleaseStatus(status);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: ort-save IN.onnx OUT.onnx\n"); return 2; }
    api = OrtGetApiBase()->GetApi(ORT_API_VERSION);
    if (api == NULL) { fprintf(stderr, "ort-save: libonnxruntime does not offer C API version %d\n", ORT_API_VERSION); return 1; }
    OrtEnv *env;
    OrtSessionOptions *options;
    OrtSession *session;
    check(api->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "ort-save", &env), "CreateEnv");
    check(api->CreateSessionOptions(&options), "CreateSessionOptions");
    check(api->SetSessionGraphOptimizationLevel(options, ORT_DISABLE_ALL), "SetSessionGraphOptimizationLevel");
    check(api->SetOptimizedModelFilePath(options, argv[2]), "SetOptimizedModelFilePath");
    check(api->CreateSession(env, argv[1], options, &session), "CreateSession");
    api->ReleaseSession(session);
    api->ReleaseSessionOptions(options);
    api->ReleaseEnv(env);
    return 0;
}
