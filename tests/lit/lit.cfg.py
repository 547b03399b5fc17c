# lit configuration: runs mopt-opt on .mir files the way MLIR tests its passes.
import os
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
config.substitutions.append(("%shared_models", os.path.abspath(os.path.join(repo, "..", "shared", "models"))))
