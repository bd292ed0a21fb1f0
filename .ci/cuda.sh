#!/usr/bin/env bash
# CI for the GPU backend on a machine without a GPU: builds the kernels both
# ways with CMake, checks the fatbins' architectures, vets and compiles the
# -tags cuda build, and runs the emulated (-tags cudaemu) tests. Run from the
# repository root; exits non-zero on the first failure. Needs root only when
# cmake or the CUDA toolkit must be installed.
set -euo pipefail

log() { printf '== %s\n' "$*"; }

# ---- toolchain ----------------------------------------------------------------
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v nvcc >/dev/null || missing+=(nvidia-cuda-toolkit)
command -v g++ >/dev/null || missing+=(g++)
command -v clang-format >/dev/null || missing+=(clang-format)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    # nvidia-cuda-toolkit is in Debian's non-free component.
    src=/etc/apt/sources.list.d/debian.sources
    if [[ -f $src ]] && ! grep -q '^Components:.*non-free' "$src"; then
        sed -i 's/^Components: main$/Components: main contrib non-free non-free-firmware/' "$src"
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
nvcc --version | tail -1

# ---- kernels: formatting, fatbins, emulation library, emulator self-test -------
log "clang-format"
clang-format --dry-run --Werror kernels/*.cu kernels/*.cuh kernels/emu/*.h kernels/emu/*.cc \
    kernels/emu/testdata/*.cu

log "cmake build"
cmake -S . -B build -DDMTC_FATBIN=ON
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure

log "fatbin architectures"
shopt -s nullglob
fatbins=(cuda/fatbin/*.fatbin)
((${#fatbins[@]})) || { echo "no fatbins in cuda/fatbin" >&2; exit 1; }
for f in "${fatbins[@]}"; do
    elf=$(cuobjdump --list-elf "$f")
    ptx=$(cuobjdump --list-ptx "$f")
    for arch in sm_80 sm_90; do
        grep -q "$arch" <<<"$elf" || { echo "$f: no $arch SASS:" >&2; echo "$elf" >&2; exit 1; }
    done
    grep -q sm_90 <<<"$ptx" || { echo "$f: no compute_90 PTX:" >&2; echo "$ptx" >&2; exit 1; }
done
echo "${#fatbins[@]} fatbins hold sm_80 and sm_90 SASS and compute_90 PTX"

# ---- Go: the cuda build compiles; the emulated build passes its tests ---------
log "go vet -tags cuda / cudaemu"
go vet -tags cuda ./...
go vet -tags cudaemu ./...

log "go test -c -tags cuda"
go test -c -tags cuda -o build/cuda.test ./cuda
if [[ -d bench ]]; then
    go test -c -tags cuda -o build/bench.test ./bench
fi

log "go test -tags cudaemu"
# Every package with a test file built under the cudaemu tag.
mapfile -t pkgs < <(grep -rlE --include='*_test.go' '^//go:build .*cudaemu' . |
    xargs -r -n1 dirname | sort -u)
((${#pkgs[@]})) || { echo "no cudaemu tests found" >&2; exit 1; }
go test -count=1 -tags cudaemu -timeout 20m "${pkgs[@]}"
