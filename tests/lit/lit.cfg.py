# lit configuration: runs mopt-opt on .mir files the way MLIR tests its passes.
import os
import shutil
import lit.formats

config.name = "mopt"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mir"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)

repo = os.path.abspath(os.path.join(config.test_source_root, "..", ".."))
llvm = "/usr/lib/llvm-19/bin"
config.environment["PATH"] = os.pathsep.join([llvm, config.environment.get("PATH", os.environ.get("PATH", ""))])
config.substitutions.append(("%mopt-opt", os.path.join(repo, "artifacts", "mopt-opt", "mopt-opt")))
config.substitutions.append(("%mlir-opt", os.path.join(llvm, "mlir-opt") + " --allow-unregistered-dialect"))
shared_models = os.path.abspath(os.path.join(repo, "..", "shared", "models"))
config.substitutions.append(("%shared_models", shared_models))

# Tests that read the real models say "REQUIRES: shared-models". A clone without ../shared/models reports them as
# UNSUPPORTED (skipped); CI (CI=true) or MOPT_REQUIRE_SHARED_MODELS=1 requires the models, so there they run and fail.
shared_models_required = os.environ.get("CI") in ("true", "1") or os.environ.get("MOPT_REQUIRE_SHARED_MODELS") in ("1", "true")
if os.path.isdir(shared_models) or shared_models_required:
    config.available_features.add("shared-models")
if not os.path.isdir(shared_models):
    if shared_models_required:
        lit_config.warning(f"{shared_models} is missing, and CI / MOPT_REQUIRE_SHARED_MODELS requires it: the tests that read it fail")
    else:
        lit_config.note(f"{shared_models} is missing: the tests that REQUIRE shared-models are skipped (UNSUPPORTED)")

# Tests that render SVG with Graphviz's dot (scripts/setup.sh installs graphviz) say "REQUIRES: graphviz".
if shutil.which("dot", path=config.environment["PATH"]):
    config.available_features.add("graphviz")
