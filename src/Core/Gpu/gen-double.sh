#!/bin/sh
# Regenerates KernelsD.cs (float64) from KernelsF.cs (float32).
cd "$(dirname "$0")"
sed -e 's/using Real = float;/using Real = double;/' -e 's/class KernelsF/class KernelsD/' \
    -e 's|^// KernelsF: the float32 ILGPU kernels.*|// KernelsD: the float64 ILGPU kernels, GENERATED from KernelsF.cs by gen-double.sh: do not edit.|' KernelsF.cs > KernelsD.cs
