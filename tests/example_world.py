"""examples/world.py, the demo world's generator, as a module for tests (it is a script beside
the package, not part of kith)."""

import importlib.util
import sys

from tests.conftest import PROJECT_ROOT

_NAME = "kith_example_world"


def load_world():
    if _NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(_NAME, PROJECT_ROOT / "examples" / "world.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module          # dataclasses look their module up while built
        spec.loader.exec_module(module)
    return sys.modules[_NAME]
