"""MediaPipe's TFLite and absl lines are dropped from stderr; everything else, errors included, still arrives."""

import subprocess
import sys

from ..conftest import REPO

SCRIPT = f"""
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location("native_logs", {str(REPO / "motrans" / "evaluate" / "native_logs.py")!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.filter_native_logs()
os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")
os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
os.write(2, b"W0000 00:00:1796653756.129161    8217 inference_feedback_manager.cc:114] Feedback manager\\n")
os.write(2, b"I0000 00:00:1796653756.129161    8217 gl_context.cc:369] GL version\\n")
os.write(2, b"E0000 00:00:1796653756.129161    8217 calculator_graph.cc:887] a real failure\\n")
print("motrans: 50%|#####     | 1/2", end="\\r", file=sys.stderr, flush=True)
print("motrans: error: the last line", file=sys.stderr)
"""


def test_only_the_noise_is_dropped():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, timeout=60)
    assert result.returncode == 0
    assert result.stderr.decode() == ("E0000 00:00:1796653756.129161    8217 calculator_graph.cc:887] a real failure\n"
                                      "motrans: 50%|#####     | 1/2\rmotrans: error: the last line\n")
