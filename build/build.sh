#!/usr/bin/env bash
# Build the one-folder app dist/fashionrec/ from fashionrec.spec, then run its self-test.
#   bash build/build.sh [--no-self-test]
# 1. TensorFlow (installed in .venv) builds ResNet50 and converts it to .tflite: the seeded random init
#    (self-test, demos) and resources/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5 when present,
#    plus the template (~0.1 MB) into which the app writes any other weights file chosen at run time; and the
#    built-in network (EfficientNet-Lite0) is quantized to int8 (no TensorFlow; made as at run time).
# 2. PyInstaller bundles the app without TensorFlow (work dir build/work/, output dist/; both git-ignored).
# 3. dist/fashionrec/fashionrec --self-test (offscreen) must pass.
source "$(dirname "$0")/venv.sh" build
cd "$repo"
export TF_CPP_MIN_LOG_LEVEL=2
models=build/work/models
weights=resources/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5
started=$SECONDS

rm -rf "$models" && mkdir -p build/work
weights_files=()
[ -f "$weights" ] && weights_files+=("$weights")
# TensorFlow's converter is chatty: its output goes to a log, shown only when it fails.
# The template lets the app run a weights file chosen at run time (desktop_app/core/embedders/tflite_patch.py).
if ! python -m desktop_app.core.embedders.litert_build "$models" "${weights_files[@]}" \
     >build/work/convert.log 2>&1; then
  cat build/work/convert.log
  exit 1
fi
grep -E "^(converted|template)" build/work/convert.log
# The built-in network's int8 model, made here as any machine makes it (its calibration set is generated, the same
# everywhere), so the app carries 3.8 MB instead of the network's 18.8 MB checkpoint (fashionrec.spec).
python -m desktop_app.core.embedders.efficientnet "$models" 2>>build/work/convert.log || { cat build/work/convert.log; exit 1; }

FASHIONREC_CONVERTED_MODELS="$repo/$models" pyinstaller --noconfirm --clean --log-level WARN \
  --workpath build/work --distpath dist fashionrec.spec
echo "built dist/fashionrec in $((SECONDS - started)) s: $(du -sh dist/fashionrec | cut -f1)"

if [ "${1:-}" != "--no-self-test" ]; then
  QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" dist/fashionrec/fashionrec --self-test
fi
