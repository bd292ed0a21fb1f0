// Block-wide tree reductions shared by the op families. Unlike
// dmtc_block_sum in common.cuh (float, warp shuffles) they take any element
// type, so the statistics and losses can be summed in double.
//
// Every helper expects a one-dimensional block of exactly BLOCK threads
// (BLOCK a power of two), is called by all of them, and returns the result
// to all of them. The tree adds in a fixed order, so a result depends only
// on the inputs and BLOCK, never on thread scheduling. The caller passes a
// DMTC_SHARED array of BLOCK elements, which it may reuse as soon as the
// helper returns.
#pragma once

#include "common.cuh"

template <int BLOCK, typename T>
__device__ inline T dmtc_tree_sum(T v, T* shared) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (int stride = BLOCK / 2; stride > 0; stride >>= 1) {
        if ((int)threadIdx.x < stride) {
            shared[threadIdx.x] += shared[threadIdx.x + stride];
        }
        __syncthreads();
    }
    T total = shared[0];
    // A second barrier keeps a fast thread from overwriting shared[0] in
    // its next reduction before a slow one has read this result.
    __syncthreads();
    return total;
}

// dmtc_tree_max returns the maximum of v over the block. NaN inputs are
// ignored unless every input is NaN, in which case the result is NaN.
template <int BLOCK>
__device__ inline float dmtc_tree_max(float v, float* shared) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (int stride = BLOCK / 2; stride > 0; stride >>= 1) {
        if ((int)threadIdx.x < stride) {
            float other = shared[threadIdx.x + stride];
            float mine = shared[threadIdx.x];
            if (other > mine || mine != mine) {
                shared[threadIdx.x] = other;
            }
        }
        __syncthreads();
    }
    float result = shared[0];
    __syncthreads();
    return result;
}
